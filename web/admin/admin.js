// Parley operator console: a plain client of the admin API (docs/operations.md, The admin
// console). Commands go to POST /admin/v1/<command> with the signed-in token; the live plots read
// GET /admin/v1/samples, a Server-Sent Events stream the node keeps 15 minutes of. Nothing is
// fetched or redrawn while the browser tab is hidden: the stream is closed and timers stop, and
// both resume (the stream from the last sample it saw) when the tab shows again.

const $ = (id) => document.getElementById(id);
const HISTORY_MS = 15 * 60 * 1000;

const state = {
  token: null,
  claims: null,
  commands: new Map(),  // name -> spec from GET /admin/v1/commands
  samples: [],          // oldest first, at most 15 minutes
  lastId: 0,            // id of the newest sample seen (unix ms)
  rangeSec: 900,
  tab: 'overview',
  stream: null,         // AbortController of the open stream
  streamRetry: null,
  poll: null,           // polling node.samples while the node refuses streams (draining)
  timers: [],           // the current tab's refresh timers
  drain: null,          // last drain progress
  deadCursor: '',
  drawQueued: false,
};

// -- the admin API ------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function run(command, args = {}) {
  const res = await fetch(`/admin/v1/${command}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${state.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(args),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = body.error || {};
    if (res.status === 401) signOut('The node refused the token: ' + (e.message || 'unauthorized'));
    throw new ApiError(res.status, e.code || 'internal', e.message || `HTTP ${res.status}`);
  }
  // One node's part: on a single node the only answer; a failed part is an error.
  const part = (body.answers || [])[0];
  if (!part) throw new ApiError(503, 'unavailable', `no node answered (${(body.unanswered || []).join(', ')})`);
  if (part.error) throw new ApiError(500, part.error.code, part.error.message);
  return part.data;
}

function canMutate() { return state.claims && state.claims.role === 'admin'; }

// -- small helpers ------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v != null) e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c instanceof Node ? c : String(c));
  return e;
}

function fillTable(table, rows, empty) {
  const body = table.tBodies[0];
  body.replaceChildren();
  if (!rows.length) {
    body.append(el('tr', {}, el('td', { class: 'empty', colspan: table.tHead.rows[0].cells.length }, empty)));
    return;
  }
  for (const r of rows) body.append(r);
}

function fillKv(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) dl.append(el('dt', {}, k), el('dd', {}, v instanceof Node ? v : String(v)));
}

function flash(text, kind = 'ok') {
  const f = $('flash');
  f.textContent = text;
  f.className = `flash ${kind}`;
  f.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { f.hidden = true; }, kind === 'bad' ? 8000 : 4000);
}

function failed(e) { flash(`${e.code || 'error'}: ${e.message}`, 'bad'); }

function bytes(n) {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(n < 10 && i ? 1 : 0)} ${units[i]}`;
}

function num(n, digits = 0) {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(digits);
}

function duration(sec) {
  sec = Math.max(0, Math.floor(sec));
  const d = Math.floor(sec / 86400), h = Math.floor(sec / 3600) % 24, m = Math.floor(sec / 60) % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${sec % 60}s`;
  return `${sec}s`;
}

function ago(time) {
  const t = Date.parse(time);
  return Number.isFinite(t) ? `${duration((Date.now() - t) / 1000)} ago` : '–';
}

// The payload of a JWT, unverified: for the role and name shown; the node checks the rest.
function claimsOf(token) {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT (three dot-separated parts)');
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  return JSON.parse(json);
}

// -- sign in ------------------------------------------------------------------------------------

async function signIn(token) {
  token = token.trim();
  let claims;
  try { claims = claimsOf(token); } catch (e) { throw new Error(`not a token: ${e.message}`); }
  const res = await fetch('/admin/v1/commands', { headers: { Authorization: `Bearer ${token}` } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((body.error && body.error.message) || `HTTP ${res.status}`);
  state.token = token;
  state.claims = claims;
  state.commands = new Map((body.commands || []).map((c) => [c.name, c]));
  sessionStorage.setItem('parley-admin-token', token);
  $('signin').hidden = true;
  $('console').hidden = false;
  $('whoami').textContent = claims.sub || '';
  const role = $('role');
  role.textContent = claims.role;
  role.className = `pill ${claims.role === 'admin' ? 'warn' : ''}`;
  applyRole();
  buildPlots();
  showTab(location.hash.slice(1) || 'overview');
  startStream();
}

function signOut(why) {
  stopStream();
  stopTimers();
  state.token = null;
  state.claims = null;
  state.samples = [];
  state.lastId = 0;
  sessionStorage.removeItem('parley-admin-token');
  $('console').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = why || '';
}

// Buttons of mutating commands: disabled for viewers (the node refuses them anyway).
function applyRole() {
  for (const b of document.querySelectorAll('[data-mutates]')) {
    b.disabled = !canMutate();
    b.title = canMutate() ? '' : 'needs an admin token';
  }
}

function mutatingButton(label, command, onclick, cls = 'small') {
  const b = el('button', { type: 'button', class: cls, dataset: { mutates: command }, onclick }, label);
  b.disabled = !canMutate();
  if (!canMutate()) b.title = 'needs an admin token';
  return b;
}

// A confirmation for anything that closes connections or changes the node. Resolves with the
// reason typed (or '') when confirmed, null when cancelled.
function confirmAction(title, text, okLabel, withReason = false) {
  const d = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  $('confirm-reason-row').hidden = !withReason;
  $('confirm-reason').value = '';
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok' ? $('confirm-reason').value.trim() : null), { once: true });
    d.returnValue = '';
    d.showModal();
  });
}

// -- tabs and timers ----------------------------------------------------------------------------

const tabs = {
  overview: { load: loadOverview, every: 5000 },
  sessions: { load: loadSessions },
  entities: { load: () => {} },
  top: { load: loadTop, every: 5000, auto: () => $('top-auto').checked },
  dead: { load: () => loadDead(true) },
  rules: { load: loadRules },
  drain: { load: loadDrain, every: 1000 },
};

function showTab(name) {
  if (!tabs[name]) name = 'overview';
  state.tab = name;
  history.replaceState(null, '', `#${name}`);
  for (const b of document.querySelectorAll('.tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== `tab-${name}`;
  startTimers();
  if (name === 'overview') queueDraw();
}

function stopTimers() {
  for (const t of state.timers) clearInterval(t);
  state.timers = [];
}

// The shown tab loads now and, if it refreshes, on its interval, only while the page is visible.
function startTimers() {
  stopTimers();
  if (document.hidden || !state.token) return;
  const tab = tabs[state.tab];
  tab.load();
  if (tab.every) {
    state.timers.push(setInterval(() => {
      if (!document.hidden && (!tab.auto || tab.auto())) tab.load();
    }, tab.every));
  }
}

// -- overview -----------------------------------------------------------------------------------

async function loadOverview() {
  try {
    const [members, status] = await Promise.all([run('cluster.members'), run('node.status')]);
    fillTable($('members'), members.members.map((m) => el('tr', {},
      el('td', { class: 'mono' }, m.node),
      el('td', { class: 'mono' }, m.address),
      el('td', {}, el('span', { class: `pill ${m.status === 'serving' ? 'ok' : 'warn'}` }, m.status)),
      el('td', { class: 'muted' }, m.self ? 'this node' : ''))), 'no members');
    showStatus(status);
  } catch (e) { failed(e); }
}

function showStatus(s) {
  $('node-id').textContent = s.node;
  $('node-version').textContent = `v${s.version}`;
  $('node-uptime').textContent = `up ${duration(s.uptime_sec)}`;
  showDrainPill(s.drain);
  const actors = Object.entries(s.actors || {}).map(([k, v]) => `${k} ${v}`).join(' · ');
  const largest = (s.largest_mailboxes || [])[0];
  fillKv($('status'), [
    ['WebSockets', num(s.websockets)],
    ['online users', num(s.online_users)],
    ['active entities', actors || '–'],
    ['largest mailbox', largest ? `${largest.wait_ms.toFixed(2)} ms (${largest.kind === largest.id ? largest.kind : `${largest.kind} ${largest.id}`})` : '–'],
    ['commit queue', num(s.commit_queue)],
    ['memory', `${bytes(s.resident_bytes)} resident · ${bytes(s.virtual_bytes)} virtual`],
    ['file descriptors', `${num(s.open_fds)} of ${num(s.max_fds)}`],
    ['log level', s.log_level],
    ['started', `${s.started_at} (${ago(s.started_at)})`],
  ]);
}

function showDrainPill(d) {
  state.drain = d;
  const p = $('drain-pill');
  if (!d || d.state === 'serving') { p.textContent = 'serving'; p.className = 'pill ok'; return; }
  p.textContent = d.state === 'drained' ? 'drained' : `draining ${d.closed}/${d.sessions_at_start}`;
  p.className = 'pill bad';
}

// -- live plots ---------------------------------------------------------------------------------

const metrics = [
  { key: 'websockets', name: 'Connections', fmt: (v) => num(v) },
  { key: 'frames_per_sec', name: 'Frames', unit: '/s', fmt: (v) => num(v, v < 10 ? 1 : 0) },
  { key: 'delivered_per_sec', name: 'Delivered messages', unit: '/s', fmt: (v) => num(v, v < 10 ? 1 : 0) },
  { key: 'commit_p99_ms', name: 'Commit latency p99', unit: 'ms', fmt: (v) => num(v, v < 10 ? 2 : 0) },
  { key: 'largest_mailbox_wait_ms', name: 'Largest mailbox wait', unit: 'ms', fmt: (v) => num(v, v < 10 ? 2 : 0) },
  { key: 'resident_bytes', name: 'Resident memory', fmt: (v) => bytes(v) },
];

function buildPlots() {
  const box = $('plots');
  box.replaceChildren();
  for (const m of metrics) {
    m.card = el('div', { class: 'panel plot', dataset: { metric: m.key } },
      el('header', {},
        el('span', { class: 'name' }, m.name),
        el('span', { class: 'unit' }, m.unit || ''),
        m.valueEl = el('span', { class: 'value' }, '–')),
      m.canvas = el('canvas', { dataset: { metric: m.key }, 'aria-label': `${m.name} over time` }),
      m.rangeEl = el('div', { class: 'range' }, ''));
    box.append(m.card);
  }
}

function addSamples(list) {
  for (const s of list) {
    s.t = Date.parse(s.at);
    if (!(s.t > (state.samples.length ? state.samples[state.samples.length - 1].t : 0))) continue;
    state.samples.push(s);
  }
  const oldest = Date.now() - HISTORY_MS;
  let drop = 0;
  while (drop < state.samples.length && state.samples[drop].t < oldest) drop++;
  if (drop) state.samples.splice(0, drop);
  queueDraw();
}

function queueDraw() {
  if (state.drawQueued || document.hidden) return;
  state.drawQueued = true;
  requestAnimationFrame(() => { state.drawQueued = false; drawPlots(); });
}

function drawPlots() {
  if (state.tab !== 'overview' || !metrics[0].canvas) return;
  const now = state.samples.length ? state.samples[state.samples.length - 1].t : Date.now();
  const from = now - state.rangeSec * 1000;
  const shown = state.samples.filter((s) => s.t >= from);
  const css = getComputedStyle(document.documentElement);
  const colors = {
    grid: css.getPropertyValue('--grid').trim(), line: css.getPropertyValue('--accent').trim(),
    fill: css.getPropertyValue('--plot-fill').trim(), text: css.getPropertyValue('--muted').trim(),
  };
  for (const m of metrics) {
    const values = shown.map((s) => Number(s[m.key]) || 0);
    const last = values.length ? values[values.length - 1] : NaN;
    m.valueEl.textContent = m.fmt(last);
    m.canvas.dataset.samples = String(values.length);
    m.canvas.dataset.last = String(Number.isFinite(last) ? last : '');
    const max = values.length ? Math.max(...values) : NaN;
    const min = values.length ? Math.min(...values) : NaN;
    m.rangeEl.textContent = values.length ? `min ${m.fmt(min)} · max ${m.fmt(max)} · ${values.length} samples` : 'waiting for samples…';
    drawPlot(m.canvas, shown, m, from, now, colors);
  }
}

// A line with its area over [from, now]; the y axis starts at 0 and ends at a round maximum.
function drawPlot(canvas, shown, m, from, now, colors) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (!w || !h) return;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const left = 50, right = 4, top = 8, bottom = 16;
  const pw = w - left - right, ph = h - top - bottom;
  let max = 0;
  for (const s of shown) max = Math.max(max, Number(s[m.key]) || 0);
  const top_ = niceCeiling(max);
  g.font = '10px system-ui, sans-serif';
  g.fillStyle = colors.text;
  g.strokeStyle = colors.grid;
  g.lineWidth = 1;
  // Horizontal grid with labels: 0, half, top.
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const f of [0, 0.5, 1]) {
    const y = Math.round(top + ph - f * ph) + 0.5;
    g.beginPath(); g.moveTo(left, y); g.lineTo(left + pw, y); g.stroke();
    g.fillText(m.key === 'resident_bytes' ? bytes(top_ * f) : axisLabel(top_ * f), left - 4, y);
  }
  // Time ticks.
  g.textAlign = 'center';
  g.textBaseline = 'alphabetic';
  const span = now - from;
  const step = span <= 60e3 ? 15e3 : span <= 300e3 ? 60e3 : 300e3;
  for (let t = now; t >= from; t -= step) {
    const x = left + ((t - from) / span) * pw;
    const back = now - t;
    const label = back === 0 ? 'now' : back >= 60e3 ? `-${Math.round(back / 60e3)}m` : `-${Math.round(back / 1e3)}s`;
    g.fillText(label, Math.min(Math.max(x, left + 10), left + pw - 12), h - 3);
  }
  if (!shown.length) return;
  const x = (t) => left + ((t - from) / span) * pw;
  const y = (v) => top + ph - (top_ > 0 ? (v / top_) * ph : 0);
  g.beginPath();
  let prev = null;
  for (const s of shown) {
    const px = x(s.t), py = y(Number(s[m.key]) || 0);
    // A gap of more than 3 s (the tab was hidden, the node restarted) breaks the line.
    if (prev && s.t - prev > 3000) g.moveTo(px, py); else if (prev) g.lineTo(px, py); else g.moveTo(px, py);
    prev = s.t;
  }
  g.strokeStyle = colors.line;
  g.lineWidth = 1.5;
  g.stroke();
  // The area under the line (one polygon; gaps are filled flat, which reads fine at this size).
  g.lineTo(x(shown[shown.length - 1].t), top + ph);
  g.lineTo(x(shown[0].t), top + ph);
  g.closePath();
  g.fillStyle = colors.fill;
  g.fill();
}

function axisLabel(v) {
  if (v >= 1e4) return num(v);
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(v < 1 ? 2 : 1);
}

function niceCeiling(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= v) return f * p;
  return 10 * p;
}

// -- the sample stream --------------------------------------------------------------------------

function setStreamState(text, kind) {
  const s = $('stream-state');
  s.textContent = text;
  s.className = `pill ${kind || ''}`;
  s.dataset.state = text;
}

// Reads GET /admin/v1/samples with fetch (EventSource cannot send the Authorization header):
// the backlog first (everything after the last sample seen, up to 15 minutes), then one event a
// second. The node ends the stream with an `end` event when it drains.
async function startStream() {
  stopStream();
  if (document.hidden || !state.token) return;
  const ctl = new AbortController();
  state.stream = ctl;
  const headers = { Authorization: `Bearer ${state.token}` };
  if (state.lastId) headers['Last-Event-ID'] = String(state.lastId);
  setStreamState('connecting', '');
  try {
    const res = await fetch('/admin/v1/samples?seconds=900', { headers, signal: ctl.signal, cache: 'no-store' });
    if (res.status === 503) return pollWhileRefused(ctl);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    setStreamState('live', 'ok');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let cut;
      const batch = [];
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const ev = parseEvent(buf.slice(0, cut));
        buf = buf.slice(cut + 2);
        if (ev.event === 'sample') {
          batch.push(JSON.parse(ev.data));
          state.lastId = Math.max(state.lastId, Number(ev.id) || 0);
        } else if (ev.event === 'end') {
          setStreamState(`stream ended: ${JSON.parse(ev.data).reason}`, 'warn');
        }
      }
      if (batch.length) addSamples(batch);
    }
    if (state.stream === ctl) retryStream(ctl, 2000);
  } catch (e) {
    if (ctl.signal.aborted) return;
    setStreamState('reconnecting', 'bad');
    retryStream(ctl, 3000);
  }
}

function parseEvent(text) {
  const ev = { event: 'message', data: '', id: '' };
  for (const line of text.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') ev.data += (ev.data ? '\n' : '') + value;
    else if (field === 'event') ev.event = value;
    else if (field === 'id') ev.id = value;
  }
  return ev;
}

function retryStream(ctl, ms) {
  if (state.stream !== ctl) return;
  clearTimeout(state.streamRetry);
  state.streamRetry = setTimeout(() => { if (state.stream === ctl) startStream(); }, ms);
}

// The node takes no new streams while it drains (or when too many are open): its samples are
// then read with node.samples every 2 s, and the stream is tried again every 10 s.
function pollWhileRefused(ctl) {
  setStreamState('polling (node draining or busy)', 'warn');
  const tick = async () => {
    if (state.stream !== ctl || document.hidden) return;
    try {
      const since = state.lastId ? Math.ceil((Date.now() - state.lastId) / 1000) + 1 : 900;
      const data = await run('node.samples', { seconds: Math.min(900, Math.max(1, since)) });
      addSamples(data.samples);
      if (data.samples.length) state.lastId = Math.max(state.lastId, Date.parse(data.samples[data.samples.length - 1].at));
    } catch (e) { /* shown by the next refresh */ }
  };
  tick();
  state.poll = setInterval(tick, 2000);
  retryStream(ctl, 10000);
}

function stopStream() {
  clearTimeout(state.streamRetry);
  clearInterval(state.poll);
  state.poll = null;
  if (state.stream) state.stream.abort();
  state.stream = null;
}

// -- sessions -----------------------------------------------------------------------------------

async function loadSessions() {
  const user = $('sessions-user').value.trim();
  $('kick-user').disabled = !canMutate() || !user;
  try {
    const data = await run('sessions.list', user ? { user, limit: 1000 } : { limit: 1000 });
    $('sessions-count').textContent = `${data.count} session(s)`;
    fillTable($('sessions'), data.sessions.map((s) => el('tr', { dataset: { session: s.session_id, user: s.user_id } },
      el('td', { class: 'mono' }, s.session_id),
      el('td', {}, el('a', { href: '#sessions', onclick: (e) => { e.preventDefault(); $('sessions-user').value = s.user_id; loadSessions(); } }, s.user_id)),
      el('td', {}, s.device_id),
      el('td', { class: 'mono' }, s.ip),
      el('td', { class: 'mono' }, s.node),
      el('td', { title: s.connected_at }, ago(s.connected_at)),
      el('td', { class: 'actions' }, mutatingButton('Kick', 'sessions.kick', () => kick({ id: s.session_id }, `session ${s.session_id} of ${s.user_id}`, 1), 'small danger')))),
    user ? `no sessions of ${user}` : 'no sessions');
  } catch (e) { failed(e); }
}

async function kick(target, what, count) {
  const reason = await confirmAction('Kick', `Close ${count} WebSocket(s): ${what}. The client sees close code 4000 and may reconnect.`, 'Kick', true);
  if (reason === null) return;
  try {
    const done = await run('sessions.kick', reason ? { ...target, reason } : target);
    flash(`kicked ${done.kicked} session(s) (close code ${done.close_code})`);
  } catch (e) { failed(e); }
  setTimeout(loadSessions, 300);
}

// -- entities -----------------------------------------------------------------------------------

async function lookUpEntity() {
  const kind = $('entity-kind').value, id = $('entity-id').value.trim();
  if (!id) return;
  try {
    const where = await run('entities.where', { kind, id });
    fillKv($('entity-where'), [['kind', kind], ['id', id], ['owner', where.owner], ['here', where.here ? 'yes' : 'no'], ['active', where.active ? 'yes' : 'no']]);
    const inspected = await run('entities.inspect', { kind, id });
    if (!inspected.active) {
      fillKv($('entity-summary'), [['', 'not active here: nothing to ask (a lookup never activates it)']]);
      return;
    }
    fillKv($('entity-summary'), Object.entries(inspected.summary).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) =>
      [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]));
  } catch (e) { failed(e); }
}

// -- top actors ---------------------------------------------------------------------------------

async function loadTop() {
  try {
    const data = await run('node.top', { limit: 10 });
    const worst = Math.max(1, ...data.actors.map((a) => (a.answered ? a.wait_ms : 2000)));
    const wait = (answered, ms) => (!answered || ms < 0 ? 'no answer' : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(0)} ms`);
    fillTable($('top-kinds'), data.kinds.map((k) => el('tr', {},
      el('td', {}, k.kind), el('td', { class: 'num' }, num(k.active)), el('td', { class: 'num' }, num(k.probed)),
      el('td', { class: 'num' }, wait(true, k.max_wait_ms)))), 'nothing probed');
    fillTable($('top-actors'), data.actors.map((a) => el('tr', {},
      el('td', {}, a.kind), el('td', { class: 'mono' }, a.id), el('td', { class: 'num' }, wait(a.answered, a.wait_ms)),
      el('td', {}, el('div', { class: `bar ${a.answered ? '' : 'bad'}`, style: `width:${Math.max(0.5, 100 * (a.answered ? a.wait_ms : 2000) / worst)}%` })))), 'nothing probed');
  } catch (e) { failed(e); }
}

// -- dead tasks ---------------------------------------------------------------------------------

async function loadDead(first) {
  if (first) state.deadCursor = '';
  try {
    const data = await run('tasks.dead.list', state.deadCursor ? { limit: 50, cursor: state.deadCursor } : { limit: 50 });
    const tasks = data.tasks || [];
    state.deadCursor = data.next_cursor || '';
    $('dead-more').disabled = !state.deadCursor;
    $('dead-count').textContent = `${tasks.length} dead task(s) on this page`;
    fillTable($('dead'), tasks.map((t) => el('tr', { dataset: { task: t.id } },
      el('td', { class: 'mono' }, t.id), el('td', {}, t.task_type),
      el('td', { class: 'num' }, `${t.attempt}/${t.max_retries}`),
      el('td', { class: 'err', title: t.last_error }, t.last_error || ''),
      el('td', { title: t.updated_at }, ago(t.updated_at)),
      el('td', { class: 'actions' },
        mutatingButton('Requeue', 'tasks.dead.requeue', () => deadAction('tasks.dead.requeue', t, 'Requeue', `Put task ${t.id} (${t.task_type}) back in the queue with its attempts reset.`)),
        ' ',
        mutatingButton('Discard', 'tasks.dead.discard', () => deadAction('tasks.dead.discard', t, 'Discard', `Cancel dead task ${t.id} (${t.task_type}); retention deletes it.`), 'small danger')))),
    'no dead tasks');
  } catch (e) { failed(e); }
}

async function deadAction(command, task, label, text) {
  if ((await confirmAction(label, text, label)) === null) return;
  try {
    const t = await run(command, { id: task.id });
    flash(`task ${t.id}: ${t.status}`);
  } catch (e) { failed(e); }
  loadDead(true);
}

// -- rate-limit rules ---------------------------------------------------------------------------

async function loadRules() {
  try {
    const data = await run('ratelimits.get');
    const rules = data.rules || [];
    const match = (m = {}) => [m.method, m.path_prefix, m.frame && `frame ${m.frame}`].filter(Boolean).join(' ') || 'everything';
    const limit = (r) => (r.algorithm === 'token_bucket' ? `${r.capacity} (+${r.refill_per_sec}/s)` : `${r.limit} / ${r.window_sec}s`);
    fillTable($('rules'), rules.map((r) => el('tr', {},
      el('td', {}, r.name), el('td', { class: 'mono' }, match(r.match)), el('td', {}, r.key), el('td', {}, r.algorithm),
      el('td', { class: 'num' }, limit(r)),
      el('td', {}, el('span', { class: `pill ${r.mode === 'simulate' ? 'warn' : ''}` }, r.mode || 'enforce')),
      el('td', {}, r.on_error || 'allow'))), 'no rules: nothing is rate limited');
    $('rules-json').value = JSON.stringify({ rules }, null, 2);
  } catch (e) { failed(e); }
}

async function applyRules() {
  let parsed;
  try { parsed = JSON.parse($('rules-json').value); } catch (e) { return flash(`not JSON: ${e.message}`, 'bad'); }
  if (!parsed || !Array.isArray(parsed.rules)) return flash('the rule set is an object with a "rules" list', 'bad');
  const ok = await confirmAction('Replace the rate-limit rules', `Replace the rules in force with these ${parsed.rules.length} rule(s). The node checks them whole: an invalid set changes nothing.`, 'Apply');
  if (ok === null) return;
  try {
    await run('ratelimits.set', { rules: JSON.stringify(parsed) });
    flash(`${parsed.rules.length} rule(s) in force`);
    loadRules();
  } catch (e) { failed(e); }
}

// -- drain --------------------------------------------------------------------------------------

async function loadDrain() {
  try {
    const s = await run('node.status');
    showStatus(s);
    showDrain(s.drain, s.websockets);
  } catch (e) { failed(e); }
}

function showDrain(d, websockets) {
  showDrainPill(d);
  fillKv($('drain-progress'), [
    ['state', d.state],
    ['started', d.started_at ? `${d.started_at} (${ago(d.started_at)})` : '–'],
    ['over', d.duration_ms ? duration(d.duration_ms / 1000) : '–'],
    ['sessions at start', num(d.sessions_at_start)],
    ['told to close', num(d.closed)],
    ['WebSockets open now', num(d.open ?? websockets)],
  ]);
  const share = d.sessions_at_start ? d.closed / d.sessions_at_start : d.state === 'serving' ? 0 : 1;
  $('drain-bar').style.width = `${Math.round(100 * share)}%`;
  const draining = d.state !== 'serving';
  document.querySelector('#drain-form button[type=submit]').disabled = !canMutate() || draining;
  $('undrain').disabled = !canMutate() || !draining;
}

async function drain() {
  const over = $('drain-duration').value.trim() || '30s';
  const open = state.drain ? state.drain.open : undefined;
  const ok = await confirmAction('Drain this node',
    `/readyz turns 503 at once and new WebSockets are refused; the ${open ?? 'open'} WebSocket(s) open now close with 1012 over ${over}. Undrain ends it.`, 'Drain');
  if (ok === null) return;
  try {
    const d = await run('node.drain', { duration: over });
    showDrain(d);
    flash(`draining: ${d.sessions_at_start} session(s) over ${over}`);
  } catch (e) { failed(e); }
}

async function undrain() {
  try {
    const d = await run('node.undrain');
    showDrain(d);
    flash('serving again: /readyz 200, WebSockets accepted');
    if (!state.stream || state.poll) startStream();
  } catch (e) { failed(e); }
}

// -- wiring -------------------------------------------------------------------------------------

function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem('parley-admin-theme', theme);
  queueDraw();
}

setTheme(localStorage.getItem('parley-admin-theme')
  || (matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark'));

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('signin-error').textContent = '';
  try { await signIn($('token').value); } catch (err) { $('signin-error').textContent = err.message; }
});
$('dev-mint').addEventListener('click', async () => {
  $('signin-error').textContent = '';
  const res = await fetch('/api/v1/dev/token', { method: 'POST', body: JSON.stringify({ user_id: $('dev-user').value.trim(), role: $('dev-role').value }) });
  if (!res.ok) { $('signin-error').textContent = res.status === 404 ? 'dev tokens are off on this node (auth.dev_tokens)' : `HTTP ${res.status}`; return; }
  $('token').value = (await res.json()).token;
});
$('signout').addEventListener('click', () => signOut());
$('theme').addEventListener('click', () => setTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'));
for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
for (const b of document.querySelectorAll('#range button')) {
  b.addEventListener('click', () => {
    state.rangeSec = Number(b.dataset.sec);
    for (const o of document.querySelectorAll('#range button')) o.setAttribute('aria-pressed', String(o === b));
    $('plot-range-label').textContent = `last ${state.rangeSec / 60} min, one sample a second`;
    queueDraw();
  });
}
$('sessions-form').addEventListener('submit', (e) => { e.preventDefault(); loadSessions(); });
$('sessions-user').addEventListener('input', () => { $('kick-user').disabled = !canMutate() || !$('sessions-user').value.trim(); });
$('kick-user').addEventListener('click', () => {
  const user = $('sessions-user').value.trim();
  const n = $('sessions').querySelectorAll(`tbody tr[data-user="${CSS.escape(user)}"]`).length;
  kick({ user }, `every session of ${user}`, n);
});
$('entity-form').addEventListener('submit', (e) => { e.preventDefault(); lookUpEntity(); });
$('top-refresh').addEventListener('click', loadTop);
$('dead-refresh').addEventListener('click', () => loadDead(true));
$('dead-more').addEventListener('click', () => loadDead(false));
$('rules-refresh').addEventListener('click', loadRules);
$('rules-apply').addEventListener('click', applyRules);
$('drain-form').addEventListener('submit', (e) => { e.preventDefault(); drain(); });
$('undrain').addEventListener('click', undrain);
window.addEventListener('resize', queueDraw);

// Page Visibility: a hidden tab holds no stream and runs no timer; showing it again resumes both
// (the stream from the last sample seen, so the plots have no hole the node still remembers).
document.addEventListener('visibilitychange', () => {
  if (!state.token) return;
  if (document.hidden) {
    stopStream();
    stopTimers();
    setStreamState('paused (tab hidden)', '');
  } else {
    startStream();
    startTimers();
  }
});

const saved = sessionStorage.getItem('parley-admin-token');
if (saved) signIn(saved).catch((e) => signOut(e.message));
