// Form fields drawn from a JSON schema (pydantic's, as the gateway's settings API gives it):
// switches, numbers, text, secrets that are never shown back (`name_set` says one is stored),
// lists of text (one per line), nested objects, lists of objects, and raw JSON for anything else.
import { html, useId, useState } from "../lib/html.js";
import { Field } from "./ui.js";

const FLAG = "_set";

function refName(ref) {
  return ref.split("/").pop();
}

/** A property's schema with $ref and `T | null` resolved: {kind, schema, nullable}. */
export function resolve(prop, defs = {}) {
  let schema = prop;
  let nullable = false;
  if (schema.$ref) {
    const { $ref, ...own } = schema;
    schema = { ...(defs[refName($ref)] || {}), ...own };
  }
  if (schema.anyOf) {
    const others = schema.anyOf.filter((s) => s.type !== "null");
    nullable = others.length < schema.anyOf.length;
    if (others.length !== 1) return { kind: "json", schema, nullable };
    const { anyOf, ...own } = schema;
    schema = { ...resolve(others[0], defs).schema, ...own };
  }
  return { kind: kindOf(schema, defs), schema, nullable };
}

function kindOf(schema, defs) {
  if (schema.enum) return "enum";
  if (schema.type === "boolean") return "boolean";
  if (schema.type === "integer" || schema.type === "number") return "number";
  if (schema.type === "string") return schema.writeOnly || schema.format === "password" ? "secret" : "text";
  if (schema.type === "object" && schema.properties) return "object";
  if (schema.type === "array" && schema.items) {
    const items = resolve(schema.items, defs);
    if (items.kind === "text") return "lines";
    if (items.kind === "object") return "list";
  }
  return "json";
}

/** The value a form starts with for a property nothing sets yet (the schema's default). */
export function defaultOf(prop, defs) {
  const { kind, schema, nullable } = resolve(prop, defs);
  if ("default" in schema) return structuredClone(schema.default);
  if (kind === "object") return defaultsOf(schema, defs);
  if (kind === "lines" || kind === "list") return [];
  if (kind === "boolean") return false;
  return nullable || kind === "number" ? null : "";
}

/** Defaults for every property of an object schema (secrets: not stored). */
export function defaultsOf(schema, defs) {
  const out = {};
  for (const [key, prop] of Object.entries(schema.properties || {})) {
    if (resolve(prop, defs).kind === "secret") out[key + FLAG] = false;
    else out[key] = defaultOf(prop, defs);
  }
  return out;
}

/** A description with its `code` spans shown as code (still text: nothing is parsed as HTML). */
export function described(text) {
  if (!text || !text.includes("`")) return text;
  return text.split("`").map((part, i) => (i % 2 ? html`<code>${part}</code>` : part));
}

function LinesInput({ name, value, onChange, ...rest }) {
  const [text, setText] = useState((value || []).join("\n"));
  const input = (e) => {
    setText(e.currentTarget.value);
    onChange(e.currentTarget.value.split("\n").map((line) => line.trim()).filter(Boolean));
  };
  return html`<textarea name=${name} rows="3" spellcheck="false" autocapitalize="none" value=${text} onInput=${input} ...${rest}></textarea>`;
}

function JsonInput({ name, value, onChange, ...rest }) {
  const [text, setText] = useState(JSON.stringify(value ?? null, null, 1));
  const [bad, setBad] = useState(false);
  const input = (e) => {
    setText(e.currentTarget.value);
    try { onChange(JSON.parse(e.currentTarget.value)); setBad(false); } catch { setBad(true); }
  };
  return html`<textarea name=${name} class="template" rows="4" spellcheck="false" aria-invalid=${bad ? "true" : null}
    value=${text} onInput=${input} ...${rest}></textarea>`;
}

function SecretInput({ name, stored, value, onChange, ...rest }) {
  const id = useId();
  return html`<div class="secret-input">
    <input name=${name} type="password" autocomplete="new-password" placeholder=${stored ? "Stored: type to replace" : "Not set"}
      value=${typeof value === "string" ? value : ""} onInput=${(e) => onChange(e.currentTarget.value || undefined)} ...${rest} />
    ${stored ? html`<label class="check small" for=${id}><input id=${id} type="checkbox" name=${`${name}-clear`} checked=${value === null}
      onChange=${(e) => onChange(e.currentTarget.checked ? null : undefined)} /><span>Remove the stored one</span></label>` : null}
  </div>`;
}

function ListOfObjects({ name, schema, defs, value, onChange, label }) {
  const items = value || [];
  const itemSchema = resolve(schema.items, defs).schema;
  const itemName = itemSchema.title?.includes(" ") ? itemSchema.title : "Entry";  // not a class name
  const put = (i, item) => onChange(items.map((old, j) => (j === i ? item : old)));
  return html`<fieldset class="options schema-list"><legend>${label}</legend>
    ${schema.description ? html`<p class="hint">${described(schema.description)}</p>` : null}
    ${items.map((item, i) => html`<fieldset class="options schema-item" key=${i}><legend>${`${itemName} ${i + 1}`}</legend>
      <${ObjectFields} schema=${itemSchema} defs=${defs} value=${item} path=${`${name}[${i}]`} onChange=${(v) => put(i, v)} />
      <button type="button" class="secondary small" onClick=${() => onChange(items.filter((_, j) => j !== i))}>Remove</button>
    </fieldset>`)}
    ${schema.maxItems !== undefined && items.length >= schema.maxItems ? null
      : html`<button type="button" class="secondary small" onClick=${() => onChange([...items, defaultsOf(itemSchema, defs)])}>Add</button>`}
  </fieldset>`;
}

/** One property: its input, label and description; `extra` (badges, buttons) goes below it. */
export function PropertyField({ extra = null, ...props }) {
  if (!extra) return html`<${PropertyInput} ...${props} />`;
  return html`<div class="schema-field"><${PropertyInput} ...${props} /><div class="schema-extra">${extra}</div></div>`;
}

function PropertyInput({ name, prop, defs, value, stored, onChange }) {
  const { kind, schema, nullable } = resolve(prop, defs);
  const labelled = schema.title || name.split(".").pop();
  const hint = described(schema.description);
  if (kind === "boolean") {
    return html`<div class="schema-check"><label class="check"><input type="checkbox" name=${name} checked=${Boolean(value)}
      onChange=${(e) => onChange(e.currentTarget.checked)} /><span>${labelled}${hint ? html`<span class="hint">${hint}</span>` : null}</span></label></div>`;
  }
  if (kind === "object") {
    return html`<fieldset class="options"><legend>${labelled}</legend>${hint ? html`<p class="hint">${hint}</p>` : null}
      <${ObjectFields} schema=${schema} defs=${defs} value=${value || {}} path=${name} onChange=${onChange} /></fieldset>`;
  }
  if (kind === "list") {
    return html`<${ListOfObjects} name=${name} schema=${schema} defs=${defs} value=${value} onChange=${onChange} label=${labelled} />`;
  }
  let input;
  if (kind === "enum") {
    input = html`<select name=${name} value=${value === null ? "" : String(value)} onChange=${(e) => onChange(e.currentTarget.value === "" ? null : schema.enum.find((v) => String(v) === e.currentTarget.value))}>
      ${nullable ? html`<option value="">(none)</option>` : null}${schema.enum.map((v) => html`<option value=${String(v)}>${String(v)}</option>`)}</select>`;
  } else if (kind === "number") {
    input = html`<input name=${name} type="number" inputmode="decimal" step=${schema.type === "integer" ? 1 : "any"}
      min=${schema.minimum ?? schema.exclusiveMinimum} max=${schema.maximum} value=${value === null || value === undefined ? "" : String(value)}
      onInput=${(e) => onChange(e.currentTarget.value === "" ? null : Number(e.currentTarget.value))} />`;
  } else if (kind === "text") {
    input = html`<input name=${name} maxlength=${schema.maxLength} autocapitalize="none" spellcheck="false" value=${value ?? ""}
      onInput=${(e) => onChange(e.currentTarget.value === "" && nullable ? null : e.currentTarget.value)} />`;
  } else if (kind === "secret") {
    input = html`<${SecretInput} name=${name} stored=${stored} value=${value} onChange=${onChange} />`;
  } else if (kind === "lines") {
    input = html`<${LinesInput} name=${name} value=${value} onChange=${onChange} />`;
  } else {
    input = html`<${JsonInput} name=${name} value=${value} onChange=${onChange} />`;
  }
  const oneEach = kind === "lines" ? html`${hint} One per line.` : hint;
  return html`<${Field} label=${labelled} hint=${oneEach}>${input}</${Field}>`;
}

/** The fields of an object schema; `wrap(key)` gives what goes below a field (or null). */
export function ObjectFields({ schema, defs, value, path, onChange, wrap = null }) {
  return html`${Object.entries(schema.properties || {}).map(([key, prop]) => {
    const secret = resolve(prop, defs).kind === "secret";
    const set = (v) => {
      const next = { ...value };
      if (v === undefined) delete next[key];
      else next[key] = v;
      onChange(next);
    };
    return html`<${PropertyField} key=${key} name=${`${path}.${key}`} prop=${prop} defs=${defs} value=${value[key]}
      stored=${secret ? Boolean(value[key + FLAG]) : undefined} onChange=${set} extra=${wrap ? wrap(key) : null} />`;
  })}`;
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The change to send: the top-level fields that differ from `before` (a secret only when typed
 * or cleared; an object or list is sent whole, with the `_set` flags the gateway ignores). */
export function changeOf(schema, defs, before, draft) {
  const change = {};
  for (const [key, prop] of Object.entries(schema.properties || {})) {
    if (resolve(prop, defs).kind === "secret") {
      if (key in draft) change[key] = draft[key];
    } else if (!same(draft[key], before[key])) {
      change[key] = draft[key];
    }
  }
  return change;
}
