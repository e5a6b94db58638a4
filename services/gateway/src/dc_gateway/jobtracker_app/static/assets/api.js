// The platform's API for the worker: the session (access and refresh token, kept on the phone),
// calls with the token and the worker's language, a refresh when the token has run out.
import * as store from "./store.js";
import { current as language } from "./i18n.js";

const SESSION = "session";
let session = null;
let refreshing = null;

/** The API refused: `status`, the problem document (`detail` already in the worker's
 * language), and the reason by field. */
export class Refused extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem ?? {};
    this.fields = {};
    for (const error of this.problem.errors ?? []) {
      const field = String(error.field ?? "").split(".").pop();
      if (field && !(field in this.fields)) this.fields[field] = error.reason;
    }
  }

  /** What to tell the worker: the problem's own words. */
  get text() {
    return this.problem.detail || this.problem.title || "";
  }
}

/** No answer at all: no connection, or the request did not get through. */
export class Offline extends Error {}

/** The session is over (a refresh token refused): log in again. */
export class LoggedOut extends Error {}

export const now = () => session;

export async function restore() {
  session = (await store.get(SESSION)) ?? null;
  return session;
}

async function keep(answer) {
  session = {
    access_token: answer.access_token,
    refresh_token: answer.refresh_token,
    expires_at: Date.now() + Math.max(0, (answer.expires_in ?? 300) - 20) * 1000,
    must_change_password: Boolean(answer.must_change_password),
    worker: answer.worker,
    employers: answer.employers ?? [],
  };
  await store.put(SESSION, session);
  return session;
}

/** Forget the tokens (not the queue: it is the login's, and is sent at the next login). */
export async function forget() {
  session = null;
  await store.remove(SESSION);
}

async function send(method, path, { body, headers = {}, token = null } = {}) {
  const all = { Accept: "application/json", "Accept-Language": language(), ...headers };
  if (body !== undefined) all["Content-Type"] = "application/json";
  if (token) all.Authorization = `Bearer ${token}`;
  let answer;
  try {
    answer = await fetch(`/api/v1${path}`, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new Offline();
  }
  let data = null;
  if (answer.status !== 204) data = await answer.json().catch(() => null);
  if (!answer.ok) throw new Refused(answer.status, data);
  return { status: answer.status, data };
}

/** One at a time, across the app's tabs too: a refresh token serves once. */
function exclusively(name, work) {
  if (navigator.locks?.request) return navigator.locks.request(name, work);
  return work();
}

export async function logIn(login, password) {
  const { data } = await send("POST", "/jobtracker/sessions", { body: { login, password } });
  return keep(data);
}

export async function changePassword(login, password, newPassword) {
  const body = { login, password, new_password: newPassword };
  const { data } = await send("POST", "/jobtracker/password", { body });
  return keep(data);
}

/** The next access token; with `companyId`, one that acts for that employer. */
export function refresh(companyId = null) {
  const seen = session?.refresh_token;
  refreshing ??= exclusively("jobtracker-session", async () => {
    const kept = await store.get(SESSION);
    if (!kept) throw new LoggedOut();
    if (!companyId && kept.refresh_token !== seen && kept.expires_at > Date.now()) {
      session = kept; // another tab refreshed it already
      return session;
    }
    const body = { refresh_token: kept.refresh_token };
    if (companyId) body.company_id = companyId;
    try {
      const { data } = await send("POST", "/jobtracker/sessions/refresh", { body });
      return await keep(data);
    } catch (error) {
      if (error instanceof Refused && error.status < 500) {
        await forget();
        throw new LoggedOut();
      }
      throw error;
    }
  }).finally(() => { refreshing = null; });
  return refreshing;
}

/** A call with the worker's token; refreshed and tried once more when it has run out. */
export async function call(method, path, options = {}) {
  if (!session) throw new LoggedOut();
  if (session.expires_at <= Date.now()) await refresh();
  const token = session.access_token;
  try {
    return await send(method, path, { ...options, token });
  } catch (error) {
    if (!(error instanceof Refused) || error.status !== 401) throw error;
    if (session?.access_token === token) await refresh(); // else refreshed meanwhile
    if (!session) throw new LoggedOut();
    return send(method, path, { ...options, token: session.access_token });
  }
}

export const get = async (path) => (await call("GET", path)).data;
export const post = async (path, body, headers) => (await call("POST", path, { body, headers })).data;
export const put = async (path, body) => (await call("PUT", path, { body })).data;
