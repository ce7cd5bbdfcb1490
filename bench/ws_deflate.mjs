// ws.permessage_deflate, off and on: the node's memory per idle connection (RSS growth over N
// connections that each exchanged one ping/pong, so both zlib streams exist) and the bytes on
// the wire for a typical chat burst (300 messages of ~60 characters, one sender, one receiver).
// Usage (bench/ws_deflate.sh wraps it): node bench/ws_deflate.mjs BUILD_DIR [N]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'e2e', 'package.json'));
const WebSocket = require('ws');
const build = process.argv[2] ?? 'build';
const count = Number(process.argv[3] ?? 2000);
const secret = 'bench-secret-0123456789abcdef';

async function startNode(args) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-deflate-'));
  const child = spawn(join(build, 'node', 'parleyd'), ['--listen', '127.0.0.1:0', '--data-dir', dir,
    '--set', `auth.jwt_secret=${secret}`, '--set', 'auth.dev_tokens=true', '--set', 'server.max_connections_per_ip=0',
    '--set', 'ws.idle_timeout_sec=3600', '--set', 'storage.sync=none', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const on = (d) => { log += d; const m = log.match(/ready on 127\.0\.0\.1:(\d+)/); if (m) resolve(Number(m[1])); };
    child.stdout.on('data', on); child.stderr.on('data', on);
    child.on('exit', (c) => reject(new Error(`parleyd exited ${c}: ${log}`)));
  });
  return { port, pid: child.pid, stop: () => { child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); } };
}

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const token = async (port, user) => (await (await fetch(`http://127.0.0.1:${port}/api/v1/dev/token`, { method: 'POST', body: JSON.stringify({ user_id: user }) })).json()).token;

function openWs(port, tok, deflate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${tok}`, { perMessageDeflate: deflate });
    ws.once('error', reject);
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString());
      if (f.welcome) ws.send(JSON.stringify({ request_id: 'p', ping: {} }));
      if (f.pong) resolve(ws);
    });
  });
}

async function idleMemory(deflateArgs) {
  const node = await startNode(deflateArgs);
  const tok = await token(node.port, 'idle');
  const warm = [];
  for (let i = 0; i < 50; i++) warm.push(await openWs(node.port, tok, true));
  const before = rssKiB(node.pid);
  const sockets = [];
  for (let i = 0; i < count; i += 100)
    sockets.push(...await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => openWs(node.port, tok, true))));
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssKiB(node.pid);
  const negotiated = sockets[0].extensions || 'none';
  for (const s of [...warm, ...sockets]) s.terminate();
  node.stop();
  return { perConnKiB: ((after - before) / count).toFixed(1), negotiated };
}

async function burstBytes(deflateArgs) {
  const node = await startNode(deflateArgs);
  let down = 0;
  let up = 0;
  const proxy = createServer((c) => {
    const u = connect(node.port, '127.0.0.1');
    c.on('data', (d) => { up += d.length; u.write(d); });
    u.on('data', (d) => { down += d.length; c.write(d); });
    c.on('close', () => u.destroy()); u.on('close', () => c.destroy());
    c.on('error', () => {}); u.on('error', () => {});
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  const p = proxy.address().port;
  const alice = await openWs(p, await token(node.port, 'alice'), true);
  const bob = await openWs(p, await token(node.port, 'bob'), true);
  const start = { down, up };
  let got = 0;
  const done = new Promise((r) => bob.on('message', (d) => { if (JSON.parse(d.toString()).message && ++got === 300) r(); }));
  // Listening before sending: the last ack may arrive before bob has every message.
  let acked = 0;
  const allAcked = new Promise((r) => alice.on('message', (d) => { if (JSON.parse(d.toString()).ack && ++acked === 300) r(); }));
  for (let i = 0; i < 300; i++)
    alice.send(JSON.stringify({ request_id: `r${i}`, send: { to_user: 'bob', client_msg_id: `m${i}`, body: `message ${i}: see you at the standup, the build is green again` } }));
  await done;
  await allAcked;
  const result = { down: down - start.down, up: up - start.up };
  alice.terminate(); bob.terminate(); proxy.close(); node.stop();
  return result;
}

const configs = [
  ['off', []],
  ['on, window 15, memLevel 8', ['--set', 'ws.permessage_deflate=true']],
  ['on, window 12, memLevel 6', ['--set', 'ws.permessage_deflate=true', '--set', 'ws.deflate_window_bits=12', '--set', 'ws.deflate_mem_level=6']],
  ['on, window 9, memLevel 1', ['--set', 'ws.permessage_deflate=true', '--set', 'ws.deflate_window_bits=9', '--set', 'ws.deflate_mem_level=1']],
];
console.log(`== ws.permessage_deflate (${new Date().toISOString()}, ${count} idle connections)`);
console.log('| setting | negotiated | RSS per idle connection | bytes node -> clients (300 messages + 300 acks) | bytes clients -> node |');
console.log('|---|---|---|---|---|');
for (const [name, args] of configs) {
  const mem = await idleMemory(args);
  const wire = await burstBytes(args);
  console.log(`| ${name} | ${mem.negotiated} | ${mem.perConnKiB} KiB | ${wire.down} | ${wire.up} |`);
}
