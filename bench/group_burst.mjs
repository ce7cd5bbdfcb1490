// group_burst: memory of a node before, during and after a burst of create_group frames from
// one connection (the "one user grows memory without bound" report), with the per-user group
// limits raised so the burst goes through. Starts its own parleyd (PARLEYD), prints RSS at each
// stage and exits non-zero if the conversation actors never passivate.
//
//   PARLEYD=build/node/parleyd node bench/group_burst.mjs [--groups 285000] [--window 256]
//       [--passivate-sec 5] [--set key=value ...]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startNode, devToken } from '../tests/e2e/parleyd.mjs';

// The `ws` client of the end-to-end tests (make e2e-deps installs it).
const WebSocket = createRequire(new URL('../tests/e2e/package.json', import.meta.url))('ws');

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const groups = Number(opt('--groups', 285000));
const windowSize = Number(opt('--window', 256));
const passivateSec = Number(opt('--passivate-sec', 5));
const extra = [];
for (let i = 0; i < argv.length; i++) if (argv[i] === '--set') extra.push('--set', argv[++i]);

const mib = (bytes) => (bytes / 1048576).toFixed(1);
const rss = (pid) => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) * 1024;
};
const metric = async (node, prefix) => {
  const body = await (await fetch(`${node.base}/metrics`)).text();
  const line = body.split('\n').find((l) => l.startsWith(prefix + ' '));
  return line ? Number(line.slice(prefix.length + 1)) : -1;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const node = await startNode([
  '--set', 'chat.max_groups_created_per_hour=1000000000',
  '--set', 'chat.max_groups_per_user=1000000000',
  '--set', `runtime.idle_passivate_sec=${passivateSec}`,
  ...extra,
]);
const pid = node.child.pid;
try {
  const ws = new WebSocket(`ws://127.0.0.1:${node.port}/ws?token=${await devToken(node, 'burst')}`);
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  const send = (frame) => ws.send(JSON.stringify(frame));
  await sleep(500);
  const before = rss(pid);
  console.log(`before: ${mib(before)} MiB`);

  let sent = 0;
  let answered = 0;
  let errors = 0;
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, rss(pid)); }, 250);
  const start = Date.now();
  await new Promise((resolve) => {
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (!f.request_id || !f.request_id.startsWith('g')) return;
      ++answered;
      if (f.error) ++errors;
      if (answered === groups) resolve();
      else if (sent < groups) {
        send({ request_id: `g${sent}`, create_group: { title: 'burst', member_ids: [] } });
        ++sent;
      }
    });
    for (; sent < Math.min(windowSize, groups); ++sent)
      send({ request_id: `g${sent}`, create_group: { title: 'burst', member_ids: [] } });
  });
  const seconds = (Date.now() - start) / 1000;
  const active = await metric(node, 'parley_actors_active{kind="conv"}');
  clearInterval(sampler);
  const during = rss(pid);
  peak = Math.max(peak, during);
  console.log(`burst: ${groups} create_group in ${seconds.toFixed(1)} s (${errors} errors), ` +
              `${active} conversation actors active, RSS ${mib(during)} MiB, peak ${mib(peak)} MiB ` +
              `(+${mib(peak - before)})`);

  // Wait for every conversation actor to passivate (idle_passivate_sec plus a sweep).
  const deadline = Date.now() + (passivateSec * 4 + 60) * 1000;
  while ((await metric(node, 'parley_actors_active{kind="conv"}')) > 0) {
    if (Date.now() > deadline) throw new Error('conversation actors did not passivate');
    await sleep(200);
  }
  const after = rss(pid);
  console.log(`after passivation: RSS ${mib(after)} MiB (+${mib(after - before)} over before)`);
  // The registry trims again 45 s after a wave (runtime/registry.hpp, trim_followup).
  for (const wait of [20, 60]) {
    await sleep(wait === 20 ? 20000 : 40000);
    const later = rss(pid);
    console.log(`${wait} s later: RSS ${mib(later)} MiB (+${mib(later - before)} over before)`);
  }
  ws.close();
} finally {
  await node.stop();
}
