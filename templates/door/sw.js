/* The door screen's service worker: keeps the page and its files on the phone so
   an assignment link opens with no signal. People's data is never cached here: it
   lives in IndexedDB, where the page can remove it once everything is delivered. */
const VERSION = "{{ version }}";
const CACHE = "door-" + VERSION;
const SHELL = {{ shell_url_json|safe }};
const ASSETS = {{ assets_json|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("door-") && key !== CACHE).map((key) => caches.delete(key))
      ))
      .then(() => self.clients.claim())
  );
});

// A page from a newer release names files this worker has not cached: keep the old
// page until the new worker (which caches both) takes over, or it would not open offline.
async function refreshShell(cache) {
  try {
    const response = await fetch(SHELL, { credentials: "same-origin" });
    if (!response.ok) return;
    const html = await response.clone().text();
    const files = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
    if (files.every((file) => ASSETS.includes(file))) await cache.put(SHELL, response);
  } catch (error) {
    /* No signal: the cached copy stays. */
  }
}

async function openPage(event) {
  const cache = await caches.open(CACHE);
  const url = new URL(event.request.url);
  // A language switch (?lang=…) must reach the server, which sets the cookie.
  if (!url.search) {
    const cached = await cache.match(SHELL);
    if (cached) {
      event.waitUntil(refreshShell(cache));
      return cached;
    }
  }
  try {
    return await fetch(event.request);
  } catch (error) {
    const cached = await cache.match(SHELL);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith("/a/")) {
    event.respondWith(openPage(event));
  } else if (!url.search && ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
  }
});
