// Registrations waiting to be sent. Each is put on the phone first, with the idempotency key
// made when it was encoded, then sent; sent again with the SAME key until the platform answers:
// 2xx (registered, or registered before under this key) takes it off the phone, 409 or 422
// leaves it refused with the platform's reason; no answer leaves it waiting for the next try
// (the `online` event, the app's start, a timer).
import * as api from "./api.js";
import * as store from "./store.js";

export const events = new EventTarget();
let sending = null;

function changed(detail = {}) {
  events.dispatchEvent(new CustomEvent("change", { detail }));
}

/** The login's registrations on this phone, oldest first. */
export async function of(login) {
  const all = await store.queued();
  return all.filter((item) => item.login === login)
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
}

/** A new idempotency key (a version 4 UUID), also where `crypto.randomUUID` is missing (a
 * page served over plain HTTP). */
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Put a registration on the phone (the worker's, for the employer the token acts for). */
export async function add(body, customerName) {
  const session = api.now();
  const item = {
    key: newKey(),
    login: session.worker.login,
    company_id: session.worker.company_id,
    customer_name: customerName ?? null,
    body,
    state: "waiting",
    reason: null,
    created_at: new Date().toISOString(),
  };
  await store.enqueue(item);
  changed({ added: item });
  return item;
}

export async function remove(key) {
  await store.dequeue(key);
  changed({ removed: key });
}

/** After a stop in the middle of a send, what was being sent waits again. */
export async function recover() {
  for (const item of await store.queued()) {
    if (item.state === "sending") await store.enqueue({ ...item, state: "waiting" });
  }
}

/** Send what waits, one at a time (one sender in all the app's tabs). */
export function send() {
  sending ??= (navigator.locks?.request
    ? navigator.locks.request("jobtracker-queue", sendAll)
    : sendAll()
  ).finally(() => { sending = null; });
  return sending;
}

function refusedFor(error) {
  return error instanceof api.Refused && error.status >= 400 && error.status < 500
    && ![401, 408, 425, 429].includes(error.status);
}

async function sendAll() {
  const session = api.now();
  if (!session || session.must_change_password || navigator.onLine === false) return;
  const tried = new Set();
  for (;;) {
    // Listed again after each send: what was put on the phone meanwhile goes along.
    const item = (await of(session.worker.login)).find((one) => !tried.has(one.key)
      && one.state !== "refused" && one.company_id === session.worker.company_id);
    if (!item) return;
    tried.add(item.key);
    await store.enqueue({ ...item, state: "sending" });
    changed({ sending: item.key });
    try {
      const service = await api.post("/jobtracker/services", item.body, { "Idempotency-Key": item.key });
      await store.dequeue(item.key);
      changed({ sent: item, service });
    } catch (error) {
      if (refusedFor(error)) {
        await store.enqueue({ ...item, state: "refused", reason: error.text });
        changed({ refused: item.key });
        continue;
      }
      await store.enqueue({ ...item, state: "waiting" });
      changed({ waiting: item.key });
      if (error instanceof api.LoggedOut) throw error;
      return; // no connection, or the platform is busy: the next try sends it
    }
  }
}
