// The door screen: the walk list, one-tap non-contacts, conversations, and the queue.
// Every save goes to IndexedDB first; the network is only ever asked afterwards.
import { conversationForm, describeErrors, fmt, h, isoWithOffset, limitErrors, noteForm, T, themeLabel }
  from "./form.js";
import { finder, findDoors } from "./finder.js";
import * as store from "./store.js";
import { createSync, fetchJson } from "./sync.js";

const OUTCOMES = JSON.parse(document.getElementById("door-outcomes").textContent);
const CONFIG = JSON.parse(document.getElementById("door-config").textContent);
const LABEL = Object.fromEntries(OUTCOMES.map((o) => [o.code, o.label]));
const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const app = document.getElementById("app");
const pending = document.getElementById("pending");
const syncButton = document.getElementById("sync-now");
const toastNode = document.getElementById("toast");
const day = new Intl.DateTimeFormat(document.documentElement.lang, { month: "short", day: "numeric" });

let bundle = null;
let queue = [];
let ended = null; // null, "ended" (expired or revoked) or "unknown"
let view = "list";
let delivered = []; // visits delivered since the walk list was fetched (see absorb)
let me = null; // which of a pair is holding the phone: their volunteer id
// Stamped on every visit; the first volunteer listed until a pair says otherwise.
const holder = () => me ?? bundle?.assignment.volunteers?.[0]?.id ?? null;
const histories = new Map(); // household id → its <ul> of visits
const drawn = new Map(); // household id → what its <ul> shows (see historyKey)
let byDoor = new Map(); // household id → this phone's queued visits there, oldest first
let listRoot = null; // the walk list as drawn; kept, hidden, while a form is open
let listStale = false; // the walk list changed while a form was open
const saving = new Set(); // doors whose non-contact is being saved right now

const sync = createSync({
  current: token,
  onChange: refreshQueue,
  onEnded: (which, kind, sentAt) => (which === token ? markEnded(kind, sentAt) : otherEnded(which, kind)),
  onLive: (which, sentAt) => (which === token ? markLive(sentAt) : null),
  onDelivered: absorb,
});

const uuid = () =>
  crypto.randomUUID?.() ||
  "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
    (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));

// `started`: the tap this toast answers; the time until it is painted is measured
// (the frame after the DOM write, when the volunteer can see it).
function toast(text, started = null) {
  toastNode.textContent = text;
  toastNode.hidden = false;
  if (started != null) {
    requestAnimationFrame(() => setTimeout(() =>
      performance.measure("door-save-painted", { start: started, end: performance.now() })));
  }
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { toastNode.hidden = true; }, 4000);
}

// Resolves once the next frame has been painted (or soon, in a tab that is not shown
// and so paints nothing).
const nextPaint = () => new Promise((resolve) => {
  requestAnimationFrame(() => setTimeout(resolve));
  setTimeout(resolve, 100);
});

const address = (hh) => hh.address + (hh.unit ? `, ${hh.unit}` : "");
const unsent = () => queue.length;

// `started` is when the volunteer tapped: the budget runs from the tap to the message.
// `fromForm`: the form's draft ends in the same write.
async function saveVisit(payload, previous, started = performance.now(), fromForm = false) {
  const record = { client_id: payload.client_id, token, state: "waiting",
    saved_at: previous?.saved_at ?? Date.now(), payload, errors: null, detail: "" };
  await (fromForm ? store.putVisitDropDraft(record) : store.putVisit(record));
  // The counter says so in the same frame as the toast; the rest is redrawn after it.
  queue = [...queue.filter((row) => row.client_id !== record.client_id), record];
  renderPending();
  toast(T.saved, started);
  performance.measure("door-save", { start: started, end: performance.now() });
  // The words are shown before anything else is redrawn (a card, the list behind a form).
  await nextPaint();
  await refreshQueue();
  sync.syncNow();
}

function renderPending() {
  const n = unsent();
  pending.dataset.count = n;
  pending.textContent = n === 0 ? T.all_sent : fmt("waiting", { n });
  if (sync.state.retryAt && n && navigator.onLine !== false) {
    if (sync.state.reason) pending.textContent += " " + sync.state.reason;
    pending.textContent += " " + fmt("retry_in", { s: Math.max(1, Math.round((sync.state.retryAt - Date.now()) / 1000)) });
  } else if (n && navigator.onLine === false) {
    pending.textContent += " " + T.offline;
  }
  syncButton.textContent = sync.state.sending ? T.syncing : T.sync_now;
}

async function refreshQueue() {
  queue = await store.listVisits(token);
  if (ended && heard.ended && !queue.some((row) => row.state === "waiting") && bundle) {
    await clearIfOver();
    if (!bundle) return;
  }
  renderPending();
  await renderOthers();
  renderProblems();
  renderBanner();
  if (bundle && listRoot) {
    refreshCards();
    renderProgress();
  }
}

let doorsOf = null; // the bundle `doorsById` was built from
let doorsById = new Map();
function door(id) {
  if (doorsOf !== bundle) {
    doorsById = new Map(bundle.households.map((hh) => [hh.id, hh]));
    doorsOf = bundle;
  }
  return doorsById.get(id);
}

// What a door's history shows, in a few characters: a card is redrawn only when it changes.
function historyKey(hh) {
  const rows = byDoor.get(hh.id) || [];
  return `${hh.visits.length}:${hh.visits[0]?.client_id ?? ""}:` +
    rows.map((row) => `${row.client_id}.${row.state}`).join(",");
}

function groupQueue() {
  byDoor = new Map();
  for (const row of queue) {
    const id = row.payload.household_id;
    if (id == null) continue;
    if (!byDoor.has(id)) byDoor.set(id, []);
    byDoor.get(id).push(row);
  }
}

// After a save or a delivery only the cards whose history changed are touched: on a
// long turf, rebuilding every card would hold back the "Saved on this phone" paint.
function refreshCards() {
  groupQueue();
  for (const [id, list] of histories) {
    const hh = door(id);
    if (!hh) continue;
    const key = historyKey(hh);
    if (drawn.get(id) === key) continue;
    drawn.set(id, key);
    list.replaceChildren(...historyItems(hh));
  }
}

// What the server last said about this link, and when the request that said it was sent:
// an answer to an older request never overrides a newer one (a restored link stays live
// even if a "link ended" answer sent before the restore arrives late).
const heard = { at: -1, ended: false };
function hear(sentAt, isEnded) {
  if (sentAt < heard.at) return false;
  heard.at = sentAt;
  heard.ended = isEnded;
  return true;
}

// The link has ended and nothing unsent is left: ask the server once more, and only if it
// says so, the people's details, the draft and the visits it cannot take leave the phone
// (those go to the organizers first). A stored "ended" flag alone never removes anything.
let clearing = null;
function clearIfOver() {
  clearing ||= (async () => {
    const sentAt = performance.now();
    let answer;
    try {
      answer = await fetchJson(`/api/a/${encodeURIComponent(token)}/bundle`);
    } catch (error) {
      return;
    }
    if (answer.status === 200 && answer.body) {
      await takeBundle(answer.body, sentAt);
      return;
    }
    if (answer.status !== 403 && answer.status !== 404) return;
    hear(sentAt, true);
    for (const row of await store.listVisits(token)) {
      if (row.state !== "waiting") await handOver(row, { quiet: true });
    }
    if ((await store.listVisits(token)).length) return;
    await store.deleteDrafts(token);
    await store.deleteBundle(token);
    bundle = null;
    view = "list";
    render();
  })().finally(() => { clearing = null; });
  return clearing;
}

// Delivered visits join the stored walk list at once, so it stays right with no signal,
// and are remembered (`delivered`) until a fresh walk list is known to include them.
async function absorb(which, rows) {
  const deliveredAt = performance.timeOrigin + performance.now();
  const record = await store.updateBundle(which, (stored) => {
    if (!stored) return null;
    const delivered = stored.delivered || [];
    for (const { payload } of rows) {
      const visit = { client_id: payload.client_id, happened_at: payload.happened_at,
        outcome: payload.outcome, themes: payload.story_note?.themes || [] };
      delivered.push({ ...visit, household_id: payload.household_id, delivered_at: deliveredAt });
      stored.data.households.find((item) => item.id === payload.household_id)?.visits.unshift(visit);
    }
    return { ...stored, delivered };
  });
  if (which === token && record) {
    bundle = record.data;
    delivered = record.delivered;
  }
}

// A fresh walk list replaces the stored one, but what this phone delivered after the
// request went out may be missing from it: those visits are put back in, never lost.
async function takeBundle(fresh, sentAt) {
  if (!hear(sentAt, false)) return;
  ended = null;
  const askedAt = performance.timeOrigin + sentAt;
  const record = await store.updateBundle(token, (stored) => {
    const known = new Set(fresh.households.flatMap((hh) => hh.visits.map((v) => v.client_id).filter(Boolean)));
    const delivered = (stored?.delivered || []).filter((v) => v.delivered_at >= askedAt && !known.has(v.client_id));
    for (const { household_id: id, delivered_at: _, ...visit } of delivered) {
      fresh.households.find((hh) => hh.id === id)?.visits.unshift(visit);
    }
    return { token, data: fresh, fetched_at: Date.now(), delivered, me: stored?.me ?? me };
  });
  bundle = record.data;
  delivered = record.delivered;
  render();
}

async function markEnded(kind, sentAt = performance.now()) {
  if (!hear(sentAt, true)) return;
  ended = kind;
  await store.updateBundle(token, (record) => (record ? { ...record, ended: kind } : null));
  await refreshQueue();
  render();
}

// Another link this phone holds has ended: remembered on its walk list, which the sweep
// below removes once nothing of it is left to send.
const otherEnded = (which, kind) =>
  store.updateBundle(which, (record) => (record ? { ...record, ended: kind } : null));

async function markLive(sentAt) {
  if (!hear(sentAt, false) || !ended) return;
  ended = null;
  await store.updateBundle(token, (record) => (record ? { ...record, ended: null } : null));
  render();
}

async function loadBundle() {
  const record = await store.getBundle(token);
  if (record && !bundle) {
    bundle = record.data;
    // As last heard: shown, but never acted on until the server answers again.
    ended = record.ended || null;
    me = record.me ?? null;
    delivered = record.delivered || [];
  }
  await refreshQueue();
  render();
  const sentAt = performance.now();
  try {
    const { status, body } = await fetchJson(`/api/a/${encodeURIComponent(token)}/bundle`);
    if (status === 200 && body) {
      await takeBundle(body, sentAt);
    } else if (status === 403 || status === 404) {
      await markEnded(status === 404 ? "unknown" : "ended", sentAt);
    }
  } catch (error) {
    // No signal: the stored walk list is what we show.
  }
}

function historyItems(hh) {
  const items = [];
  for (const row of [...(byDoor.get(hh.id) || [])].reverse()) {
    items.push(h("li", { className: "mine" },
      `${day.format(new Date(row.payload.happened_at))} · ${LABEL[row.payload.outcome]} · `,
      h("em", {}, row.state === "waiting" ? T.waiting_mark : row.state === "invalid" ? T.needs_fix : T.conflict)));
  }
  for (const v of hh.visits) {
    items.push(h("li", {}, `${day.format(new Date(v.happened_at))} · ${LABEL[v.outcome] || v.outcome}`,
      v.themes?.length ? ` · ${v.themes.map((t) => themeLabel(bundle.campaign, t)).join(", ")}` : ""));
  }
  return items;
}

// Counted from what the phone holds: the walk list's visits through this link (they carry
// a client_id), plus the queue, so a delivery and a fresh list never count a door twice.
function knockedCount() {
  const doors = new Set(queue.map((row) => row.payload.household_id).filter((id) => id != null));
  for (const hh of bundle.households) {
    if (hh.visits.some((v) => v.client_id)) doors.add(hh.id);
  }
  return doors.size;
}

function renderProgress() {
  const node = document.getElementById("progress");
  if (!node) return;
  // The server's count when the walk list was fetched, plus what was delivered since.
  const conversations = bundle.progress.conversations +
    delivered.filter((v) => v.outcome === "conversation").length +
    queue.filter((row) => row.payload.outcome === "conversation").length;
  node.textContent = `${fmt("knocked", { knocked: knockedCount(), total: bundle.households.length })} · ${fmt("conversations", { n: conversations })}`;
}

function renderBanner() {
  let banner = document.getElementById("banner");
  if (!ended) {
    banner?.remove();
    return;
  }
  const text = ended === "unknown" ? T.unknown_link
    : unsent() ? fmt("ended_unsent", { n: unsent() }) : T.ended_clear;
  if (!banner) {
    banner = h("section", { id: "banner", className: "banner", role: "alert" });
    app.before(banner);
  }
  banner.replaceChildren(h("h2", {}, ended === "unknown" ? T.unknown_title : T.ended_title), h("p", {}, text));
}

// Notes another link left on this phone (a reissued link, a shared phone) are sent from
// this page too, and said so: "Everything is sent" is only ever true of the whole phone.
async function renderOthers() {
  const others = (await store.listAllVisits()).filter((row) => row.token !== token);
  let node = document.getElementById("others");
  if (!others.length) {
    node?.remove();
    return;
  }
  if (!node) {
    node = h("p", { id: "others", className: "others" });
    pending.after(node);
  }
  node.dataset.count = others.length;
  node.textContent = fmt("others", { n: others.length });
}

function renderProblems() {
  let panel = document.getElementById("problems");
  const rows = queue.filter((row) => row.state !== "waiting" || row.trouble);
  let count = document.getElementById("problems-count");
  if (!rows.length) {
    panel?.remove();
    count?.remove();
    return;
  }
  if (!panel) {
    count = h("p", { id: "problems-count", className: "problems-count" });
    panel = h("ul", { id: "problems", className: "problems", "aria-labelledby": count.id, tabIndex: 0 });
    document.getElementById("sync").append(count, panel);
  }
  count.textContent = fmt("problems", { n: rows.length });
  panel.replaceChildren(...rows.map((row) => {
    const hh = bundle ? door(row.payload.household_id) : null;
    // A door's visit is never called a conversation away from the list, even once its
    // door has left the walk list.
    const where = hh ? address(hh) : row.payload.household_id != null ? T.door_gone : row.payload.place || T.event;
    const line = `${where} · ${LABEL[row.payload.outcome]}`;
    const handButton = h("button", { type: "button", className: "quiet", onclick: () => handOver(row),
      "aria-label": `${T.hand_over}: ${line}` }, T.hand_over);
    if (row.state === "conflict") {
      return h("li", { className: "conflict" }, h("strong", {}, T.conflict), ` ${line}. `,
        T.conflict_hint, " ",
        h("button", { type: "button", onclick: () => openFix(row), "aria-label": `${T.record_new}: ${line}` }, T.record_new),
        " ", handButton);
    }
    if (row.state === "waiting") {
      // The server failed on this visit: it keeps trying, the others are not held back.
      return h("li", { className: "trouble" }, h("strong", {}, T.server_trouble), ` ${line}. `,
        fmt("server_said", { reason: row.trouble }), " ", handButton);
    }
    return h("li", { className: "invalid" }, h("strong", {}, T.needs_fix), ` ${line}: `,
      h("span", { className: "reason" }, describeErrors(row.errors) || row.detail), " ",
      h("button", { type: "button", onclick: () => openFix(row), "aria-label": `${T.fix}: ${line}` }, T.fix),
      " ", handButton);
  }));
}

// `draft` is a note that was being written when the page last closed: it comes back
// as it was, with the same client_id, so saving it twice still makes one visit.
// `row` is a visit being fixed: every part of it can change, its door included.
// `held`: this tab already holds the draft's lock (see holdDraft).
function openForm(household, row, draft, cardNote = "", held = null) {
  if (!bundle) return;
  view = "form";
  const openedAt = draft?.opened_at ?? isoWithOffset();
  // A conflict is saved again as a new visit: its client_id is already another visit's.
  const clientId = draft?.client_id ?? (row && row.state !== "conflict" ? row.client_id : null) ?? uuid();
  let here = household;
  // The phone's back button closes the form instead of leaving the page.
  history.pushState({ doorForm: true }, "");
  // Draft writes go one after another and stop once the form is closed, so a late one
  // never lands after the visit was saved or dropped.
  let closed = false;
  let drafting = Promise.resolve();
  // While the form is open this tab holds its draft: another tab never resumes it.
  let release = null;
  (held ? Promise.resolve(held) : holdDraft(clientId)).then((done) => {
    release = done;
    if (closed) done?.();
  });
  const close = async () => {
    closed = true;
    release?.();
    await drafting;
    await store.deleteDraft(clientId);
    if (history.state?.doorForm) history.back();
    showList();
    if (here) document.getElementById(`h-${here.id}`)?.scrollIntoView();
  };
  const onSave = async (payload) => {
    if (closed) return;
    closed = true;
    release?.();
    await drafting;
    await saveVisit({ ...payload, client_id: clientId, volunteer_id: row ? row.payload.volunteer_id : holder(),
      happened_at: row ? row.payload.happened_at : openedAt }, row, performance.now(), true);
    if (row && row.client_id !== clientId) {
      await store.deleteVisit(row.client_id);
      await refreshQueue();
    }
    await close();
  };
  let form = null;
  const onDraft = (payload) => {
    const minutesEdited = form?.minutesEdited?.() ?? false;
    drafting = drafting.then(() => (closed ? null : store.putDraft({ token, client_id: clientId,
      opened_at: openedAt, household_id: here?.id ?? null, payload,
      minutes_edited: minutesEdited }))).catch(() => {});
  };
  const doors = row ? bundle.households.map((hh) => [hh.id, address(hh)]) : null;
  const show = (hh, initial) => {
    here = hh;
    form = row && row.payload.outcome !== "conversation"
      ? noteForm({ initial, limits: bundle.limits, title: `${hh ? address(hh) : T.needs_fix} · ${LABEL[row.payload.outcome]}`,
          outcomes: OUTCOMES.filter((o) => o.code !== "conversation").map((o) => [o.code, o.label]),
          doors, onSave, onCancel: close })
      : conversationForm({ bundle, household: hh, initial, onSave, onCancel: close, onDraft, doors,
          startedAt: Date.parse(openedAt), minutesEdited: Boolean(row) || Boolean(draft?.minutes_edited),
          onDoor: (id, payload) => show(bundle.households.find((item) => item.id === id) || null,
            { ...payload, household_id: id, person_id: null }) });
    if (draft || hh !== household || cardNote) form.dataset.dirty = "1";
    form.addEventListener("input", () => { form.dataset.dirty = "1"; }, { once: true });
    // The walk list stays in the page, hidden: closing the form redraws one card, not all.
    if (listRoot) listRoot.hidden = true;
    const tools = document.getElementById("finder");
    if (tools) tools.hidden = true;
    app.querySelector("form.story")?.remove();
    app.append(form);
    scrollTo(0, 0);
    const heading = form.querySelector("h2");
    heading.tabIndex = -1;
    heading.focus();
  };
  show(household, draft ? draft.payload : row ? { ...row.payload, errors: row.errors, detail: row.detail }
    : cardNote ? { note: cardNote } : null);
}

function openFix(row) {
  const household = bundle?.households.find((hh) => hh.id === row.payload.household_id) || null;
  openForm(household, row);
}

// A visit the server will not take goes to the organizers as it is: once they hold it,
// it leaves this phone and the volunteer can finish.
async function handOver(row, { quiet = false } = {}) {
  const problem = row.state === "waiting" ? "server" : row.state;
  try {
    const { status, body } = await fetchJson(`/api/a/${encodeURIComponent(row.token)}/held`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ client_id: row.client_id, visit: row.payload, problem,
        detail: (describeErrors(row.errors) || row.detail || row.trouble || "").slice(0, 2000) }),
    });
    if (status !== 200 && status !== 201) {
      if (!quiet) toast(body?.detail || describeErrors(body) || T.hand_over_failed);
      return;
    }
  } catch (error) {
    if (!quiet) toast(T.hand_over_failed);
    return;
  }
  await store.deleteVisit(row.client_id);
  if (quiet) return;
  toast(T.handed_over);
  await refreshQueue();
}

function card(hh) {
  const id = `h-${hh.id}`;
  const note = h("input", { id: `n-${hh.id}`, className: "note", placeholder: T.note,
    autocomplete: "off", "aria-describedby": `n-${hh.id}-e` });
  const noteError = h("p", { className: "error", id: `n-${hh.id}-e`, hidden: true });
  const history = h("ul", { className: "history", "aria-label": T.earlier }, historyItems(hh));
  histories.set(hh.id, history);
  drawn.set(hh.id, historyKey(hh));
  const people = hh.people.map((p) => `${p.first_name} ${p.last_name}`.trim() +
    (p.do_not_contact ? ` (${T.do_not_contact})` : "")).join(", ");
  // Everyone on file here asked not to be contacted: the door is not knocked at all.
  if (noKnock(hh)) {
    return h("li", { className: "door dnc", id },
      h("h2", { id: `${id}-a` }, address(hh)),
      h("p", { className: "people" }, people),
      h("p", { className: "dnc-mark" }, h("strong", {}, T.do_not_knock), " ", T.do_not_knock_hint),
      history);
  }
  return h("li", { className: "door", id },
    h("h2", { id: `${id}-a` }, address(hh)),
    h("p", { className: "people" }, people || T.no_people),
    history,
    h("label", { htmlFor: note.id, className: "sr" }, fmt("note_for", { address: address(hh) })),
    note,
    noteError,
    h("div", { className: "outcomes" },
      OUTCOMES.filter((o) => o.code !== "conversation").map((o) =>
        h("button", { type: "button", "data-outcome": o.code, "aria-describedby": `${id}-a`,
          onclick: (event) => {
            const payload = { client_id: uuid(), happened_at: isoWithOffset(), outcome: o.code,
              household_id: hh.id, person_id: null, new_person: null, volunteer_id: holder(),
              note: note.value.trim(), place: "", story_note: null, commitments: [] };
            // The server's limits, checked before saving: a note it would refuse never queues.
            const problem = limitErrors(payload, bundle.limits).note;
            noteError.hidden = !problem;
            noteError.textContent = problem ? problem.join(" ") : "";
            if (problem) {
              note.setAttribute("aria-invalid", "true");
              note.focus();
              return;
            }
            note.removeAttribute("aria-invalid");
            // One visit per intended tap: the second click of a double tap (the browser
            // counts it in `detail`), or a tap while this door's last one is still saving,
            // records nothing more.
            if (event.detail > 1 || saving.has(hh.id)) return;
            saving.add(hh.id);
            saveVisit(payload, null, event.timeStamp).then(() => { note.value = ""; })
              .finally(() => saving.delete(hh.id));
          } }, o.label)),
      h("button", { type: "button", className: "primary", "data-outcome": "conversation",
        "aria-describedby": `${id}-a`, onclick: () => {
          // A note typed on the card goes into the form rather than being lost.
          const typed = note.value.trim();
          note.value = "";
          openForm(hh, null, null, typed);
        } }, T.conversation)));
}

const noKnock = (hh) => hh.people.length > 0 && hh.people.every((p) => p.do_not_contact);
const knocked = (hh) => byDoor.has(hh.id) || hh.visits.some((v) => v.client_id);

// A pair shares one link: each visit says which of them was at the door.
function pairPicker() {
  const volunteers = bundle.assignment.volunteers || [];
  if (volunteers.length < 2) return null;
  const select = h("select", { id: "me", onchange: async () => {
    me = Number(select.value);
    const record = await store.getBundle(token);
    if (record) await store.putBundle({ ...record, me });
  } }, volunteers.map((v) => h("option", { value: v.id, selected: v.id === holder() }, v.name)));
  return h("div", { className: "field" }, h("label", { htmlFor: "me" }, T.recording_as), select);
}

// Finishing never drops an unsent note; with everything sent it asks once, then
// removes the walk list (people's names and addresses) from the phone.
function finish(out) {
  if (unsent()) {
    out.replaceChildren(fmt("finish_unsent", { n: unsent() }));
    return;
  }
  out.replaceChildren(T.finish_confirm, " ", h("button", { type: "button", className: "primary",
    onclick: async () => {
      await store.deleteDrafts(token);
      await store.deleteBundle(token);
      bundle = null;
      listRoot = null;
      document.getElementById("finder")?.remove();
      app.replaceChildren(h("p", { className: "done", role: "status" }, T.finish_done));
    } }, T.finish_yes));
}

// Back to the walk list from a form: the list kept while it was open, with the cards
// that changed redrawn; built afresh only if a new walk list came in meanwhile.
function showList() {
  view = "list";
  app.querySelector("form.story")?.remove();
  if (!listRoot || listStale || !app.contains(listRoot)) {
    render();
    return;
  }
  listRoot.hidden = false;
  const tools = document.getElementById("finder");
  if (tools) tools.hidden = false;
  refreshCards();
  renderProgress();
}

function render() {
  if (view !== "list") {
    listStale = true;
    return;
  }
  listStale = false;
  histories.clear();
  drawn.clear();
  document.title = bundle ? `${bundle.assignment.turf.name} · Porchlight` : document.title;
  document.getElementById("turf").textContent = bundle ? bundle.assignment.turf.name : "Porchlight";
  renderBanner();
  if (!bundle) {
    listRoot = null;
    document.getElementById("finder")?.remove();
    app.replaceChildren(h("p", {}, ended ? "" : T.no_list));
    return;
  }
  groupQueue();
  // A fresh walk list can arrive while a note is being typed: keep the words and the focus.
  const typed = new Map([...app.querySelectorAll("input.note")].map((i) => [i.id, i.value]));
  const focused = document.activeElement?.id;
  const out = h("p", { className: "notice", role: "status" });
  // A lone volunteer has no picker: leave it out rather than hand the DOM a null.
  listRoot = h("div", { id: "list" }, ...[
    pairPicker(),
    h("p", { id: "progress", className: "progress" }),
    h("button", { type: "button", className: "event", onclick: () => openForm(null) }, T.event),
    h("ol", { className: "walk" }, bundle.households.map(card)),
    h("button", { type: "button", className: "quiet finish", onclick: () => finish(out) }, T.finish),
    out].filter(Boolean));
  app.replaceChildren(listRoot);
  const finding = document.getElementById("find")?.value || "";
  document.getElementById("finder")?.remove();
  const tools = finder({
    doors: () => bundle.households.map((hh) => ({ id: hh.id, address: address(hh), open: !knocked(hh) && !noKnock(hh) })),
    onNone: () => toast(T.all_knocked),
  });
  document.getElementById("sync-now").after(tools);
  if (finding) {
    tools.querySelector("input").value = finding;
    findDoors(tools, finding);
  }
  for (const [id, value] of typed) { const input = document.getElementById(id); if (input) input.value = value; }
  if (focused && typed.has(focused)) document.getElementById(focused)?.focus();
  renderProgress();
}

history.scrollRestoration = "manual";
addEventListener("popstate", () => {
  if (view === "list") return;
  // The back button must not throw away a half-written story note.
  if (app.querySelector("form.story[data-dirty]")) {
    history.pushState({ doorForm: true }, "");
    toast(T.unsaved_form);
    return;
  }
  showList();
});
addEventListener("online", () => { sync.syncNow(); loadBundle(); });
addEventListener("offline", refreshQueue);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") sync.syncNow();
});
syncButton.addEventListener("click", () => {
  if (!unsent()) toast(T.all_sent);
  sync.syncNow();
  loadBundle();
});

// The language switch goes through the server (it sets the cookie), then the
// cached copy of the page is refreshed so the next open is in that language too.
document.querySelectorAll("a[data-lang]").forEach((link) => link.addEventListener("click", async (event) => {
  if (!("caches" in window)) return;
  event.preventDefault();
  try {
    await fetch(link.href, { credentials: "same-origin" });
    const response = await fetch(`${CONFIG.shell}?fresh=1`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(response.statusText);
    for (const key of await caches.keys()) {
      if (key.startsWith("door-")) await (await caches.open(key)).put(CONFIG.shell, response.clone());
    }
    location.reload();
  } catch (error) {
    toast(T.lang_needs_signal);
  }
}));

// Walk lists of other links whose time is up and that hold nothing unsent leave the
// phone too, even if their page is never opened again — once the server confirms that
// the link has ended (it may have been extended or restored since).
async function sweep() {
  for (const record of await store.listBundles()) {
    if (record.token === token) continue;
    const expires = Date.parse(record.data.assignment.expires_at);
    if (!(record.ended || expires < Date.now()) || (await store.listVisits(record.token)).length) continue;
    try {
      const { status, body } = await fetchJson(`/api/a/${encodeURIComponent(record.token)}/bundle`);
      if (status === 200 && body) {
        await store.updateBundle(record.token, (stored) => stored && { ...stored, data: body, ended: null, delivered: [] });
      } else if ((status === 403 || status === 404) && !(await store.listVisits(record.token)).length) {
        await store.deleteDrafts(record.token);
        await store.deleteBundle(record.token);
      }
    } catch (error) {
      // No signal: ask again next time.
    }
  }
}

if ("serviceWorker" in navigator) navigator.serviceWorker.register(CONFIG.sw).catch(() => {});
// Holds the Web Lock of a draft until the returned function is called; resolves to
// null when another tab of this phone holds it (that tab has the form open).
function holdDraft(clientId) {
  if (!navigator.locks) return Promise.resolve(() => {});
  return new Promise((resolve) => {
    navigator.locks.request(`porchlight-draft-${clientId}`, { ifAvailable: true }, (lock) => {
      if (!lock) return resolve(null);
      return new Promise((done) => resolve(done));
    });
  });
}

// The newest draft of this link that no other tab has open comes back in this one.
async function resumeDraft() {
  for (const draft of await store.listDrafts(token)) {
    if (!bundle || view !== "list") return;
    const held = await holdDraft(draft.client_id);
    if (!held) continue;
    const household = bundle.households.find((hh) => hh.id === draft.household_id) || null;
    openForm(household, queue.find((row) => row.client_id === draft.client_id), draft, "", held);
    toast(T.draft_back);
    return;
  }
}

// Another tab of this phone changed what is stored: the queue, the counter and the
// walk list here follow it.
let followTimer = null;
const followStores = new Set();
store.onOtherTab((stores) => {
  for (const name of stores) followStores.add(name);
  clearTimeout(followTimer);
  followTimer = setTimeout(async () => {
    const names = new Set(followStores);
    followStores.clear();
    if (names.has("bundles")) await followBundle();
    if (names.has("visits") || names.has("bundles")) await refreshQueue();
  }, 30);
});

async function followBundle() {
  const record = await store.getBundle(token);
  if (!record) {
    // The walk list left the phone from another tab (finished, or the link ended).
    if (bundle && !(await store.listVisits(token)).length) {
      bundle = null;
      render();
    }
    return;
  }
  if (!bundle) {
    bundle = record.data;
    delivered = record.delivered || [];
    render();
    return;
  }
  const same = record.data.households.length === bundle.households.length &&
    record.data.households.every((hh, i) => hh.id === bundle.households[i].id);
  bundle = record.data;
  delivered = record.delivered || [];
  if (!same) render();
}

loadBundle().then(resumeDraft).then(() => sync.syncNow()).then(sweep);
