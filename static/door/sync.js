// Sends queued visits to the server in batches and files each answer. Every link's
// visits go, whichever link is open: a phone never strands the notes of another link.
// Delivered (201/200): removed from the queue. Conflict (409) and invalid (400): kept on
// the phone and shown. Link ended (403): everything kept. No answer: retry later.
// A batch the server refuses or fails on as a whole is split until the one visit it is
// about is found, so one bad visit never holds back the others.
import { deleteVisit, listAllVisits, updateVisit } from "./store.js";

const BATCH = 25;
const TIMEOUT_MS = 20000;
const MAX_DELAY_S = 300;

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function fetchJson(url, options = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    const response = await fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      ...options,
      signal: controller.signal,
    });
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    return { status: response.status, body, retryAfter: Number(response.headers.get("Retry-After")) || 0 };
  } finally {
    clearTimeout(timer);
  }
}

/* `current` is the open link's token. Callbacks get the token they are about:
   onEnded(token, kind), onLive(token), onDelivered(token, rows). */
const exclusive = (work) =>
  navigator.locks ? navigator.locks.request("porchlight-door-sync", work) : work();

export function createSync({ current, onChange, onEnded, onLive, onDelivered }) {
  let running = false;
  let again = false;
  let failures = 0;
  let timer = null;
  // `reason`: why the last round stopped short, for the volunteer (the server's words).
  const state = { retryAt: null, sending: false, reason: "" };

  function scheduleRetry(atLeastSeconds = 0) {
    failures += 1;
    // Exponential backoff with jitter, so a street of phones coming back into
    // signal together does not arrive together.
    const base = Math.min(MAX_DELAY_S, 2 ** failures);
    const seconds = Math.max(atLeastSeconds, Math.round(base / 2 + Math.random() * (base / 2)));
    state.retryAt = Date.now() + seconds * 1000;
    clearTimeout(timer);
    timer = setTimeout(syncNow, seconds * 1000);
  }

  const post = (token, rows) => fetchJson(`/api/a/${encodeURIComponent(token)}/visits`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ visits: rows.map((row) => row.payload) }),
  });

  // Files the per-visit answers; returns how many visits it settled.
  async function file(token, rows, results) {
    const delivered = [];
    let filed = 0;
    for (const result of results) {
      const row = rows.find((item) => item.client_id === result.client_id);
      if (!row) continue;
      if (result.status === 201 || result.status === 200) {
        await deleteVisit(row.client_id);
        delivered.push(row);
        filed += 1;
      } else if (result.status === 409 || result.status === 400) {
        const next = result.status === 409 ? "conflict" : "invalid";
        await updateVisit(row.client_id, (stored) =>
          stored.state === "waiting"
            ? { ...stored, state: next, errors: result.errors || null, detail: result.detail || "", trouble: "" }
            : null
        );
        filed += 1;
      }
    }
    if (delivered.length) await onDelivered(token, delivered);
    return filed;
  }

  // Sends `rows` (all of one link); "ok", "ended" (that link is over) or "stop" (try later).
  async function deliver(token, rows, round) {
    const sentAt = performance.now();
    const { status, body, retryAfter } = await post(token, rows);
    if (status === 403 || status === 404) {
      await onEnded(token, status === 404 ? "unknown" : "ended", sentAt);
      return "ended";
    }
    if (status === 429) {
      round.wait = retryAfter || 60;
      round.reason = body?.detail || "";
      return "stop";
    }
    if (status === 200 && Array.isArray(body?.results)) {
      await onLive(token, sentAt);
      const filed = await file(token, rows, body.results);
      round.delivered += filed;
      return filed ? "ok" : "stop";
    }
    if (rows.length > 1) {
      const middle = Math.ceil(rows.length / 2);
      for (const part of [rows.slice(0, middle), rows.slice(middle)]) {
        const outcome = await deliver(token, part, round);
        if (outcome !== "ok") return outcome;
      }
      return "ok";
    }
    const [row] = rows;
    const reason = body?.detail || `${status}`;
    if (status >= 400 && status < 500) {
      // Refused for good as it is (too large, not JSON the server reads): it needs a fix.
      await updateVisit(row.client_id, (stored) => stored.state === "waiting"
        ? { ...stored, state: "invalid", errors: null, detail: reason, trouble: "" } : null);
      round.delivered += 1;
      return "ok";
    }
    // The server failed on this one visit: the others go first, it tries again later.
    await updateVisit(row.client_id, (stored) => ({ ...stored, trouble: reason }));
    round.held.add(row.client_id);
    round.serverErrors += 1;
    // Failing on everything looks like the server is down, not like one bad visit.
    return round.serverErrors >= 2 && !round.delivered ? "stop" : "ok";
  }

  // Sends everything waiting, link by link; true when it stopped short (try later).
  async function sendAll(round) {
    for (;;) {
      const waiting = (await listAllVisits()).filter((row) => row.state === "waiting" &&
        !round.held.has(row.client_id) && !round.over.has(row.token));
      if (!waiting.length) return false;
      // The open link first, then the others, oldest first.
      const token = waiting.some((row) => row.token === current) ? current : waiting[0].token;
      const batch = waiting.filter((row) => row.token === token).slice(0, BATCH);
      let outcome;
      try {
        outcome = await deliver(token, batch, round);
      } catch (error) {
        // No network, a cut connection or a timeout: the visits stay queued.
        outcome = "stop";
      }
      if (outcome === "ended") round.over.add(token);
      if (outcome === "stop") return true;
    }
  }

  async function syncNow() {
    if (running) {
      again = true;
      return;
    }
    // The browser knows it has no network: wait for its "online" event instead.
    if (navigator.onLine === false) return;
    running = true;
    clearTimeout(timer);
    state.sending = true;
    onChange();
    const round = { held: new Set(), over: new Set(), serverErrors: 0, delivered: 0, wait: 0, reason: "" };
    try {
      // One tab of the phone sends at a time: the others wait, then find little left.
      const stopped = await exclusive(() => sendAll(round));
      state.reason = round.reason;
      if (stopped || round.held.size) {
        scheduleRetry(round.wait);
      } else {
        failures = 0;
        state.retryAt = null;
      }
    } finally {
      running = false;
      state.sending = false;
      onChange();
      if (again) {
        again = false;
        syncNow();
      }
    }
  }

  return { syncNow, state };
}
