// The Jobtracker's service worker: the app opens without a connection.
// The gateway fills in the release (a hash of every file kept) and the list of files.
// - the shell (/app/): network first, the kept copy when offline;
// - assets and the manifest: from the cache of this release first;
// - anything else (the API, the labels): not touched; the app keeps its own offline data.
const VERSION = "__VERSION__";
const FILES = ["__FILES__"];
const PREFIX = "jobtracker-";
const CACHE = PREFIX + VERSION;
const SHELL = "/app/";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(FILES.map((url) => new Request(url, { cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function shellFirstFromNetwork(request) {
  const cache = await caches.open(CACHE);
  try {
    const answer = await fetch(request);
    if (answer.ok) await cache.put(SHELL, answer.clone());
    return answer;
  } catch (error) {
    const kept = await cache.match(SHELL);
    if (kept) return kept;
    throw error;
  }
}

async function keptFirst(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, { ignoreSearch: true });
  if (kept) return kept;
  const answer = await fetch(request);
  if (answer.ok) await cache.put(request, answer.clone());
  return answer;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && (url.pathname === SHELL || url.pathname === "/app")) {
    event.respondWith(shellFirstFromNetwork(request));
  } else if (url.pathname.startsWith("/app/assets/") || url.pathname === "/app/manifest.webmanifest") {
    event.respondWith(keptFirst(request));
  }
});
