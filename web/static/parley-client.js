// parley-client: the Parley chat protocol (PROTOCOL.md, "Chat over WebSocket") for Node 20 and
// browsers, with reconnects, resume by `sync`, exactly-once in-order delivery to the app, queued
// idempotent sends, and small REST helpers. One ES module without dependencies, so a browser can
// load it as it is.
// ---- errors ------------------------------------------------------------------------------------
/**
 * Every failure the SDK reports. `code` is a server code of PROTOCOL.md (`forbidden`,
 * `rate_limited`, ...) or one of the SDK's own: `timeout` (no answer in time), `disconnected`
 * (a request that is not safe to repeat was on a connection that dropped), `closed` (the client
 * was closed or stopped for good), `unauthorized` (the token was refused at the upgrade).
 */
export class ParleyError extends Error {
    constructor(code, message, extra = {}) {
        super(message);
        this.name = 'ParleyError';
        this.code = code;
        this.status = extra.status;
        this.retryAfterMs = extra.retryAfterMs;
    }
}
/**
 * Full-jitter exponential backoff: a delay drawn uniformly from [0, min(maxMs, baseMs * 2^attempt)).
 * `attempt` counts failed tries since the last good connection, from 0. Drawing over the whole
 * window (not around its end) is what spreads a crowd of clients dropped at the same moment.
 */
export function backoffDelay(attempt, options = {}, random = Math.random) {
    const base = options.baseMs ?? 500;
    const max = options.maxMs ?? 30000;
    const cap = Math.min(max, base * Math.pow(2, Math.min(attempt, 30)));
    return Math.floor(random() * cap);
}
/**
 * Whether a close code is worth a reconnect. Retried: 1000 when the server (not the app) closed,
 * 1001 going away, 1005 no status, 1006 abnormal (cut, refused, node down), 1011 server error,
 * 1012 restart, 1013 try again later (slow reader), 1014 bad gateway. Everything else stops:
 * 1002/1003/1007/1009/1010 are client bugs that a retry repeats, 1008 is policy (auth, ban), and
 * 4000-4999 are application refusals.
 */
export function isRetryableClose(code) {
    return code === 1000 || code === 1001 || code === 1005 || code === 1006 || code === 1011
        || code === 1012 || code === 1013 || code === 1014;
}
/** The `exp` claim of a JWT in ms since the epoch, or undefined. Does not verify anything. */
export function tokenExpiryMs(token) {
    const part = token.split('.')[1];
    if (!part)
        return undefined;
    try {
        const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
        const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
        const text = typeof atob === 'function' ? atob(padded) : globalThis.Buffer.from(padded, 'base64').toString('binary');
        const claims = JSON.parse(text);
        return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
    }
    catch {
        return undefined;
    }
}
/** Text frames with the protobuf JSON mapping (the default). */
export const jsonCodec = {
    binary: false,
    encode: (frame) => JSON.stringify(frame),
    decode: (data) => JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data)),
};
/**
 * Binary frames: the protobuf encoding of proto/parley.proto through protobufjs, handed over by
 * the app so the SDK itself has no dependency. `root` must be loaded with keepCase:
 * `new protobuf.Root().loadSync('parley.proto', { keepCase: true })`. Frames look exactly as
 * with JSON: snake_case names, enums by name, 64-bit integers as strings, times as RFC 3339.
 */
export function protobufCodec(protobuf, root) {
    const timestamp = '.google.protobuf.Timestamp';
    if (!protobuf.wrappers[timestamp]) {
        protobuf.wrappers[timestamp] = {
            fromObject(o) {
                if (typeof o !== 'string')
                    return this.fromObject(o);
                const ms = Date.parse(o);
                return this.create({ seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1e6 });
            },
            toObject(m) {
                return new Date(Number(m.seconds) * 1000 + Math.floor((m.nanos ?? 0) / 1e6)).toISOString();
            },
        };
    }
    const clientType = root.lookupType('parley.pb.ClientFrame');
    const serverType = root.lookupType('parley.pb.ServerFrame');
    return {
        binary: true,
        encode: (frame) => clientType.encode(clientType.fromObject(frame)).finish(),
        decode: (data) => {
            if (typeof data === 'string')
                return JSON.parse(data); // a text frame: JSON
            const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
            return serverType.toObject(serverType.decode(bytes), { longs: String, enums: String, arrays: true });
        },
    };
}
const toNum = (v) => (v === undefined ? 0 : Number(v));
function randomId() {
    const c = globalThis.crypto;
    if (c && typeof c.randomUUID === 'function')
        return c.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}
export class ParleyClient {
    constructor(options) {
        this.ws = null;
        this.stateValue = 'offline';
        this.stopped = false;
        this.attempt = 0;
        this.lastFrameAt = 0;
        this.nextRequest = 1;
        this.pending = new Map();
        this.listeners = new Map();
        /** the highest seq handed to the app per conversation */
        this.delivered = new Map();
        /** seqs of this client's own acked sends above `delivered` (not emitted as messages) */
        this.ownSeqs = new Map();
        /** messages held until a sync ends: after a reconnect, or after a gap */
        this.held = new Map();
        this.syncing = false;
        this.receiptsDue = new Map();
        this.receiptsScheduled = false;
        this.presenceSubs = new Set();
        this.feedSubscribed = false;
        this.gapSyncWanted = false;
        this.options = options;
        this.token = options.token;
        for (const [conv, seq] of Object.entries(options.initialSeqs ?? {}))
            this.delivered.set(conv, seq);
        if (options.autoConnect !== false)
            this.connect();
    }
    // ---- events -------------------------------------------------------------------------------------
    /** Subscribes to an event; returns the function that unsubscribes. */
    on(event, fn) {
        if (!this.listeners.has(event))
            this.listeners.set(event, new Set());
        this.listeners.get(event).add(fn);
        return () => this.listeners.get(event)?.delete(fn);
    }
    emit(event, value) {
        for (const fn of [...(this.listeners.get(event) ?? [])]) {
            try {
                fn(value);
            }
            catch (err) {
                setTimeout(() => { throw err; });
            }
        }
    }
    get state() { return this.stateValue; }
    get welcome() { return this.welcomeValue; }
    get currentToken() { return this.token; }
    /** the highest seq handed to the app per conversation (store it to pass as initialSeqs later) */
    get seqs() { return Object.fromEntries(this.delivered); }
    setState(change) {
        this.stateValue = change.state;
        this.emit('state', change);
    }
    // ---- connection -------------------------------------------------------------------------------
    /** Opens the connection (again, after close()). */
    connect() {
        this.stopped = false;
        this.scheduleRefresh();
        this.open();
    }
    /** Closes for good: pending requests fail with `closed`. */
    close() {
        this.stopped = true;
        clearTimeout(this.retryTimer);
        clearTimeout(this.refreshTimer);
        clearTimeout(this.connectTimer);
        this.stopHeartbeat();
        const ws = this.ws;
        this.ws = null;
        if (ws) {
            try {
                ws.close(1000);
            }
            catch { /* already closed */ }
        }
        this.failAll(new ParleyError('closed', 'the client was closed'));
        this.setState({ state: 'offline', code: 1000 });
    }
    wsUrl() {
        const params = [];
        if (!this.options.authHeader)
            params.push(`token=${encodeURIComponent(this.token)}`);
        if (this.options.codec?.binary)
            params.push('encoding=binary');
        if (!params.length)
            return this.options.url;
        const sep = this.options.url.includes('?') ? '&' : '?';
        return `${this.options.url}${sep}${params.join('&')}`;
    }
    async open() {
        if (this.stopped)
            return;
        const exp = tokenExpiryMs(this.token);
        if (exp !== undefined && exp <= Date.now() && this.options.refreshToken) {
            try {
                this.token = await this.options.refreshToken();
            }
            catch (err) {
                this.emit('error', new ParleyError('unauthorized', `token refresh failed: ${err.message}`));
            }
        }
        if (this.stopped)
            return;
        const Ctor = this.options.WebSocket ?? globalThis.WebSocket;
        if (!Ctor)
            throw new ParleyError('bad_request', 'no WebSocket: pass options.WebSocket (the npm `ws` package in Node 20)');
        this.setState({ state: this.attempt === 0 ? 'connecting' : 'reconnecting', attempt: this.attempt });
        const ws = this.options.authHeader
            ? new Ctor(this.wsUrl(), [], { headers: { Authorization: `Bearer ${this.token}` } })
            : new Ctor(this.wsUrl());
        this.ws = ws;
        clearTimeout(this.connectTimer);
        this.connectTimer = setTimeout(() => {
            if (this.ws === ws && !this.welcomeValue)
                this.reconnectNow();
        }, this.options.connectTimeoutMs ?? 10000);
        if (this.options.codec?.binary)
            ws.binaryType = 'arraybuffer';
        let upgradeStatus;
        let opened = false;
        ws.onopen = () => { opened = true; this.lastFrameAt = Date.now(); };
        ws.onerror = (e) => {
            const m = /Unexpected server response: (\d+)/.exec(String(e?.message ?? e?.error?.message ?? ''));
            if (m)
                upgradeStatus = Number(m[1]);
        };
        ws.onmessage = (e) => {
            if (this.ws !== ws)
                return;
            this.lastFrameAt = Date.now();
            let frame;
            try {
                frame = (this.options.codec ?? jsonCodec).decode(e.data);
            }
            catch {
                return;
            }
            this.onFrame(frame);
        };
        ws.onclose = (e) => {
            if (this.ws !== ws)
                return;
            this.ws = null;
            this.onDisconnect(opened ? e.code : (upgradeStatus ? 4000 + upgradeStatus : e.code), e.reason ?? '', upgradeStatus);
        };
    }
    async onDisconnect(code, reason, upgradeStatus) {
        this.stopHeartbeat();
        this.syncing = false;
        this.welcomeValue = undefined;
        // Requests that were written and may not be repeated fail; the rest wait for the next connection.
        for (const p of [...this.pending.values()]) {
            if (p.written && !p.repeatable) {
                this.pending.delete(p.requestId);
                clearTimeout(p.timer);
                p.reject(new ParleyError('disconnected', `${kindOf(p.frame)}: the connection dropped before the answer; it may or may not have taken effect`));
            }
            else {
                p.written = false;
            }
        }
        if (this.stopped)
            return;
        if ((upgradeStatus === 401 || upgradeStatus === 403) && this.options.refreshToken && this.attempt < 2) {
            try {
                this.token = await this.options.refreshToken();
            }
            catch { /* reported below if it fails again */ }
        }
        else if (upgradeStatus === 401 || upgradeStatus === 403 || !isRetryableClose(code)) {
            const error = upgradeStatus
                ? new ParleyError(upgradeStatus === 401 ? 'unauthorized' : 'forbidden', `the node refused the connection with HTTP ${upgradeStatus}`, { status: upgradeStatus })
                : new ParleyError('closed', `the node closed the connection with ${code}${reason ? ` (${reason})` : ''}; not retried`);
            this.stopped = true;
            clearTimeout(this.refreshTimer);
            this.failAll(error);
            this.emit('error', error);
            this.setState({ state: 'offline', code, reason, error });
            return;
        }
        const delayMs = backoffDelay(this.attempt, this.options.backoff);
        this.attempt++;
        const retryAt = Date.now() + delayMs;
        this.setState({ state: 'reconnecting', attempt: this.attempt, delayMs, retryAt, code, reason });
        this.retryTimer = setTimeout(() => this.open(), delayMs);
    }
    /** Drops the current connection as if the network failed (it reconnects); for apps that know better, and tests. */
    reconnectNow() {
        const ws = this.ws;
        if (!ws) {
            clearTimeout(this.retryTimer);
            this.open();
            return;
        }
        this.ws = null;
        if (typeof ws.terminate === 'function')
            ws.terminate();
        else
            ws.close(4999);
        this.onDisconnect(1006, 'dropped by the client');
    }
    startHeartbeat(intervalMs) {
        this.stopHeartbeat();
        const misses = this.options.heartbeatMisses ?? 2;
        this.heartbeatTimer = setInterval(() => {
            if (!this.ws)
                return;
            if (Date.now() - this.lastFrameAt > intervalMs * misses + 100) {
                this.reconnectNow(); // nothing heard for `misses` intervals: the link is dead even if TCP says nothing
                return;
            }
            this.write({ ping: {} });
        }, intervalMs);
    }
    stopHeartbeat() {
        clearInterval(this.heartbeatTimer);
        this.heartbeatTimer = undefined;
    }
    scheduleRefresh() {
        clearTimeout(this.refreshTimer);
        const exp = tokenExpiryMs(this.token);
        if (!this.options.refreshToken || exp === undefined || this.stopped)
            return;
        const wait = Math.max(0, exp - (this.options.refreshBeforeMs ?? 60000) - Date.now());
        this.refreshTimer = setTimeout(async () => {
            try {
                this.token = await this.options.refreshToken();
            }
            catch (err) {
                this.emit('error', new ParleyError('unauthorized', `token refresh failed: ${err.message}`));
                this.refreshTimer = setTimeout(() => this.scheduleRefresh(), 5000);
                return;
            }
            this.scheduleRefresh();
        }, Math.min(wait, 2 ** 31 - 1));
    }
    write(frame) {
        if (!this.ws || this.ws.readyState !== 1)
            return false;
        this.ws.send((this.options.codec ?? jsonCodec).encode(frame));
        return true;
    }
    failAll(error) {
        for (const p of this.pending.values()) {
            clearTimeout(p.timer);
            p.reject(error);
        }
        this.pending.clear();
    }
    // ---- frames in -------------------------------------------------------------------------------
    onFrame(f) {
        const p = f.request_id ? this.pending.get(f.request_id) : undefined;
        if (f.welcome && !f.request_id) {
            void this.onWelcome(f.welcome);
            return;
        }
        if (f.message)
            this.onMessage(f.message);
        if (f.receipt)
            this.emit('receipt', f.receipt);
        if (f.typing)
            this.emit('typing', f.typing);
        if (f.presence_update)
            this.emit('presence', f.presence_update);
        if (f.feed_item)
            this.emit('feed', f.feed_item);
        if (f.group && !p)
            this.emit('group', f.group);
        if (f.error && !p)
            this.emit('error', new ParleyError(f.error.code, f.error.message, { retryAfterMs: toNum(f.error.retry_after_ms) || undefined }));
        if (!p)
            return;
        if (p.answer && !f[p.answer] && !f.error)
            return;
        this.pending.delete(p.requestId);
        clearTimeout(p.timer);
        if (f.error)
            p.reject(new ParleyError(f.error.code, f.error.message, { retryAfterMs: toNum(f.error.retry_after_ms) || undefined }));
        else
            p.resolve(f);
    }
    async onWelcome(w) {
        const ws = this.ws;
        try {
            this.syncing = true;
            const hello = await this.rawRequest({ hello: { device_id: this.options.deviceId ?? 'default' } }, 'welcome');
            if (this.ws !== ws)
                return;
            this.welcomeValue = hello.welcome ?? w;
            clearTimeout(this.connectTimer);
            this.attempt = 0;
            this.startHeartbeat(toNum(this.welcomeValue.heartbeat_interval_ms) || 25000);
            this.setState({ state: 'connected' });
            this.emit('welcome', this.welcomeValue);
            // Subscriptions live as long as a connection: renew them.
            if (this.presenceSubs.size)
                this.write({ presence: { user_ids: [...this.presenceSubs], subscribe: true } });
            if (this.feedSubscribed)
                this.write({ feed_subscribe: {} });
            // Requests queued while disconnected go out now, in the order they were made.
            this.flushQueue();
            await this.syncAll(ws);
        }
        catch (err) {
            if (this.ws === ws && err instanceof ParleyError && err.code === 'timeout')
                this.reconnectNow();
        }
    }
    /** sync rounds until the node says there is no more; held messages are released at the end. */
    async syncAll(ws) {
        this.syncing = true;
        for (let round = 0; round < 10000; round++) {
            this.flushReceipts();
            const done = await this.rawRequest({ sync: {} }, 'sync_done');
            if (this.ws !== ws)
                return;
            if (!done.sync_done?.has_more)
                break;
            this.releaseHeld(true); // what is contiguous now is safe to hand over, and its receipt moves the cursor
        }
        this.syncing = false;
        this.releaseHeld(false);
        if (this.gapSyncWanted) {
            this.gapSyncWanted = false;
            await this.syncAll(ws);
        }
    }
    onMessage(m) {
        const conv = m.conversation_id;
        const seq = toNum(m.seq);
        const last = this.delivered.get(conv);
        if (last !== undefined && seq <= last) {
            this.receiptDue(conv, seq);
            return;
        } // a duplicate
        if (this.syncing || (last !== undefined && seq > this.nextExpected(conv, last))) {
            // During a sync, and past a gap, hold messages: the sync brings what comes before them.
            if (!this.held.has(conv))
                this.held.set(conv, new Map());
            this.held.get(conv).set(seq, m);
            if (!this.syncing && this.ws) {
                this.syncing = true;
                this.syncAll(this.ws).catch(() => { });
            }
            else if (!this.syncing) {
                this.gapSyncWanted = true;
            }
            return;
        }
        this.deliver(m);
    }
    /** the next seq expected after `last`, skipping this client's own sends (known by their acks) */
    nextExpected(conv, last) {
        const own = this.ownSeqs.get(conv);
        let next = last + 1;
        while (own?.has(next))
            next++;
        return next;
    }
    deliver(m) {
        const conv = m.conversation_id;
        const seq = toNum(m.seq);
        const own = this.ownSeqs.get(conv);
        if (own)
            for (const s of [...own])
                if (s < seq)
                    own.delete(s);
        if (own?.has(seq)) {
            own.delete(seq);
            this.delivered.set(conv, seq);
            this.receiptDue(conv, seq);
            return;
        }
        this.delivered.set(conv, seq);
        this.receiptDue(conv, seq);
        this.emit('message', m);
    }
    /**
     * Hands held messages to the app in seq order. contiguousOnly (between sync rounds): only those
     * that follow what the app has without a gap. A conversation the app has never seen starts at
     * the lowest held seq: sync sends each conversation from this device's cursor, in seq order.
     */
    releaseHeld(contiguousOnly) {
        for (const [conv, msgs] of [...this.held]) {
            const seqs = [...msgs.keys()].sort((a, b) => a - b);
            for (const seq of seqs) {
                const last = this.delivered.get(conv);
                if (last !== undefined && seq <= last) {
                    msgs.delete(seq);
                    continue;
                }
                if (contiguousOnly && last !== undefined && seq !== this.nextExpected(conv, last))
                    break;
                this.deliver(msgs.get(seq));
                msgs.delete(seq);
            }
            if (!msgs.size)
                this.held.delete(conv);
        }
    }
    receiptDue(conv, seq) {
        if (this.options.autoDeliveredReceipts === false)
            return;
        if (seq <= (this.receiptsDue.get(conv) ?? 0))
            return;
        this.receiptsDue.set(conv, seq);
        if (this.receiptsScheduled)
            return;
        this.receiptsScheduled = true;
        setTimeout(() => this.flushReceipts(), 0);
    }
    flushReceipts() {
        this.receiptsScheduled = false;
        if (!this.ws || this.ws.readyState !== 1)
            return;
        for (const [conv, seq] of this.receiptsDue)
            this.write({ receipt: { conversation_id: conv, seq, status: 'DELIVERED' } });
        this.receiptsDue.clear();
    }
    // ---- requests --------------------------------------------------------------------------------
    /** Requests made while disconnected, and repeatable ones whose connection dropped, in request order. */
    flushQueue() {
        const due = [...this.pending.values()].filter((p) => !p.written)
            .sort((a, b) => Number(a.requestId) - Number(b.requestId));
        for (const p of due)
            if (this.write({ ...p.frame, request_id: p.requestId }))
                p.written = true;
    }
    /** writes now (hello, sync: part of the connection itself), never queued */
    rawRequest(frame, answer) {
        return this.track(frame, { repeatable: false, timeoutMs: this.options.requestTimeoutMs ?? 15000, answer, queue: false });
    }
    track(frame, o) {
        if (this.stopped)
            return Promise.reject(new ParleyError('closed', `${kindOf(frame)}: the client is closed`));
        return new Promise((resolve, reject) => {
            const requestId = String(this.nextRequest++);
            const p = { frame, requestId, repeatable: o.repeatable, written: false, resolve, reject, timer: undefined, answer: o.answer };
            p.timer = setTimeout(() => {
                this.pending.delete(requestId);
                reject(new ParleyError('timeout', `${kindOf(frame)}: no answer within ${o.timeoutMs} ms (state: ${this.stateValue})`));
            }, o.timeoutMs);
            this.pending.set(requestId, p);
            const ready = o.queue ? this.stateValue === 'connected' : true;
            if (ready && this.write({ ...frame, request_id: requestId }))
                p.written = true;
            else if (!o.queue) {
                this.pending.delete(requestId);
                clearTimeout(p.timer);
                reject(new ParleyError('disconnected', `${kindOf(frame)}: not connected`));
            }
        });
    }
    /** A request answered by one frame; queued while disconnected. */
    request(frame, repeatable = true) {
        return this.track(frame, { repeatable, timeoutMs: this.options.requestTimeoutMs ?? 15000, queue: true });
    }
    /**
     * Sends a message. Resolves with the ack once the node stored it. While disconnected the send
     * waits, and a send whose connection dropped before its ack is written again with the same
     * client_msg_id: the node answers the original ack and stores nothing twice.
     */
    async send(o) {
        if (!o.conversationId === !o.toUser)
            throw new ParleyError('bad_request', 'send: exactly one of conversationId and toUser');
        const frame = { send: { client_msg_id: o.clientMsgId ?? randomId(), body: o.body } };
        if (o.conversationId)
            frame.send.conversation_id = o.conversationId;
        else
            frame.send.to_user = o.toUser;
        const f = await this.track(frame, { repeatable: true, timeoutMs: this.options.sendTimeoutMs ?? 120000, queue: true });
        const ack = f.ack;
        // The app has its own message from the ack: the same seq coming back (sync, other paths) is not emitted.
        const conv = ack.conversation_id;
        const seq = toNum(ack.seq);
        const last = this.delivered.get(conv);
        if (last === undefined || seq > last) {
            if (!this.ownSeqs.has(conv))
                this.ownSeqs.set(conv, new Set());
            this.ownSeqs.get(conv).add(seq);
        }
        return ack;
    }
    async createGroup(title, memberIds) {
        return (await this.request({ create_group: { title, member_ids: memberIds } }, false)).group;
    }
    async addMembers(conversationId, userIds) {
        return (await this.request({ add_members: { conversation_id: conversationId, user_ids: userIds } }, false)).group;
    }
    async removeMembers(conversationId, userIds) {
        return (await this.request({ remove_members: { conversation_id: conversationId, user_ids: userIds } }, false)).group;
    }
    async leave(conversationId) {
        return (await this.request({ leave: { conversation_id: conversationId } }, false)).group;
    }
    /** READ (or DELIVERED) up to seq, cumulative; no answer (fire and forget while connected). */
    receipt(conversationId, seq, status = 'READ') {
        return this.write({ receipt: { conversation_id: conversationId, seq, status } });
    }
    async history(conversationId, o = {}) {
        return (await this.request({ history: { conversation_id: conversationId, before_seq: o.beforeSeq ?? 0, limit: o.limit ?? 50 } })).history_page;
    }
    async conversations() {
        return (await this.request({ conversations: {} })).conversation_list.items;
    }
    typing(conversationId, active) {
        return this.write({ typing: { conversation_id: conversationId, active } });
    }
    /**
     * Current presence of users (one `presence` event each); with subscribe, later changes too,
     * renewed after every reconnect until unsubscribed.
     */
    presence(userIds, subscribe = true) {
        for (const u of userIds) {
            if (subscribe)
                this.presenceSubs.add(u);
            else
                this.presenceSubs.delete(u);
        }
        this.write({ presence: { user_ids: userIds, subscribe } });
    }
    /** New posts of followed users arrive as `feed` events; renewed after every reconnect. */
    feedSubscribe() {
        this.feedSubscribed = true;
        this.write({ feed_subscribe: {} });
    }
    /** REST helpers on the same node, with this client's current token. */
    rest() {
        const base = this.options.url.replace(/^ws/, 'http').replace(/\/ws(\?.*)?$/, '');
        return new ParleyRest(base, () => this.token);
    }
}
function kindOf(frame) {
    return Object.keys(frame).find((k) => k !== 'request_id') ?? 'request';
}
// ---- REST ----------------------------------------------------------------------------------------
/** Small helpers for the REST API (links, tasks, feed); errors throw ParleyError with the server's code. */
export class ParleyRest {
    constructor(baseUrl, token, fetchFn = (...a) => fetch(...a)) {
        this.baseUrl = baseUrl;
        this.token = token;
        this.fetchFn = fetchFn;
    }
    async call(method, path, body) {
        const headers = { Authorization: `Bearer ${this.token()}` };
        if (body !== undefined)
            headers['Content-Type'] = 'application/json';
        const res = await this.fetchFn(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        const text = await res.text();
        let json;
        try {
            json = text ? JSON.parse(text) : undefined;
        }
        catch {
            json = undefined;
        }
        if (!res.ok) {
            const e = json?.error;
            throw new ParleyError(e?.code ?? `http_${res.status}`, e?.message ?? `HTTP ${res.status}`, { status: res.status, retryAfterMs: e?.retry_after_ms ? Number(e.retry_after_ms) : undefined });
        }
        return json;
    }
    // links
    createLink(o) { return this.call('POST', '/api/v1/urls', o); }
    getLink(key) { return this.call('GET', `/api/v1/urls/${encodeURIComponent(key)}`); }
    deleteLink(key) { return this.call('DELETE', `/api/v1/urls/${encodeURIComponent(key)}`); }
    linkStats(key) { return this.call('GET', `/api/v1/urls/${encodeURIComponent(key)}/stats`); }
    // tasks
    createTask(task) { return this.call('POST', '/api/v1/tasks', task); }
    getTask(id) { return this.call('GET', `/api/v1/tasks/${encodeURIComponent(id)}`); }
    listTasks(q = {}) { return this.call('GET', `/api/v1/tasks${query(q)}`); }
    cancelTask(id) { return this.call('DELETE', `/api/v1/tasks/${encodeURIComponent(id)}`); }
    pauseTask(id) { return this.call('PATCH', `/api/v1/tasks/${encodeURIComponent(id)}/pause`); }
    resumeTask(id) { return this.call('PATCH', `/api/v1/tasks/${encodeURIComponent(id)}/resume`); }
    requeueTask(id) { return this.call('POST', `/api/v1/tasks/${encodeURIComponent(id)}/requeue`); }
    // feed
    createPost(text, mediaUrls = []) { return this.call('POST', '/api/v1/posts', { text, media_urls: mediaUrls }); }
    getPost(id) { return this.call('GET', `/api/v1/posts/${encodeURIComponent(id)}`); }
    deletePost(id) { return this.call('DELETE', `/api/v1/posts/${encodeURIComponent(id)}`); }
    feed(q = {}) { return this.call('GET', `/api/v1/feed${query(q)}`); }
    follow(userId) { return this.call('PUT', `/api/v1/following/${encodeURIComponent(userId)}`); }
    unfollow(userId) { return this.call('DELETE', `/api/v1/following/${encodeURIComponent(userId)}`); }
    like(postId) { return this.call('POST', `/api/v1/posts/${encodeURIComponent(postId)}/likes`); }
    comment(postId, text) { return this.call('POST', `/api/v1/posts/${encodeURIComponent(postId)}/comments`, { text }); }
}
function query(q) {
    const parts = Object.entries(q).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
    return parts.length ? `?${parts.join('&')}` : '';
}
