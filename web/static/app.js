// Parley web chat: a plain client of the WebSocket protocol (PROTOCOL.md, Chat over WebSocket).
// It keeps no state the server does not also have: conversations, history and receipts all
// come from frames.
// Parley web chat on the parley-client SDK (clients/js, served as /static/parley-client.js): the
// SDK reconnects with backoff, resumes with sync and hands over each message once, in order; this
// page keeps no state the server does not also have: conversations, history and receipts all
// come from frames.
import { ParleyClient } from './parley-client.js';

const $ = (id) => document.getElementById(id);
const state = {
  me: null,
  client: null,
  conversations: new Map(),  // id -> summary
  current: null,             // conversation id shown
  currentPeer: null,         // the other user of a direct conversation being opened
  messages: new Map(),       // conversation id -> Map(seq -> message)
  readBy: new Map(),         // conversation id -> Map(user -> read seq)
  typingTimer: null,
  typingSent: 0,
  countdown: null,
};

function directId(a, b) { return a < b ? `d:${a}:${b}` : `d:${b}:${a}`; }
function seqOf(m) { return Number(m.seq); }

async function signIn(userId) {
  const res = await fetch('/api/v1/dev/token', { method: 'POST', body: JSON.stringify({ user_id: userId }) });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.message : `HTTP ${res.status}`);
  state.me = userId;
  connect(body.token);
}

// Connection state for the user: connected, reconnecting in N s (counting down), offline.
function showState(s) {
  clearInterval(state.countdown);
  const status = $('status');
  status.dataset.state = s.state;
  if (s.state === 'connected') status.textContent = 'connected';
  else if (s.state === 'offline') status.textContent = s.error ? `offline: ${s.error.message}` : 'offline';
  else if (s.state === 'reconnecting' && s.retryAt) {
    const tick = () => {
      const left = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
      status.textContent = left > 0 ? `reconnecting in ${left} s` : 'reconnecting…';
    };
    tick();
    state.countdown = setInterval(tick, 250);
  } else status.textContent = s.state === 'reconnecting' ? 'reconnecting…' : 'connecting…';
}

function connect(token) {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  let device = localStorage.getItem('parley-device');
  if (!device) { device = `web-${crypto.randomUUID().slice(0, 8)}`; localStorage.setItem('parley-device', device); }
  const client = new ParleyClient({
    url: `${proto}://${location.host}/ws`,
    token,
    deviceId: device,
    backoff: { baseMs: 500, maxMs: 15000 },
    // Dev tokens: a fresh one from the same endpoint before this one expires.
    refreshToken: async () => {
      const res = await fetch('/api/v1/dev/token', { method: 'POST', body: JSON.stringify({ user_id: state.me }) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return (await res.json()).token;
    },
  });
  state.client = client;
  client.on('state', showState);
  client.on('welcome', () => {
    $('signin').hidden = true;
    $('app').hidden = false;
    $('me').textContent = state.me;
    // After every (re)connect: the list and the open conversation as the node has them now.
    refreshConversations();
    if (state.current && state.conversations.has(state.current)) loadOlder(true).then(markRead);
  });
  client.on('message', onMessage);
  client.on('receipt', onReceipt);
  client.on('typing', onTyping);
  client.on('presence', onPresence);
  client.on('group', () => refreshConversations());
  client.on('error', (err) => { $('chat-error').textContent = err.message; });
}

function store(conv, m) {
  if (!state.messages.has(conv)) state.messages.set(conv, new Map());
  state.messages.get(conv).set(seqOf(m), m);  // duplicates collapse by (conversation, seq)
}

function onMessage(m) {
  const conv = m.conversation_id;
  store(conv, m);  // the SDK sends the cumulative DELIVERED receipt
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
  const summaries = await state.client.conversations();
  state.conversations.clear();
  for (const c of summaries) state.conversations.set(c.conversation_id, c);
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
  if (state.currentPeer) state.client.presence([state.currentPeer], true);
  if (summary) await loadOlder(true);
  render();
  markRead();
  refreshConversations();
}

async function loadOlder(fresh) {
  const conv = state.current;
  const have = state.messages.get(conv);
  const oldest = !fresh && have && have.size ? Math.min(...have.keys()) : 0;
  const page = await state.client.history(conv, { beforeSeq: oldest, limit: 30 });
  for (const m of page.messages) store(conv, m);
  $('older').hidden = !page.has_more;
  render();
}

function markRead() {
  const msgs = state.messages.get(state.current);
  if (!msgs || !msgs.size) return;
  const last = Math.max(...msgs.keys());
  state.client.receipt(state.current, last, 'READ');
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
    const group = await state.client.createGroup($('group-title').value.trim(), members);
    $('group-title').value = '';
    $('group-members').value = '';
    await refreshConversations();
    open(group.conversation_id);
  } catch (err) { $('chat-error').textContent = err.message; }
};

$('send-form').onsubmit = async (e) => {
  e.preventDefault();
  const body = $('body').value;
  if (!body) return;
  $('body').value = '';
  const conv = state.current;
  const to = conv.startsWith('d:') && !state.conversations.has(conv)
    ? { toUser: state.currentPeer } : { conversationId: conv };
  try {
    // Sent while reconnecting, it waits in the SDK's queue and goes out (once) after the reconnect.
    const ack = await state.client.send({ ...to, body });
    store(conv, { conversation_id: conv, seq: ack.seq, sender_id: state.me, client_msg_id: ack.client_msg_id, body, sent_at: ack.sent_at });
    state.client.typing(conv, false);
    render();
    if (!state.conversations.has(conv)) {
      refreshConversations();
      // The first message makes the peer a contact: presence is visible from now on.
      if (state.currentPeer) state.client.presence([state.currentPeer], true);
    }
  } catch (err) { $('chat-error').textContent = err.message; }
};

$('body').oninput = () => {
  const conv = state.current;
  if (!conv || !state.conversations.has(conv)) return;
  const now = Date.now();
  if (now - state.typingSent > 3000) {
    state.typingSent = now;
    state.client.typing(conv, true);
  }
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(() => {
    state.typingSent = 0;
    state.client.typing(conv, false);
  }, 4000);
};

$('older').onclick = () => loadOlder(false);
