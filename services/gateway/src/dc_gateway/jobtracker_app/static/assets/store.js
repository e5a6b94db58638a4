// What the phone keeps, in IndexedDB: "kv" (the session, cached lists, last choices) and
// "queue" (registrations waiting to be sent, by their idempotency key).
const NAME = "jobtracker";
const VERSION = 1;
let opened = null;

function database() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv");
      if (!db.objectStoreNames.contains("queue")) db.createObjectStore("queue", { keyPath: "key" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

async function run(storeName, mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(storeName, mode);
    const request = work(transaction.objectStore(storeName));
    transaction.oncomplete = () => resolve(request?.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export const get = (key) => run("kv", "readonly", (s) => s.get(key));
export const put = (key, value) => run("kv", "readwrite", (s) => s.put(value, key));
export const remove = (key) => run("kv", "readwrite", (s) => s.delete(key));
export const keys = () => run("kv", "readonly", (s) => s.getAllKeys());

/** Forget every kept value but those whose key is in `keep`. */
export async function forgetAllBut(keep) {
  for (const key of await keys()) {
    if (!keep.includes(key)) await remove(key);
  }
}

export const queued = () => run("queue", "readonly", (s) => s.getAll());
export const queuedOne = (key) => run("queue", "readonly", (s) => s.get(key));
export const enqueue = (item) => run("queue", "readwrite", (s) => s.put(item));
export const dequeue = (key) => run("queue", "readwrite", (s) => s.delete(key));
