// docs/api/openapi.yaml: the document validates as OpenAPI 3.1, names every route the node
// registers, and real responses of a running node (status codes and bodies of the main paths)
// match it, checked with ajv. docs/api/asyncapi.yaml: valid AsyncAPI 3.0, one message per frame
// kind of proto/parley.proto, and every kind of server frame a real node sends matches it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import asyncapiSpecs from '@asyncapi/specs';
import { startNode, devToken, connectUser } from './parleyd.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const specPath = join(root, 'docs', 'api', 'openapi.yaml');
const spec = parse(readFileSync(specPath, 'utf8'));

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'spec', components: spec.components });

function resolve(obj) {
  while (obj && obj.$ref) obj = obj.$ref.replace(/^#\//, '').split('/').reduce((o, k) => o[k], spec);
  return obj;
}

// Checks one real response against the operation `method template` of the document.
async function check(res, method, template) {
  const op = spec.paths[template]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${template} is not in openapi.yaml`);
  const documented = resolve(op.responses[String(res.status)]);
  const text = await res.text();
  assert.ok(documented, `${method} ${template} answered ${res.status}, not documented (${text})`);
  const media = documented.content?.['application/json'];
  if (!media) return text;
  const body = JSON.parse(text);
  const ref = media.schema.$ref;
  const validate = ajv.getSchema(`spec${ref}`);
  assert.ok(validate, `no schema ${ref}`);
  assert.ok(validate(body), `${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}\n${text}`);
  return body;
}

test('openapi.yaml is a valid OpenAPI 3.1 document', async () => {
  const validator = new Validator();
  const result = await validator.validate(specPath);
  assert.equal(validator.version, '3.1');
  assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
});

test('openapi.yaml documents every route the node registers, and no other', () => {
  const routes = new Set();
  for (const dir of ['net', 'node']) {
    for (const file of readdirSync(join(root, dir)).filter((f) => f.endsWith('.cpp'))) {
      const src = readFileSync(join(root, dir, file), 'utf8');
      for (const m of src.matchAll(/\b(?:add|route)\("(GET|POST|PUT|PATCH|DELETE)",\s*"(\/[^"]*)"/g)) routes.add(`${m[1]} ${m[2]}`);
    }
  }
  // The web client's and the operator page's files and the WebSocket upgrade are not REST
  // (asyncapi.yaml has /ws).
  for (const r of ['GET /', 'GET /static/{file}', 'GET /admin', 'GET /admin/{file}', 'GET /ws']) routes.delete(r);
  routes.add('GET /{key}');  // the redirect is the router's fallback, not a registered route
  const documented = new Set();
  for (const [path, item] of Object.entries(spec.paths))
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) if (item[method]) documented.add(`${method.toUpperCase()} ${path}`);
  assert.ok(routes.size > 30, `only ${routes.size} routes found in the sources`);
  assert.deepEqual([...documented].sort(), [...routes].sort());
});

let node;
before(async () => { node = await startNode(); });
after(async () => { await node.stop(); });

test('real responses of the main paths match openapi.yaml', async () => {
  const base = node.base;
  const alice = await devToken(node, 'alice');
  const bob = await devToken(node, 'bob');
  const admin = await devToken(node, 'root', 'admin');
  const call = (token, method, path, body) => fetch(base + path, {
    method, redirect: 'manual',
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  await check(await call(null, 'GET', '/healthz'), 'GET', '/healthz');
  await check(await call(null, 'GET', '/readyz'), 'GET', '/readyz');
  await check(await call(null, 'POST', '/api/v1/dev/token', { user_id: 'carol' }), 'POST', '/api/v1/dev/token');
  await check(await call(null, 'POST', '/api/v1/dev/token', {}), 'POST', '/api/v1/dev/token');

  // links
  const link = await check(await call(alice, 'POST', '/api/v1/urls', { long_url: 'https://example.com/a', ttl: 3600 }), 'POST', '/api/v1/urls');
  assert.equal(link.long_url, 'https://example.com/a');
  const bad = await call(alice, 'POST', '/api/v1/urls', { long_url: 'not a url' });
  assert.equal(bad.status, 400);
  await check(bad, 'POST', '/api/v1/urls');
  await check(await call(alice, 'POST', '/api/v1/urls', { long_url: 'https://example.com/b', custom_alias: 'taken-one' }), 'POST', '/api/v1/urls');
  const taken = await call(bob, 'POST', '/api/v1/urls', { long_url: 'https://example.com/c', custom_alias: 'taken-one' });
  assert.equal(taken.status, 409);
  await check(taken, 'POST', '/api/v1/urls');
  assert.equal((await call(null, 'POST', '/api/v1/urls', { long_url: 'https://example.com/d' })).status, 401);
  await check(await call(alice, 'GET', `/api/v1/urls/${link.key}`), 'GET', '/api/v1/urls/{key}');
  const redirect = await call(null, 'GET', `/${link.key}`);
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get('location'), 'https://example.com/a');
  await check(redirect, 'GET', '/{key}');
  await check(await call(null, 'GET', '/nosuch1'), 'GET', '/{key}');
  await check(await call(alice, 'GET', `/api/v1/urls/${link.key}/stats`), 'GET', '/api/v1/urls/{key}/stats');
  const forbidden = await call(bob, 'DELETE', `/api/v1/urls/${link.key}`);
  assert.equal(forbidden.status, 403);
  await check(forbidden, 'DELETE', '/api/v1/urls/{key}');
  await check(await call(alice, 'DELETE', `/api/v1/urls/${link.key}`), 'DELETE', '/api/v1/urls/{key}');
  await check(await call(alice, 'GET', '/api/v1/urls/nosuch1'), 'GET', '/api/v1/urls/{key}');
  const wrong = await call(alice, 'PUT', '/api/v1/urls');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'POST');
  const v = ajv.getSchema('spec#/components/schemas/ErrorBody');
  assert.ok(v(await wrong.json()), ajv.errorsText(v.errors));

  // admin console
  const viewer = await devToken(node, 'watcher', 'viewer');
  await check(await call(viewer, 'GET', '/admin/v1/commands'), 'GET', '/admin/v1/commands');
  await check(await call(alice, 'GET', '/admin/v1/commands'), 'GET', '/admin/v1/commands');
  const status = await check(await call(viewer, 'POST', '/admin/v1/node.status'), 'POST', '/admin/v1/{command}');
  assert.equal(status.answers[0].data.version, '0.1.0');
  await check(await call(viewer, 'POST', '/admin/v1/sessions.list', { user: 'alice' }), 'POST', '/admin/v1/{command}');
  await check(await call(viewer, 'POST', '/admin/v1/node.drain'), 'POST', '/admin/v1/{command}');
  await check(await call(admin, 'POST', '/admin/v1/no.such'), 'POST', '/admin/v1/{command}');
  await check(await call(admin, 'POST', '/admin/v1/users.where', {}), 'POST', '/admin/v1/{command}');
  await check(await call(admin, 'POST', '/admin/v1/sessions.kick', { id: 'nope' }), 'POST', '/admin/v1/{command}');

  // tasks and leases
  const task = await check(await call(alice, 'POST', '/api/v1/tasks', { task_type: 'report', payload: { n: 1 }, idempotency_key: 'k1' }), 'POST', '/api/v1/tasks');
  const again = await call(alice, 'POST', '/api/v1/tasks', { task_type: 'report', payload: { n: 1 }, idempotency_key: 'k1' });
  assert.equal(again.status, 200);
  assert.equal((await check(again, 'POST', '/api/v1/tasks')).id, task.id);
  await check(await call(alice, 'POST', '/api/v1/tasks', { payload: {} }), 'POST', '/api/v1/tasks');
  const reserved = await call(alice, 'POST', '/api/v1/tasks', { task_type: 'http', payload: { url: 'http://x' } });
  assert.equal(reserved.status, 403);
  await check(reserved, 'POST', '/api/v1/tasks');
  await check(await call(alice, 'GET', `/api/v1/tasks/${task.id}`), 'GET', '/api/v1/tasks/{id}');
  assert.equal((await call(bob, 'GET', `/api/v1/tasks/${task.id}`)).status, 404);
  await check(await call(alice, 'GET', '/api/v1/tasks?status=failed&limit=10'), 'GET', '/api/v1/tasks');
  await check(await call(alice, 'GET', '/api/v1/tasks?limit=10'), 'GET', '/api/v1/tasks');
  const leased = await check(await call(alice, 'POST', '/api/v1/leases', { worker_id: 'w1', task_types: ['report'], max_tasks: 1, lease_sec: 30 }), 'POST', '/api/v1/leases');
  assert.equal(leased.leases.length, 1);
  const lease = leased.leases[0].lease_id;
  await check(await call(alice, 'POST', `/api/v1/leases/${lease}/heartbeat`, {}), 'POST', '/api/v1/leases/{lease_id}/heartbeat');
  await check(await call(alice, 'POST', `/api/v1/leases/${lease}/complete`, { result: { ok: true } }), 'POST', '/api/v1/leases/{lease_id}/complete');
  const stale = await call(alice, 'POST', `/api/v1/leases/${lease}/complete`, {});
  assert.equal(stale.status, 409);
  await check(stale, 'POST', '/api/v1/leases/{lease_id}/complete');
  await check(await call(alice, 'GET', `/api/v1/tasks/${task.id}/runs`), 'GET', '/api/v1/tasks/{id}/runs');
  const doomed = await check(await call(alice, 'POST', '/api/v1/tasks', { task_type: 'flaky', payload: null, retry_policy: { max_retries: 0 } }), 'POST', '/api/v1/tasks');
  const l2 = (await (await call(alice, 'POST', '/api/v1/leases', { worker_id: 'w1', task_types: ['flaky'] })).json()).leases[0];
  assert.equal(l2.task_id, doomed.id);
  const failed = await check(await call(alice, 'POST', `/api/v1/leases/${l2.lease_id}/fail`, { error: 'boom', retryable: false }), 'POST', '/api/v1/leases/{lease_id}/fail');
  assert.equal(failed.status, 'DEAD');
  await check(await call(alice, 'POST', `/api/v1/tasks/${doomed.id}/requeue`), 'POST', '/api/v1/tasks/{id}/requeue');
  await check(await call(alice, 'PATCH', `/api/v1/tasks/${doomed.id}/pause`), 'PATCH', '/api/v1/tasks/{id}/pause');
  await check(await call(alice, 'PATCH', `/api/v1/tasks/${doomed.id}/resume`), 'PATCH', '/api/v1/tasks/{id}/resume');
  await check(await call(alice, 'DELETE', `/api/v1/tasks/${doomed.id}`), 'DELETE', '/api/v1/tasks/{id}');
  const invalid = await call(alice, 'PATCH', `/api/v1/tasks/${doomed.id}/resume`);
  assert.equal(invalid.status, 409);
  await check(invalid, 'PATCH', '/api/v1/tasks/{id}/resume');
  await check(await call(alice, 'POST', '/api/v1/tasks', { task_type: 'batchy', payload: {} }), 'POST', '/api/v1/tasks');
  const l3 = (await (await call(alice, 'POST', '/api/v1/leases', { worker_id: 'w1', task_types: ['batchy'] })).json()).leases[0];
  const batch = await check(await call(alice, 'POST', '/api/v1/leases/complete', { completions: [{ lease_id: l3.lease_id }, { lease_id: 'nope' }] }), 'POST', '/api/v1/leases/complete');
  assert.equal(batch.outcomes.length, 2);

  // feed
  const post = await check(await call(bob, 'POST', '/api/v1/posts', { text: 'hello' }), 'POST', '/api/v1/posts');
  await check(await call(bob, 'POST', '/api/v1/posts', { text: '' }), 'POST', '/api/v1/posts');
  await check(await call(alice, 'PUT', '/api/v1/following/bob'), 'PUT', '/api/v1/following/{user_id}');
  await check(await call(alice, 'GET', '/api/v1/feed?mode=chronological&limit=10'), 'GET', '/api/v1/feed');
  await check(await call(alice, 'GET', `/api/v1/posts/${post.post_id}`), 'GET', '/api/v1/posts/{id}');
  await check(await call(alice, 'POST', `/api/v1/posts/${post.post_id}/likes`), 'POST', '/api/v1/posts/{id}/likes');
  await check(await call(alice, 'DELETE', `/api/v1/posts/${post.post_id}/likes`), 'DELETE', '/api/v1/posts/{id}/likes');
  await check(await call(alice, 'POST', `/api/v1/posts/${post.post_id}/comments`, { text: 'nice' }), 'POST', '/api/v1/posts/{id}/comments');
  await check(await call(alice, 'GET', `/api/v1/posts/${post.post_id}/comments`), 'GET', '/api/v1/posts/{id}/comments');
  await check(await call(alice, 'POST', `/api/v1/posts/${post.post_id}/shares`), 'POST', '/api/v1/posts/{id}/shares');
  await check(await call(alice, 'GET', '/api/v1/users/bob'), 'GET', '/api/v1/users/{id}');
  await check(await call(alice, 'GET', '/api/v1/users/bob/followers'), 'GET', '/api/v1/users/{id}/followers');
  await check(await call(alice, 'GET', '/api/v1/users/alice/following'), 'GET', '/api/v1/users/{id}/following');
  await check(await call(alice, 'DELETE', '/api/v1/following/bob'), 'DELETE', '/api/v1/following/{user_id}');
  const notAuthor = await call(alice, 'DELETE', `/api/v1/posts/${post.post_id}`);
  await check(notAuthor, 'DELETE', '/api/v1/posts/{id}');
  await check(await call(bob, 'DELETE', `/api/v1/posts/${post.post_id}`), 'DELETE', '/api/v1/posts/{id}');
  await check(await call(alice, 'GET', `/api/v1/posts/${post.post_id}`), 'GET', '/api/v1/posts/{id}');

  // rate limits
  await check(await call(alice, 'GET', '/api/v1/admin/ratelimits'), 'GET', '/api/v1/admin/ratelimits');
  const rules = { rules: [{ name: 'svc', match: { path_prefix: '/api/v1/ratelimit' }, key: 'global', algorithm: 'fixed_window', limit: 100, window_sec: 60, mode: 'simulate' }] };
  await check(await call(admin, 'PUT', '/api/v1/admin/ratelimits', rules), 'PUT', '/api/v1/admin/ratelimits');
  await check(await call(admin, 'PUT', '/api/v1/admin/ratelimits', { rules: [{ name: 'x', algorithm: 'nope' }] }), 'PUT', '/api/v1/admin/ratelimits');
  await check(await call(admin, 'GET', '/api/v1/admin/ratelimits'), 'GET', '/api/v1/admin/ratelimits');
  await check(await call(alice, 'POST', '/api/v1/ratelimit/check', { rule: 'svc', key: 'k', cost: 1 }), 'POST', '/api/v1/ratelimit/check');
  await check(await call(alice, 'POST', '/api/v1/ratelimit/check', { rule: 'none', key: 'k' }), 'POST', '/api/v1/ratelimit/check');
});

// ---- asyncapi.yaml ----------------------------------------------------------------------------

const asyncPath = join(root, 'docs', 'api', 'asyncapi.yaml');
const asyncDoc = parse(readFileSync(asyncPath, 'utf8'));

test('asyncapi.yaml is a valid AsyncAPI 3.0 document', () => {
  // The AsyncAPI schema embeds its own copy of the draft-07 meta-schema: ajv must not add another.
  const meta = new Ajv({ strict: false, allErrors: true, meta: false, validateSchema: false });
  addFormats(meta);
  const validate = meta.compile(asyncapiSpecs.schemas['3.0.0']);
  assert.equal(asyncDoc.asyncapi, '3.0.0');
  assert.ok(validate(asyncDoc), JSON.stringify(validate.errors?.slice(0, 5), null, 2));
});

function oneofOf(proto, message) {
  const start = proto.indexOf(`message ${message} {`);
  const body = proto.slice(proto.indexOf('oneof kind {', start), proto.indexOf('}', proto.indexOf('oneof kind {', start)));
  return [...body.matchAll(/^\s*\w+\s+(\w+)\s*=\s*\d+;/gm)].map((m) => m[1]).sort();
}

test('asyncapi.yaml has one message per frame kind of proto/parley.proto', () => {
  const proto = readFileSync(join(root, 'proto', 'parley.proto'), 'utf8');
  const names = Object.keys(asyncDoc.components.messages);
  const clientKinds = oneofOf(proto, 'ClientFrame');
  const serverKinds = oneofOf(proto, 'ServerFrame');
  assert.ok(clientKinds.length >= 14 && serverKinds.length >= 13);
  assert.deepEqual(names.filter((n) => n.startsWith('client_')).map((n) => n.slice(7)).sort(), clientKinds);
  assert.deepEqual(names.filter((n) => n.startsWith('server_')).map((n) => n.slice(7)).sort(), serverKinds);
  for (const n of names) assert.ok(asyncDoc.channels.chat.messages[n], `${n} is not on the /ws channel`);
});

test('every kind of server frame of a real node matches asyncapi.yaml, and so do the client frames sent', async () => {
  const frames = new Ajv({ strict: false, allErrors: true });
  addFormats(frames);
  frames.addSchema({ $id: 'async', components: asyncDoc.components });
  const union = (side) => frames.compile({
    oneOf: Object.keys(asyncDoc.components.messages).filter((n) => n.startsWith(side))
      .map((n) => ({ $ref: `async#/components/messages/${n}/payload` })),
  });
  const serverFrame = union('server_');
  const clientFrame = union('client_');
  const seen = new Map();
  const mismatches = [];
  const record = (c) => c.ws.on('message', (data) => {
    const f = JSON.parse(data.toString());
    const kind = Object.keys(f).find((k) => k !== 'request_id');
    if (!serverFrame(f)) mismatches.push(`server frame ${kind}: ${frames.errorsText(serverFrame.errors)}\n${JSON.stringify(f)}`);
    seen.set(kind, (seen.get(kind) ?? 0) + 1);
  });
  const [alice, bob] = await Promise.all(['spec-alice', 'spec-bob'].map((u) => connectUser(node, u)));
  // The welcome after the upgrade arrived before the recorder was attached: hello brings another.
  record(alice); record(bob);
  const call = (c, frame) => { assert.ok(clientFrame(frame), `client frame: ${frames.errorsText(clientFrame.errors)}`); return c.call(frame); };
  const send = (c, frame) => { assert.ok(clientFrame(frame), `client frame: ${frames.errorsText(clientFrame.errors)}`); c.send(frame); };
  await call(alice, { request_id: 'h', hello: { device_id: 'spec' } });
  await call(alice, { request_id: 'p', ping: {} });
  const ack = await call(alice, { request_id: 's', send: { to_user: 'spec-bob', client_msg_id: 'm1', body: 'hi' } });
  const conv = ack.ack.conversation_id;
  await bob.next((f) => f.message);
  send(bob, { receipt: { conversation_id: conv, seq: 1, status: 'READ' } });
  await alice.next((f) => f.receipt);
  send(bob, { typing: { conversation_id: conv, active: true } });
  await alice.next((f) => f.typing);
  await call(alice, { request_id: 'pr', presence: { user_ids: ['spec-bob'], subscribe: true } });
  await call(alice, { request_id: 'g', create_group: { title: 't', member_ids: ['spec-bob'] } });
  await call(bob, { request_id: 'sy', sync: {} });
  await call(alice, { request_id: 'hi', history: { conversation_id: conv, before_seq: 0, limit: 10 } });
  await call(alice, { request_id: 'c', conversations: {} });
  const denied = await call(alice, { request_id: 'e', history: { conversation_id: 'd:x:y' } });
  assert.ok(denied.error);
  const token = await devToken(node, 'spec-bob');
  const aliceToken = await devToken(node, 'spec-alice');
  assert.equal((await fetch(`${node.base}/api/v1/following/spec-bob`, { method: 'PUT', headers: { Authorization: `Bearer ${aliceToken}` } })).status, 204);
  send(alice, { feed_subscribe: {} });
  await call(alice, { request_id: 'p2', ping: {} });  // the subscription is in place once this answers
  const posted = await fetch(`${node.base}/api/v1/posts`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify({ text: 'news' }) });
  assert.equal(posted.status, 201);
  await alice.next((f) => f.feed_item);
  await Promise.all([alice.close(), bob.close()]);
  const kinds = Object.keys(asyncDoc.components.messages).filter((n) => n.startsWith('server_')).map((n) => n.slice(7));
  assert.deepEqual(mismatches, []);
  assert.deepEqual(kinds.filter((k) => !seen.has(k)), [], 'server frame kinds never seen');
});
