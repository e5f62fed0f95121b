// Shared helpers of the console: the admin API client, element building, formatting.
// Everything is same-origin: the page fetches nothing but /__admin/... on the mock itself.

export const ADMIN = '/__admin';

/** Calls the admin JSON API; throws an Error with the status and the refusal's text. */
export async function api(path, { method = 'GET', body } = {}) {
  const init = { method, headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const r = await fetch(ADMIN + path, init);
  const text = await r.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = { raw: text }; }
  if (!r.ok) {
    const why = data.detail || data.description || data.message || data.error || text || r.statusText;
    throw new Error(`${r.status}: ${typeof why === 'string' ? why : JSON.stringify(why)}`);
  }
  return data;
}

/** Builds an element: h('a', {href: '#', class: 'x', onclick: f}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Writes a short message to the status line (read by screen readers). */
export function say(text, isError = false) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.classList.toggle('error', isError);
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { s.textContent = ''; }, isError ? 8000 : 3000);
}

/** Runs an action, saying its error instead of throwing. */
export async function attempt(what, fn) {
  try {
    const r = await fn();
    if (what) say(what);
    return r;
  } catch (e) {
    say(e.message, true);
    return undefined;
  }
}

export function fmtTime(ms) {
  if (ms === null || ms === undefined || Number.isNaN(Number(ms))) return '–';
  const d = new Date(Number(ms));
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function fmtDuration(s) {
  if (s === null || s === undefined) return '–';
  const n = Number(s);
  if (n < 60) return `${n} s`;
  return `${Math.floor(n / 60)} min ${String(n % 60).padStart(2, '0')} s`;
}

/** The colour class of an HTTP status. */
export function httpClass(code) {
  if (!code) return 's-info';
  if (code < 300) return 's-ok';
  if (code < 500 && code !== 429 && code !== 408) return 's-warn';
  return 's-bad';
}

/** The colour class of a call status. */
export function callClass(status) {
  switch (status) {
    case 'completed': return 's-ok';
    case 'failed': case 'busy': case 'no-answer': case 'no_answer': case 'canceled': case 'cancelled': return 's-bad';
    case 'hangup_on_voicemail': case 'voicemail': case 'left_voicemail': return 's-warn';
    default: return 's-info';
  }
}

export function badge(text, cls) {
  return h('span', { class: `badge ${cls}` }, text ?? '–');
}

/**
 * Reads a value the vendor writes as a Python literal inside a string ("{'a': True}", "None"),
 * as JSON, or as an object already. Returns undefined when it cannot be read.
 */
export function loose(v) {
  if (v === null || v === undefined || v === 'None' || v === '') return null;
  if (typeof v !== 'string') return v;
  try { return JSON.parse(v); } catch { /* a Python literal, below */ }
  const json = v.replace(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|\bTrue\b|\bFalse\b|\bNone\b/g,
    (m, single, double) => {
      if (single !== undefined) return JSON.stringify(single.replace(/\\'/g, "'"));
      if (double !== undefined) return m;
      return m === 'True' ? 'true' : m === 'False' ? 'false' : 'null';
    });
  try { return JSON.parse(json); } catch { return undefined; }
}

/** A definition list of an object's fields (nested objects flattened to a.b.c). */
export function fields(obj, prefix = '') {
  const dl = h('dl', { class: 'fields' });
  const add = (o, p) => {
    for (const [k, v] of Object.entries(o)) {
      const key = p ? `${p}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) add(v, key);
      else dl.append(h('dt', {}, key), h('dd', {}, typeof v === 'object' ? JSON.stringify(v) : String(v)));
    }
  };
  add(obj, prefix);
  return dl;
}
