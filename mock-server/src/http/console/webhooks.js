// Webhooks: the post-call webhook deliveries (every attempt), the sender's stats and receiver
// faults, and "send again" per call.
import { api, h, badge, httpClass, attempt, say } from './util.js';

const POLL_MS = 2000;

function outcomeClass(o) {
  return o === 'delivered' ? 's-ok' : o === 'retry' ? 's-warn' : 's-bad';
}

// The receiver's answer as kept (status, content type, first 2 kB, secrets redacted): a receiver
// that answers 200 to refuse shows it here.
function answerOf(w) {
  const a = w.answer;
  if (!a) return '–';
  const body = a.body.length > 160 ? `${a.body.slice(0, 160)}…` : a.body;
  return h('details', {},
    h('summary', {}, `${a.content_type ?? 'no content type'}${a.cut ? ' (cut)' : ''}`),
    h('pre', {}, body || '(empty body)'));
}

export async function render(main) {
  const tbody = h('tbody', {});
  const stats = h('div', {});
  const faultsBox = h('textarea', { id: 'wh-faults', rows: 3, cols: 60, class: 'mono', spellcheck: 'false' });
  let timer = null;
  let shown = '';

  async function load() {
    const d = await api('/webhooks');
    const key = JSON.stringify([d.deliveries.length, d.deliveries.at(-1)?.seq, d.stats]);
    if (key === shown) return;
    shown = key;
    stats.replaceChildren(h('p', {},
      `Signed: ${d.signed ? `yes (${d.signature_header})` : 'no'} · journal holds ${d.capacity} · `,
      h('span', { class: 'mono' }, JSON.stringify(d.stats))));
    const rows = [...d.deliveries].reverse().map((w) => h('tr', {},
      h('td', { class: 'num' }, w.seq),
      h('td', { class: 'mono' }, w.at),
      h('td', { class: 'mono' }, h('a', { href: `#/call/${encodeURIComponent(w.call_id)}` }, w.call_id)),
      h('td', { class: 'mono' }, w.url),
      h('td', { class: 'num' }, w.attempt),
      h('td', {}, badge(w.outcome, outcomeClass(w.outcome))),
      h('td', {}, w.status ? badge(w.status, httpClass(w.status)) : (w.error ?? '–')),
      h('td', { class: 'mono' }, answerOf(w)),
      h('td', { class: 'num' }, `${w.latency_ms} ms`),
      h('td', {}, [w.kind !== 'webhook' ? w.kind : null, w.fault, w.duplicate ? 'duplicate' : null, w.signed ? 'signed' : null].filter(Boolean).join(', ')),
      h('td', {}, h('button', {
        type: 'button', class: 'secondary', 'aria-label': `Send the webhook of ${w.call_id} again`,
        onclick: () => attempt('Webhook queued again', async () => {
          await api(`/webhooks/${encodeURIComponent(w.call_id)}/send`, { method: 'POST' });
          setTimeout(load, 300);
        }),
      }, 'Send again'))));
    tbody.replaceChildren(...(rows.length ? rows
      : [h('tr', {}, h('td', { colspan: 11 }, 'No delivery yet. A made call (POST /v2/calls) that ends sends one, or use "Send its webhook" on a call.'))]));
  }

  async function loadFaults() {
    const f = await api('/webhooks/faults');
    faultsBox.value = JSON.stringify(f.faults ?? {}, null, 0);
  }

  const faultsForm = h('form', {
    class: 'panel', 'aria-labelledby': 'wh-f-h',
    onsubmit: (e) => {
      e.preventDefault();
      let body;
      try { body = JSON.parse(faultsBox.value || '{}'); } catch (err) { say(`Not JSON: ${err.message}`, true); return; }
      attempt('Receiver faults set', () => api('/webhooks/faults', { method: 'PUT', body }));
    },
  },
  h('h3', { id: 'wh-f-h' }, 'Receiver faults'),
  h('label', { for: 'wh-faults' }, 'Faults (JSON, e.g. {"delay_ms":500,"duplicate":true,"bad_signature":true})', faultsBox),
  h('div', { class: 'row' },
    h('button', { type: 'submit' }, 'Set'),
    h('button', {
      type: 'button', class: 'danger',
      onclick: () => attempt('Receiver faults cleared', async () => { await api('/webhooks/faults', { method: 'DELETE' }); await loadFaults(); }),
    }, 'Clear')));

  // Loaded before the page is shown, so nothing typed into it is overwritten.
  await Promise.all([load(), loadFaults()]);
  main.append(
    h('h2', {}, 'Webhooks'),
    stats,
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', class: 'secondary', onclick: () => attempt(null, () => { shown = ''; return load(); }) }, 'Refresh'),
      h('button', {
        type: 'button', class: 'danger',
        onclick: () => attempt('Delivery journal emptied', async () => { await api('/webhooks', { method: 'DELETE' }); shown = ''; await load(); }),
      }, 'Empty the delivery journal')),
    h('table', { 'aria-label': 'Webhook deliveries, newest first' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', class: 'num' }, '#'), h('th', { scope: 'col' }, 'At (UTC)'),
        h('th', { scope: 'col' }, 'Call'), h('th', { scope: 'col' }, 'URL'),
        h('th', { scope: 'col', class: 'num' }, 'Attempt'), h('th', { scope: 'col' }, 'Outcome'),
        h('th', { scope: 'col' }, 'Receiver status'), h('th', { scope: 'col' }, 'Answer'),
        h('th', { scope: 'col', class: 'num' }, 'Latency'),
        h('th', { scope: 'col' }, 'Notes'), h('th', { scope: 'col' }, 'Action'))),
      tbody),
    faultsForm);
  const tick = async () => {
    try { await load(); } catch { /* the next tick tries again */ }
    timer = setTimeout(tick, POLL_MS);
  };
  timer = setTimeout(tick, POLL_MS);
  return () => clearTimeout(timer);
}
