// The news feed as outside clients see it: Node's fetch and the npm `ws` client against a real
// parleyd: posting, following, a live feed_item over WebSocket, ranked and chronological pages,
// and the feed rebuilt from storage after a SIGKILL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, devToken, connectUser } from './parleyd.mjs';

async function api(node, token, method, path, body) {
  const res = await fetch(`${node.base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

test('post, follow, live feed_item and both feed modes', async () => {
  const node = await startNode(['--set', 'feed.celebrity_threshold=2']);
  try {
    const alice = await devToken(node, 'alice');
    const bob = await devToken(node, 'bob');
    const carol = await devToken(node, 'carol');
    assert.equal((await api(node, bob, 'PUT', '/api/v1/following/alice')).status, 204);
    const live = await connectUser(node, 'bob');
    live.send({ request_id: 's', feed_subscribe: {} });
    await live.call({ request_id: 'p', ping: {} });

    let res = await api(node, alice, 'POST', '/api/v1/posts',
      { text: 'héllo from alice', mediaUrls: ['https://cdn.example/cat.jpg'] });
    assert.equal(res.status, 201);
    const first = res.body;
    const item = await live.next((f) => f.feed_item);
    assert.equal(item.feed_item.post.post_id, first.post_id);
    assert.equal(item.feed_item.post.text, 'héllo from alice');

    // carol makes alice a celebrity (threshold 2): her next post is pulled at read time.
    assert.equal((await api(node, carol, 'PUT', '/api/v1/following/alice')).status, 204);
    res = await api(node, alice, 'POST', '/api/v1/posts', { text: 'now famous' });
    const second = res.body;
    const celeb = await live.next((f) => f.feed_item);
    assert.equal(celeb.feed_item.post.post_id, second.post_id);

    res = await api(node, bob, 'GET', '/api/v1/feed?mode=chronological&limit=1');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.items.map((i) => i.post.text), ['now famous']);
    const next = res.body.next_cursor;
    assert.ok(next);
    res = await api(node, bob, 'GET', `/api/v1/feed?mode=chronological&limit=1&cursor=${encodeURIComponent(next)}`);
    assert.deepEqual(res.body.items.map((i) => i.post.text), ['héllo from alice']);
    assert.equal(res.body.next_cursor, '');

    await api(node, bob, 'POST', `/api/v1/posts/${first.post_id}/likes`);
    res = await api(node, bob, 'GET', '/api/v1/feed');  // ranked by default
    assert.equal(res.body.items.length, 2);
    for (const i of res.body.items) assert.equal(typeof i.score, 'number');
    assert.equal(Number(res.body.items.find((i) => i.post.post_id === first.post_id).post.likes), 1);

    res = await api(node, bob, 'GET', '/api/v1/feed?cursor=not-a-cursor');
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'bad_request');
    res = await api(node, bob, 'DELETE', `/api/v1/posts/${first.post_id}`);
    assert.equal(res.status, 403);
    await live.close();
  } finally {
    await node.stop();
  }
});

test('after SIGKILL the node rebuilds feeds from stored posts and follows', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-feed-'));
  try {
    let node = await startNode(['--set', 'storage.sync=batch'], { dataDir });
    const alice = await devToken(node, 'alice');
    const bob = await devToken(node, 'bob');
    await api(node, bob, 'PUT', '/api/v1/following/alice');
    const posted = [];
    for (let i = 0; i < 5; i++)
      posted.push((await api(node, alice, 'POST', '/api/v1/posts', { text: `p${i}` })).body.post_id);
    node.child.kill('SIGKILL');
    await node.exited;

    node = await startNode(['--set', 'storage.sync=batch'], { dataDir });
    try {
      const res = await api(node, bob, 'GET', '/api/v1/feed?mode=chronological');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.items.map((i) => i.post.post_id), posted.reverse());
      const profile = await api(node, bob, 'GET', '/api/v1/users/alice');
      assert.equal(Number(profile.body.followers), 1);
      assert.equal(Number(profile.body.posts), 5);
    } finally {
      await node.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
