// The Jobtracker: the worker's app. One screen at a time, chosen by the address's #/path.
import * as api from "./api.js";
import * as i18n from "./i18n.js";
import * as queue from "./queue.js";
import * as store from "./store.js";
import { busy, data, field, h, heading, problem, said, showErrors, tiles, value } from "./ui.js";

const { t, day, moment, today } = i18n;
const main = document.getElementById("main");
const notice = document.getElementById("notice");
const banner = document.getElementById("banner");
const tools = document.getElementById("tools");
const FIRST_DAY = "2016-01-01";
const RESEND_SECONDS = 30;
const WAIT_FOR_SEND_MS = 6000;

let pending = null; // the notice for the next screen: { text, warn }
let firstPassword = null; // the password just typed, for a forced change (memory only)
let rendering = 0;
let opened = false;

// --- moving between screens ------------------------------------------------------------------

function go(path, text = null, warn = false) {
  if (text) pending = { text, warn };
  const target = `#/${path}`;
  if (location.hash === target) route();
  else location.hash = target;
}

/** A notice on the screen now (after an action that stays on it). */
function say(text, warn = false) {
  notice.textContent = text;
  notice.classList.toggle("warn", warn);
}

const SCREENS = [
  [/^login$/, logInScreen],
  [/^password$/, passwordScreen],
  [/^employer$/, employerScreen],
  [/^home$/, homeScreen],
  [/^register$/, pickCustomerScreen],
  [/^register\/(\d{12})$/, registerScreen],
  [/^queue$/, queueScreen],
  [/^services$/, servicesScreen],
  [/^validate$/, validateScreen],
  [/^customers$/, customersScreen],
  [/^customer\/new(?:\/(register))?$/, (then) => customerScreen(null, then)],
  [/^customer\/(\d{12})$/, (userNumber) => customerScreen(userNumber)],
  [/^voucher$/, voucherScreen],
  [/^logout$/, logOutScreen],
];

async function route() {
  const mine = ++rendering;
  const path = location.hash.replace(/^#\/?/, "") || "home";
  const session = api.now();
  if (!session && path !== "login") return go("login");
  if (session && path === "login") return go("home");
  if (session?.must_change_password && !["password", "logout"].includes(path)) return go("password");
  let screen = homeScreen;
  let params = [];
  for (const [pattern, shown] of SCREENS) {
    const found = pattern.exec(path);
    if (found) {
      screen = shown;
      params = found.slice(1);
      break;
    }
  }
  let view;
  try {
    view = await screen(...params);
  } catch (error) {
    if (error instanceof api.LoggedOut) return loggedOut();
    throw error;
  }
  if (mine !== rendering) return; // the worker went on to another screen meanwhile
  document.title = view.title === t("app_name") ? view.title : `${view.title} · ${t("app_name")}`;
  say(pending?.text ?? "", pending?.warn);
  pending = null;
  main.replaceChildren(...view.body.filter(Boolean));
  showTools();
  if (opened) {
    window.scrollTo(0, 0);
    main.querySelector("h1")?.focus();
  }
  opened = true;
}

async function loggedOut() {
  await api.forget();
  go("login", t("log_in_again"), true);
}

/** What to tell the worker about a call that did not work. */
function explain(error) {
  if (error instanceof api.Offline) return t("no_connection");
  if (error instanceof api.Refused) {
    return error.status >= 500 ? t("unavailable") : error.text || t("failed");
  }
  return t("failed");
}

/** A refusal next to its fields (`names` maps the API's field names to the form's), the rest
 * in the form's problem box. */
function refused(form, box, error, names = {}) {
  if (error instanceof api.LoggedOut) return loggedOut();
  box.textContent = "";
  const byField = {};
  let elsewhere = false;
  if (error instanceof api.Refused && error.status < 500) {
    for (const [name, reason] of Object.entries(error.fields)) {
      const target = names[name] ?? name;
      if (form.querySelector(`[data-field="${target}"]`)) byField[target] = reason;
      else elsewhere = true;
    }
  }
  const shown = showErrors(form, byField);
  if (!shown || elsewhere) box.textContent = explain(error);
  return shown;
}

// --- the session's things --------------------------------------------------------------------

const worker = () => api.now().worker;
const scoped = (kind) => `${kind}:${worker().login}:${worker().company_id}`;

function employerName() {
  const session = api.now();
  return (session.employers ?? []).find((e) => e.company_id === session.worker.company_id)?.name;
}

function byName(customers) {
  return [...customers].sort((a, b) => a.name.localeCompare(b.name, i18n.current()));
}

async function keptCustomers() {
  return (await store.get(scoped("customers"))) ?? null;
}

async function fetchCustomers() {
  const found = await api.get("/jobtracker/customers");
  const kept = { items: found.items ?? [], saved_at: new Date().toISOString() };
  await store.put(scoped("customers"), kept);
  return kept;
}

async function keepCustomer(customer) {
  const kept = (await keptCustomers()) ?? { items: [], saved_at: new Date().toISOString() };
  kept.items = [...kept.items.filter((c) => c.user_number !== customer.user_number), customer];
  await store.put(scoped("customers"), kept);
}

async function afterLogIn(text = null) {
  queue.send().catch(() => {});
  if ((api.now().employers ?? []).length > 1) return go("employer", text);
  return go("home", text);
}

/** The pieces of a service on one line: the date, the hours, the activity, the voucher. */
function serviceLine(service, labels = {}) {
  return h("p", { class: "sub parts" },
    data(labels.date ?? day(service.service_date)),
    h("span", {}, t("hours_count", { count: service.hours })),
    labels.activity ?? h("span", {}, t(`activity_${service.activity_type}`)),
    labels.voucher ?? h("span", {}, t(service.voucher === "paper" ? "paper" : "electronic")));
}

function customerTitle(name, userNumber) {
  return h("span", { class: "title" }, data(name || userNumber));
}

function savedNote(kept, error) {
  if (!kept) return h("p", { class: "problem" }, explain(error));
  if (error instanceof api.Offline) {
    return h("p", { class: "saved" }, t("offline_saved", { when: moment(kept.saved_at) }));
  }
  return h("p", { class: "problem" }, explain(error));
}

// --- the bar on top, the offline banner --------------------------------------------------------

function showTools() {
  const id = "language-switch";
  const select = h("select", { id },
    Object.entries(i18n.LANGUAGES).map(([code, name]) =>
      h("option", { value: code, lang: code, selected: code === i18n.current() }, name)));
  select.addEventListener("change", () => switchLanguage(select.value));
  tools.replaceChildren(h("label", { for: id, class: "visually-hidden" }, t("language")), select);
  document.getElementById("brand").setAttribute("href", api.now() ? "#/home" : "#/login");
}

async function switchLanguage(code) {
  try {
    await i18n.load(code, { choose: true, onNewer: route });
  } catch {
    pending = { text: t("no_connection"), warn: true };
  }
  showBanner();
  await route();
  document.getElementById("language-switch")?.focus();
}

function showBanner() {
  banner.textContent = navigator.onLine === false ? t("offline") : "";
}

// --- log in, the password, the employer -------------------------------------------------------

function showPassword(form) {
  const id = "show-password";
  const box = h("input", { type: "checkbox", id });
  box.addEventListener("change", () => {
    for (const input of form.querySelectorAll("input[data-secret]")) {
      input.type = box.checked ? "text" : "password";
    }
  });
  return h("div", { class: "check" }, box, h("label", { for: id }, t("show_password")));
}

function logInScreen() {
  const box = problem();
  const form = h("form", { novalidate: true },
    field({
      name: "login", label: t("login"), hint: t("login_hint"), inputmode: "numeric",
      autocomplete: "username", maxlength: 12, required: true, enterkeyhint: "next",
    }),
    field({
      name: "password", label: t("password"), type: "password", "data-secret": true,
      autocomplete: "current-password", required: true, enterkeyhint: "go",
    }));
  form.append(showPassword(form), box, h("button", { type: "submit", class: "wide big" }, t("log_in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const login = value(form, "login").replace(/\s+/g, "");
    const password = form.elements.namedItem("password").value;
    const errors = {};
    if (!/^980\d{9}$/.test(login)) errors.login = t("login_invalid");
    if (!password) errors.password = t("fill_in");
    box.textContent = "";
    if (showErrors(form, errors)) return;
    await busy(form, async () => {
      try {
        const session = await api.logIn(login, password);
        if (session.must_change_password) {
          firstPassword = password;
          return go("password");
        }
        return afterLogIn();
      } catch (error) {
        refused(form, box, error);
      }
    });
  });
  return {
    title: t("login_title"),
    body: [heading(t("login_title")), h("p", { class: "intro" }, t("login_intro")), form],
  };
}

function passwordProblems(login, fresh, repeated) {
  const errors = {};
  if (fresh.length < 10) errors.new = t("too_short");
  else if (!/\p{L}/u.test(fresh) || !/\p{Nd}/u.test(fresh)) errors.new = t("letters_and_digits");
  else if (fresh.includes(login)) errors.new = t("not_the_login");
  if (!errors.new && fresh !== repeated) errors.repeat = t("passwords_differ");
  return errors;
}

function passwordScreen() {
  const session = api.now();
  const forced = session.must_change_password;
  const title = forced ? t("password_title") : t("password_change_title");
  const box = problem();
  const rules = h("div", { id: "password-rules" },
    h("p", { class: "hint" }, t("rules_intro")),
    h("ul", { class: "rules" },
      h("li", {}, t("rule_length")), h("li", {}, t("rule_mix")), h("li", {}, t("rule_not_login"))));
  const form = h("form", { novalidate: true },
    field({
      name: "current", label: t("current_password"), type: "password", "data-secret": true,
      autocomplete: "current-password", required: true, value: forced ? firstPassword ?? "" : "",
    }),
    rules,
    field({
      name: "new", label: t("new_password"), type: "password", "data-secret": true,
      autocomplete: "new-password", required: true,
    }),
    field({
      name: "repeat", label: t("repeat_password"), type: "password", "data-secret": true,
      autocomplete: "new-password", required: true,
    }));
  const fresh = form.querySelector("input[name=new]");
  fresh.setAttribute("aria-describedby", `password-rules ${fresh.getAttribute("aria-describedby")}`);
  form.append(showPassword(form), box,
    h("button", { type: "submit", class: "wide big" }, t("save_password")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const current = form.elements.namedItem("current").value;
    const chosen = form.elements.namedItem("new").value;
    const errors = passwordProblems(session.worker.login, chosen, form.elements.namedItem("repeat").value);
    if (!current) errors.current = t("fill_in");
    box.textContent = "";
    if (showErrors(form, errors)) return;
    const employer = session.worker.company_id;
    await busy(form, async () => {
      try {
        const changed = await api.changePassword(session.worker.login, current, chosen);
        firstPassword = null;
        if (forced) return afterLogIn(t("password_saved"));
        // The new session acts for the first employer: back to the one the worker chose.
        if (changed.worker.company_id !== employer) await api.refresh(employer).catch(() => {});
        return go("home", t("password_saved"));
      } catch (error) {
        if (error instanceof api.Refused && error.status === 401) {
          box.textContent = "";
          showErrors(form, { current: error.text || t("failed") });
          return;
        }
        refused(form, box, error, { new_password: "new", password: "current" });
      }
    });
  });
  const body = [heading(title)];
  if (forced) body.push(h("p", { class: "intro" }, t("password_intro")));
  body.push(form);
  if (forced) body.push(h("ul", { class: "also" }, h("li", {}, h("a", { href: "#/logout" }, t("log_out")))));
  else body.push(h("p", {}, h("a", { href: "#/home" }, t("to_start"))));
  return { title, body };
}

function employerScreen() {
  const session = api.now();
  const box = problem();
  const list = h("ul", { class: "cards" },
    (session.employers ?? []).map((employer) => {
      const here = employer.company_id === session.worker.company_id;
      const button = h("button", {
        type: "button", class: `wide big ${here ? "" : "secondary"}`, "aria-pressed": here ? "true" : "false",
      }, data(employer.name));
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await api.refresh(employer.company_id);
          go("home", t("employer_chosen", { name: employer.name }));
        } catch (error) {
          if (error instanceof api.LoggedOut) return loggedOut();
          box.textContent = explain(error);
        } finally {
          button.disabled = false;
        }
      });
      return h("li", {}, button);
    }));
  return {
    title: t("employer_title"),
    body: [heading(t("employer_title")), h("p", { class: "intro" }, t("employer_intro")), box, list],
  };
}

// --- the start ---------------------------------------------------------------------------------

function count(number, { alert = false } = {}) {
  const classes = ["count"];
  if (number === 0) classes.push("zero");
  if (alert && number > 0) classes.push("alert");
  return data(i18n.number(number), { class: classes.join(" ") });
}

function customerCards(customers, { edit = false } = {}) {
  if (!customers.length) return h("p", { class: "intro" }, t("no_customers"));
  const list = h("ul", { class: "cards" }, byName(customers).map((customer) => {
    const nameId = `customer-${customer.user_number}`;
    const target = h("a", { class: edit ? "main" : "card", href: `#/register/${customer.user_number}` },
      h("span", { class: "title", id: nameId }, data(customer.name)),
      h("span", { class: "sub" }, data(customer.note || customer.user_number)));
    if (!edit) return h("li", {}, target);
    return h("li", { class: "card" }, target,
      h("div", { class: "actions" },
        h("a", {
          class: "button secondary", href: `#/customer/${customer.user_number}`, "aria-describedby": nameId,
        }, t("edit"))));
  }));
  return edit ? list : h("div", {}, h("p", { class: "intro" }, t("tap_customer")), list);
}

async function queueCounts() {
  const items = await queue.of(worker().login);
  const refusedOnes = items.filter((item) => item.state === "refused").length;
  return { waiting: items.length - refusedOnes, refused: refusedOnes };
}

function waitingLink({ waiting, refused: refusedOnes }) {
  return h("a", { href: "#/queue", id: "waiting-link" },
    h("span", {}, t("waiting")),
    h("span", { class: "badges" },
      refusedOnes ? h("span", { class: "state refused" }, t("refused_count", { count: refusedOnes })) : null,
      count(waiting)));
}

async function homeScreen() {
  const session = api.now();
  const firstName = session.worker.name.split(" ")[0];
  const kept = await keptCustomers();
  const keptValidate = await store.get(scoped("validate"));
  const employer = employerName();
  const waiting = h("li", {}, waitingLink(await queueCounts()));
  const validateCount = h("span", { id: "validate-count" },
    keptValidate ? count(keptValidate.items.length, { alert: true }) : null);
  const customers = h("div", { id: "home-customers" }, kept ? customerCards(kept.items) : h("p", { class: "intro" }, t("loading")));

  const refreshWaiting = async () => {
    if (!waiting.isConnected) return queue.events.removeEventListener("change", refreshWaiting);
    waiting.replaceChildren(waitingLink(await queueCounts()));
  };
  queue.events.addEventListener("change", refreshWaiting);
  fetchCustomers().then((fresh) => {
    customers.replaceChildren(customerCards(fresh.items));
  }, (error) => {
    if (error instanceof api.LoggedOut) return loggedOut();
    if (!kept) customers.replaceChildren(savedNote(null, error));
  });
  fetchToValidate().then((fresh) => {
    validateCount.replaceChildren(count(fresh.items.length, { alert: true }));
  }, () => {});

  const also = [
    h("li", {}, h("a", { href: "#/voucher" }, t("check_voucher"))),
    h("li", {}, h("a", { href: "#/customers" }, t("customers"))),
    (session.employers ?? []).length > 1 ? h("li", {}, h("a", { href: "#/employer" }, t("other_employer"))) : null,
    h("li", {}, h("a", { href: "#/password" }, t("password_change_title"))),
    h("li", {}, h("a", { href: "#/logout" }, t("log_out"))),
  ];
  return {
    title: t("app_name"),
    body: [
      heading(t("hello", { name: firstName })),
      employer ? h("p", { class: "who" }, data(employer)) : null,
      h("a", { class: "button wide big", href: "#/register" }, t("register_service")),
      h("h2", {}, t("what_now")),
      h("ul", { class: "counts" },
        waiting,
        h("li", {}, h("a", { href: "#/validate" }, h("span", {}, t("to_validate")), validateCount)),
        h("li", {}, h("a", { href: "#/services" }, h("span", {}, t("my_services"))))),
      h("h2", {}, t("customers")),
      customers,
      h("p", {}, h("a", { class: "button secondary wide", href: "#/customer/new/register" }, t("add_customer"))),
      h("ul", { class: "also" }, also),
    ].filter(Boolean),
  };
}

// --- registering a service ---------------------------------------------------------------------

async function pickCustomerScreen() {
  const kept = await keptCustomers();
  const list = h("div", {}, kept ? customerCards(kept.items) : h("p", { class: "intro" }, t("loading")));
  fetchCustomers().then((fresh) => {
    list.replaceChildren(customerCards(fresh.items));
  }, (error) => {
    if (error instanceof api.LoggedOut) return loggedOut();
    if (!kept) list.replaceChildren(savedNote(null, error));
  });
  return {
    title: t("pick_customer"),
    body: [
      heading(t("pick_customer")),
      list,
      h("p", {}, h("a", { class: "button secondary wide", href: "#/customer/new/register" }, t("add_customer"))),
      h("p", {}, h("a", { href: "#/home" }, t("to_start"))),
    ],
  };
}

const later = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function registerScreen(userNumber) {
  const kept = await keptCustomers();
  const customer = kept?.items.find((c) => c.user_number === userNumber) ?? null;
  const name = customer?.name ?? userNumber;
  const last = (await store.get(scoped(`last:${userNumber}`))) ?? {};
  const box = problem();
  const form = h("form", { novalidate: true, class: "register" },
    tiles({
      name: "hours", legend: t("hours"), layout: "hours", checked: last.hours ?? 3,
      options: [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => [n, i18n.number(n), { translate: "no" }]),
    }),
    field({
      name: "date", label: t("date"), type: "date", value: today(), max: today(), min: FIRST_DAY, required: true,
    }),
    tiles({
      name: "activity", legend: t("activity"), checked: last.activity_type ?? 1,
      options: [1, 2, 3, 4].map((n) => [n, t(`activity_${n}`)]),
    }),
    tiles({
      name: "voucher", legend: t("voucher"), layout: "two", checked: "electronic",
      options: [["electronic", t("electronic")], ["paper", t("paper")]],
    }),
    box,
    h("button", { type: "submit", class: "wide big" }, t("register")));
  const dateInput = form.querySelector("input[name=date]");
  const dateSaid = data(day(today()), { class: "date-said", "aria-hidden": "true" });
  const dateRow = h("div", { class: "date-row" });
  dateInput.replaceWith(dateRow);
  dateRow.append(dateInput, dateSaid);
  dateInput.addEventListener("input", () => { dateSaid.textContent = dateInput.value ? day(dateInput.value) : ""; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const date = value(form, "date");
    box.textContent = "";
    if (!date || date > today() || date < FIRST_DAY) {
      showErrors(form, { date: t("date_invalid") });
      return;
    }
    showErrors(form, {});
    const body = {
      user_number: userNumber,
      service_date: date,
      hours: Number(value(form, "hours")),
      activity_type: Number(value(form, "activity")),
      voucher: value(form, "voucher") || "electronic",
    };
    await busy(form, async () => {
      await store.put(scoped(`last:${userNumber}`), { hours: body.hours, activity_type: body.activity_type });
      const item = await queue.add(body, customer?.name);
      let state = "waiting";
      if (navigator.onLine !== false) {
        await Promise.race([queue.send().catch(() => {}), later(WAIT_FOR_SEND_MS)]);
        state = (await store.queuedOne(item.key))?.state ?? "sent";
      }
      const values = { customer: name, date: day(date) };
      if (state === "sent") return go("home", t("sent", values));
      if (state === "refused") return go("queue");
      return go("home", t("queued", values));
    });
  });
  return {
    title: t("register_service"),
    body: [
      h("h1", { tabindex: "-1" }, h("span", { class: "kicker" }, t("register_service")), data(name)),
      form,
      h("p", {}, h("a", { href: "#/home" }, t("to_start"))),
    ],
  };
}

// --- waiting to be sent ------------------------------------------------------------------------

function queueCard(item, session) {
  const other = item.company_id !== session.worker.company_id;
  const card = h("li", { class: "card", "data-key": item.key },
    customerTitle(item.customer_name, item.body.user_number),
    serviceLine(item.body),
    h("p", {}, h("span", { class: `state ${item.state}` }, t(`state_${item.state}`))));
  if (other && item.state !== "refused") {
    const employer = (session.employers ?? []).find((e) => e.company_id === item.company_id);
    card.append(h("p", { class: "sub" }, t("for_employer", { name: employer?.name ?? item.company_id })));
  }
  if (item.state === "refused") {
    card.append(h("p", { class: "reason" }, item.reason ? said(item.reason) : t("failed")));
    const remove = h("button", { type: "button", class: "secondary" }, t("remove"));
    remove.addEventListener("click", async () => {
      await queue.remove(item.key);
      say(t("removed"));
    });
    card.append(h("div", { class: "actions" }, remove));
  }
  return card;
}

async function queueScreen() {
  const list = h("div", { id: "queue-list" });
  const show = async () => {
    if (!list.isConnected && list.dataset.shown) {
      queue.events.removeEventListener("change", show);
      return;
    }
    list.dataset.shown = "yes";
    const session = api.now();
    if (!session) return;
    const items = await queue.of(session.worker.login);
    if (!items.length) {
      list.replaceChildren(h("p", { class: "notice", id: "queue-empty" }, t("queue_empty")));
      return;
    }
    const waiting = items.some((item) => item.state === "waiting");
    const sendNow = h("button", { type: "button", class: "wide" }, t("send_now"));
    sendNow.addEventListener("click", () => {
      queue.send().catch((error) => {
        if (error instanceof api.LoggedOut) loggedOut();
      });
    });
    list.replaceChildren(h("ul", { class: "cards" }, items.map((item) => queueCard(item, session))));
    if (waiting && navigator.onLine !== false) list.append(h("p", {}, sendNow));
  };
  await show();
  queue.events.addEventListener("change", show);
  return {
    title: t("waiting"),
    body: [
      heading(t("waiting")),
      h("p", { class: "intro" }, t("queue_intro")),
      list,
      h("p", {}, h("a", { href: "#/home" }, t("to_start"))),
    ],
  };
}

// --- my services -------------------------------------------------------------------------------

function serviceCard(service, actions = null) {
  const card = h("li", { class: "card", "data-id": service.id },
    customerTitle(service.customer_name, service.user_number),
    serviceLine(service, {
      activity: service.activity_label ? said(service.activity_label) : null,
      voucher: service.voucher_label ? said(service.voucher_label) : null,
    }),
    h("p", { class: "status" },
      h("span", { class: "visually-hidden" }, t("status")), " ",
      data(String(service.status), { class: "code" }), " ",
      said(service.status_label)));
  const answer = service.worker_answer;
  if (answer?.answer === "confirmed") card.append(h("p", { class: "sub" }, t("you_confirmed")));
  if (answer?.answer === "correction") {
    card.append(h("p", { class: "sub" }, t("you_asked_correction", { reason: answer.reason ?? "" })));
  }
  if (actions) card.append(actions);
  return card;
}

async function servicesScreen() {
  const key = scoped("services");
  const kept = await store.get(key);
  const list = h("ul", { class: "cards", id: "services-list" });
  const status = h("div");
  const more = h("button", { type: "button", class: "secondary wide", hidden: true }, t("more"));
  let shown = kept ?? null;

  const show = () => {
    list.replaceChildren(...(shown?.items ?? []).map((s) => serviceCard(s)));
    more.hidden = !shown?.next_page;
    if (shown && !shown.items.length) status.replaceChildren(h("p", { class: "intro" }, t("services_empty")));
  };
  const load = async (page) => {
    const found = await api.get(`/jobtracker/services?page=${page}`);
    const items = page === 1 ? found.items : [...(shown?.items ?? []), ...found.items];
    shown = { items, next_page: found.next_page, saved_at: new Date().toISOString() };
    await store.put(key, shown);
    status.replaceChildren();
    show();
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      await load(shown.next_page);
    } catch (error) {
      if (error instanceof api.LoggedOut) return loggedOut();
      status.replaceChildren(savedNote(shown, error));
    } finally {
      more.disabled = false;
    }
  });
  if (shown) show();
  else status.replaceChildren(h("p", { class: "intro" }, t("loading")));
  load(1).catch((error) => {
    if (error instanceof api.LoggedOut) return loggedOut();
    status.replaceChildren(savedNote(shown, error));
  });
  return {
    title: t("my_services"),
    body: [heading(t("my_services")), status, list, h("p", {}, more), h("p", {}, h("a", { href: "#/home" }, t("to_start")))],
  };
}

/** When a queued registration was sent, the phone's copy of "my services" shows it. */
queue.events.addEventListener("change", async (event) => {
  const service = event.detail?.service;
  if (!service?.id || !api.now() || event.detail.sent?.company_id !== worker().company_id) return;
  const key = scoped("services");
  const kept = await store.get(key);
  if (!kept || kept.items.some((s) => s.id === service.id)) return;
  await store.put(key, { ...kept, items: [service, ...kept.items] });
});

// --- to validate -------------------------------------------------------------------------------

async function fetchToValidate() {
  const found = await api.get("/jobtracker/to-validate");
  const kept = { items: found.items ?? [], saved_at: new Date().toISOString() };
  await store.put(scoped("validate"), kept);
  return kept;
}

async function dropValidated(id) {
  const kept = await store.get(scoped("validate"));
  if (kept) await store.put(scoped("validate"), { ...kept, items: kept.items.filter((s) => s.id !== id) });
}

function answerActions(service, onDone) {
  const box = problem();
  const confirm = h("button", { type: "button" }, t("confirm"));
  const ask = h("button", { type: "button", class: "secondary", "aria-expanded": "false" }, t("ask_correction"));
  const form = h("form", { novalidate: true, hidden: true },
    field({ name: "reason", label: t("correction_reason"), hint: t("correction_hint"), tag: "textarea", required: true, maxlength: 500 }),
    h("div", { class: "actions" },
      h("button", { type: "submit" }, t("send_correction")),
      h("button", { type: "button", class: "secondary", "data-cancel": true }, t("cancel"))));
  const buttons = h("div", { class: "actions" }, confirm, ask);
  const answer = async (path, body, text) => {
    box.textContent = "";
    try {
      await api.post(`/jobtracker/services/${service.id}/${path}`, body);
      await dropValidated(service.id);
      onDone(text);
    } catch (error) {
      if (error instanceof api.LoggedOut) return loggedOut();
      if (path === "correction") refused(form, box, error);
      else box.textContent = explain(error);
    }
  };
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    await answer("confirm", undefined, t("confirmed", { customer: service.customer_name ?? service.user_number, date: day(service.service_date) }));
    confirm.disabled = false;
  });
  ask.addEventListener("click", () => {
    form.hidden = false;
    buttons.hidden = true;
    ask.setAttribute("aria-expanded", "true");
    form.querySelector("textarea").focus();
  });
  form.querySelector("[data-cancel]").addEventListener("click", () => {
    form.hidden = true;
    buttons.hidden = false;
    ask.setAttribute("aria-expanded", "false");
    showErrors(form, {});
    ask.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = value(form, "reason");
    if (!reason) {
      showErrors(form, { reason: t("reason_required") });
      return;
    }
    await busy(form, () => answer("correction", { reason }, t("correction_sent")));
  });
  return h("div", {}, buttons, form, box);
}

async function validateScreen() {
  const kept = await store.get(scoped("validate"));
  const list = h("div", { id: "validate-list" });
  const show = (found, error = null) => {
    const items = found?.items ?? [];
    const parts = [];
    if (error) parts.push(savedNote(found, error));
    if (found && !items.length) parts.push(h("p", { class: "notice" }, t("validate_empty")));
    if (!found && !error) parts.push(h("p", { class: "intro" }, t("loading")));
    parts.push(h("ul", { class: "cards" }, items.map((service) => {
      const card = serviceCard(service, answerActions(service, (text) => {
        card.remove();
        say(text);
        if (!list.querySelector("li")) list.replaceChildren(h("p", { class: "notice" }, t("validate_empty")));
      }));
      return card;
    })));
    list.replaceChildren(...parts);
  };
  show(kept);
  fetchToValidate().then((fresh) => show(fresh), (error) => {
    if (error instanceof api.LoggedOut) return loggedOut();
    show(kept, error);
  });
  return {
    title: t("to_validate"),
    body: [heading(t("to_validate")), h("p", { class: "intro" }, t("validate_intro")), list,
      h("p", {}, h("a", { href: "#/home" }, t("to_start")))],
  };
}

// --- customers ---------------------------------------------------------------------------------

async function customersScreen() {
  const kept = await keptCustomers();
  const list = h("div", {}, kept ? customerCards(kept.items, { edit: true }) : h("p", { class: "intro" }, t("loading")));
  fetchCustomers().then((fresh) => {
    list.replaceChildren(customerCards(fresh.items, { edit: true }));
  }, (error) => {
    if (error instanceof api.LoggedOut) return loggedOut();
    list.prepend(savedNote(kept, error));
  });
  return {
    title: t("customers"),
    body: [
      heading(t("customers")),
      h("p", {}, h("a", { class: "button wide", href: "#/customer/new" }, t("add_customer"))),
      list,
      h("p", {}, h("a", { href: "#/home" }, t("to_start"))),
    ],
  };
}

async function customerScreen(userNumber, then = null) {
  const kept = await keptCustomers();
  const known = userNumber ? kept?.items.find((c) => c.user_number === userNumber) : null;
  const title = userNumber ? t("customer_edit") : t("customer_new");
  const box = problem();
  const form = h("form", { novalidate: true },
    field({
      name: "user_number", label: t("user_number"), hint: t("user_number_hint"), inputmode: "numeric",
      autocomplete: "off", maxlength: 12, required: true, value: userNumber ?? "", readonly: Boolean(userNumber),
    }),
    field({ name: "name", label: t("name"), autocomplete: "off", required: true, maxlength: 200, value: known?.name ?? "" }),
    field({ name: "phone", label: t("phone"), type: "tel", autocomplete: "off", maxlength: 40, value: known?.phone ?? "" }),
    field({ name: "note", label: t("note"), hint: t("note_hint"), tag: "textarea", maxlength: 500, value: known?.note ?? "" }),
    box,
    h("button", { type: "submit", class: "wide big" }, t("save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const number = value(form, "user_number").replace(/\s+/g, "");
    const name = value(form, "name");
    const errors = {};
    if (!/^\d{12}$/.test(number)) errors.user_number = t("user_number_invalid");
    if (!name) errors.name = t("name_required");
    box.textContent = "";
    if (showErrors(form, errors)) return;
    const body = { name, phone: value(form, "phone") || null, note: value(form, "note") || null };
    await busy(form, async () => {
      try {
        const saved = await api.put(`/jobtracker/customers/${number}`, body);
        await keepCustomer({ user_number: number, ...body, ...(saved ?? {}) });
        const text = t("customer_saved", { name: saved?.name ?? name });
        return then === "register" ? go(`register/${number}`, text) : go("customers", text);
      } catch (error) {
        refused(form, box, error);
      }
    });
  });
  const back = then === "register" ? "#/register" : "#/customers";
  return {
    title,
    body: [heading(title), form, h("p", {}, h("a", { href: back }, t("back")))],
  };
}

// --- paper vouchers ----------------------------------------------------------------------------

function voucherScreen() {
  const box = problem();
  const result = h("div", { id: "voucher-result", "aria-live": "polite" });
  const form = h("form", { novalidate: true },
    field({
      name: "number", label: t("voucher_number"), hint: t("voucher_number_hint"), inputmode: "numeric",
      autocomplete: "off", maxlength: 20, required: true,
    }),
    box,
    h("button", { type: "submit", class: "wide big" }, t("check")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const number = value(form, "number").replace(/\s+/g, "");
    box.textContent = "";
    result.replaceChildren();
    if (!/^\d+$/.test(number)) {
      showErrors(form, { number: t("voucher_number_invalid") });
      return;
    }
    showErrors(form, {});
    await busy(form, async () => {
      try {
        const found = await api.get(`/jobtracker/paper-vouchers/${number}`);
        const until = found.expires_on ? day(found.expires_on) : null;
        let when = null;
        if (until && found.state === "valid") when = t("voucher_valid_until", { date: until });
        if (until && found.state === "expired") when = t("voucher_expired_on", { date: until });
        result.replaceChildren(h("div", { class: `result ${found.state}` },
          h("p", { class: "sub" }, data(found.number ?? number)),
          h("p", { class: "verdict" }, said(found.state_label)),
          when ? h("p", {}, when) : null));
      } catch (error) {
        refused(form, box, error);
      }
    });
  });
  return {
    title: t("check_voucher"),
    body: [heading(t("check_voucher")), form, result, h("p", {}, h("a", { href: "#/home" }, t("to_start")))],
  };
}

// --- log out -----------------------------------------------------------------------------------

async function logOutScreen() {
  const { waiting } = await queueCounts();
  const button = h("button", { type: "button", class: "danger wide big" }, t("log_out"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    firstPassword = null;
    await api.forget();
    await store.forgetAllBut([]); // the lists, the last choices; the queue stays
    go("login", t("logged_out"));
  });
  return {
    title: t("log_out_title"),
    body: [
      heading(t("log_out_title")),
      h("p", {}, t("log_out_confirm")),
      waiting ? h("p", { class: "notice warn" }, t("log_out_waiting", { count: waiting })) : null,
      h("div", { class: "row" }, button,
        h("a", { class: "button secondary big", href: api.now()?.must_change_password ? "#/password" : "#/home" }, t("cancel"))),
    ].filter(Boolean),
  };
}

// --- the start of the app ----------------------------------------------------------------------

function sendWaiting() {
  queue.send().catch((error) => {
    if (error instanceof api.LoggedOut) loggedOut();
  });
}

async function start() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" })?.catch?.(() => {});
  }
  const language = i18n.preferred();
  for (;;) {
    try {
      await i18n.load(language, { onNewer: () => { showBanner(); route(); } });
      break;
    } catch {
      // No labels on this phone yet, and no connection: wait for one.
      await new Promise((resolve) => { window.addEventListener("online", resolve, { once: true }); });
    }
  }
  await api.restore();
  await queue.recover();
  showBanner();
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => { showBanner(); sendWaiting(); });
  window.addEventListener("offline", showBanner);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") sendWaiting();
  });
  window.addEventListener("unhandledrejection", (event) => {
    if (event.reason instanceof api.LoggedOut) {
      event.preventDefault();
      loggedOut();
    }
  });
  await route();
  sendWaiting();
  setInterval(sendWaiting, RESEND_SECONDS * 1000);
}

start();
