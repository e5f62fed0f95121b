// Calls: a paged list over every call the mock holds (filtered on the server, so 100k calls are
// one page of rows), and one call: transcript as a conversation, variables, lifecycle, raw JSON.
import { api, h, badge, callClass, fmtTime, fmtDuration, loose, fields, attempt } from './util.js';

const PAGE = 50;

function listHash(p) {
  const q = new URLSearchParams();
  for (const k of ['status', 'agent', 'id', 'offset']) if (p[k]) q.set(k, p[k]);
  const s = q.toString();
  return `#/calls${s ? `?${s}` : ''}`;
}

export async function renderList(main, params) {
  const cur = {
    status: params.get('status') || '',
    agent: params.get('agent') || '',
    id: params.get('id') || '',
    offset: Math.max(0, Number(params.get('offset')) || 0),
  };
  const q = new URLSearchParams({ offset: cur.offset, limit: PAGE });
  for (const k of ['status', 'agent', 'id']) if (cur[k]) q.set(k, cur[k]);
  const data = await api(`/call-summaries?${q}`);

  const status = h('select', { id: 'f-status', name: 'status' },
    h('option', { value: '' }, 'any'),
    data.statuses.map(([s, n]) => h('option', { value: s, selected: s === cur.status }, `${s} (${n})`)));
  const agent = h('select', { id: 'f-agent', name: 'agent' },
    h('option', { value: '' }, 'any'),
    data.agents.map(([a, n]) => h('option', { value: a, selected: a === cur.agent }, `${a} (${n})`)));
  if (cur.agent && !data.agents.some(([a]) => a === cur.agent)) {
    agent.append(h('option', { value: cur.agent, selected: true }, cur.agent));
  }
  const id = h('input', { id: 'f-id', name: 'id', type: 'search', value: cur.id, placeholder: 'part of an id', size: 24 });
  const form = h('form', {
    class: 'toolbar', role: 'search', 'aria-label': 'Filter calls',
    onsubmit: (e) => {
      e.preventDefault();
      location.hash = listHash({ status: status.value, agent: agent.value, id: id.value.trim() });
    },
  },
  h('label', { for: 'f-status' }, 'Status', status),
  h('label', { for: 'f-agent' }, 'Agent (model_id)', agent),
  h('label', { for: 'f-id' }, 'Call id', id),
  h('button', { type: 'submit' }, 'Filter'),
  (cur.status || cur.agent || cur.id) ? h('a', { href: '#/calls' }, 'Clear filter') : null);
  status.addEventListener('change', () => form.requestSubmit());
  agent.addEventListener('change', () => form.requestSubmit());

  const rows = data.calls.map((c) => h('tr', {},
    h('td', { class: 'mono' }, h('a', { href: `#/call/${encodeURIComponent(c.call_id)}` }, c.call_id)),
    h('td', {}, badge(c.status, callClass(c.status))),
    h('td', {}, c.end_call_reason ?? '–'),
    h('td', { class: 'num' }, fmtDuration(c.duration)),
    h('td', { class: 'mono' }, fmtTime(c.start_time)),
    h('td', {}, c.name ?? '–')));
  const table = h('table', { 'aria-label': 'Calls, newest first' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Call id'), h('th', { scope: 'col' }, 'Status'),
      h('th', { scope: 'col' }, 'End reason'), h('th', { scope: 'col', class: 'num' }, 'Duration'),
      h('th', { scope: 'col' }, 'Start (UTC)'), h('th', { scope: 'col' }, 'Name'))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6 }, 'No call matches.'))));

  const from = data.total ? data.offset + 1 : 0;
  const to = data.offset + data.calls.length;
  const prev = Math.max(0, cur.offset - PAGE);
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of calls' },
    h('a', { href: listHash({ ...cur, offset: 0 }), 'aria-disabled': cur.offset === 0 ? 'true' : null }, '« First'),
    cur.offset > 0 ? h('a', { href: listHash({ ...cur, offset: prev }), rel: 'prev' }, '‹ Previous') : h('span', { class: 'muted' }, '‹ Previous'),
    h('span', { id: 'range' }, `${from.toLocaleString('en')}–${to.toLocaleString('en')} of ${data.total.toLocaleString('en')}`
      + (data.total !== data.all ? ` (${data.all.toLocaleString('en')} calls in all)` : '')),
    to < data.total ? h('a', { href: listHash({ ...cur, offset: cur.offset + PAGE }), rel: 'next' }, 'Next ›') : h('span', { class: 'muted' }, 'Next ›'),
    h('a', { href: listHash({ ...cur, offset: Math.max(0, Math.floor((data.total - 1) / PAGE) * PAGE) }), 'aria-disabled': to >= data.total ? 'true' : null }, 'Last »'));

  main.append(h('h2', {}, 'Calls'), form, pager, table);
}

/** Splits a transcript ("bot: ...\nhuman: ...") into turns; a line without a speaker continues the last. */
function turns(transcript) {
  const out = [];
  for (const line of String(transcript || '').split('\n')) {
    const m = /^\s*(bot|human|assistant|user|agent|customer)\s*:\s?(.*)$/i.exec(line);
    if (m) out.push({ who: m[1].toLowerCase(), text: m[2] });
    else if (out.length) out[out.length - 1].text += `\n${line}`;
    else if (line.trim()) out.push({ who: 'other', text: line });
  }
  return out;
}

function conversation(transcript) {
  const t = turns(transcript);
  if (!t.length) return h('p', { class: 'muted' }, 'No transcript.');
  return h('ol', { class: 'conversation', 'aria-label': 'Transcript' }, t.map((turn) => {
    const cls = ['bot', 'assistant', 'agent'].includes(turn.who) ? 'bot' : turn.who === 'other' ? 'other' : 'human';
    const who = cls === 'bot' ? 'Agent' : cls === 'human' ? 'Caller' : '';
    return h('li', { class: cls }, who ? h('span', { class: 'who' }, who) : null, turn.text);
  }));
}

function variables(title, raw) {
  const v = loose(raw);
  const body = v === null ? h('p', { class: 'muted' }, 'None.')
    : v === undefined ? h('pre', {}, String(raw))
      : typeof v === 'object' && Object.keys(v).length ? fields(v)
        : h('p', { class: 'mono' }, JSON.stringify(v));
  return h('section', {}, h('h3', {}, title), body);
}

function lifecycle(sc, status) {
  if (!sc) {
    return h('section', {}, h('h3', {}, 'Lifecycle'),
      h('p', {}, 'No scenario: every request gets the stored call, status ', badge(status, callClass(status)), '. ',
        h('a', { href: '#/faults' }, 'Set a scenario')));
  }
  const clients = sc.clients || [];
  const at = sc.step_now ?? (clients.length ? Math.max(...clients.map((c) => c.step ?? -1)) : -1);
  const steps = sc.steps ? h('ol', { class: 'steps', 'aria-label': 'Lifecycle steps' }, sc.steps.map((s, i) =>
    h('li', { class: i === at ? 'current' : '', 'aria-current': i === at ? 'step' : null }, `${i + 1}. ${s}`))) : null;
  return h('section', {}, h('h3', {}, 'Lifecycle'),
    h('p', {}, 'Scenario: ', h('code', {}, JSON.stringify(sc.scenario))),
    steps || h('p', { class: 'muted' }, 'No lifecycle (faults only).'),
    clients.length ? h('table', { 'aria-label': 'Clients of this call' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Client'), h('th', { scope: 'col', class: 'num' }, 'Requests'), h('th', { scope: 'col' }, 'Step'))),
      h('tbody', {}, clients.map((c) => h('tr', {}, h('td', {}, c.client || '(no x-mock-client)'),
        h('td', { class: 'num' }, c.requests), h('td', {}, c.step === null ? '–' : `${c.step + 1}. ${sc.steps?.[c.step] ?? ''}`)))))
      : h('p', { class: 'muted' }, 'No client has polled it yet.'));
}

export async function renderCall(main, _params, id) {
  const data = await api(`/calls/${encodeURIComponent(id)}`);
  const call = data.body?.response?.calls?.[0] || {};
  const summary = {
    status: call.status, end_call_reason: call.end_call_reason, duration: fmtDuration(call.duration),
    start: fmtTime(call.start_time), agent: call.model_id, name: call.name, from: call.phone_number_from,
    to: call.phone_number_to, type: call.type_of_call, source: data.source,
  };
  const send = h('button', {
    type: 'button', class: 'secondary',
    onclick: () => attempt('Webhook queued', () => api(`/webhooks/${encodeURIComponent(id)}/send`, { method: 'POST' })),
  }, 'Send its webhook');
  main.append(
    h('p', {}, h('a', { href: '#/calls' }, '‹ All calls')),
    h('h2', {}, 'Call ', h('span', { class: 'mono' }, data.call_id), ' ', badge(call.status, callClass(call.status))),
    h('div', { class: 'grid' },
      h('section', {}, h('h3', {}, 'Transcript'), conversation(call.transcript)),
      h('div', {},
        h('section', {}, h('h3', {}, 'Summary'), fields(Object.fromEntries(Object.entries(summary).filter(([, v]) => v !== undefined)))),
        lifecycle(data.scenario, call.status),
        variables('Collected variables', call.collected_variables),
        variables('Prompt variables', call.prompt_variables),
        h('p', {}, send))),
    h('section', {}, h('h3', { id: 'raw-h' }, 'Raw JSON (as served)'),
      h('pre', { 'aria-labelledby': 'raw-h', tabindex: 0 }, JSON.stringify(data.body, null, 2))));
}
