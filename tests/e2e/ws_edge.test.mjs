// The WebSocket edge as an outside client sees it, with the npm `ws` package: auth, welcome,
// ping, malformed frames, the frame size limit and the SIGTERM drain.
import { test, before, after } from 'node:test';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startNode, devToken } from './parleyd.mjs';

let node;

before(async () => {
  node = await startNode(['--set', 'ws.max_frame_bytes=4096']);
});

after(async () => {
  await node.stop();
});

// Opens a socket and collects its frames; `next()` resolves with the next parsed frame.
function open(url, options) {
  const ws = new WebSocket(url, options);
  const queue = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    const frame = isBinary ? { binary: data } : JSON.parse(data.toString());
    const w = waiters.shift();
    if (w) w(frame); else queue.push(frame);
  });
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return {
    ws,
    closed,
    next: () => new Promise((resolve, reject) => {
      if (queue.length) return resolve(queue.shift());
      const timer = setTimeout(() => reject(new Error('no frame within 5 s')), 5000);
      waiters.push((f) => { clearTimeout(timer); resolve(f); });
    }),
    opened: new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('unexpected-response', (req, res) => reject(Object.assign(new Error('refused'), { status: res.statusCode })));
      ws.on('error', reject);
    }),
  };
}

test('an upgrade without a valid token is refused with 401', async () => {
  const none = open(`ws://127.0.0.1:${node.port}/ws`);
  await assert.rejects(none.opened, (e) => e.status === 401);
  const bad = open(`ws://127.0.0.1:${node.port}/ws`, { headers: { Authorization: 'Bearer nope.nope.nope' } });
  await assert.rejects(bad.opened, (e) => e.status === 401);
});

test('a valid token is welcomed and ping is answered with pong', async () => {
  const token = await devToken(node, 'alice');
  const c = open(`ws://127.0.0.1:${node.port}/ws`, { headers: { Authorization: `Bearer ${token}` } });
  await c.opened;
  const welcome = await c.next();
  assert.equal(welcome.welcome.user_id, 'alice');
  assert.ok(welcome.welcome.session_id.startsWith('s-'));
  assert.equal(Number(welcome.welcome.heartbeat_interval_ms), 25000);
  c.ws.send(JSON.stringify({ request_id: 'p1', ping: {} }));
  const pong = await c.next();
  assert.equal(pong.request_id, 'p1');
  assert.ok(pong.pong.server_time);
  c.ws.close(1000);
  assert.equal((await c.closed).code, 1000);
});

test('the browser-style ?token= works too', async () => {
  const token = await devToken(node, 'bob');
  const c = open(`ws://127.0.0.1:${node.port}/ws?token=${token}`);
  await c.opened;
  assert.equal((await c.next()).welcome.user_id, 'bob');
  c.ws.close();
});

test('malformed frames get error frames and the connection lives', async () => {
  const token = await devToken(node, 'carol');
  const c = open(`ws://127.0.0.1:${node.port}/ws?token=${token}`);
  await c.opened;
  await c.next(); // welcome
  c.ws.send('{"request_id": "x", ');
  assert.equal((await c.next()).error.code, 'bad_request');
  c.ws.send(JSON.stringify({ request_id: 'k', no_such_frame: {} }));
  const unknown = await c.next();
  assert.equal(unknown.request_id, 'k');
  assert.equal(unknown.error.code, 'bad_request');
  c.ws.send(Buffer.from([0xff, 0x00, 0x13, 0x37]));
  assert.ok((await c.next()).binary, 'binary garbage is answered in binary');
  c.ws.send(JSON.stringify({ request_id: 'alive', ping: {} }));
  assert.equal((await c.next()).request_id, 'alive');
  c.ws.close();
});

test('a frame over the limit closes the connection with 1009', async () => {
  const token = await devToken(node, 'dave');
  const c = open(`ws://127.0.0.1:${node.port}/ws?token=${token}`);
  await c.opened;
  await c.next();
  c.ws.send(JSON.stringify({ request_id: 'x'.repeat(5000), ping: {} }));
  assert.equal((await c.closed).code, 1009);
});

// Past the limit the node sends 1009 and then reads and drops the rest of the message until the
// client's close frame, so the client sees 1009 whatever the size, not a reset (1006).
test('messages of any size over the default 64 KiB limit close with 1009, not 1006', async () => {
  const big = await startNode([]);
  try {
    const token = await devToken(big, 'fay');
    for (const size of [64 * 1024 + 1, 1024 * 1024, 16 * 1024 * 1024]) {
      for (const binary of [false, true]) {
        const c = open(`ws://127.0.0.1:${big.port}/ws?token=${token}`, { maxPayload: 0 });
        await c.opened;
        await c.next();
        c.ws.send(binary ? Buffer.alloc(size, 1) : 'x'.repeat(size), { binary });
        const closed = await c.closed;
        assert.equal(closed.code, 1009, `${size} bytes (${binary ? 'binary' : 'text'}): ${closed.code}`);
      }
    }
    // The node still serves.
    const c = open(`ws://127.0.0.1:${big.port}/ws?token=${token}`);
    await c.opened;
    assert.ok((await c.next()).welcome);
    c.ws.close();
  } finally {
    await big.stop();
  }
});

// Out of file descriptors, accept fails at once every time: the node backs off and logs one
// line per interval (it once logged 20 a second), and serves again when sockets close.
test('at the open-file limit the node backs off, logs once per interval and recovers', async () => {
  const small = await startNode(['--set', 'server.max_connections_per_ip=0'], { maxFiles: 200 });
  const sockets = [];
  try {
    const opened = [];
    for (let i = 0; i < 400; i++) {
      const s = net.connect(small.port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
      opened.push(new Promise((resolve) => { s.on('connect', resolve); s.on('error', resolve); }));
    }
    await Promise.all(opened);  // the kernel completes handshakes into the backlog
    await sleep(3000);
    const lines = small.log().split('\n').filter((l) => l.includes('accept:'));
    assert.ok(lines.length >= 1 && lines.length <= 2, `accept lines in 3 s: ${lines.length}\n${lines.join('\n')}`);
    assert.match(lines[0], /Too many open files/);
    for (const s of sockets) s.destroy();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await fetch(`${small.base}/healthz`).then((r) => r.status, () => 0);
      if (status !== 200) await sleep(100);
    }
    assert.equal(status, 200);
  } finally {
    for (const s of sockets) s.destroy();
    await small.stop();
  }
});

test('SIGTERM closes WebSockets with 1001 and exits 0', async () => {
  const token = await devToken(node, 'erin');
  const c = open(`ws://127.0.0.1:${node.port}/ws?token=${token}`);
  await c.opened;
  await c.next();
  node.child.kill('SIGTERM');
  const closed = await c.closed;
  assert.equal(closed.code, 1001);
  assert.equal(closed.reason, 'server shutting down');
  const { code } = await node.exited;
  assert.equal(code, 0);
  assert.match(node.log(), /node stopped/);
});
