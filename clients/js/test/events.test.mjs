// The SDK's API and events against a real parleyd: groups and members, receipts, typing,
// presence and feed items, and the subscriptions renewed after a reconnect.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ParleyClient } from '../dist/index.js';
import { startNode, startProxy, devToken, until } from './node.mjs';

let node;
let proxy;
const clients = [];
before(async () => { node = await startNode(); proxy = await startProxy(node.port); });
after(async () => { for (const c of clients) c.close(); await proxy.close(); await node.stop(); });

async function user(id, url = node.wsUrl) {
  const c = new ParleyClient({ url, token: await devToken(node.base, id), WebSocket, backoff: { baseMs: 50, maxMs: 200 } });
  clients.push(c);
  const events = { message: [], receipt: [], typing: [], presence: [], feed: [], group: [], state: [] };
  for (const k of Object.keys(events)) c.on(k, (v) => events[k].push(v));
  await until(() => c.state === 'connected', `${id} connected`);
  return { c, events };
}

test('groups, members, receipts, typing and history through the SDK', async () => {
  const ann = await user('ann');
  const ben = await user('ben');
  const cal = await user('cal');
  const g = await ann.c.createGroup('crew', ['ben']);
  assert.deepEqual(g.admin_ids, ['ann']);
  const added = await ann.c.addMembers(g.conversation_id, ['cal']);
  assert.deepEqual([...added.member_ids].sort(), ['ann', 'ben', 'cal']);
  const ack = await ann.c.send({ conversationId: g.conversation_id, body: 'hello crew' });
  await until(() => ben.events.message.length === 1 && cal.events.message.length === 1, 'both members get it');
  assert.equal(ann.events.message.length, 0, 'the sender is not echoed its own message');
  ben.c.receipt(g.conversation_id, Number(ack.seq), 'READ');
  await until(() => ann.events.receipt.some((r) => r.user_id === 'ben' && r.status === 'READ'), 'ann sees ben read it');
  cal.c.typing(g.conversation_id, true);
  await until(() => ann.events.typing.some((t) => t.user_id === 'cal' && t.active), 'ann sees cal typing');
  const page = await cal.c.history(g.conversation_id, { limit: 10 });
  assert.deepEqual(page.messages.map((m) => m.body), ['hello crew']);
  const removed = await ann.c.removeMembers(g.conversation_id, ['cal']);
  assert.deepEqual([...removed.member_ids].sort(), ['ann', 'ben']);
  const left = await ben.c.leave(g.conversation_id);
  assert.ok(!left.member_ids.includes('ben'));
  const convs = await ann.c.conversations();
  assert.ok(convs.some((c) => c.conversation_id === g.conversation_id && c.kind === 'GROUP'));
});

test('presence and feed subscriptions survive a cut connection', async () => {
  const dee = await user('dee', proxy.wsUrl);
  const eve = await user('eve');
  await eve.c.send({ toUser: 'dee', body: 'contact' });  // contacts see each other's presence
  dee.c.presence(['eve'], true);
  await until(() => dee.events.presence.some((p) => p.user_id === 'eve' && p.online), 'dee sees eve online');
  await dee.c.rest().follow('eve');
  dee.c.feedSubscribe();
  await dee.c.conversations();  // a round trip: the subscription is in place
  await eve.c.rest().createPost('first post');
  await until(() => dee.events.feed.some((f) => f.post.text === 'first post'), 'dee gets the first post live');
  const states = dee.events.state.length;
  proxy.cut();
  await until(() => dee.events.state.slice(states).some((s) => s.state === 'reconnecting'), 'dee notices the cut');
  await until(() => dee.events.state.slice(states).some((s) => s.state === 'connected'), 'dee reconnects');
  await dee.c.conversations();  // renewed subscriptions are written before queued requests
  const before = dee.events.presence.length;
  await eve.c.rest().createPost('second post');
  await until(() => dee.events.feed.some((f) => f.post.text === 'second post'), 'dee gets a post after the reconnect');
  eve.c.close();
  await until(() => dee.events.presence.slice(before).some((p) => p.user_id === 'eve' && !p.online), 'dee sees eve go offline after the reconnect');
});
