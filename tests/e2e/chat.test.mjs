// Chat end to end with the npm `ws` client against the parleyd binary: offline catch-up, the
// order of a 1,000-message burst, group delivery, presence on disconnect, and a SIGKILL in the
// middle of a burst losing nothing acknowledged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, connectUser } from './parleyd.mjs';

let node;
before(async () => { node = await startNode(); });
after(async () => { await node.stop(); });

const isMessage = (f) => f.message;

test('messages sent while a user is offline arrive in order on sync', async () => {
  const alice = await connectUser(node, 'alice');
  for (let i = 1; i <= 5; i++) {
    const ack = await alice.call({ request_id: `s${i}`, send: { to_user: 'bob', client_msg_id: `o${i}`, body: `offline ${i}` } });
    assert.equal(Number(ack.ack.seq), i);
  }
  await alice.close();
  const bob = await connectUser(node, 'bob');
  bob.send({ request_id: 'sync', sync: {} });
  for (let i = 1; i <= 5; i++) {
    const m = await bob.next(isMessage);
    assert.equal(Number(m.message.seq), i);
    assert.equal(m.message.body, `offline ${i}`);
  }
  const done = await bob.next((f) => f.sync_done);
  assert.equal(Number(done.sync_done.messages), 5);
  await bob.close();
});

test('a burst of 1,000 messages arrives complete and in seq order', async () => {
  const carol = await connectUser(node, 'carol');
  const dave = await connectUser(node, 'dave');
  for (let i = 1; i <= 1000; i++)
    carol.send({ request_id: `b${i}`, send: { to_user: 'dave', client_msg_id: `burst-${i}`, body: `n${i}` } });
  const seqs = [];
  for (let i = 1; i <= 1000; i++) seqs.push(Number((await dave.next(isMessage)).message.seq));
  assert.deepEqual(seqs, Array.from({ length: 1000 }, (_, i) => i + 1));
  for (let i = 1; i <= 1000; i++) await carol.next((f) => f.request_id === `b${i}` && f.ack);
  await carol.close();
  await dave.close();
});

test('a group message reaches every online member', async () => {
  const users = await Promise.all(['g1', 'g2', 'g3', 'g4'].map((u) => connectUser(node, u)));
  const [owner, ...others] = users;
  const group = await owner.call({ request_id: 'cg', create_group: { title: 'team', member_ids: ['g2', 'g3', 'g4'] } });
  const conv = group.group.conversation_id;
  assert.equal(group.group.member_ids.length, 4);
  await owner.call({ request_id: 'gs', send: { conversation_id: conv, client_msg_id: 'hello', body: 'hello team' } });
  for (const u of others) assert.equal((await u.next(isMessage)).message.body, 'hello team');
  await Promise.all(users.map((u) => u.close()));
});

test('only group admins add members; a member added later starts at its join', async () => {
  const [owner, member, late] = await Promise.all(['a1', 'a2', 'a3'].map((u) => connectUser(node, u)));
  const group = await owner.call({ request_id: 'cg', create_group: { title: 'admins', member_ids: ['a2'] } });
  const conv = group.group.conversation_id;
  assert.deepEqual(group.group.admin_ids, ['a1']);
  const denied = await member.call({ request_id: 'add', add_members: { conversation_id: conv, user_ids: ['a3'] } });
  assert.equal(denied.error.code, 'forbidden');
  await owner.call({ request_id: 's1', send: { conversation_id: conv, client_msg_id: 'before', body: 'before a3' } });
  const added = await owner.call({ request_id: 'add', add_members: { conversation_id: conv, user_ids: ['a3'] } });
  assert.deepEqual(added.group.member_ids, ['a1', 'a2', 'a3']);
  await owner.call({ request_id: 's2', send: { conversation_id: conv, client_msg_id: 'after', body: 'after a3' } });
  const first = await late.next(isMessage);
  assert.equal(first.message.body, 'after a3');
  assert.equal(Number(first.message.seq), 2);
  const page = await late.call({ request_id: 'h', history: { conversation_id: conv } });
  assert.deepEqual(page.history_page.messages.map((m) => m.body), ['after a3']);
  await Promise.all([owner, member, late].map((u) => u.close()));
});

test('presence goes offline when the last connection closes', async () => {
  const watcher = await connectUser(node, 'watcher');
  const erin = await connectUser(node, 'erin');
  // Presence is visible to contacts only (presence.visibility = "contacts" by default).
  await watcher.call({ request_id: 'dm', send: { to_user: 'erin', client_msg_id: 'hi', body: 'hi' } });
  const now = await watcher.call({ request_id: 'p', presence: { user_ids: ['erin'], subscribe: true } });
  assert.equal(now.presence_update.online, true);
  await erin.close();
  const gone = await watcher.next((f) => f.presence_update && f.presence_update.user_id === 'erin');
  assert.equal(gone.presence_update.online, false);
  assert.ok(gone.presence_update.last_seen);
  await watcher.close();
});

test('presence of a user who shares no conversation is hidden', async () => {
  const stranger = await connectUser(node, 'stranger');
  const frank = await connectUser(node, 'frank');
  const p = await stranger.call({ request_id: 'p', presence: { user_ids: ['frank'], subscribe: true } });
  assert.equal(p.presence_update.user_id, 'frank');
  assert.equal(p.presence_update.online, false);
  assert.equal(p.presence_update.last_seen, undefined);
  await Promise.all([stranger.close(), frank.close()]);
});

test('SIGKILL mid-burst loses no acknowledged message; seq continues and dedup holds', async () => {
  const first = await startNode(['--set', 'storage.sync=batch']);
  const dataDir = first.dataDir;
  const acked = new Map(); // client_msg_id -> seq
  try {
    const sender = await connectUser(first, 'kilo');
    sender.ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.ack) acked.set(f.ack.client_msg_id, Number(f.ack.seq));
    });
    for (let i = 1; i <= 3000; i++)
      sender.send({ request_id: `k${i}`, send: { to_user: 'lima', client_msg_id: `k${i}`, body: `burst ${i}` } });
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    await first.exited;
  } catch (e) {
    await first.stop();
    throw e;
  }
  const second = await startNode(['--set', 'storage.sync=batch'], { dataDir });
  try {
    const sender = await connectUser(second, 'kilo');
    // Every acknowledged message is in history, with the seq its ack named.
    const stored = new Map();
    let before = 0;
    for (;;) {
      const page = await sender.call({ request_id: `h${before}`, history: { conversation_id: 'd:kilo:lima', before_seq: before, limit: 100 } });
      for (const m of page.history_page.messages) stored.set(m.client_msg_id, Number(m.seq));
      if (!page.history_page.has_more) break;
      before = Number(page.history_page.messages.at(-1).seq);
    }
    for (const [cmid, seq] of acked) assert.equal(stored.get(cmid), seq, `acked ${cmid} lost`);
    // Seqs are gapless 1..N and the next send continues after N.
    const seqs = [...stored.values()].sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
    const next = await sender.call({ request_id: 'next', send: { to_user: 'lima', client_msg_id: 'after-crash', body: 'x' } });
    assert.equal(Number(next.ack.seq), seqs.length + 1);
    // Resending an acknowledged client_msg_id answers its original seq.
    const [cmid, seq] = [...acked][0];
    const again = await sender.call({ request_id: 'again', send: { to_user: 'lima', client_msg_id: cmid, body: 'dup' } });
    assert.equal(Number(again.ack.seq), seq);
    await sender.close();
  } finally {
    await second.stop();
    const { rmSync } = await import('node:fs');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
