// The console's router: #/calls, #/call/ID, #/requests, #/webhooks, #/agents, #/faults.
// Each page module renders into <main> and returns a function that stops what it started
// (polling), called when the page is left.
import * as calls from './calls.js';
import * as requests from './requests.js';
import * as webhooks from './webhooks.js';
import * as faults from './faults.js';
import * as agents from './agents.js';
import { h } from './util.js';

const pages = {
  calls: { title: 'Calls', render: calls.renderList },
  call: { title: 'Call', nav: 'calls', render: calls.renderCall },
  requests: { title: 'Requests', render: requests.render },
  webhooks: { title: 'Webhooks', render: webhooks.render },
  agents: { title: 'Agents', render: agents.render },
  faults: { title: 'Faults', render: faults.render },
};

let stop = null;
let first = true;

function parse() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const [name, ...rest] = path.split('/');
  return { name: name || 'calls', arg: decodeURIComponent(rest.join('/')), params: new URLSearchParams(query) };
}

async function route() {
  if (stop) { stop(); stop = null; }
  const { name, arg, params } = parse();
  const page = pages[name];
  const main = document.getElementById('main');
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === (page?.nav || name)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  if (!page) {
    main.append(h('h2', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/calls' }, 'Calls')));
    return;
  }
  document.title = `${page.title} · synthflow-mock console`;
  try {
    stop = (await page.render(main, params, arg)) || null;
  } catch (e) {
    main.append(h('p', { role: 'alert', class: 'badge s-bad' }, `Could not load: ${e.message}`));
  }
  // Move focus to the new page for keyboard and screen-reader users (not on the first load).
  if (!first) main.focus({ preventScroll: true });
  first = false;
}

window.addEventListener('hashchange', route);
route();
