// Agents: the agents the mock holds (POST /v2/assistants, the seed), their webhook URLs and the
// actions attached to them, and every action with the agents it is attached to.
import { api, h, badge, attempt, say } from './util.js';

const POLL_MS = 3000;

function url(u) {
  return u ? h('span', { class: 'mono' }, u) : h('span', { class: 'sub' }, '–');
}

export async function render(main) {
  const agentsBody = h('tbody', {});
  const actionsBody = h('tbody', {});
  const summary = h('p', {});
  let timer = null;
  let shown = '';

  async function load() {
    const d = await api('/agents');
    const key = JSON.stringify(d);
    if (key === shown) return;
    shown = key;
    const names = Object.fromEntries(d.actions.map((a) => [a.action_id, a.name]));
    summary.replaceChildren(`${d.agents.length} agents and ${d.actions.length} actions held (at most ${d.max} of each; the oldest is evicted).`);
    const rows = d.agents.map((a) => h('tr', {},
      h('td', {}, a.name ?? ''),
      h('td', { class: 'mono' }, a.model_id),
      h('td', {}, a.type ? badge(a.type, 's-ok') : '–'),
      h('td', {}, url(a.external_webhook_url)),
      h('td', {}, url(a.inbound_call_webhook_url)),
      h('td', {}, (a.actions ?? []).length
        ? h('ul', {}, ...a.actions.map((id) => h('li', {}, `${names[id] ?? '?'} `, h('span', { class: 'mono sub' }, id))))
        : 'none'),
      h('td', {}, h('button', {
        type: 'button', class: 'secondary', 'aria-label': `Start an inbound call to ${a.name ?? a.model_id}`,
        title: 'POST /__admin/inbound-calls: the inbound webhook to its URL, then the call',
        onclick: () => attempt(null, async () => {
          const to = (a.attached_phone_numbers ?? [])[0]?.number ?? '+15555550199';
          const r = await api('/inbound-calls', {
            method: 'POST',
            body: { from_number: '+15555550150', to_number: to, model_id: a.model_id },
          });
          say(`Inbound call ${r.call_id} started (see Webhooks for the inbound request)`);
        }),
      }, 'Inbound call'))));
    agentsBody.replaceChildren(...(rows.length ? rows
      : [h('tr', {}, h('td', { colspan: 7 }, 'No agent yet. POST /v2/assistants creates one.'))]));
    const arows = d.actions.map((a) => h('tr', {},
      h('td', {}, a.name),
      h('td', { class: 'mono' }, a.action_id),
      h('td', {}, badge(a.action_type, 's-warn')),
      h('td', {}, a.action_type === 'CUSTOM_ACTION'
        ? url(`${a.CUSTOM_ACTION?.http_mode ?? 'GET'} ${a.CUSTOM_ACTION?.url ?? ''}`) : a.description || '–'),
      h('td', { class: 'mono' }, (a.assistants ?? []).join(', ') || 'none')));
    actionsBody.replaceChildren(...(arows.length ? arows
      : [h('tr', {}, h('td', { colspan: 5 }, 'No action yet. POST /v2/actions creates one.'))]));
  }

  await load();
  main.append(
    h('h2', {}, 'Agents'),
    summary,
    h('table', { id: 'agents', 'aria-label': 'Agents, oldest first' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'model_id'),
        h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Post-call webhook URL'),
        h('th', { scope: 'col' }, 'Inbound call webhook URL'), h('th', { scope: 'col' }, 'Attached actions'),
        h('th', { scope: 'col' }, 'Action'))),
      agentsBody),
    h('h3', {}, 'Actions'),
    h('table', { id: 'actions', 'aria-label': 'Actions, oldest first' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'action_id'),
        h('th', { scope: 'col' }, 'Kind'), h('th', { scope: 'col' }, 'What it does'),
        h('th', { scope: 'col' }, 'Attached to'))),
      actionsBody));
  const tick = async () => {
    try { await load(); } catch { /* the next tick tries again */ }
    timer = setTimeout(tick, POLL_MS);
  };
  timer = setTimeout(tick, POLL_MS);
  return () => clearTimeout(timer);
}
