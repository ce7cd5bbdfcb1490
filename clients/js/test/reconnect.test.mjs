// The SDK against a real parleyd: a node SIGKILLed mid-burst and restarted on the same port and
// data dir, connections cut mid-burst by a proxy, a silent dead link found by the heartbeat
// watchdog. In every case nothing acknowledged is lost, the app sees nothing twice, order holds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ParleyClient, ParleyError } from '../dist/index.js';
import { startNode, startProxy, devToken, freePort, until } from './node.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function client(base, url, user, extra = {}) {
  const token = await devToken(base, user);
  const c = new ParleyClient({ url, token, WebSocket, deviceId: `${user}-test`, backoff: { baseMs: 100, maxMs: 1000 }, ...extra });
  const got = [];
  const states = [];
  c.on('message', (m) => got.push(m));
  c.on('state', (s) => states.push(s.state));
  cleanups.push(() => c.close());
  await until(() => c.state === 'connected', `${user} connected`);
  return { c, got, states };
}

// Every ack is in the receiver's list at its seq with its body; the receiver's seqs are exactly
// 1..n, once each, in order; the sender's order is the seq order.
function checkDelivery(acks, bodies, got, n) {
  assert.equal(got.length, n, `the app got ${got.length} messages, expected ${n}`);
  got.forEach((m, i) => assert.equal(Number(m.seq), i + 1, `message ${i} has seq ${m.seq}`));
  const seqs = acks.map((a) => Number(a.seq));
  assert.equal(new Set(seqs).size, seqs.length, 'two sends got the same seq');
  for (let i = 0; i < acks.length; i++) {
    assert.equal(got[seqs[i] - 1].body, bodies[i], `ack ${i} (seq ${seqs[i]}) is not what the receiver saw`);
    if (i) assert.ok(seqs[i] > seqs[i - 1], `send ${i} was stored before send ${i - 1}`);
  }
}

// A burst from alice to bob, with `disrupt(receivedSoFar)` called as bob's count grows.
async function burst({ alice, bob, n, tag, disrupt }) {
  const bodies = Array.from({ length: n }, (_, i) => `${tag} ${i}`);
  const sends = bodies.map((body, i) => alice.c.send({ toUser: 'bob-' + tag, body, clientMsgId: `${tag}-${i}` }));
  await disrupt();
  const acks = await Promise.all(sends);
  // Then one more message: once it arrives, everything before it has (per-conversation order).
  const last = await alice.c.send({ toUser: 'bob-' + tag, body: `${tag} end`, clientMsgId: `${tag}-end` });
  await until(() => bob.got.some((m) => m.client_msg_id === `${tag}-end`), `bob sees ${tag} end`, 60000);
  checkDelivery([...acks, last], [...bodies, `${tag} end`], bob.got, n + 1);
  return acks;
}

test('a node SIGKILLed mid-burst and restarted: nothing acknowledged lost, nothing twice, in order', async () => {
  let node = await startNode();
  const { port, dataDir } = node;
  cleanups.push(() => node.stop());
  const alice = await client(node.base, node.wsUrl, 'alice-kill');
  const bob = await client(node.base, node.wsUrl, 'bob-kill');
  await burst({
    alice, bob, n: 400, tag: 'kill',
    disrupt: async () => {
      await until(() => bob.got.length >= 100, 'bob has 100 messages');
      await node.kill();
      await until(() => alice.c.state === 'reconnecting' && bob.c.state === 'reconnecting', 'both clients reconnecting');
      node = await startNode({ port, dataDir });
    },
  });
  assert.ok(bob.states.includes('reconnecting') && bob.states.at(-1) === 'connected');
  // The node stored each message once: the newest seq is the count sent.
  const convs = await bob.c.conversations();
  assert.equal(Number(convs.find((c) => c.member_ids.includes('alice-kill')).last_seq), 401);
});

test('connections cut three times mid-burst by a proxy: nothing lost, nothing twice, in order', async () => {
  const node = await startNode();
  cleanups.push(() => node.stop());
  const proxy = await startProxy(node.port);
  cleanups.push(() => proxy.close());
  const alice = await client(node.base, proxy.wsUrl, 'alice-cut');
  const bob = await client(node.base, proxy.wsUrl, 'bob-cut');
  let cuts = 0;
  await burst({
    alice, bob, n: 600, tag: 'cut',
    disrupt: async () => {
      for (const at of [50, 250, 450]) {
        await until(() => bob.got.length >= at, `bob has ${at} messages`);
        const reconnects = (who) => who.states.filter((s) => s === 'reconnecting').length;
        const [aliceBefore, bobBefore] = [reconnects(alice), reconnects(bob)];
        proxy.cut();
        cuts++;
        // Both must notice this cut before the next one, or two cuts can look like one.
        await until(() => reconnects(bob) > bobBefore && reconnects(alice) > aliceBefore, 'both noticed the cut');
        await until(() => bob.c.state === 'connected' && alice.c.state === 'connected', 'both reconnected');
      }
    },
  });
  assert.equal(cuts, 3);
  assert.ok(bob.states.filter((s) => s === 'reconnecting').length >= 3, `bob states: ${bob.states}`);
});

test('a silent dead link is found by the heartbeat watchdog and the client recovers', async () => {
  const node = await startNode({ args: ['--set', 'ws.heartbeat_interval_ms=300'] });
  cleanups.push(() => node.stop());
  const proxy = await startProxy(node.port);
  cleanups.push(() => proxy.close());
  const alice = await client(node.base, node.wsUrl, 'alice-hb');
  // An attempt made while the link is still dead loses its handshake: it is dropped after 1 s.
  const bob = await client(node.base, proxy.wsUrl, 'bob-hb', { connectTimeoutMs: 1000 });
  assert.equal(Number(bob.c.welcome.heartbeat_interval_ms), 300);
  await alice.c.send({ toUser: 'bob-hb', body: 'before', clientMsgId: 'hb-1' });
  await until(() => bob.got.length === 1, 'bob sees the first message');
  proxy.blackhole(true);
  await until(() => bob.c.state === 'reconnecting', 'the watchdog declares the link dead', 10000);
  // Sent while bob's link is dead: sync brings it after the reconnect.
  await alice.c.send({ toUser: 'bob-hb', body: 'during', clientMsgId: 'hb-2' });
  proxy.blackhole(false);
  await until(() => bob.got.length === 2, 'bob sees the message sent while his link was dead');
  await alice.c.send({ toUser: 'bob-hb', body: 'after', clientMsgId: 'hb-3' });
  await until(() => bob.got.length === 3, 'bob sees the message after recovery');
  assert.deepEqual(bob.got.map((m) => m.body), ['before', 'during', 'after']);
});

test('a refused token stops the client with unauthorized instead of retrying', async () => {
  const node = await startNode();
  cleanups.push(() => node.stop());
  const c = new ParleyClient({ url: node.wsUrl, token: 'not-a-token', WebSocket, backoff: { baseMs: 10, maxMs: 20 } });
  cleanups.push(() => c.close());
  const states = [];
  const stopped = new Promise((resolve) => c.on('state', (s) => { states.push(s.state); if (s.state === 'offline') resolve(s); }));
  const s = await stopped;
  assert.equal(s.error.code, 'unauthorized');
  assert.equal(s.error.status, 401);
  assert.ok(!states.includes('reconnecting'), `states: ${states}`);
  await assert.rejects(c.conversations(), (e) => e instanceof ParleyError && e.code === 'closed');
});

test('a token in the Authorization header works, and server errors reject with their code', async () => {
  const node = await startNode();
  cleanups.push(() => node.stop());
  const carol = await client(node.base, node.wsUrl, 'carol', { authHeader: true });
  const dan = await client(node.base, node.wsUrl, 'dan');
  const group = await carol.c.createGroup('pair', ['erin']);
  assert.deepEqual(group.member_ids.sort(), ['carol', 'erin']);
  await assert.rejects(dan.c.history(group.conversation_id), (e) => e instanceof ParleyError && e.code === 'forbidden');
  const page = await carol.c.history(group.conversation_id);
  assert.deepEqual(page.messages, []);
  const post = await carol.c.rest().createPost('hello feed');
  assert.equal(post.author_id, 'carol');
  await assert.rejects(carol.c.rest().getLink('nosuchkey'), (e) => e.code === 'not_found' && e.status === 404);
});

test('a request with no answer fails with a timeout error naming it', async () => {
  const port = await freePort();  // nothing listens there
  const c = new ParleyClient({ url: `ws://127.0.0.1:${port}/ws`, token: 'x', WebSocket, requestTimeoutMs: 300, backoff: { baseMs: 50, maxMs: 100 } });
  cleanups.push(() => c.close());
  await assert.rejects(c.conversations(), (e) => e instanceof ParleyError && e.code === 'timeout' && /conversations: no answer within 300 ms/.test(e.message));
  assert.equal(c.state, 'reconnecting');
});
