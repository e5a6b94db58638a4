// The worker's language: the labels from /app/messages.json (kept on the phone for offline use),
// dates and numbers as that language writes them.
export const LANGUAGES = { nl: "Nederlands", fr: "Français", de: "Deutsch", en: "English" };
const CHOSEN = "jobtracker.language";
const KEPT = "jobtracker.messages.";

let language = "nl";
let messages = {};

export const current = () => language;

function remembered(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

function remember(key, value) {
  try { localStorage.setItem(key, value); } catch { /* private mode: only this visit */ }
}

/** The language chosen before on this phone, else the first of the phone's languages that the
 * app speaks, else Dutch. */
export function preferred() {
  const chosen = remembered(CHOSEN);
  if (chosen && chosen in LANGUAGES) return chosen;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const code = String(tag).split("-")[0].toLowerCase();
    if (code in LANGUAGES) return code;
  }
  return "nl";
}

function use(code, found) {
  language = code;
  messages = found;
  document.documentElement.lang = code;
}

async function fetchMessages(code) {
  const answer = await fetch(`/app/messages.json?lang=${encodeURIComponent(code)}`, { cache: "no-cache" });
  if (!answer.ok) throw new Error(`messages: ${answer.status}`);
  const body = await answer.json();
  remember(KEPT + body.language, JSON.stringify(body.messages));
  return body;
}

/** Switch to a language: at once from the phone's copy when there is one (then refreshed in
 * the background; `onNewer` is called if the labels changed), else from the gateway. */
export async function load(code, { choose = false, onNewer = null } = {}) {
  const kept = remembered(KEPT + code);
  if (kept) {
    use(code, JSON.parse(kept));
    if (choose) remember(CHOSEN, code);
    fetchMessages(code).then((body) => {
      if (language === code && JSON.stringify(body.messages) !== kept) {
        use(code, body.messages);
        onNewer?.();
      }
    }, () => { /* offline: the kept copy serves */ });
    return;
  }
  const body = await fetchMessages(code);
  use(body.language, body.messages);
  if (choose) remember(CHOSEN, body.language);
}

/** The label of `key`, with `{name}` filled in from `values` (numbers as the language writes
 * them); a plural label takes the form for `values.count`. */
export function t(key, values = {}) {
  let text = messages[key];
  if (text && typeof text === "object") {
    const category = new Intl.PluralRules(language).select(Number(values.count ?? 0));
    text = text[category] ?? text.other;
  }
  if (typeof text !== "string") return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    const value = values[name];
    if (value === undefined || value === null) return whole;
    return typeof value === "number" ? number(value) : String(value);
  });
}

export const number = (value) => new Intl.NumberFormat(language).format(value);

function dayOf(iso) {
  const [year, month, day] = String(iso).slice(0, 10).split("-").map(Number);
  return new Date(year, month - 1, day);
}

/** A day (YYYY-MM-DD) as the language writes it, with the weekday: "wo 3 dec. 2026". */
export function day(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(language, {
    weekday: "short", day: "numeric", month: "short", year: "numeric",
  }).format(dayOf(iso));
}

export function moment(value) {
  if (!value) return "";
  return new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short" })
    .format(new Date(value));
}

/** Today on this phone, as YYYY-MM-DD. */
export function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
