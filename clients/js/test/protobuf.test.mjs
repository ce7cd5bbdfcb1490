// Binary frames: the SDK with protobufCodec (npm protobufjs and proto/parley.proto) against a
// real parleyd, through a connection cut mid-burst: frames are binary on the wire, look as they
// do in JSON, and nothing acknowledged is lost or seen twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import WebSocket from 'ws';
import { ParleyClient, protobufCodec } from '../dist/index.js';
import { startNode, startProxy, devToken, until } from './node.mjs';

const protoPath = fileURLToPath(new URL('../../../proto/parley.proto', import.meta.url));
const root = new protobuf.Root().loadSync(protoPath, { keepCase: true });
const codec = protobufCodec(protobuf, root);

// Counts the kinds of frames a client receives.
const received = { binary: 0, text: 0 };
class CountingWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    this.on('message', (_data, isBinary) => { received[isBinary ? 'binary' : 'text']++; });
  }
}

let node;
let proxy;
const clients = [];
before(async () => { node = await startNode(); proxy = await startProxy(node.port); });
after(async () => { for (const c of clients) c.close(); await proxy.close(); await node.stop(); });

async function user(id) {
  const c = new ParleyClient({ url: proxy.wsUrl, token: await devToken(node.base, id), WebSocket: CountingWebSocket, codec, backoff: { baseMs: 50, maxMs: 300 } });
  clients.push(c);
  const got = [];
  c.on('message', (m) => got.push(m));
  await until(() => c.state === 'connected', `${id} connected`);
  return { c, got };
}

test('binary frames through a cut mid-burst: nothing lost, nothing twice, in order', async () => {
  const alice = await user('pb-alice');
  const bob = await user('pb-bob');
  const sends = Array.from({ length: 300 }, (_, i) => alice.c.send({ toUser: 'pb-bob', body: `pb ${i}`, clientMsgId: `pb-${i}` }));
  await until(() => bob.got.length >= 100, 'bob has 100 messages');
  proxy.cut();
  const acks = await Promise.all(sends);
  await alice.c.send({ toUser: 'pb-bob', body: 'pb end', clientMsgId: 'pb-end' });
  await until(() => bob.got.some((m) => m.client_msg_id === 'pb-end'), 'bob sees the last one');
  assert.equal(bob.got.length, 301);
  bob.got.forEach((m, i) => assert.equal(Number(m.seq), i + 1));
  acks.forEach((a, i) => assert.equal(bob.got[Number(a.seq) - 1].body, `pb ${i}`));
  // The JSON shapes: 64-bit integers as strings, times as RFC 3339, names in snake_case.
  const m = bob.got[0];
  assert.equal(typeof m.seq, 'string');
  assert.match(m.sent_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(m.sender_id, 'pb-alice');
  assert.ok(Math.abs(Date.parse(m.sent_at) - Date.now()) < 600_000);
  assert.equal(Number(bob.c.welcome.heartbeat_interval_ms), 25000);
  const page = await bob.c.history(acks[0].conversation_id, { limit: 2 });
  assert.deepEqual(page.messages.map((x) => x.body), ['pb end', 'pb 299']);
  assert.ok(received.binary > 600, `binary frames received: ${received.binary}`);
  assert.equal(received.text, 0);
});
