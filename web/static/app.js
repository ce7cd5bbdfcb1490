// Parley web chat: a plain client of the WebSocket protocol (PROTOCOL.md, Chat over WebSocket).
// It keeps no state the server does not also have: conversations, history and receipts all
// come from frames.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  me: null,
  ws: null,
  nextId: 1,
  pending: new Map(),        // request_id -> {resolve, reject}
  conversations: new Map(),  // id -> summary
  current: null,             // conversation id shown
  currentPeer: null,         // the other user of a direct conversation being opened
  messages: new Map(),       // conversation id -> Map(seq -> message)
  readBy: new Map(),         // conversation id -> Map(user -> read seq)
  delivered: new Map(),      // conversation id -> highest seq acknowledged DELIVERED
  typingTimer: null,
  typingSent: 0,
};

function directId(a, b) { return a < b ? `d:${a}:${b}` : `d:${b}:${a}`; }
function seqOf(m) { return Number(m.seq); }

function request(frame) {
  const request_id = String(state.nextId++);
  return new Promise((resolve, reject) => {
    state.pending.set(request_id, { resolve, reject });
    state.ws.send(JSON.stringify({ request_id, ...frame }));
  });
}

function send(frame) { state.ws.send(JSON.stringify(frame)); }

async function signIn(userId) {
  const res = await fetch('/api/v1/dev/token', { method: 'POST', body: JSON.stringify({ user_id: userId }) });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.message : `HTTP ${res.status}`);
  state.me = userId;
  connect(body.token);
}

function connect(token) {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/ws?token=${encodeURIComponent(token)}`);
  state.ws = ws;
  ws.onopen = async () => {
    $('signin').hidden = true;
    $('app').hidden = false;
    $('me').textContent = state.me;
    $('status').textContent = 'online';
    // A paced sync may stop early (has_more): the DELIVERED receipts sent for what arrived
    // move this device's cursor, and the next round continues from there.
    for (let round = 0; round < 1000; round++) {
      const done = await request({ sync: {} });
      if (!done.sync_done.has_more) break;
    }
    await refreshConversations();
    setInterval(() => send({ ping: {} }), 20000);
  };
  ws.onclose = (e) => { $('status').textContent = `disconnected (${e.code})`; };
  ws.onmessage = (e) => onFrame(JSON.parse(e.data));
}

function onFrame(f) {
  if (f.error) {
    const p = state.pending.get(f.request_id);
    if (p) { state.pending.delete(f.request_id); p.reject(new Error(f.error.message)); }
    else $('chat-error').textContent = f.error.message;
    return;
  }
  if (f.message) onMessage(f.message);
  if (f.receipt) onReceipt(f.receipt);
  if (f.typing) onTyping(f.typing);
  if (f.presence_update) onPresence(f.presence_update);
  if (f.group && !f.request_id) refreshConversations();
  const p = f.request_id && state.pending.get(f.request_id);
  if (p) { state.pending.delete(f.request_id); p.resolve(f); }
}

function store(conv, m) {
  if (!state.messages.has(conv)) state.messages.set(conv, new Map());
  state.messages.get(conv).set(seqOf(m), m);  // duplicates collapse by (conversation, seq)
}

function onMessage(m) {
  const conv = m.conversation_id;
  store(conv, m);
  // Cumulative delivery receipt: everything up to this seq reached this device.
  if (seqOf(m) > (state.delivered.get(conv) || 0)) {
    state.delivered.set(conv, seqOf(m));
    send({ receipt: { conversation_id: conv, seq: m.seq, status: 'DELIVERED' } });
  }
  if (conv === state.current) {
    render();
    markRead();
  } else {
    refreshConversations();
  }
}

function onReceipt(r) {
  if (!state.readBy.has(r.conversation_id)) state.readBy.set(r.conversation_id, new Map());
  state.readBy.get(r.conversation_id).set(r.user_id, Number(r.seq));
  if (r.conversation_id === state.current) render();
}

function onTyping(t) {
  if (t.conversation_id !== state.current) return;
  $('typing').textContent = t.active ? `${t.user_id} is typing…` : '';
}

function onPresence(p) {
  if (p.user_id !== state.currentPeer) return;
  $('chat-presence').textContent = p.online ? 'online'
    : p.last_seen ? `last seen ${new Date(p.last_seen).toLocaleString()}` : 'offline';
}

async function refreshConversations() {
  const f = await request({ conversations: {} });
  state.conversations.clear();
  for (const c of f.conversation_list.items) state.conversations.set(c.conversation_id, c);
  const list = $('conversations');
  list.replaceChildren();
  const items = [...state.conversations.values()].sort((a, b) => Number(b.last_seq) - Number(a.last_seq));
  for (const c of items) {
    const li = document.createElement('li');
    li.dataset.id = c.conversation_id;
    li.className = c.conversation_id === state.current ? 'active' : '';
    const name = document.createElement('span');
    name.textContent = titleOf(c);
    li.append(name);
    if (Number(c.unread) > 0 && c.conversation_id !== state.current) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = c.unread;
      li.append(badge);
    }
    li.onclick = () => open(c.conversation_id);
    list.append(li);
  }
}

function titleOf(c) {
  if (c.kind === 'GROUP') return c.title || `group of ${c.member_ids.length}`;
  return c.member_ids.find((m) => m !== state.me) || c.conversation_id;
}

async function open(conv, peer) {
  state.current = conv;
  const summary = state.conversations.get(conv);
  state.currentPeer = peer || (summary && summary.kind === 'DIRECT' ? titleOf(summary) : null);
  $('chat-title').textContent = summary ? titleOf(summary) : peer;
  $('chat-presence').textContent = '';
  $('typing').textContent = '';
  $('send-form').hidden = false;
  $('chat-error').textContent = '';
  if (state.currentPeer) send({ presence: { user_ids: [state.currentPeer], subscribe: true } });
  if (summary) await loadOlder(true);
  render();
  markRead();
  refreshConversations();
}

async function loadOlder(fresh) {
  const conv = state.current;
  const have = state.messages.get(conv);
  const oldest = !fresh && have && have.size ? Math.min(...have.keys()) : 0;
  const f = await request({ history: { conversation_id: conv, before_seq: oldest, limit: 30 } });
  for (const m of f.history_page.messages) store(conv, m);
  $('older').hidden = !f.history_page.has_more;
  render();
}

function markRead() {
  const msgs = state.messages.get(state.current);
  if (!msgs || !msgs.size) return;
  const last = Math.max(...msgs.keys());
  send({ receipt: { conversation_id: state.current, seq: last, status: 'READ' } });
}

function render() {
  const list = $('messages');
  list.replaceChildren();
  const msgs = state.messages.get(state.current);
  if (!msgs) return;
  const readers = state.readBy.get(state.current) || new Map();
  for (const seq of [...msgs.keys()].sort((a, b) => a - b)) {
    const m = msgs.get(seq);
    const li = document.createElement('li');
    const mine = m.sender_id === state.me;
    li.className = mine ? 'mine' : '';
    li.dataset.seq = seq;
    const body = document.createElement('div');
    body.textContent = m.body;
    const meta = document.createElement('div');
    meta.className = 'meta';
    const readersOf = [...readers].filter(([u, s]) => u !== state.me && s >= seq).map(([u]) => u);
    meta.textContent = `${mine ? '' : m.sender_id + ' · '}${new Date(m.sent_at).toLocaleTimeString()}`
      + (mine && readersOf.length ? ` · Read by ${readersOf.join(', ')}` : '');
    li.append(body, meta);
    list.append(li);
  }
  list.scrollTop = list.scrollHeight;
}

$('signin-form').onsubmit = (e) => {
  e.preventDefault();
  signIn($('user-id').value.trim()).catch((err) => { $('signin-error').textContent = err.message; });
};

$('direct-form').onsubmit = (e) => {
  e.preventDefault();
  const peer = $('direct-user').value.trim();
  if (!peer || peer === state.me) return;
  $('direct-user').value = '';
  open(directId(state.me, peer), peer);
};

$('group-form').onsubmit = async (e) => {
  e.preventDefault();
  const members = $('group-members').value.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    const f = await request({ create_group: { title: $('group-title').value.trim(), member_ids: members } });
    $('group-title').value = '';
    $('group-members').value = '';
    await refreshConversations();
    open(f.group.conversation_id);
  } catch (err) { $('chat-error').textContent = err.message; }
};

$('send-form').onsubmit = async (e) => {
  e.preventDefault();
  const body = $('body').value;
  if (!body) return;
  $('body').value = '';
  const conv = state.current;
  const frame = { client_msg_id: crypto.randomUUID(), body };
  if (conv.startsWith('d:') && !state.conversations.has(conv)) frame.to_user = state.currentPeer;
  else frame.conversation_id = conv;
  try {
    const f = await request({ send: frame });
    store(conv, { conversation_id: conv, seq: f.ack.seq, sender_id: state.me, client_msg_id: frame.client_msg_id, body, sent_at: f.ack.sent_at });
    send({ typing: { conversation_id: conv, active: false } });
    render();
    if (!state.conversations.has(conv)) {
      refreshConversations();
      // The first message makes the peer a contact: presence is visible from now on.
      if (state.currentPeer) send({ presence: { user_ids: [state.currentPeer], subscribe: true } });
    }
  } catch (err) { $('chat-error').textContent = err.message; }
};

$('body').oninput = () => {
  const conv = state.current;
  if (!conv || !state.conversations.has(conv)) return;
  const now = Date.now();
  if (now - state.typingSent > 3000) {
    state.typingSent = now;
    send({ typing: { conversation_id: conv, active: true } });
  }
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(() => {
    state.typingSent = 0;
    send({ typing: { conversation_id: conv, active: false } });
  }, 4000);
};

$('older').onclick = () => loadOlder(false);
