// Owner pages: accounts (roles, camera grants) and the audit log.
import { api } from "../api.js";
import { errorBox, field, h, setError, show } from "../dom.js";

const ROLES = ["resident", "owner", "neighbour", "agency"];

function grantBoxes(cameras, granted) {
  return h("fieldset", { class: "grants" }, h("legend", {}, "Cameras this account may see"),
    cameras.length ? cameras.map((c) => h("label", { class: "check" },
      h("input", { type: "checkbox", value: c.id, checked: granted.includes(c.id) }), ` ${c.name}`)) : h("p", { class: "muted" }, "No cameras yet."));
}

function checked(box) {
  return [...box.querySelectorAll("input[type=checkbox]:checked")].map((i) => i.value);
}

export async function usersView(me, refresh) {
  const [{ users }, { cameras }] = await Promise.all([api("GET", "/api/users"), api("GET", "/api/cameras")]);
  const rows = users.map((u) => {
    const role = h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r, selected: r === u.role }, r)));
    const grants = grantBoxes(cameras, u.cameras);
    const error = errorBox();
    const self = u.id === me.user_id;
    return h("section", { class: "card user", dataset: { user: u.username } },
      h("h2", {}, u.username, u.disabled ? h("span", { class: "muted" }, " (disabled)") : null),
      h("p", { class: "muted small" }, u.totp_enrolled ? "second factor on" : "no second factor"),
      field("Role", role), u.role === "resident" ? grants : null, error,
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: async () => {
          try { await api("PATCH", `/api/users/${u.id}`, { role: role.value, cameras: role.value === "resident" ? checked(grants) : [] }); refresh(); }
          catch (err) { setError(error, err.message); }
        } }, "Save"),
        self ? null : h("button", { type: "button", class: "secondary", onclick: async () => {
          try { await api("PATCH", `/api/users/${u.id}`, { disabled: !u.disabled }); refresh(); }
          catch (err) { setError(error, err.message); }
        } }, u.disabled ? "Enable" : "Disable"),
        self ? null : h("button", { type: "button", class: "danger", onclick: async () => {
          if (!confirm(`Delete ${u.username}?`)) return;
          try { await api("DELETE", `/api/users/${u.id}`); refresh(); }
          catch (err) { setError(error, err.message); }
        } }, "Delete")));
  });
  const username = h("input", { name: "new-username", required: true, autocomplete: "off" });
  const password = h("input", { name: "new-password", type: "password", required: true, minlength: 10, autocomplete: "new-password" });
  const grants = grantBoxes(cameras, []);
  // Only residents are granted cameras; neighbours and agencies never see one.
  const role = h("select", { name: "new-role", onchange: () => { grants.hidden = role.value !== "resident"; } },
    ROLES.map((r) => h("option", { value: r }, r)));
  const error = errorBox();
  const create = h("form", { class: "card", id: "new-user", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api("POST", "/api/users", { username: username.value, password: password.value, role: role.value, cameras: role.value === "resident" ? checked(grants) : [] });
      refresh();
    } catch (err) { setError(error, err.message); }
  } }, h("h2", {}, "Add an account"), field("User name", username), field("Password", password),
    field("Role", role), grants, error, h("button", { type: "submit" }, "Add"));
  show(h("h1", {}, "Users"), ...rows, create);
}

export async function auditView() {
  const actor = h("input", { name: "actor", placeholder: "user" });
  const action = h("input", { name: "action", placeholder: "action (e.g. login)" });
  const target = h("input", { name: "target", placeholder: "target (e.g. camera:front-door)" });
  const since = h("input", { name: "since", type: "datetime-local" });
  const body = h("tbody", {});
  const verdict = h("p", { id: "verdict", class: "muted" });
  async function load() {
    const query = new URLSearchParams({ limit: "200" });
    for (const [key, input] of [["actor", actor], ["action", action], ["target", target]]) if (input.value) query.set(key, input.value);
    if (since.value) query.set("since", new Date(since.value).toISOString().replace("+00:00", "Z"));
    const { rows } = await api("GET", `/api/audit?${query}`);
    body.replaceChildren(...rows.map((r) => h("tr", { class: r.outcome === "ok" ? "" : "refused" },
      h("td", {}, String(r.seq)), h("td", {}, new Date(r.at).toLocaleString()), h("td", {}, r.actor),
      h("td", {}, r.action), h("td", {}, r.target), h("td", {}, r.outcome), h("td", {}, r.ip),
      h("td", { class: "small" }, Object.keys(r.detail).length ? JSON.stringify(r.detail) : ""))));
  }
  const filters = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); load(); } },
    actor, action, target, since, h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", class: "secondary", onclick: async () => {
      const result = await api("GET", "/api/audit/verify");
      verdict.textContent = result.ok ? `Chain intact: ${result.checked} rows checked.`
        : `BROKEN at row ${result.first_bad_seq}: ${result.reason}.`;
      verdict.className = result.ok ? "ok" : "error";
    } }, "Verify chain"));
  await load();
  show(h("h1", {}, "Audit log"), filters, verdict,
    h("div", { class: "scroll" }, h("table", { class: "audit" },
      h("thead", {}, h("tr", {}, ["#", "When", "Who", "Action", "Target", "Outcome", "From", "Detail"].map((t) => h("th", {}, t)))), body)));
}
