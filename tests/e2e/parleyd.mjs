// Starts a real parleyd on a free loopback port with a temporary data directory, for
// end-to-end tests; resolves once the node logs that it is ready.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SECRET = 'e2e-test-secret-0123456789abcdef';

// options.dataDir: reuse a data directory (a restart); it is then kept on stop().
// options.port: listen on this port (a restart where clients reconnect) instead of a free one.
export async function startNode(extraArgs = [], options = {}) {
  const binary = process.env.PARLEYD;
  if (!binary) throw new Error('set PARLEYD to the parleyd binary (ctest does)');
  const ownDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'parley-e2e-'));
  const args = [
    '--listen', `127.0.0.1:${options.port ?? 0}`, '--data-dir', dataDir,
    '--set', `auth.jwt_secret=${SECRET}`, '--set', 'auth.dev_tokens=true',
    '--set', 'storage.sync=none', ...extraArgs,
  ];
  // options.maxFiles runs the node under that open-file limit (ulimit -n), for fd exhaustion.
  const child = options.maxFiles
    ? spawn('sh', ['-c', `ulimit -n ${options.maxFiles} && exec "$0" "$@"`, binary, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`parleyd did not start:\n${log}`)), 10000);
    const onData = (chunk) => {
      log += chunk.toString();
      const m = log.match(/ready on 127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then(({ code }) => reject(new Error(`parleyd exited with ${code}:\n${log}`)));
  });
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    child,
    exited,
    dataDir,
    log: () => log,
    // SIGKILL, keeping the data directory (for a restart on it).
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function devToken(node, userId, role) {
  const res = await fetch(`${node.base}/api/v1/dev/token`, {
    method: 'POST',
    body: JSON.stringify(role ? { user_id: userId, role } : { user_id: userId }),
  });
  if (res.status !== 200) throw new Error(`dev token: ${res.status}`);
  return (await res.json()).token;
}

// A WebSocket client for tests: frames are parsed JSON; `next(pred)` waits for the next frame
// matching pred (earlier non-matching frames are kept for later calls).
import WebSocket from 'ws';

export async function connectUser(node, userId) {
  const token = await devToken(node, userId);
  const ws = new WebSocket(`ws://127.0.0.1:${node.port}/ws?token=${token}`);
  const stash = [];
  const waiters = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    for (let i = 0; i < waiters.length; i++) {
      if (waiters[i].pred(frame)) {
        const [w] = waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve(frame);
        return;
      }
    }
    stash.push(frame);
  });
  const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  const client = {
    ws,
    closed,
    send: (frame) => ws.send(JSON.stringify(frame)),
    next(pred, timeoutMs = 10000) {
      const i = stash.findIndex(pred);
      if (i >= 0) return Promise.resolve(stash.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${userId}: no matching frame in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ pred, resolve, timer });
      });
    },
    async call(frame) {
      this.send(frame);
      return this.next((f) => f.request_id === frame.request_id);
    },
    close() { ws.close(1000); return closed; },
  };
  await client.next((f) => f.welcome);
  return client;
}
