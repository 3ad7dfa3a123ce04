// Sends queued visits to the server in batches and files each answer.
// Delivered (201/200): removed from the queue. Conflict (409) and invalid (400): kept
// on the phone and shown. Link ended (403): everything kept. No answer: retry later.
import { deleteVisit, listVisits, updateVisit } from "./store.js";

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
    return { status: response.status, body };
  } finally {
    clearTimeout(timer);
  }
}

export function createSync({ token, onChange, onEnded, onDelivered }) {
  let running = false;
  let again = false;
  let failures = 0;
  let timer = null;
  const state = { retryAt: null, sending: false };

  function scheduleRetry() {
    failures += 1;
    // Exponential backoff with jitter, so a street of phones coming back into
    // signal together does not arrive together.
    const base = Math.min(MAX_DELAY_S, 2 ** failures);
    const seconds = Math.round(base / 2 + Math.random() * (base / 2));
    state.retryAt = Date.now() + seconds * 1000;
    clearTimeout(timer);
    timer = setTimeout(syncNow, seconds * 1000);
  }

  async function sendBatch(batch) {
    const { status, body } = await fetchJson(`/api/a/${token}/visits`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ visits: batch.map((row) => row.payload) }),
    });
    if (status === 403 || status === 404) {
      onEnded(status === 404 ? "unknown" : "ended");
      return false;
    }
    if (status !== 200 || !body || !Array.isArray(body.results)) {
      scheduleRetry();
      return false;
    }
    const delivered = [];
    let filed = 0;
    for (const result of body.results) {
      const row = batch.find((item) => item.client_id === result.client_id);
      if (!row) continue;
      if (result.status === 201 || result.status === 200) {
        await deleteVisit(row.client_id);
        delivered.push(row);
        filed += 1;
      } else if (result.status === 409 || result.status === 400) {
        const next = result.status === 409 ? "conflict" : "invalid";
        await updateVisit(row.client_id, (current) =>
          current.state === "waiting"
            ? { ...current, state: next, errors: result.errors || null, detail: result.detail || "" }
            : null
        );
        filed += 1;
      }
    }
    failures = 0;
    state.retryAt = null;
    if (delivered.length) onDelivered(delivered);
    if (filed === 0) {
      scheduleRetry();
      return false;
    }
    return true;
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
    try {
      for (;;) {
        const waiting = (await listVisits(token)).filter((row) => row.state === "waiting");
        if (!waiting.length) break;
        let carryOn;
        try {
          carryOn = await sendBatch(waiting.slice(0, BATCH));
        } catch (error) {
          // No network, a cut connection or a timeout: the visits stay queued.
          scheduleRetry();
          carryOn = false;
        }
        if (!carryOn) break;
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
