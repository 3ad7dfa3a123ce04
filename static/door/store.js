// The phone's copy of everything: walk lists (one per link), the visits queue and the
// story note being written. Visits stay here until the server confirms it has them;
// nothing else removes them.
const DB_NAME = "porchlight-door";

let opening = null;

// Every tab of the door screen shares this database: a write in one is told to the
// others (their pending count, cards and walk list follow), never to the writer itself.
const channel = "BroadcastChannel" in self ? new BroadcastChannel(DB_NAME) : null;
const told = (stores) => channel?.postMessage({ stores: [].concat(stores) });
export function onOtherTab(listener) {
  channel?.addEventListener("message", (event) => listener(event.data?.stores || []));
}

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function openDb() {
  opening ||= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 3);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      const has = (name) => db.objectStoreNames.contains(name);
      if (!has("bundles")) db.createObjectStore("bundles", { keyPath: "token" });
      if (!has("visits")) {
        db.createObjectStore("visits", { keyPath: "client_id" }).createIndex("token", "token");
      }
      // One draft per form (its visit's client_id), so a tab the phone kills in the
      // background loses no words, and two tabs of one link never share a draft.
      const makeDrafts = () =>
        db.createObjectStore("drafts", { keyPath: "client_id" }).createIndex("token", "token");
      if (!has("drafts")) {
        makeDrafts();
      } else if (event.oldVersion < 3) {
        // Version 2 kept one draft per link, keyed by token: moved over as they were.
        const old = request.transaction.objectStore("drafts").getAll();
        old.onsuccess = () => {
          db.deleteObjectStore("drafts");
          const drafts = makeDrafts();
          for (const row of old.result) if (row.client_id) drafts.put(row);
        };
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      // A newer page wants to change the database: let it, and reopen on the next call.
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      resolve(db);
    };
    request.onerror = () => reject(request.error);
  });
  return opening;
}

async function run(storeName, mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, mode);
    let result;
    Promise.resolve(work(tx.objectStore(storeName))).then((value) => { result = value; }, reject);
    tx.oncomplete = () => {
      if (mode === "readwrite") told(storeName);
      resolve(result);
    };
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const getBundle = (token) => run("bundles", "readonly", (s) => promised(s.get(token)));

export const listBundles = () => run("bundles", "readonly", (s) => promised(s.getAll()));

export const putBundle = (record) => run("bundles", "readwrite", (s) => promised(s.put(record)));

export const deleteBundle = (token) =>
  run("bundles", "readwrite", (s) => promised(s.delete(token)));

// Change a stored walk list in one transaction: a delivery and a fresh walk list
// arriving together must not overwrite each other.
export const updateBundle = (token, change) =>
  run("bundles", "readwrite", async (s) => {
    const row = await promised(s.get(token));
    const next = change(row ?? null);
    if (next) await promised(s.put(next));
    return next ?? row ?? null;
  });

export const listVisits = (token) =>
  run("visits", "readonly", (s) => promised(s.index("token").getAll(token))).then((rows) =>
    rows.sort((a, b) => a.saved_at - b.saved_at)
  );

// Every link's visits: a phone delivers whatever it holds, whichever link is open.
export const listAllVisits = () =>
  run("visits", "readonly", (s) => promised(s.getAll())).then((rows) =>
    rows.sort((a, b) => a.saved_at - b.saved_at)
  );

// Resolves once the visit is durably in IndexedDB ("Saved on this phone").
export const putVisit = (record) => run("visits", "readwrite", (s) => promised(s.put(record)));

// The visit from a form and the end of its draft in one transaction: no moment where
// the phone holds both, so an older draft can never come back over the saved words.
export async function putVisitDropDraft(record) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(["visits", "drafts"], "readwrite");
    tx.objectStore("visits").put(record);
    tx.objectStore("drafts").delete(record.client_id);
    tx.oncomplete = () => {
      told(["visits", "drafts"]);
      resolve();
    };
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const deleteVisit = (clientId) =>
  run("visits", "readwrite", (s) => promised(s.delete(clientId)));

// Change a stored visit in one transaction, so a sync result never overwrites an edit.
export const updateVisit = (clientId, change) =>
  run("visits", "readwrite", async (s) => {
    const row = await promised(s.get(clientId));
    if (!row) return null;
    const next = change(row);
    if (next) await promised(s.put(next));
    return next;
  });

// A link's drafts, the one written to last first.
export const listDrafts = (token) =>
  run("drafts", "readonly", (s) => promised(s.index("token").getAll(token))).then((rows) =>
    rows.sort((a, b) => (b.written_at || 0) - (a.written_at || 0))
  );

export const putDraft = (record) =>
  run("drafts", "readwrite", (s) => promised(s.put({ ...record, written_at: Date.now() })));

export const deleteDraft = (clientId) =>
  run("drafts", "readwrite", (s) => promised(s.delete(clientId)));

// Every draft of a link: its walk list is leaving the phone.
export const deleteDrafts = (token) =>
  run("drafts", "readwrite", async (s) => {
    for (const key of await promised(s.index("token").getAllKeys(token))) await promised(s.delete(key));
  });
