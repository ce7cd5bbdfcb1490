// The SDK's pure reconnect policy: full-jitter backoff bounds and spread, the close-code table,
// and the token expiry that schedules a refresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, isRetryableClose, tokenExpiryMs, ParleyClient } from '../dist/index.js';

test('backoff delays stay inside [0, min(max, base * 2^attempt))', () => {
  const o = { baseMs: 500, maxMs: 30000 };
  for (let attempt = 0; attempt < 40; attempt++) {
    const cap = Math.min(30000, 500 * 2 ** attempt);
    assert.equal(backoffDelay(attempt, o, () => 0), 0);
    assert.equal(backoffDelay(attempt, o, () => 0.999999), Math.floor(cap * 0.999999));
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(attempt, o);
      assert.ok(d >= 0 && d < cap, `attempt ${attempt}: ${d} outside [0, ${cap})`);
    }
  }
});

test('1,000 clients dropped at once spread their reconnects over the whole window', () => {
  // Every client draws its next delay at the same moment (a node restart); the delays must cover
  // the window evenly rather than pile up at its start or end.
  const o = { baseMs: 1000, maxMs: 30000 };
  for (const attempt of [0, 3, 10]) {
    const window = Math.min(o.maxMs, o.baseMs * 2 ** attempt);
    const delays = Array.from({ length: 1000 }, () => backoffDelay(attempt, o));
    const buckets = new Array(10).fill(0);
    for (const d of delays) buckets[Math.floor((d / window) * 10)]++;
    // Uniform: 100 per tenth of the window expected; 50..150 is over 5 standard deviations wide.
    for (const [i, n] of buckets.entries())
      assert.ok(n >= 50 && n <= 150, `attempt ${attempt}: tenth ${i} of the window holds ${n} of 1000`);
    // At most 2% of the clients in any 1% of the window: nothing like a thundering herd.
    const fine = new Array(100).fill(0);
    for (const d of delays) fine[Math.floor((d / window) * 100)]++;
    assert.ok(Math.max(...fine) <= 30, `a hundredth of the window holds ${Math.max(...fine)} clients`);
  }
});

test('the close-code table retries transient codes and stops on policy and application codes', () => {
  for (const code of [1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014]) assert.equal(isRetryableClose(code), true, `${code}`);
  for (const code of [1002, 1003, 1007, 1008, 1009, 1010, 4000, 4001, 4003, 4401, 4999]) assert.equal(isRetryableClose(code), false, `${code}`);
});

function jwt(claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.sig`;
}

test('tokenExpiryMs reads exp; garbage gives undefined', () => {
  assert.equal(tokenExpiryMs(jwt({ sub: 'a', exp: 1700000000 })), 1700000000000);
  assert.equal(tokenExpiryMs('not a token'), undefined);
  assert.equal(tokenExpiryMs(jwt({ sub: 'a' })), undefined);
});

test('the refresh callback runs before exp, then again before the new exp', async () => {
  const now = Math.floor(Date.now() / 1000);
  let calls = 0;
  let resolveSecond;
  const second = new Promise((r) => { resolveSecond = r; });
  const client = new ParleyClient({
    url: 'ws://127.0.0.1:1/ws', token: jwt({ sub: 'a', exp: now + 3 }), autoConnect: false,
    refreshBeforeMs: 2500,
    refreshToken: async () => { calls++; if (calls === 2) resolveSecond(); return jwt({ sub: 'a', exp: now + 4 + calls }); },
  });
  // Without connecting, only the refresh schedule runs: call the scheduler the way connect() does.
  client['stopped'] = false;
  client['scheduleRefresh']();
  await second;
  assert.ok(calls >= 2);
  assert.ok(tokenExpiryMs(client.currentToken) > (now + 3) * 1000, 'the client holds the refreshed token');
  client['stopped'] = true;
  clearTimeout(client['refreshTimer']);
});

test('web/static/parley-client.js is the current build of the SDK (the web client serves it as it is)', async () => {
  const { readFileSync } = await import('node:fs');
  const built = readFileSync(new URL('../dist/index.js', import.meta.url), 'utf8');
  const served = readFileSync(new URL('../../../web/static/parley-client.js', import.meta.url), 'utf8');
  assert.ok(served === built, 'stale copy: run `npm run build && cp dist/index.js ../../web/static/parley-client.js` in clients/js');
});

test('the typed frames of the SDK name exactly the frame kinds of proto/parley.proto', async () => {
  const { readFileSync } = await import('node:fs');
  const proto = readFileSync(new URL('../../../proto/parley.proto', import.meta.url), 'utf8');
  const source = readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8');
  const oneof = (message) => {
    const start = proto.indexOf('oneof kind {', proto.indexOf(`message ${message} {`));
    return [...proto.slice(start, proto.indexOf('}', start)).matchAll(/^\s*\w+\s+(\w+)\s*=\s*\d+;/gm)].map((m) => m[1]).sort();
  };
  const fields = (iface) => {
    const start = source.indexOf(`export interface ${iface} {`);
    return [...source.slice(start, source.indexOf('\n}', start)).matchAll(/^\s+(\w+)\?:/gm)].map((m) => m[1]).filter((k) => k !== 'request_id').sort();
  };
  assert.deepEqual(fields('ClientFrame'), oneof('ClientFrame'));
  assert.deepEqual(fields('ServerFrame'), oneof('ServerFrame'));
});
