// The web console in a real browser (headless Debian chromium, driven by playwright-core).
// Started by .ci/browser.sh, which starts the mocks and passes:
//   MOCK_URL      a mock with --admin loopback, --token $MOCK_TOKEN, --webhook-url $HOOK_URL
//   MOCK_TOKEN    the API token curl sends
//   HOOK_PORT     where this script listens as the webhook receiver (loopback)
//   BIG_URL       optional: a mock over 100k generated calls (first paint is measured there)
//   SHOTS_DIR     where the screenshots go (ignored by git)
// Checks: the Calls page lists the fixtures and a call's transcript shows; a curl request shows on
// the Requests page without a reload; a fault set on the Faults page is what the next curl gets;
// a webhook is delivered, listed and sent again; the page asks no host but the mock; no console
// error. Exits non-zero on the first failure.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const BASE = process.env.MOCK_URL;
const TOKEN = process.env.MOCK_TOKEN;
const BIG = process.env.BIG_URL || '';
const SHOTS = process.env.SHOTS_DIR || 'target/console-screenshots';
const HOOK_PORT = Number(process.env.HOOK_PORT || 0);
assert.ok(BASE && TOKEN, 'MOCK_URL and MOCK_TOKEN are needed');
mkdirSync(SHOTS, { recursive: true });

const log = (...a) => console.log('browser-test:', ...a);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** curl, as a developer would: the status code. */
function curl(path, extra = []) {
  return Number(execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}',
    '-H', `Authorization: Bearer ${TOKEN}`, ...extra, `${BASE}${path}`], { encoding: 'utf8' }));
}

async function json(url) {
  const r = await fetch(url);
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return r.json();
}

// The webhook receiver: answers 200 and counts.
let hooks = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => { hooks += 1; res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}'); });
});
if (HOOK_PORT) await new Promise((ok) => receiver.listen(HOOK_PORT, '127.0.0.1', ok));

const profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ARGS,
  viewport: { width: 1280, height: 860 },
});

const problems = [];
function watch(page, origins) {
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && !origins.includes(u.origin)) problems.push(`request to another host: ${r.url()}`);
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
}

let failed = false;
try {
  const page = await context.newPage();
  watch(page, [new URL(BASE).origin]);
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });

  // --- Calls: every call the mock holds, then one call's transcript.
  const health = await json(`${BASE}/healthz`);
  const { calls: ids } = await json(`${BASE}/__admin/calls`);
  assert.equal(ids.length, health.calls);
  await page.goto(`${BASE}/__admin/ui#/calls`);
  await page.locator('table tbody tr a').first().waitFor();
  const listed = await page.locator('table tbody tr td:first-child a').allTextContents();
  assert.equal(listed.length, Math.min(50, ids.length), 'one page of calls');
  for (const id of listed) assert.ok(ids.includes(id), `listed id ${id} is a fixture`);
  assert.match(await page.locator('#range').textContent(), new RegExp(`of ${ids.length.toLocaleString('en')}`));
  log(`Calls page lists ${listed.length} of ${ids.length} fixtures`);
  await page.screenshot({ path: join(SHOTS, 'calls.png'), fullPage: true });

  // A call with a transcript, found with the id filter by keyboard.
  let withTranscript = null;
  for (const id of ids) {
    const c = (await json(`${BASE}/__admin/calls/${id}`)).body.response.calls[0];
    if (/^bot:/m.test(c.transcript || '') && /^human:/m.test(c.transcript)) { withTranscript = { id, c }; break; }
  }
  assert.ok(withTranscript, 'a fixture with a transcript');
  await page.getByRole('searchbox', { name: 'Call id' }).fill(withTranscript.id.slice(0, 13));
  await page.getByRole('searchbox', { name: 'Call id' }).press('Enter');
  await page.locator(`a[href="#/call/${withTranscript.id}"]`).focus();
  await page.keyboard.press('Enter');
  await page.locator('ol.conversation li').first().waitFor();
  const firstLine = withTranscript.c.transcript.split('\n')[0].replace(/^bot:\s*/, '');
  assert.ok((await page.locator('ol.conversation li.bot').first().textContent()).includes(firstLine.slice(0, 40)));
  assert.ok(await page.locator('ol.conversation li.human').count() > 0, 'the caller speaks');
  assert.ok((await page.locator('pre').last().textContent()).includes(withTranscript.id), 'raw JSON shows');
  log(`call ${withTranscript.id}: ${await page.locator('ol.conversation li').count()} turns shown`);
  await page.screenshot({ path: join(SHOTS, 'call.png') }); // viewport only: docs/img/console-call.png

  // --- Requests: a curl request shows without a reload.
  await page.goto(`${BASE}/__admin/ui#/requests`);
  await page.locator('#journal').waitFor();
  const before = navigations;
  const missing = `${withTranscript.id.slice(0, -1)}${withTranscript.id.endsWith('0') ? '1' : '0'}`;
  const missStatus = curl(`/v2/calls/${missing}`);
  assert.ok(missStatus === 400 || missStatus === 404, `a miss: ${missStatus}`);
  const row = page.locator('#journal tr', { hasText: missing });
  await row.waitFor({ timeout: 5000 });
  assert.equal(navigations, before, 'no reload');
  assert.equal((await row.locator('.badge').textContent()).trim(), String(missStatus));
  assert.ok(await row.locator(`.ids a[href="#/call/${withTranscript.id}"]`).count() === 1, 'the nearest id is a link');
  log(`Requests page showed the curl request (${missStatus}) without a reload`);
  await page.screenshot({ path: join(SHOTS, 'requests.png'), fullPage: true });

  // --- Faults: a global fault set here is what the next curl gets; cleared, the call again.
  await page.goto(`${BASE}/__admin/ui#/faults`);
  await page.getByRole('textbox', { name: 'Always' }).fill('code=503');
  await page.getByRole('button', { name: 'Set global faults' }).click();
  await page.locator('#faults-now', { hasText: '503' }).waitFor();
  assert.equal(curl(`/v2/calls/${withTranscript.id}`), 503, 'the fault set on the page');
  await page.getByRole('textbox', { name: 'Call id' }).fill(withTranscript.id);
  await page.getByRole('textbox', { name: 'Faults', exact: true }).fill('code=429');
  await page.getByRole('button', { name: 'Set scenario' }).click();
  await page.locator('td', { hasText: withTranscript.id }).first().waitFor();
  await page.screenshot({ path: join(SHOTS, 'faults.png'), fullPage: true });
  await page.getByRole('button', { name: 'Clear global faults' }).click();
  await page.locator('#faults-now', { hasText: '503' }).waitFor({ state: 'detached' }).catch(() => {});
  await page.waitForFunction(() => !document.getElementById('faults-now').textContent.includes('503'));
  assert.equal(curl(`/v2/calls/${withTranscript.id}`), 429, 'the scenario first');
  assert.equal(curl(`/v2/calls/${withTranscript.id}`), 200, 'then the call');
  await page.getByRole('button', { name: `Clear the scenario of ${withTranscript.id}` }).click();
  await page.getByText('No scenario set.').waitFor();
  log('Faults page: global fault 503 then cleared, scenario 429 then cleared, as curl saw');

  // --- Webhooks: send a call's webhook from its page, see the delivery, send it again.
  if (HOOK_PORT) {
    await page.goto(`${BASE}/__admin/ui#/call/${withTranscript.id}`);
    await page.getByRole('button', { name: 'Send its webhook' }).click();
    await page.goto(`${BASE}/__admin/ui#/webhooks`);
    const delivered = page.locator('tbody tr', { hasText: withTranscript.id });
    await delivered.first().waitFor({ timeout: 10000 });
    await page.locator('tbody tr .badge', { hasText: 'delivered' }).first().waitFor({ timeout: 10000 });
    await page.getByRole('button', { name: `Send the webhook of ${withTranscript.id} again` }).first().click();
    await page.waitForFunction(() => document.querySelectorAll('tbody tr button').length >= 2, null, { timeout: 10000 });
    assert.ok(hooks >= 2, `the receiver got ${hooks} webhooks`);
    log(`Webhooks page: ${await delivered.count()} deliveries, receiver got ${hooks}`);
  } else {
    await page.goto(`${BASE}/__admin/ui#/webhooks`);
    await page.locator('table').waitFor();
  }
  await page.screenshot({ path: join(SHOTS, 'webhooks.png'), fullPage: true });

  // --- Agents: the seeded agents with their webhook URLs and attached actions.
  await page.goto(`${BASE}/__admin/ui#/agents`);
  await page.locator('#agents tbody tr', { hasText: 'Outbound sales (seed)' }).waitFor();
  assert.ok((await page.locator('#agents').textContent()).includes('/synthflow/post-call'), 'the agent URL shows');
  assert.ok((await page.locator('#agents').textContent()).includes('create_crm_lead'), 'the attached action shows');
  log(`Agents page: ${await page.locator('#agents tbody tr').count()} agents shown`);
  // An inbound call from the agent's row: its inbound webhook shows on the Webhooks page.
  await page.getByRole('button', { name: 'Start an inbound call to Inbound support (seed)' }).click();
  await page.getByText(/Inbound call .* started/).waitFor();
  await page.goto(`${BASE}/__admin/ui#/webhooks`);
  await page.locator('table tbody tr', { hasText: 'inbound' }).first().waitFor({ timeout: 15000 });
  log('Agents page: an inbound call started from the agent; its inbound request is on the Webhooks page');

  // --- 100k calls: first paint and first rows, measured (not asserted as a timing).
  if (BIG) {
    const big = await context.newPage();
    watch(big, [new URL(BIG).origin]);
    for (const pass of ['first load (builds the call index)', 'second load']) {
      await big.goto('about:blank');
      const t0 = Date.now();
      await big.goto(`${BIG}/__admin/ui#/calls`);
      const fcp = await big.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
      await big.locator('table tbody tr a').first().waitFor({ timeout: 60000 });
      const rows = Date.now() - t0;
      const range = await big.locator('#range').textContent();
      log(`100k calls, ${pass}: first contentful paint ${fcp === null ? 'n/a' : `${fcp.toFixed(0)} ms`}, rows shown after ${rows} ms (${range})`);
      assert.match(range, /of \d{3},\d{3}/, 'a six-figure call count');
    }
    const t1 = Date.now();
    await big.getByRole('link', { name: 'Last »' }).click();
    // The page re-renders its table while it fetches: `#range` may be absent for a moment.
    await big.waitForFunction(() => {
      const range = document.getElementById('range')?.textContent ?? '';
      return /^[\d,]+–[\d,]+ of/.test(range) && !range.startsWith('1–');
    });
    log(`100k calls: last page shown after ${Date.now() - t1} ms (${await big.locator('#range').textContent()})`);
    await big.screenshot({ path: join(SHOTS, 'calls-100k.png') });
    await big.close();
  }

  await page.waitForTimeout(300);
  assert.deepEqual(problems, [], 'no console error, no foreign request');
  log(`no console error, no request to another host; screenshots in ${SHOTS}`);
} catch (e) {
  failed = true;
  console.error('browser-test: FAILED:', e.message);
  if (problems.length) console.error(problems.join('\n'));
} finally {
  await context.close();
  receiver.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
