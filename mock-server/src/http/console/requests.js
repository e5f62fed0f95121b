// Requests: the request journal, newest first, live (polled once a second with the journal's
// cursor, so a poll carries only what is new). A miss links the nearest known ids.
import { api, h, badge, httpClass, attempt } from './util.js';

const KEEP = 500;
const POLL_MS = 1000;

function row(e, fresh) {
  const path = e.path + (e.query ? `?${e.query}` : '');
  return h('tr', { class: fresh ? 'fresh' : '', 'data-seq': e.seq },
    h('td', { class: 'num' }, e.seq),
    h('td', { class: 'mono' }, e.at),
    h('td', {}, e.method),
    h('td', { class: 'mono' }, path),
    h('td', {}, badge(e.status, httpClass(e.status))),
    h('td', {}, e.fault ?? ''),
    h('td', { class: 'ids' }, (e.nearest_ids || []).map((id) => h('a', { href: `#/call/${encodeURIComponent(id)}`, class: 'mono' }, id))));
}

export async function render(main) {
  const tbody = h('tbody', { id: 'journal' });
  const info = h('span', { class: 'muted' });
  const empty = h('tr', {}, h('td', { colspan: 7 }, 'No request yet. Send one, it shows here.'));
  let after = 0;
  let paused = false;
  let timer = null;
  let busy = false;

  const first = await api('/requests?limit=1');
  if (first.requests.length) {
    // Start near the end: the newest KEEP entries (sequence numbers count up without gaps).
    after = Math.max(0, first.requests[0].seq - 1 + first.stored - KEEP);
  }

  async function poll(initial) {
    if (busy) return;
    busy = true;
    try {
      for (;;) {
        const page = await api(`/requests?after=${after}&limit=1000`);
        if (page.requests.length) empty.remove();
        for (const e of page.requests) {
          tbody.prepend(row(e, !initial));
          after = Math.max(after, e.seq);
        }
        while (tbody.rows.length > KEEP) tbody.lastElementChild.remove();
        info.textContent = `${page.stored} stored, journal holds ${page.capacity}`;
        if (page.next_after === null) break;
      }
      if (!tbody.rows.length) tbody.append(empty);
    } finally {
      busy = false;
    }
  }

  const pause = h('button', {
    type: 'button', class: 'secondary', 'aria-pressed': 'false',
    onclick: () => {
      paused = !paused;
      pause.setAttribute('aria-pressed', String(paused));
      pause.textContent = paused ? 'Resume' : 'Pause';
    },
  }, 'Pause');
  const clear = h('button', {
    type: 'button', class: 'danger',
    onclick: () => attempt('Journal emptied', async () => {
      await api('/requests', { method: 'DELETE' });
      tbody.replaceChildren(empty);
    }),
  }, 'Empty the journal');

  main.append(
    h('h2', {}, 'Requests'),
    h('div', { class: 'toolbar' }, pause, clear, info, h('span', { class: 'muted' }, 'Newest first; updates every second.')),
    h('table', { 'aria-label': 'Requests the mock received, newest first', 'aria-live': 'off' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', class: 'num' }, '#'), h('th', { scope: 'col' }, 'At (UTC)'),
        h('th', { scope: 'col' }, 'Method'), h('th', { scope: 'col' }, 'Path'),
        h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Fault'),
        h('th', { scope: 'col' }, 'Nearest ids (a miss)'))),
      tbody));
  await poll(true);
  const tick = async () => {
    if (!paused) {
      try { await poll(false); } catch (e) { info.textContent = `Polling failed: ${e.message}`; }
    }
    timer = setTimeout(tick, POLL_MS);
  };
  timer = setTimeout(tick, POLL_MS);
  return () => clearTimeout(timer);
}
