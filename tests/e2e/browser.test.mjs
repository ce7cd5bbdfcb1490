// The web client in a real browser: Debian's chromium driven by playwright-core. Two users in
// two browser contexts exchange messages and one sees the other's read receipt; the node is
// SIGKILLed and restarted and the conversation continues without a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { launchChromium } from './chromium.mjs';
import { startNode } from './parleyd.mjs';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

let node;
let browser;

before(async () => {
  node = await startNode(['--set', `server.web_dir=${webDir}`]);
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (node) await node.stop();
  // A restarted node runs on the first one's directory, which is then not its own to remove.
  if (node) rmSync(node.dataDir, { recursive: true, force: true });
});

async function signIn(user) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(node.base + '/');
  await page.fill('#user-id', user);
  await page.click('#signin-form button');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForFunction(() => document.querySelector('#status').textContent === 'connected');
  return page;
}

test('the first screen shows only the sign-in box', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(node.base + '/');
  await page.waitForSelector('#signin-form');
  assert.equal(await page.isVisible('#signin'), true);
  assert.equal(await page.isVisible('#app'), false, 'the chat panel shows before signing in');
  assert.equal(await page.isVisible('#send-form'), false);
  await context.close();
});

test('two users exchange messages in the web client and see a read receipt', async () => {
  const alice = await signIn('alice');
  const bob = await signIn('bob');

  await alice.fill('#direct-user', 'bob');
  await alice.click('#direct-form button');
  await alice.fill('#body', 'hello bob');
  await alice.click('#send-form button');
  await alice.waitForSelector('#messages li.mine >> text=hello bob');

  // Bob sees the new conversation with an unread badge, opens it, reads the message.
  const entry = bob.locator('#conversations li', { hasText: 'alice' });
  await entry.waitFor();
  await entry.click();
  await bob.waitForSelector('#messages li >> text=hello bob');

  // Opening it sent READ: Alice's message shows it.
  await alice.waitForSelector('#messages li.mine .meta >> text=Read by bob');

  // And back: Bob replies, Alice sees it live and shows Bob typing first.
  await bob.fill('#body', 'hi alice');
  await alice.waitForSelector('#typing >> text=bob is typing', { timeout: 5000 });
  await bob.click('#send-form button');
  await alice.waitForSelector('#messages li:not(.mine) >> text=hi alice');
  await alice.screenshot({ path: join(node.dataDir, 'alice.png') });

  // The node dies and comes back on the same port and data: both pages show the countdown, then
  // reconnect by themselves, and the conversation goes on (no reload).
  await node.kill();
  await alice.waitForFunction(() => /^reconnecting/.test(document.querySelector('#status').textContent));
  const shown = await alice.textContent('#status');
  node = await startNode(['--set', `server.web_dir=${webDir}`], { dataDir: node.dataDir, port: node.port });
  for (const page of [alice, bob])
    await page.waitForFunction(() => document.querySelector('#status').textContent === 'connected', null, { timeout: 30000 });
  await alice.fill('#body', 'after the restart');
  await alice.click('#send-form button');
  await alice.waitForSelector('#messages li.mine >> text=after the restart');
  await bob.waitForSelector('#messages li >> text=after the restart');
  // Nothing shown twice after the resume.
  assert.equal(await bob.locator('#messages li', { hasText: 'hello bob' }).count(), 1);
  assert.equal(await alice.locator('#messages li', { hasText: 'hi alice' }).count(), 1);
  assert.match(shown, /^reconnecting( in \d+ s|…)$/);
});
