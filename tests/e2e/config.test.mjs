// parleyd as an operator runs it: bad configuration exits 2 with one line naming the key;
// SIGHUP reloads the config file (a bad file keeps the running config).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, SECRET } from './parleyd.mjs';

const binary = process.env.PARLEYD;

function run(args) {
  return spawnSync(binary, args, { encoding: 'utf8', timeout: 10000 });
}

test('an unknown key, a wrong type or an out-of-range value exits 2 naming the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cfg-'));
  try {
    const file = join(dir, 'node.toml');
    writeFileSync(file, '[ws]\nmax_frame_bytez = 5\n');
    let r = run(['--config', file]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), 'parleyd: config: ws.max_frame_bytez: unknown key');

    r = run(['--set', 'ws.idle_timeout_sec="soon"']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /ws\.idle_timeout_sec: expected an integer/);

    r = run(['--set', 'server.io_threads=1000']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /server\.io_threads: out of range/);

    r = run(['--set', 'presence.visibility=friends']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /presence\.visibility: invalid value "friends" \(allowed: contacts, all\)/);

    r = run(['--listen', 'nowhere']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /server\.listen/);

    r = run([]); // no secret
    assert.equal(r.status, 2);
    assert.match(r.stderr, /auth\.jwt_secret/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--version and --help answer without starting a node', () => {
  const v = run(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /parleyd \d+\.\d+\.\d+/);
  const h = run(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--set/);
});

test('SIGHUP reloads the config file; a broken file keeps the running config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cfg-'));
  const file = join(dir, 'node.toml');
  writeFileSync(file, `[auth]\njwt_secret = "${SECRET}"\n[log]\nlevel = "info"\n`);
  const node = await startNode(['--config', file]);
  try {
    const waitFor = async (re) => {
      for (let i = 0; i < 50; i++) {
        if (re.test(node.log())) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`log never matched ${re}:\n${node.log()}`);
    };
    writeFileSync(file, `[auth]\njwt_secret = "${SECRET}"\n[log]\nlevel = "debug"\n`);
    node.child.kill('SIGHUP');
    await waitFor(/reload: applied log\.level/);

    writeFileSync(file, '[log]\nlevel = "loud"\n');
    node.child.kill('SIGHUP');
    await waitFor(/config not reloaded: log\.level: invalid value/);
    const res = await fetch(`${node.base}/healthz`);
    assert.equal(res.status, 200);
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
