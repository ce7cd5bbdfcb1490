// ws.permessage_deflate: off by default; when on, clients that offer permessage-deflate get it
// (fewer bytes on the wire for a chat burst), clients that do not get plain frames; the window
// bits are bounded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import WebSocket from 'ws';
import { startNode, devToken } from './parleyd.mjs';

const nodes = [];
after(async () => { for (const n of nodes) await n.stop(); });

// A TCP relay that counts the bytes the node sends.
async function countingProxy(port) {
  const counter = { down: 0 };
  const server = createServer((client) => {
    const up = connect(port, '127.0.0.1');
    client.pipe(up);
    up.on('data', (d) => { counter.down += d.length; });
    up.pipe(client);
    const drop = () => { client.destroy(); up.destroy(); };
    client.on('error', drop); up.on('error', drop); client.on('close', drop); up.on('close', drop);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  counter.port = server.address().port;
  counter.close = () => new Promise((r) => server.close(r));
  return counter;
}

async function open(node, port, user, perMessageDeflate) {
  const token = await devToken(node, user);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`, { perMessageDeflate });
  const frames = [];
  const waiters = [];
  ws.on('message', (d) => {
    frames.push(JSON.parse(d.toString()));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  const until = async (cond) => { while (!cond()) await new Promise((r) => waiters.push(r)); };
  await until(() => frames.some((f) => f.welcome));
  return { ws, frames, until };
}

// Alice sends bob 300 typical chat messages; returns the bytes the node sent to bob.
async function burst(node, deflate, tag) {
  const proxy = await countingProxy(node.port);
  const alice = await open(node, node.port, `alice-${tag}`, deflate);
  const bob = await open(node, proxy.port, `bob-${tag}`, deflate);
  const before = proxy.down;
  for (let i = 0; i < 300; i++)
    alice.ws.send(JSON.stringify({ request_id: `r${i}`, send: { to_user: `bob-${tag}`, client_msg_id: `${tag}-${i}`, body: `message ${i}: see you at the standup, the build is green again` } }));
  await bob.until(() => bob.frames.filter((f) => f.message).length === 300);
  const seqs = bob.frames.filter((f) => f.message).map((f) => Number(f.message.seq));
  assert.deepEqual(seqs, Array.from({ length: 300 }, (_, i) => i + 1));
  const bytes = proxy.down - before;
  const negotiated = bob.ws.extensions;
  alice.ws.close(); bob.ws.close();
  await proxy.close();
  return { bytes, negotiated };
}

test('off by default: a client offering permessage-deflate gets plain frames', async () => {
  const node = await startNode();
  nodes.push(node);
  const { bytes, negotiated } = await burst(node, true, 'off');
  assert.equal(negotiated, '');
  assert.ok(bytes > 300 * 100, `${bytes} bytes for 300 messages`);
});

test('on: negotiated with clients that offer it, and a chat burst takes fewer bytes', async () => {
  const plainNode = await startNode();
  nodes.push(plainNode);
  const plain = await burst(plainNode, true, 'plain');
  const node = await startNode(['--set', 'ws.permessage_deflate=true', '--set', 'ws.deflate_window_bits=12', '--set', 'ws.deflate_mem_level=6']);
  nodes.push(node);
  const deflated = await burst(node, true, 'on');
  assert.match(deflated.negotiated, /^permessage-deflate/);
  assert.ok(deflated.bytes < plain.bytes * 0.85, `${deflated.bytes} bytes deflated vs ${plain.bytes} plain`);
  // A client that does not offer it talks plain frames to the same node.
  const legacy = await burst(node, false, 'legacy');
  assert.equal(legacy.negotiated, '');
});

test('the deflate settings are bounded', async () => {
  const smallest = await startNode(['--set', 'ws.permessage_deflate=true', '--set', 'ws.deflate_window_bits=9', '--set', 'ws.deflate_mem_level=1']);
  nodes.push(smallest);
  await assert.rejects(startNode(['--set', 'ws.deflate_window_bits=16']), /ws\.deflate_window_bits/);
  await assert.rejects(startNode(['--set', 'ws.deflate_mem_level=0']), /ws\.deflate_mem_level/);
});
