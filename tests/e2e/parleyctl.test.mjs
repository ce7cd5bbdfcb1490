// End-to-end tests of tools/parleyctl against a real parleyd: the command list, tables and
// JSON, arguments, confirmations, the environment, and every exit status it promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, devToken, connectUser } from './parleyd.mjs';

// Runs parleyctl with `args`, `input` on stdin; resolves with its exit status and output.
function parleyctl(args, { env = {}, input = '' } = {}) {
  const binary = process.env.PARLEYCTL;
  if (!binary) throw new Error('set PARLEYCTL to the parleyctl binary (ctest does)');
  return new Promise((resolve) => {
    const child = spawn(binary, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    // A parleyctl that exits before reading its input closes the pipe: not a test failure.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

async function withNode(fn, extraArgs = []) {
  const node = await startNode(extraArgs);
  const dir = mkdtempSync(join(tmpdir(), 'parleyctl-'));
  try {
    const tokenFile = (role, user = 'op') => devToken(node, user, role).then((t) => {
      const file = join(dir, `${user}-${role ?? 'none'}.jwt`);
      writeFileSync(file, `${t}\n`);
      return file;
    });
    await fn(node, tokenFile, dir);
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('help lists the node\'s commands; reads print JSON when piped and tables when asked', async () => {
  await withNode(async (node, tokenFile) => {
    const viewer = await tokenFile('viewer');
    const base = ['--node', node.base, '--token-file', viewer];
    const help = await parleyctl([...base, 'help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /sessions kick/);
    assert.match(help.stdout, /tasks dead requeue <id>/);

    const status = await parleyctl([...base, 'node', 'status']);
    assert.equal(status.code, 0, status.stderr);
    const reply = JSON.parse(status.stdout);
    assert.equal(reply.command, 'node.status');
    assert.equal(reply.answers[0].data.version, '0.1.0');
    assert.equal(status.stderr, '');

    const table = await parleyctl([...base, '-o', 'table', 'node', 'top', '--limit', '2']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^KIND\s+ID\s+/m);
    assert.match(table.stdout, /task_shard/);

    const none = await parleyctl(base);
    assert.equal(none.code, 2);
    assert.equal(none.stdout, '');
  });
});

test('usage errors exit 2, unknown nodes 3, missing or weak tokens 4, failed commands 1', async () => {
  await withNode(async (node, tokenFile) => {
    const admin = await tokenFile('admin');
    const base = ['--node', node.base, '--token-file', admin];
    let r = await parleyctl([...base, 'node', 'explode']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "node explode"/);
    r = await parleyctl([...base, 'users', 'where']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs user/);
    r = await parleyctl([...base, 'node', 'top', '--colour', 'red']);
    assert.equal(r.code, 2);
    r = await parleyctl([...base, 'node', 'top', '--limit', 'ten']);
    assert.equal(r.code, 2, 'the node refuses it: 400');
    assert.match(r.stderr, /bad_request/);
    r = await parleyctl([...base, 'sessions', 'kick', 'no-such-session', '--yes']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not_found/);
    assert.equal(r.stdout, '');

    r = await parleyctl(['--node', 'http://127.0.0.1:1', '--token-file', admin, 'node', 'status']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /unreachable/);

    r = await parleyctl(['--node', node.base, 'node', 'status']);
    assert.equal(r.code, 4, 'no token');
    const user = await tokenFile(undefined, 'carol');
    r = await parleyctl(['--node', node.base, '--token-file', user, 'node', 'status']);
    assert.equal(r.code, 4);
    const viewer = await tokenFile('viewer');
    r = await parleyctl(['--node', node.base, '--token-file', viewer, 'node', 'drain', '--yes']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /admin role/);
  });
});

test('PARLEY_NODE and PARLEY_TOKEN stand in for the flags', async () => {
  await withNode(async (node) => {
    const token = await devToken(node, 'op', 'viewer');
    const r = await parleyctl(['cluster', 'members'],
      { env: { PARLEY_NODE: node.base, PARLEY_TOKEN: token } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).answers[0].data.members.length, 1);
  });
});

test('a destructive command shows a count and asks; no means nothing happens, --yes skips', async () => {
  await withNode(async (node, tokenFile) => {
    const admin = await tokenFile('admin');
    const base = ['--node', node.base, '--token-file', admin];
    const alice = await connectUser(node, 'alice');
    // The session is in the routing table once sessions list shows it.
    for (let i = 0; ; i++) {
      const list = await parleyctl([...base, 'sessions', 'list', '--user', 'alice']);
      if (JSON.parse(list.stdout).answers[0].data.count === 1) break;
      assert.ok(i < 200, 'session never listed');
      await new Promise((r) => setTimeout(r, 20));
    }
    let r = await parleyctl([...base, 'sessions', 'kick', '--user', 'alice'], { input: 'n\n' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /close 1 session\(s\) of user alice\. Continue\?/);
    assert.match(r.stderr, /not confirmed/);

    r = await parleyctl([...base, 'sessions', 'kick', '--user', 'alice'], { input: 'y\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).answers[0].data.kicked, 1);
    assert.equal(await alice.closed, 4000);

    r = await parleyctl([...base, 'users', 'ban', 'mallory', '--yes', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    r = await parleyctl([...base, 'users', 'banned', '-o', 'table']);
    assert.match(r.stdout, /mallory/);
    r = await parleyctl([...base, 'users', 'unban', 'mallory']);
    assert.equal(r.code, 0, r.stderr);
  });
});
