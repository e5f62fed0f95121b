// Faults: the global faults (every GET of a call and the list), the per-call scenarios (faults
// for the first requests, then a lifecycle), and reset.
import { api, h, attempt, say } from './util.js';

const lines = (text) => text.split('\n').map((s) => s.trim()).filter(Boolean);
const show = (f) => (f === null || f === undefined ? '' : typeof f === 'string' ? f : JSON.stringify(f));

export async function render(main) {
  const current = h('pre', { id: 'faults-now', 'aria-labelledby': 'g-h' });
  const always = h('input', { id: 'g-always', name: 'always', size: 36, class: 'mono', placeholder: 'code=503 or latency=200,code=429' });
  const rate = h('input', { id: 'g-rate', name: 'rate', type: 'number', min: 0, max: 1, step: 0.01, placeholder: '0.1' });
  const seed = h('input', { id: 'g-seed', name: 'seed', type: 'number', min: 0, step: 1, value: 0 });
  const pool = h('textarea', { id: 'g-pool', name: 'pool', rows: 3, cols: 28, class: 'mono', placeholder: 'one per line (default: 429, 500, 503)' });
  const scBody = h('tbody', {});

  async function loadGlobal() {
    const { faults } = await api('/faults');
    current.textContent = JSON.stringify(faults, null, 2);
    always.value = show(faults.always);
    if (faults.random) {
      rate.value = faults.random.rate;
      seed.value = faults.random.seed ?? 0;
      pool.value = (faults.random.faults || []).map(show).join('\n');
    }
  }

  async function loadScenarios() {
    const { scenarios } = await api('/scenarios');
    const ids = Object.keys(scenarios).sort();
    scBody.replaceChildren(...(ids.length ? ids.map((id) => h('tr', {},
      h('td', { class: 'mono' }, h('a', { href: `#/call/${encodeURIComponent(id)}` }, id)),
      h('td', { class: 'mono' }, (scenarios[id].faults || []).map(show).join(' · ') || '–'),
      h('td', { class: 'mono' }, scenarios[id].lifecycle ? JSON.stringify(scenarios[id].lifecycle) : '–'),
      h('td', {}, h('button', {
        type: 'button', class: 'danger', 'aria-label': `Clear the scenario of ${id}`,
        onclick: () => attempt('Scenario cleared', async () => {
          await api(`/scenarios/${encodeURIComponent(id)}`, { method: 'DELETE' });
          await loadScenarios();
        }),
      }, 'Clear'))))
      : [h('tr', {}, h('td', { colspan: 4 }, 'No scenario set.'))]));
  }

  const globalForm = h('form', {
    class: 'panel', 'aria-labelledby': 'g-h',
    onsubmit: (e) => {
      e.preventDefault();
      const body = {};
      if (always.value.trim()) body.always = always.value.trim();
      if (rate.value !== '') {
        body.random = { rate: Number(rate.value), seed: Number(seed.value) || 0 };
        if (lines(pool.value).length) body.random.faults = lines(pool.value);
      }
      attempt('Global faults set', async () => { await api('/faults', { method: 'PUT', body }); await loadGlobal(); });
    },
  },
  h('h3', { id: 'g-h' }, 'Global faults'),
  h('p', { class: 'muted' }, 'Apply to every GET of a call and of the list (a Prefer header or a scenario goes first). Keys: code=429|500|503…, latency=MS, fault=drop|truncate|not-json, retry-after=S|none.'),
  current,
  h('div', { class: 'row' },
    h('label', { for: 'g-always' }, 'Always', always),
    h('label', { for: 'g-rate' }, 'Random rate (0–1)', rate),
    h('label', { for: 'g-seed' }, 'Seed', seed),
    h('label', { for: 'g-pool' }, 'Random faults', pool)),
  h('div', { class: 'row' },
    h('button', { type: 'submit' }, 'Set global faults'),
    h('button', {
      type: 'button', class: 'danger',
      onclick: () => attempt('Global faults cleared', async () => {
        await api('/faults', { method: 'DELETE' });
        always.value = ''; rate.value = ''; pool.value = '';
        await loadGlobal();
      }),
    }, 'Clear global faults')));

  const scId = h('input', { id: 's-id', name: 'call_id', size: 38, class: 'mono', required: true, placeholder: 'call id' });
  const scFaults = h('textarea', { id: 's-faults', name: 'faults', rows: 3, cols: 28, class: 'mono', placeholder: 'one per request, e.g.\ncode=429\ncode=503' });
  const scAdvance = h('select', { id: 's-adv', name: 'advance' },
    h('option', { value: '' }, 'none (the call as stored)'),
    h('option', { value: 'per-poll' }, 'per-poll'),
    h('option', { value: 'elapsed' }, 'elapsed (since its first poll)'),
    h('option', { value: 'since-set' }, 'since-set (plays out by the clock)'));
  const scN = h('input', { id: 's-n', name: 'n', type: 'number', min: 1, value: 1, size: 8 });
  const scenarioForm = h('form', {
    class: 'panel', 'aria-labelledby': 's-h',
    onsubmit: (e) => {
      e.preventDefault();
      const body = { faults: lines(scFaults.value) };
      const n = Math.max(1, Number(scN.value) || 1);
      if (scAdvance.value === 'per-poll') body.lifecycle = { advance: 'per-poll', polls_per_step: n };
      else if (scAdvance.value) body.lifecycle = { advance: scAdvance.value, step_ms: n };
      const id = scId.value.trim();
      if (!id) { say('A call id is needed', true); return; }
      attempt('Scenario set', async () => {
        await api(`/scenarios/${encodeURIComponent(id)}`, { method: 'PUT', body });
        await loadScenarios();
      });
    },
  },
  h('h3', { id: 's-h' }, 'Per-call scenarios'),
  h('p', { class: 'muted' }, 'The first requests for the call get these faults, one each, then the lifecycle (queued → in progress → final) or the call as stored. Progress is per client (x-mock-client header).'),
  h('div', { class: 'row' },
    h('label', { for: 's-id' }, 'Call id', scId),
    h('label', { for: 's-faults' }, 'Faults', scFaults),
    h('label', { for: 's-adv' }, 'Lifecycle', scAdvance),
    h('label', { for: 's-n' }, 'Polls per step, or ms per step', scN)),
  h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Set scenario')),
  h('table', { 'aria-label': 'Scenarios by call id' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Call id'), h('th', { scope: 'col' }, 'Faults'),
      h('th', { scope: 'col' }, 'Lifecycle'), h('th', { scope: 'col' }, 'Action'))),
    scBody));

  const reset = h('section', { class: 'panel', 'aria-labelledby': 'r-h' },
    h('h3', { id: 'r-h' }, 'Reset'),
    h('p', { class: 'muted' }, 'Empties the request journal and starts every scenario and the random fault sequence again (faults and scenarios stay set).'),
    h('button', {
      type: 'button', class: 'danger',
      onclick: () => attempt('Reset done', () => api('/reset', { method: 'POST' })),
    }, 'Reset'));

  // Loaded before the forms are shown, so nothing typed into them is overwritten.
  await Promise.all([loadGlobal(), loadScenarios()]);
  main.append(h('h2', {}, 'Faults'), globalForm, scenarioForm, reset);
  return null;
}
