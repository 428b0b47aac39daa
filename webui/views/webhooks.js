// Outgoing webhooks (owner only), "send events to other tools": the rules with where they send,
// what and how the last delivery went; create, change, switch off and on, test, replace the
// signing secret (shown once) and delete. The gateway asks for the password again where needed.
import { api } from "../lib/api.js";
import { exactly, when } from "../lib/format.js";
import { html, useState } from "../lib/html.js";
import { useInterval, useLoad, useUnmountSignal } from "../lib/load.js";
import { useStore } from "../lib/store.js";
import { kindLabel } from "../lib/words.js";
import { useConfirm } from "../components/dialogs.js";
import { Icon } from "../components/icons.js";
import { SecretOnce } from "../components/secret-once.js";
import { SettingsNav } from "../components/settings-nav.js";
import { Done, Empty, ErrorText, LoadFailed, Loading, PageHead } from "../components/ui.js";
import { WebhookForm } from "../components/webhook-form.js";

const BASE = "/api/automations/webhooks";

function bytes(n) {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** How a delivery went, in words ("Delivered 14:05 (HTTP 204)"). */
export function deliveryWords(d) {
  const what = d.test ? "Test" : "Delivery";
  const status = d.http_status ? `HTTP ${d.http_status}` : null;
  const tries = d.attempts > 1 ? ` after ${d.attempts} attempts` : "";
  if (d.ok) return `${d.test ? "Test delivered" : "Delivered"} ${when(d.at)}${status ? ` (${status})` : ""}${tries}`;
  const why = [status, d.error].filter(Boolean).join(": ") || "no answer";
  return `${what} failed ${when(d.at)}${tries}: ${why}`;
}

function queueWords(rule) {
  const parts = [];
  parts.push(rule.queued ? `${rule.queued} waiting (${bytes(rule.queued_bytes)})` : "Nothing waiting");
  if (rule.sending) parts.push("sending or waiting to retry");
  if (rule.dropped) parts.push(`${rule.dropped} dropped from a full queue since the start`);
  return parts.join("; ");
}

function RuleCard({ rule, list, meta, cameras, reload, ask, showSecret }) {
  const signal = useUnmountSignal();
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState(null);
  const [tested, setTested] = useState(null);
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(false);
  const act = async (action) => {
    setBusy(true);
    setError(null);
    setTested(null);
    setDone(null);
    try { await action(); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const path = `${BASE}/${rule.id}`;
  const toggle = () => act(async () => { await api("PATCH", path, { enabled: !rule.enabled }, { signal }); reload(); });
  const test = () => act(async () => { setTested(await api("POST", `${path}/test`, {}, { signal })); reload(); });
  const rotate = () => act(async () => {
    if (!await ask({ title: `Replace the secret of ${rule.name}?`, confirm: "Replace secret",
      text: "The old secret stops working at once: the receiver needs the new one to check the signatures." })) return;
    const answer = await api("POST", `${path}/secret`, {}, { signal });
    showSecret(answer.webhook.name, answer.secret);
    reload();
  });
  const remove = () => act(async () => {
    if (!await ask({ title: `Delete ${rule.name}?`, text: `Nothing more is sent to ${rule.host}. Deliveries still waiting are dropped.`, confirm: "Delete" })) return;
    await api("DELETE", path, undefined, { signal });
    reload();
  });
  const save = async (body) => {
    if (Object.keys(body).length) await api("PATCH", path, body, { signal });
    setEditing(false);
    setDone("Saved.");
    reload();
  };
  const names = new Map(cameras.map((c) => [c.id, c.name]));
  const last = rule.last_delivery;
  return html`<section class="card webhook" data-webhook=${rule.name}>
    <div class="card-head">
      <h2><${Icon} name="send" /> ${rule.name}</h2>
      <div class="pills"><span class=${`pill ${rule.enabled ? "ok" : ""}`}>${rule.enabled ? "On" : "Off"}</span>
        ${rule.problem ? html`<span class="pill bad">problem</span>` : null}</div>
    </div>
    ${rule.problem ? html`<p class="warning">${rule.problem}</p>` : null}
    <dl class="facts">
      <dt>Sends to</dt><dd class="webhook-host">${rule.host}</dd>
      <dt>Events</dt><dd>${rule.kinds.map((k) => kindLabel(meta, k)).join(", ")}${rule.include_ends ? " (starts and ends)" : " (when they start)"}</dd>
      <dt>Cameras</dt><dd>${rule.cameras.length ? rule.cameras.map((id) => names.get(id) || id).join(", ") : "Every camera"}</dd>
      <dt>Last delivery</dt><dd class=${`webhook-last ${last && !last.ok ? "error-text" : ""}`}>${last ? html`<span title=${exactly(last.at)}>${deliveryWords(last)}</span>` : "None yet"}</dd>
      <dt>Queue</dt><dd>${queueWords(rule)}</dd>
      <dt>Secret made</dt><dd>${when(rule.secret_rotated_at)}</dd>
    </dl>
    <${ErrorText} error=${error} />
    ${done ? html`<${Done}>${done}</${Done}>` : null}
    ${tested ? tested.ok ? html`<${Done}>${deliveryWords(tested)}.</${Done}>` : html`<${ErrorText} error=${deliveryWords(tested)} />` : null}
    <div class="actions">
      <button type="button" class="secondary" aria-expanded=${editing ? "true" : "false"} disabled=${busy} onClick=${() => { setDone(null); setEditing(!editing); }}>Edit</button>
      <button type="button" class="secondary" disabled=${busy} onClick=${toggle}>${rule.enabled ? "Turn off" : "Turn on"}</button>
      <button type="button" class="secondary webhook-test" disabled=${busy} onClick=${test}>Send a test</button>
      <button type="button" class="secondary" disabled=${busy} onClick=${rotate}>Replace secret</button>
      <button type="button" class="danger webhook-delete" disabled=${busy} onClick=${remove}>Delete</button>
    </div>
    ${editing ? html`<div class="webhook-edit"><${WebhookForm} rule=${rule} meta=${meta} kinds=${list.kinds} cameras=${cameras}
      fields=${list.fields} defaultTemplate=${list.default_template} submitLabel="Save changes" onSubmit=${save}
      onCancel=${() => setEditing(false)} /></div>` : null}
  </section>`;
}

function NewRule({ list, meta, cameras, reload, showSecret }) {
  const signal = useUnmountSignal();
  const [open, setOpen] = useState(false);
  const [round, setRound] = useState(0);
  const full = list.webhooks.length >= list.max_webhooks;
  const create = async (body) => {
    const answer = await api("POST", BASE, body, { signal });
    showSecret(answer.webhook.name, answer.secret);
    setRound(round + 1);  // an empty form for the next one
    setOpen(false);
    reload();
  };
  return html`<section class="card" id="new-webhook">
    <h2><${Icon} name="plus" /> Add a webhook</h2>
    ${full ? html`<p class="muted">At most ${list.max_webhooks} webhooks: delete one to add another.</p>`
      : open ? html`<${WebhookForm} key=${round} meta=${meta} kinds=${list.kinds} cameras=${cameras} fields=${list.fields}
          defaultTemplate=${list.default_template} submitLabel="Add webhook" onSubmit=${create} onCancel=${() => setOpen(false)} />`
      : html`<p>Post camera events to ntfy, Gotify, Node-RED or any tool that takes a web request. Adding one asks for your
          password again, and it is written in the audit log with the host it sends to.</p>
        <button type="button" id="add-webhook" onClick=${() => setOpen(true)}>New webhook</button>`}
  </section>`;
}

/** The webhooks page. */
export function WebhooksView() {
  const meta = useStore((s) => s.meta);
  const cameras = useStore((s) => s.cameras) || [];
  const [dialog, ask] = useConfirm();
  const [secret, setSecret] = useState(null);
  const { data, error, reload } = useLoad((signal) => api("GET", BASE, undefined, { signal }), []);
  useInterval(reload, 15_000);  // the last delivery and the queue, as they change
  const showSecret = (name, value) => setSecret({ name, value });
  return html`<div class="page webhooks">
    <${SettingsNav} page="webhooks" />
    <${PageHead} title="Send events to other tools" subtitle="Outgoing webhooks: Doorstep posts each event you choose to a URL, signed with a secret." />
    ${error && !data ? html`<${LoadFailed} error=${error} retry=${reload} />` : !data ? html`<${Loading} />` : html`
      ${data.webhooks.length ? null : html`<${Empty} icon="send" title="No webhooks yet" id="no-webhooks">Nothing is sent anywhere until you add one.</${Empty}>`}
      <div class="columns">
        ${data.webhooks.map((rule) => html`<${RuleCard} key=${rule.id} rule=${rule} list=${data} meta=${meta} cameras=${cameras}
          reload=${reload} ask=${ask} showSecret=${showSecret} />`)}
      </div>
      <${NewRule} list=${data} meta=${meta} cameras=${cameras} reload=${reload} showSecret=${showSecret} />`}
    ${secret ? html`<${SecretOnce} title=${`Signing secret for ${secret.name}`} secret=${secret.value} onDone=${() => setSecret(null)}>
      <p>Give it to the receiver: it checks each request's <code>X-Doorstep-Signature</code> with it.</p></${SecretOnce}>` : null}
    ${dialog}
  </div>`;
}
