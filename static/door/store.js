// The phone's copy of everything: walk lists (one per link), the visits queue and the
// story note being written. Visits stay here until the server confirms it has them;
// nothing else removes them.
const DB_NAME = "porchlight-door";

let opening = null;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function openDb() {
  opening ||= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 2);
    request.onupgradeneeded = () => {
      const db = request.result;
      const has = (name) => db.objectStoreNames.contains(name);
      if (!has("bundles")) db.createObjectStore("bundles", { keyPath: "token" });
      if (!has("visits")) {
        db.createObjectStore("visits", { keyPath: "client_id" }).createIndex("token", "token");
      }
      // One draft per link, so a tab the phone kills in the background loses no words.
      if (!has("drafts")) db.createObjectStore("drafts", { keyPath: "token" });
    };
    request.onsuccess = () => resolve(request.result);
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
    tx.oncomplete = () => resolve(result);
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
export async function putVisitDropDraft(record, token) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(["visits", "drafts"], "readwrite");
    tx.objectStore("visits").put(record);
    tx.objectStore("drafts").delete(token);
    tx.oncomplete = () => resolve();
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

export const getDraft = (token) => run("drafts", "readonly", (s) => promised(s.get(token)));

export const putDraft = (record) => run("drafts", "readwrite", (s) => promised(s.put(record)));

export const deleteDraft = (token) => run("drafts", "readwrite", (s) => promised(s.delete(token)));
