// The operator page (/admin/) in a real browser: Debian's chromium driven by playwright-core.
// An admin signs in with a pasted token, watches the live plots move while WebSocket clients
// chat, kicks a session (the client sees 4000), drains the node (/readyz 503) and undrains it; a
// viewer sees every tab with the actions disabled and the node refuses them anyway; a hidden
// browser tab holds no stream and makes no requests.
// PARLEY_SCREENSHOTS=dir saves the screenshots there (docs/img keeps the committed ones);
// otherwise they go to the node's temporary data directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { launchChromium } from './chromium.mjs';
import { startNode, devToken, connectUser } from './parleyd.mjs';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

let node;
let browser;
let shots;

before(async () => {
  node = await startNode(['--set', `server.web_dir=${webDir}`]);
  shots = process.env.PARLEY_SCREENSHOTS ? resolve(process.env.PARLEY_SCREENSHOTS) : node.dataDir;
  mkdirSync(shots, { recursive: true });
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (node) await node.stop();
});

async function openConsole(token, theme = 'dark') {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  await context.addInitScript((t) => localStorage.setItem('parley-admin-theme', t), theme);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(node.base + '/admin');  // redirects to /admin/
  assert.equal(new URL(page.url()).pathname, '/admin/');
  await page.fill('#token', token);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#console:not([hidden])');
  return { context, page, errors };
}

// Chat traffic between two pairs of users, a message every 50 ms each way, until stopped.
async function startLoad() {
  const users = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((u) => connectUser(node, u)));
  const [alice, bob, carol, dave] = users;
  let n = 0;
  const timer = setInterval(() => {
    n++;
    for (const [from, to] of [[alice, 'bob'], [bob, 'alice'], [carol, 'dave'], [dave, 'carol']]) {
      if (from.ws.readyState === 1)
        from.send({ request_id: `r${n}`, send: { to_user: to, client_msg_id: `m${n}-${to}`, body: `hello ${n}` } });
    }
  }, 50);
  return { users, alice, bob, carol, dave, stop: () => clearInterval(timer) };
}

// Waits until `check()` resolves true (polled every 100 ms), or fails after `ms`.
async function until(check, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('an admin watches the plots move under load, kicks a session and drains the node', async () => {
  const token = await devToken(node, 'op', 'admin');
  const { context, page, errors } = await openConsole(token);
  await page.waitForFunction(() => document.querySelector('#stream-state').dataset.state === 'live');
  await page.waitForSelector('#members tbody tr >> text=this node');
  assert.equal(await page.textContent('#role'), 'admin');

  const load = await startLoad();
  try {
    // The plots follow the stream: four connections, frames and deliveries every second.
    await page.waitForFunction(() => Number(document.querySelector('canvas[data-metric="websockets"]').dataset.last) >= 4,
      null, { timeout: 10000 });
    await page.waitForFunction(() => Number(document.querySelector('canvas[data-metric="frames_per_sec"]').dataset.last) > 10,
      null, { timeout: 10000 });
    await page.waitForFunction(() => Number(document.querySelector('canvas[data-metric="delivered_per_sec"]').dataset.last) > 5,
      null, { timeout: 10000 });
    const before = Number(await page.getAttribute('canvas[data-metric="websockets"]', 'data-samples'));
    await page.waitForFunction((n) => Number(document.querySelector('canvas[data-metric="websockets"]').dataset.samples) >= n + 2,
      before, { timeout: 10000 });
    // The last minute, with a few more seconds of load on it, for the picture.
    await page.click('#range button[data-sec="60"]');
    await page.waitForFunction((n) => Number(document.querySelector('canvas[data-metric="websockets"]').dataset.samples) >= n + 10,
      before, { timeout: 20000 });
    await page.screenshot({ path: join(shots, 'admin-overview.png') });

    // Sessions: search carol, kick her one session; her client sees 4000.
    await page.click('.tabs button[data-tab="sessions"]');
    await page.fill('#sessions-user', 'carol');
    await page.click('#sessions-form button[type=submit]');
    const row = page.locator('#sessions tbody tr[data-user="carol"]');
    await row.waitFor();
    assert.equal(await row.count(), 1);
    await page.fill('#sessions-user', '');
    await page.click('#sessions-form button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#sessions tbody tr[data-user]').length === 4);
    await page.screenshot({ path: join(shots, 'admin-sessions.png') });
    await page.fill('#sessions-user', 'carol');
    await page.click('#sessions-form button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#sessions tbody tr[data-user]').length === 1);
    await page.click('#sessions tbody tr[data-user="carol"] button');
    await page.waitForSelector('#confirm[open]');
    await page.fill('#confirm-reason', 'maintenance test');
    await page.click('#confirm-ok');
    assert.equal(await load.carol.closed, 4000);
    await page.waitForSelector('#flash >> text=kicked 1 session(s)');
    await page.waitForSelector('#sessions tbody td.empty');
  } finally {
    load.stop();
  }

  // Drain: a confirmation first; then /readyz is 503 and the others' clients close with 1012.
  await page.click('.tabs button[data-tab="drain"]');
  await page.fill('#drain-duration', '1s');
  await page.click('#drain-form button[type=submit]');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm button[value=cancel]');
  assert.equal((await fetch(node.base + '/readyz')).status, 200, 'cancelled: still serving');
  await page.click('#drain-form button[type=submit]');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-ok');
  await page.waitForSelector('#flash >> text=draining');
  assert.equal((await fetch(node.base + '/readyz')).status, 503);
  for (const u of [load.alice, load.bob, load.dave]) assert.equal(await u.closed, 1012);
  await page.waitForFunction(() => document.querySelector('#drain-pill').textContent === 'drained');
  // While draining the node takes no new streams: the page polls node.samples instead.
  await page.click('.tabs button[data-tab="overview"]');
  await page.waitForFunction(() => /polling|ended/.test(document.querySelector('#stream-state').dataset.state));
  await page.click('.tabs button[data-tab="drain"]');
  await page.click('#undrain');
  await page.waitForFunction(() => document.querySelector('#drain-pill').textContent === 'serving');
  assert.equal((await fetch(node.base + '/readyz')).status, 200);
  await page.waitForFunction(() => document.querySelector('#stream-state').dataset.state === 'live', null, { timeout: 15000 });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a viewer sees every tab with the actions disabled, and the node refuses them anyway', async () => {
  const token = await devToken(node, 'watcher', 'viewer');
  const { context, page, errors } = await openConsole(token, 'light');
  const bob = await connectUser(node, 'bob');
  try {
    assert.equal(await page.textContent('#role'), 'viewer');
    for (const tab of ['sessions', 'entities', 'top', 'dead', 'rules', 'drain']) {
      await page.click(`.tabs button[data-tab="${tab}"]`);
      assert.equal(await page.isVisible(`#tab-${tab}`), true, tab);
    }
    await page.click('.tabs button[data-tab="sessions"]');
    await page.click('#sessions-form button[type=submit]');
    const kick = page.locator('#sessions tbody tr[data-user="bob"] button');
    await kick.waitFor();
    assert.equal(await kick.isDisabled(), true);
    await page.click('.tabs button[data-tab="drain"]');
    assert.equal(await page.isDisabled('#drain-form button[type=submit]'), true);
    await page.click('.tabs button[data-tab="rules"]');
    assert.equal(await page.isDisabled('#rules-apply'), true);
    // The top actors tab probes the node's actors, singletons included.
    await page.click('.tabs button[data-tab="top"]');
    await page.waitForSelector('#top-kinds tbody tr >> text=chat_reader');
    await page.screenshot({ path: join(shots, 'admin-top-light.png') });
    // Entity lookup: the viewer may read; an idle conversation is not activated.
    await page.click('.tabs button[data-tab="entities"]');
    await page.selectOption('#entity-kind', 'task_shard');
    await page.fill('#entity-id', '3');
    await page.click('#entity-form button[type=submit]');
    await page.waitForSelector('#entity-summary dt >> text=tasks_in_memory');
    // The buttons are only a courtesy: the node answers a viewer's drain with 403.
    const status = await page.evaluate(async (t) => (await fetch('/admin/v1/node.drain', {
      method: 'POST', headers: { Authorization: `Bearer ${t}` }, body: '{}',
    })).status, token);
    assert.equal(status, 403);
    assert.equal((await fetch(node.base + '/readyz')).status, 200);
  } finally {
    await bob.close();
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('a hidden browser tab holds no stream and makes no requests; showing it resumes', async () => {
  const token = await devToken(node, 'op', 'admin');
  const { context, page } = await openConsole(token);
  await page.waitForFunction(() => document.querySelector('#stream-state').dataset.state === 'live');
  const streams = async () => {
    const text = await (await fetch(node.base + '/metrics')).text();
    return Number((text.match(/^parley_http_event_streams (\d+)/m) || [])[1]);
  };
  await until(async () => (await streams()) === 1, 'one open stream (earlier pages closed theirs)');
  const setHidden = (hidden) => page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { value: h, configurable: true });
    Object.defineProperty(document, 'visibilityState', { value: h ? 'hidden' : 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
  await setHidden(true);
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.waitForFunction(() => document.querySelector('#stream-state').dataset.state === 'paused (tab hidden)');
  const samples = await page.getAttribute('canvas[data-metric="websockets"]', 'data-samples');
  await page.waitForTimeout(3000);
  assert.deepEqual(requests, [], 'no request while hidden');
  await until(async () => (await streams()) === 0, 'the node to close the stream');
  assert.equal(await page.getAttribute('canvas[data-metric="websockets"]', 'data-samples'), samples);
  await setHidden(false);
  await page.waitForFunction(() => document.querySelector('#stream-state').dataset.state === 'live');
  // Resumed from the last sample seen: the seconds spent hidden are filled in from the backlog.
  await page.waitForFunction((n) => Number(document.querySelector('canvas[data-metric="websockets"]').dataset.samples) >= n + 3,
    Number(samples), { timeout: 5000 });
  await context.close();
});

test('with admin.listen the page and its stream live on the admin listener only', async () => {
  const separate = await startNode(['--set', `server.web_dir=${webDir}`, '--set', 'admin.listen=127.0.0.1:0']);
  try {
    const m = separate.log().match(/admin API on 127\.0\.0\.1:(\d+)/);
    assert.ok(m, separate.log());
    const adminBase = `http://127.0.0.1:${m[1]}`;
    assert.equal((await fetch(`${separate.base}/admin/`)).status, 404);
    const token = await devToken(separate, 'op', 'viewer');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${adminBase}/admin/`);
    await page.fill('#token', token);
    await page.click('#signin-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#stream-state').dataset.state === 'live');
    await page.waitForFunction(() => Number(document.querySelector('canvas[data-metric="resident_bytes"]').dataset.last) > 0);
    await context.close();
  } finally {
    await separate.stop();
  }
});
