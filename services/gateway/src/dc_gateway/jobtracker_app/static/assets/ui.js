// Building the screens: elements from plain data (never HTML strings), form fields with their
// label, hint and error, errors put next to their field.
let counter = 0;
export const uid = (prefix) => `${prefix}-${++counter}`;

/** An element: `props` are attributes (`on...` functions are listeners), children are nodes
 * or text. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** A value from the worker's data (a name, a number, a date): not a label, not translated. */
export const data = (text, props = {}) => h("span", { translate: "no", ...props }, text ?? "");

/** A text the API wrote (in the worker's language). */
export const said = (text, props = {}) => h("span", { "data-from-api": "", ...props }, text ?? "");

/** The screen's heading, where the focus goes when the screen opens. */
export const heading = (text) => h("h1", { tabindex: "-1" }, text);

/** Where a form's own refusal shows (one that belongs to no field). */
export const problem = () => h("div", { class: "problem", role: "alert" });

/** A labelled control with an optional hint, and a place for its error. */
export function field({ name, label, hint = null, tag = "input", ...attributes }) {
  const id = uid(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const control = h(tag, {
    id,
    name,
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
    ...attributes,
  });
  if (tag === "textarea" && attributes.value) control.value = attributes.value;
  return h("div", { class: "field", "data-field": name },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    control,
    h("p", { class: "error", id: errorId }));
}

/** A choice of one, as large tiles (radio buttons underneath). */
export function tiles({ name, legend, options, checked, layout = "list" }) {
  const errorId = uid(`${name}-error`);
  return h("fieldset", { "data-field": name, "aria-describedby": errorId },
    h("legend", {}, legend),
    h("div", { class: `tiles ${layout}` },
      options.map(([value, text, props = {}]) => h("label", { class: "tile" },
        h("input", { type: "radio", name, value, checked: String(value) === String(checked) }),
        h("span", props, text)))),
    h("p", { class: "error", id: errorId }));
}

export function value(form, name) {
  const control = form.elements.namedItem(name);
  return control ? String(control.value ?? "").trim() : "";
}

/** Show each error next to its field (by `data-field`), clear the others; the focus goes to the
 * first field in error. True when one was shown. */
export function showErrors(form, errors) {
  let first = null;
  for (const box of form.querySelectorAll("[data-field]")) {
    const text = errors[box.dataset.field] ?? "";
    const shown = box.querySelector(".error");
    if (shown) shown.textContent = text;
    for (const control of box.querySelectorAll("input, textarea, select")) {
      if (text) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
    if (text && !first) first = box.querySelector("input:not([type=radio]), textarea, select, input");
  }
  first?.focus();
  return first !== null;
}

/** Run `work` with the form's buttons off (no double send), then on again. */
export async function busy(form, work) {
  const buttons = [...form.querySelectorAll("button")];
  for (const button of buttons) button.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    for (const button of buttons) button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}
