// Starts a real parleyd on a free loopback port with a temporary data directory, for
// end-to-end tests; resolves once the node logs that it is ready.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SECRET = 'e2e-test-secret-0123456789abcdef';

export async function startNode(extraArgs = []) {
  const binary = process.env.PARLEYD;
  if (!binary) throw new Error('set PARLEYD to the parleyd binary (ctest does)');
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
  const args = [
    '--listen', '127.0.0.1:0', '--data-dir', dataDir,
    '--set', `auth.jwt_secret=${SECRET}`, '--set', 'auth.dev_tokens=true',
    '--set', 'storage.sync=none', ...extraArgs,
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function devToken(node, userId) {
  const res = await fetch(`${node.base}/api/v1/dev/token`, {
    method: 'POST',
    body: JSON.stringify({ user_id: userId }),
  });
  if (res.status !== 200) throw new Error(`dev token: ${res.status}`);
  return (await res.json()).token;
}
