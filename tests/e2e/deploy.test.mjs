// deploy/: the production template starts a node as promised (dev tokens off, admin API on its
// own loopback listener with mutations off), PARLEY_<SECTION>__<KEY> variables override like
// --set and a bad one stops the node naming it, and every metric the alert rules and the Grafana
// dashboard use exists on a running node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { startNode, devToken, connectUser, SECRET } from './parleyd.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Runs parleyd with `args` and `env` until it logs `until` (resolves with the log and the child)
// or exits (resolves with its exit code and log).
function run(args, env, until) {
  const child = spawn(process.env.PARLEYD, args, {
    stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env },
  });
  let log = '';
  return new Promise((resolve) => {
    const onData = (chunk) => {
      log += chunk;
      const m = until && log.match(until);
      if (m) resolve({ child, log, match: m });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => resolve({ code, log }));
  });
}

test('the production template: no dev tokens, admin on its own loopback port, reads only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-deploy-'));
  const { child, log, match } = await run(
    ['--config', join(root, 'deploy', 'parley.production.toml'),
      '--set', 'server.listen=127.0.0.1:0', '--set', `storage.data_dir=${dir}`,
      '--set', `ratelimit.rules_file=${join(root, 'configs', 'ratelimits.toml')}`],
    { PARLEY_AUTH__JWT_SECRET: SECRET, PARLEY_ADMIN__LISTEN: '127.0.0.1:0' },
    /admin API on 127\.0\.0\.1:(\d+)[\s\S]*ready on 127\.0\.0\.1:(\d+)/);
  try {
    assert.ok(match, log);
    const [adminPort, port] = [match[1], match[2]];
    assert.notEqual(adminPort, port);
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/dev/token`, { method: 'POST', body: '{}' })).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/admin/v1/commands`)).status, 404);
    const { createHmac } = await import('node:crypto');
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'op', role: 'admin', exp: Math.floor(Date.now() / 1000) + 600 })}`;
    const token = `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
    const call = (name) => fetch(`http://127.0.0.1:${adminPort}/admin/v1/${name}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}` },
    });
    assert.equal((await call('node.status')).status, 200);
    const refused = await call('node.drain');
    assert.equal(refused.status, 403);
    assert.match((await refused.json()).error.message, /admin\.allow_mutations/);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the template without a secret, or a bad PARLEY_ variable, stops with status 2 naming it', async () => {
  const noSecret = await run(['--config', join(root, 'deploy', 'parley.production.toml')], {});
  assert.equal(noSecret.code, 2);
  assert.match(noSecret.log, /auth\.jwt_secret/);
  const bad = await run(['--config', join(root, 'configs', 'node.toml')],
    { PARLEY_WS__MAX_FRAME_BYTES: 'lots' });
  assert.equal(bad.code, 2);
  assert.match(bad.log, /PARLEY_WS__MAX_FRAME_BYTES: ws\.max_frame_bytes/);
});

test('every metric of the alert rules and the dashboard is served or documented', async () => {
  const node = await startNode();
  try {
    const alice = await connectUser(node, 'alice');
    await alice.call({ request_id: '1', ping: {} });
    const token = await devToken(node, 'alice');
    await fetch(`${node.base}/api/v1/tasks`, {
      method: 'POST', headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ task_type: 'report' }),
    });
    // The sampler's first mailbox probe registers parley_mailbox_wait_seconds.
    let metrics = '';
    for (let i = 0; i < 100 && !/parley_mailbox_wait_seconds\{kind="registry"\}/.test(metrics); i++) {
      metrics = await (await fetch(`${node.base}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 50));
    }
    const served = new Set([...metrics.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes',
      'process_virtual_memory_bytes', 'process_open_fds', 'process_max_fds',
      'process_start_time_seconds', 'parley_build_info', 'parley_mailbox_wait_seconds']) {
      assert.ok(served.has(name), `${name} not served`);
    }
    assert.match(metrics, /^parley_build_info\{version="0\.1\.0",commit="[^"]+"\} 1$/m);
    const docs = readFileSync(join(root, 'docs', 'operations.md'), 'utf8');
    const exprs = [];
    for (const g of parse(readFileSync(join(root, 'deploy', 'prometheus-alerts.yml'), 'utf8')).groups)
      for (const r of g.rules) exprs.push(r.expr);
    const dash = JSON.parse(readFileSync(join(root, 'deploy', 'grafana-dashboard.json'), 'utf8'));
    for (const p of dash.panels) for (const t of p.targets) exprs.push(t.expr);
    const used = new Set();
    for (const e of exprs)
      for (const m of String(e).matchAll(/\b((?:parley|process)_[a-z_]+)/g))
        used.add(m[1].replace(/_(bucket|sum|count)$/, ''));
    assert.ok(used.size > 10);
    for (const name of used)
      assert.ok(served.has(name) || docs.includes(`\`${name}`), `${name}: neither served nor in docs/operations.md`);
  } finally {
    await node.stop();
  }
});
