// End-to-end tests of the task scheduler with the real binaries: tools/parley-worker running
// real shell commands against parleyd, and a SIGKILL of parleyd with tasks PENDING, RUNNING and
// RETRYING, after which every task meets the fate the documentation promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, devToken } from './parleyd.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function api(node, token) {
  return async (method, path, body) => {
    const res = await fetch(`${node.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

async function waitFor(call, id, pred, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const { body } = await call('GET', `/api/v1/tasks/${id}`);
    if (pred(body)) return body;
    if (Date.now() > deadline) throw new Error(`task ${id} stuck: ${JSON.stringify(body)}`);
    await sleep(50);
  }
}

function startWorker(node, token, args) {
  const binary = process.env.PARLEY_WORKER;
  if (!binary) throw new Error('set PARLEY_WORKER to the parley-worker binary (ctest does)');
  const child = spawn(binary, ['--url', node.base, '--token', token, '--wait-ms', '1000', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (c) => { log += c; });
  child.stderr.on('data', (c) => { log += c; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, log: () => log };
}

test('parley-worker runs a real command per task: stdin is the payload, exit status decides', async () => {
  const node = await startNode();
  const dir = mkdtempSync(join(tmpdir(), 'parley-worker-'));
  const token = await devToken(node, 'ops');
  const call = api(node, token);
  const worker = startWorker(node, token, [
    '--type', 'shell', '--concurrency', '2', '--lease-sec', '3',
    '--command', `cat > "${dir}/$PARLEY_TASK_ID.json"; ` +
      'if grep -q boom "' + dir + '/$PARLEY_TASK_ID.json"; then echo "it went boom" >&2; exit 3; fi; ' +
      'sleep 1.5; echo \'{"ok":true,"attempt":\'"$PARLEY_ATTEMPT"\'}\'',
  ]);
  try {
    const good = (await call('POST', '/api/v1/tasks', { task_type: 'shell', payload: { n: 21 } })).body;
    const bad = (await call('POST', '/api/v1/tasks', {
      task_type: 'shell', payload: { boom: true },
      retry_policy: { max_retries: 1, backoff: 'fixed', initial_delay_sec: 0 },
    })).body;
    const done = await waitFor(call, good.id, (t) => t.status === 'COMPLETED');
    assert.deepEqual(done.result, { ok: true, attempt: 1 });
    assert.deepEqual(JSON.parse(readFileSync(join(dir, `${good.id}.json`), 'utf8')), { n: 21 });
    const dead = await waitFor(call, bad.id, (t) => t.status === 'DEAD');
    assert.equal(dead.attempt, 2);
    assert.match(dead.last_error, /exit status 3: it went boom/);
    // The command ran 1.5 s on a 3 s lease: heartbeats kept it, no attempt was lost.
    const runs = (await call('GET', `/api/v1/tasks/${good.id}/runs`)).body.runs;
    assert.equal(runs.length, 1);
    assert.equal(runs[0].outcome, 'completed');
  } finally {
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.log());
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parley-worker with a user token runs that user\'s tasks only; with a worker token anyone\'s', async () => {
  const node = await startNode();
  const alice = api(node, await devToken(node, 'alice'));
  const bobToken = await devToken(node, 'bob');
  const bob = api(node, bobToken);
  const command = ['--type', 'owned', '--command', 'echo \'{"by":"\'"$PARLEY_WORKER_ID"\'"}\''];
  const bobs = startWorker(node, bobToken, ['--worker-id', 'bobs', ...command]);
  let service;
  try {
    // Alice's tasks come first, so a worker that could lease them would take them first.
    const a1 = (await alice('POST', '/api/v1/tasks', { task_type: 'owned' })).body;
    const a2 = (await alice('POST', '/api/v1/tasks', { task_type: 'owned' })).body;
    const b1 = (await bob('POST', '/api/v1/tasks', { task_type: 'owned' })).body;
    const done = await waitFor(bob, b1.id, (t) => t.status === 'COMPLETED');
    assert.deepEqual(done.result, { by: 'bobs' });
    for (const t of [a1, a2]) {
      assert.equal((await alice('GET', `/api/v1/tasks/${t.id}`)).body.status, 'SCHEDULED');
      assert.equal((await bob('GET', `/api/v1/tasks/${t.id}`)).status, 404);
    }
    service = startWorker(node, await devToken(node, 'svc', 'worker'), ['--worker-id', 'svc', ...command]);
    for (const t of [a1, a2]) {
      const finished = await waitFor(alice, t.id, (x) => x.status === 'COMPLETED');
      assert.deepEqual(finished.result, { by: 'svc' });
    }
  } finally {
    bobs.child.kill('SIGTERM');
    assert.equal(await bobs.exited, 0, bobs.log());
    if (service) {
      service.child.kill('SIGTERM');
      assert.equal(await service.exited, 0, service.log());
    }
    await node.stop();
  }
});

test('parley-worker stops a command whose task is cancelled', async () => {
  const node = await startNode();
  const token = await devToken(node, 'ops');
  const call = api(node, token);
  const worker = startWorker(node, token, [
    '--type', 'long', '--lease-sec', '3', '--kill-grace-sec', '1', '--command', 'sleep 30',
  ]);
  try {
    const t = (await call('POST', '/api/v1/tasks', { task_type: 'long' })).body;
    await waitFor(call, t.id, (x) => x.status === 'RUNNING');
    assert.equal((await call('DELETE', `/api/v1/tasks/${t.id}`)).status, 200);
    // The worker learns it on its next heartbeat (every second) and kills the command.
    const deadline = Date.now() + 8000;
    while (!/cancel/i.test(worker.log()) && Date.now() < deadline) await sleep(100);
    assert.match(worker.log(), /cancel/i);
    assert.equal((await call('GET', `/api/v1/tasks/${t.id}`)).body.status, 'CANCELLED');
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
    await node.stop();
  }
});

test('SIGKILL with tasks PENDING, RUNNING and RETRYING: after restart each meets its fate', async () => {
  const first = await startNode(['--set', 'storage.sync=batch', '--set', 'tasks.http_workers=0', '--set', 'tasks.push_workers=0']);
  const dataDir = first.dataDir;
  let ids;
  let zombieLease;
  try {
    const token = await devToken(first, 'ops');
    const call = api(first, token);
    const create = async (body) => (await call('POST', '/api/v1/tasks', body)).body;
    const soon = new Date(Date.now() + 1500).toISOString();
    const later = new Date(Date.now() + 3600 * 1000).toISOString();
    ids = {
      pendingSoon: (await create({ task_type: 'k', schedule: { type: 'delayed', run_at: soon } })).id,
      pendingLater: (await create({ task_type: 'k', schedule: { type: 'delayed', run_at: later } })).id,
      scheduled: (await create({ task_type: 'k', priority: 9, idempotency_key: 'once' })).id,
      running: (await create({ task_type: 'r', retry_policy: { backoff: 'fixed', initial_delay_sec: 0 } })).id,
      retrying: (await create({ task_type: 'f', retry_policy: { backoff: 'fixed', initial_delay_sec: 1 } })).id,
      completed: (await create({ task_type: 'c' })).id,
      cancelled: (await create({ task_type: 'x' })).id,
    };
    const lease = async (type, leaseSec = 30) => (await call('POST', '/api/v1/leases',
      { worker_id: 'w', task_types: [type], lease_sec: leaseSec })).body.leases[0];
    zombieLease = await lease('r', 1);
    const f = await lease('f');
    assert.equal((await call('POST', `/api/v1/leases/${f.lease_id}/fail`, { error: 'first' })).body.status, 'RETRYING');
    const c = await lease('c');
    assert.equal((await call('POST', `/api/v1/leases/${c.lease_id}/complete`, { result: 7 })).status, 200);
    assert.equal((await call('DELETE', `/api/v1/tasks/${ids.cancelled}`)).status, 200);
    first.child.kill('SIGKILL');
    await first.exited;
  } catch (e) {
    await first.stop();
    throw e;
  }
  await sleep(1600); // the zombie's lease and the delayed task's run_at pass while the node is down
  const second = await startNode(['--set', 'tasks.http_workers=0', '--set', 'tasks.push_workers=0'], { dataDir });
  try {
    const token = await devToken(second, 'ops');
    const call = api(second, token);
    const status = async (id) => (await call('GET', `/api/v1/tasks/${id}`)).body;
    assert.equal((await status(ids.completed)).status, 'COMPLETED');
    assert.equal((await status(ids.completed)).result, 7);
    assert.equal((await status(ids.cancelled)).status, 'CANCELLED');
    assert.equal((await status(ids.pendingLater)).status, 'PENDING');
    // The lease that could not have survived is a failed attempt; its worker is fenced off.
    const zombie = await waitFor(call, ids.running, (t) => t.status !== 'RUNNING');
    assert.equal(zombie.last_error, 'lease expired');
    assert.equal((await call('POST', `/api/v1/leases/${zombieLease.lease_id}/complete`, {})).status, 409);
    // Everything due comes back to workers, best first; nothing acknowledged was lost.
    const got = (await call('POST', '/api/v1/leases',
      { worker_id: 'w2', task_types: ['k', 'r', 'f'], max_tasks: 10, wait_ms: 5000 })).body.leases;
    let leased = got.map((l) => l.task_id);
    const deadline = Date.now() + 5000;
    while (leased.length < 4 && Date.now() < deadline) {
      const more = (await call('POST', '/api/v1/leases',
        { worker_id: 'w2', task_types: ['k', 'r', 'f'], max_tasks: 10, wait_ms: 1000 })).body.leases;
      leased = leased.concat(more.map((l) => l.task_id));
    }
    assert.equal(leased[0], ids.scheduled);
    assert.deepEqual(new Set(leased), new Set([ids.scheduled, ids.pendingSoon, ids.running, ids.retrying]));
    assert.equal((await status(ids.retrying)).attempt, 2);
    // The idempotency key still names the same task.
    const again = await call('POST', '/api/v1/tasks', { task_type: 'k', idempotency_key: 'once' });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, ids.scheduled);
  } finally {
    await second.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a cron firing missed while the node was down runs once on recovery, then the schedule goes on', async () => {
  const first = await startNode(['--set', 'storage.sync=batch', '--set', 'tasks.http_workers=0', '--set', 'tasks.push_workers=0']);
  const dataDir = first.dataDir;
  let task;
  try {
    const call = api(first, await devToken(first, 'ops'));
    task = (await call('POST', '/api/v1/tasks',
      { task_type: 'cronjob', schedule: { type: 'cron', cron: '* * * * *' } })).body;
    assert.equal(task.status, 'PENDING');
    first.child.kill('SIGKILL');
    await first.exited;
  } catch (e) {
    await first.stop();
    throw e;
  }
  const due = Date.parse(task.next_run_at);
  await sleep(Math.max(0, due - Date.now()) + 500); // the firing passes while the node is down
  const second = await startNode(['--set', 'tasks.http_workers=0', '--set', 'tasks.push_workers=0'], { dataDir });
  try {
    const call = api(second, await devToken(second, 'ops'));
    const leases = (await call('POST', '/api/v1/leases',
      { worker_id: 'w', task_types: ['cronjob'], max_tasks: 5, wait_ms: 5000 })).body.leases;
    assert.equal(leases.length, 1);
    const out = (await call('POST', `/api/v1/leases/${leases[0].lease_id}/complete`, {})).body;
    assert.equal(out.status, 'PENDING');
    const next = Date.parse(out.next_run_at);
    assert.ok(next > Date.now(), 'the schedule continues from now');
    assert.equal(next % 60000, 0);
    const runs = (await call('GET', `/api/v1/tasks/${task.id}/runs`)).body.runs;
    assert.equal(runs.length, 1);
    assert.equal(Date.parse(runs[0].scheduled_for), due);
    // Nothing else is due: the missed firing ran once (unless the next minute is upon us).
    if (next - Date.now() > 1000) {
      const more = (await call('POST', '/api/v1/leases',
        { worker_id: 'w', task_types: ['cronjob'], max_tasks: 5, wait_ms: 300 })).body.leases;
      assert.equal(more.length, 0);
    }
  } finally {
    await second.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
