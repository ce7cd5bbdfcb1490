// The URL shortener and the rate limiter as outside clients see them: Node's fetch against a
// real parleyd, redirects not followed, and rules reloaded with a real SIGHUP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNode, devToken, connectUser } from './parleyd.mjs';

const rules = (limit) => `
[[rules]]
name = "redirects-per-ip"
match = { path_prefix = "/", method = "GET" }
key = "ip"
algorithm = "sliding_log"
limit = ${limit}
window_sec = 60

[[rules]]
name = "sends"
match = { frame = "send" }
key = "connection"
algorithm = "token_bucket"
capacity = 2
refill_per_sec = 0.1
`;

// Polls `probe` until it returns a truthy value; fails with `what` after `withinMs`.
async function eventually(probe, what, withinMs = 10000) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await sleep(20);
  }
}

// Sends SIGHUP and waits until the node has handled it (it logs every reload it runs).
async function reload(node) {
  const count = () => (node.log().match(/reload: applied/g) ?? []).length;
  const before = count();
  node.child.kill('SIGHUP');
  await eventually(() => count() > before, `a reload logged after SIGHUP:\n${node.log()}`);
}

test('create, redirect, statistics and delete through plain HTTP', async () => {
  const node = await startNode();
  try {
    const token = await devToken(node, 'alice');
    const auth = { Authorization: `Bearer ${token}` };
    let res = await fetch(`${node.base}/api/v1/urls`, {
      method: 'POST', headers: auth,
      body: JSON.stringify({ longUrl: 'https://example.com/e2e?x=1', redirect: 301 }),
    });
    assert.equal(res.status, 201);
    const link = await res.json();
    assert.match(link.key, /^[0-9A-Za-z]{7}$/);
    assert.equal(link.redirect, 301);

    res = await fetch(`${node.base}/${link.key}`, {
      redirect: 'manual', headers: { Referer: 'https://social.example/post/1', 'User-Agent': 'Mozilla/5.0 (iPhone) Mobile' },
    });
    assert.equal(res.status, 301);
    assert.equal(res.headers.get('location'), 'https://example.com/e2e?x=1');

    // Clicks reach the statistics when the aggregator flushes.
    const stats = await eventually(async () => {
      const s = await (await fetch(`${node.base}/api/v1/urls/${link.key}/stats`, { headers: auth })).json();
      return Number(s.clicks) >= 1 && s;
    }, 'the click in the statistics');
    assert.equal(Number(stats.clicks), 1);
    assert.deepEqual(stats.referrers.map((r) => r.referrer), ['social.example']);
    assert.equal(Number(stats.devices.mobile), 1);

    res = await fetch(`${node.base}/api/v1/urls/${link.key}`, { method: 'DELETE', headers: auth });
    assert.equal(res.status, 204);
    res = await fetch(`${node.base}/${link.key}`, { redirect: 'manual' });
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, 'not_found');
  } finally {
    await node.stop();
  }
});

test('rate limits: headers, 429, frame errors, and a SIGHUP reload of the rules file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-rl-'));
  const file = join(dir, 'ratelimits.toml');
  writeFileSync(file, rules(2));
  const node = await startNode(['--set', `ratelimit.rules_file=${file}`]);
  try {
    let res = await fetch(`${node.base}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-ratelimit-limit'), '2');
    assert.equal(res.headers.get('ratelimit-policy'), '"redirects-per-ip";q=2;w=60');
    res = await fetch(`${node.base}/healthz`);
    assert.equal(res.status, 200);
    res = await fetch(`${node.base}/healthz`);
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    const body = await res.json();
    assert.equal(body.error.code, 'rate_limited');
    assert.ok(Number(body.error.retry_after_ms) > 0);

    // A broken file keeps the rules in force; a good one replaces them.
    writeFileSync(file, '[[rules]]\nname = "x"\nalgorithm = "nope"\n');
    await reload(node);
    assert.equal((await fetch(`${node.base}/healthz`)).status, 429);
    writeFileSync(file, rules(100));
    await reload(node);
    res = await fetch(`${node.base}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-ratelimit-limit'), '100');
    assert.match(node.log(), /rate-limit rules not reloaded/);

    const ann = await connectUser(node, 'ann');
    const send = (id) => ann.send({ request_id: id, send: { to_user: 'ben', client_msg_id: id, body: 'hi' } });
    send('m1');
    send('m2');
    send('m3');
    const refused = await ann.next((f) => f.request_id === 'm3');
    assert.equal(refused.error.code, 'rate_limited');
    assert.ok(Number(refused.error.retry_after_ms) > 0);
    ann.send({ request_id: 'p', ping: {} });
    assert.ok((await ann.next((f) => f.request_id === 'p')).pong);
    ann.close();
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
