// A real parleyd for the SDK tests: a chosen loopback port (so a restart on the same data dir
// comes back where clients reconnect), a dev-token helper, and a TCP proxy that can cut
// connections.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SECRET = 'sdk-test-secret-0123456789abcdef';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

// Starts parleyd on 127.0.0.1:port with dataDir; resolves once it logs that it is ready.
export async function startNode({ port, dataDir, args = [] } = {}) {
  const binary = process.env.PARLEYD;
  if (!binary) throw new Error('set PARLEYD to the parleyd binary (ctest does)');
  port ??= await freePort();
  dataDir ??= mkdtempSync(join(tmpdir(), 'parley-sdk-'));
  const child = spawn(binary, [
    '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir,
    '--set', `auth.jwt_secret=${SECRET}`, '--set', 'auth.dev_tokens=true',
    '--set', 'storage.sync=none', ...args,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`parleyd did not start:\n${log}`)), 15000);
    const onData = (chunk) => {
      log += chunk.toString();
      if (/ready on 127\.0\.0\.1:\d+/.test(log)) { clearTimeout(timer); resolve(); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`parleyd exited with ${code}:\n${log}`)); });
  });
  return {
    port, dataDir, child, exited,
    base: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    log: () => log,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() { await this.kill(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

export async function devToken(base, userId) {
  const res = await fetch(`${base}/api/v1/dev/token`, { method: 'POST', body: JSON.stringify({ user_id: userId }) });
  if (res.status !== 200) throw new Error(`dev token: ${res.status}`);
  return (await res.json()).token;
}

// A TCP proxy to targetPort. cut() destroys every connection through it (both sides see a
// reset, as when a phone changes networks); blackhole(true) keeps them open but forwards
// nothing (a silent dead link that only a heartbeat notices).
export async function startProxy(targetPort) {
  const pairs = new Set();
  let holes = false;
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on('data', (d) => { if (!holes) upstream.write(d); });
    upstream.on('data', (d) => { if (!holes) client.write(d); });
    client.on('error', drop); upstream.on('error', drop);
    client.on('close', drop); upstream.on('close', drop);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    get connections() { return pairs.size; },
    cut() { for (const { client, upstream } of [...pairs]) { client.resetAndDestroy?.() ?? client.destroy(); upstream.destroy(); } pairs.clear(); },
    blackhole(on) { holes = on; },
    close() { this.cut(); return new Promise((resolve) => server.close(resolve)); },
  };
}

// Resolves when cond() holds, checking on every event of the emitter-like `on` and every 20 ms.
export async function until(cond, what, timeoutMs = 30000) {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
