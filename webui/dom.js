// Building DOM from data. Text always goes in through textContent (never innerHTML): names,
// scopes and topics come from cameras, and a camera must not be able to run script here.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function show(...nodes) {
  const view = document.getElementById("view");
  view.replaceChildren(...nodes);
}

export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString();
}

export function field(label, input) {
  return h("label", { class: "field" }, h("span", {}, label), input);
}

export function errorBox() {
  return h("p", { class: "error", role: "alert", hidden: true });
}

export function setError(box, message) {
  box.textContent = message || "";
  box.hidden = !message;
}
