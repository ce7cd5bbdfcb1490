/** 64-bit integers may come as JSON numbers or strings. */
export type U64 = number | string;
export interface Welcome {
    user_id: string;
    session_id: string;
    node: string;
    server_time: string;
    heartbeat_interval_ms: U64;
    device_id?: string;
}
export interface Ack {
    conversation_id: string;
    client_msg_id: string;
    seq: U64;
    sent_at: string;
}
export interface Group {
    conversation_id: string;
    title: string;
    member_ids: string[];
    created_at: string;
    admin_ids: string[];
}
export interface Message {
    conversation_id: string;
    seq: U64;
    sender_id: string;
    client_msg_id: string;
    body: string;
    sent_at: string;
}
export interface Receipt {
    conversation_id: string;
    user_id?: string;
    seq: U64;
    status: 'DELIVERED' | 'READ';
}
export interface SyncDone {
    messages: U64;
    has_more?: boolean;
}
export interface HistoryPage {
    conversation_id: string;
    messages: Message[];
    has_more: boolean;
}
export interface ConversationSummary {
    conversation_id: string;
    kind: 'DIRECT' | 'GROUP';
    title: string;
    member_ids: string[];
    last_seq: U64;
    read_seq: U64;
    unread: U64;
    admin_ids: string[];
}
export interface ConversationList {
    items: ConversationSummary[];
}
export interface Typing {
    conversation_id: string;
    user_id?: string;
    active: boolean;
}
export interface PresenceUpdate {
    user_id: string;
    online: boolean;
    last_seen?: string;
}
export interface Post {
    post_id: string;
    author_id: string;
    text: string;
    media_urls: string[];
    created_at: string;
    likes: U64;
    comments: U64;
    shares: U64;
}
export interface FeedItem {
    post: Post;
    score?: number;
}
export interface ErrorBody {
    code: string;
    message: string;
    retry_after_ms?: U64;
}
export interface ClientFrame {
    request_id?: string;
    hello?: {
        device_id: string;
    };
    ping?: Record<string, never>;
    send?: {
        conversation_id?: string;
        to_user?: string;
        client_msg_id: string;
        body: string;
    };
    create_group?: {
        title: string;
        member_ids: string[];
    };
    add_members?: {
        conversation_id: string;
        user_ids: string[];
    };
    remove_members?: {
        conversation_id: string;
        user_ids: string[];
    };
    leave?: {
        conversation_id: string;
    };
    receipt?: Receipt;
    sync?: Record<string, never>;
    history?: {
        conversation_id: string;
        before_seq?: number;
        limit?: number;
    };
    conversations?: Record<string, never>;
    typing?: Typing;
    presence?: {
        user_ids: string[];
        subscribe: boolean;
    };
    feed_subscribe?: Record<string, never>;
}
export interface ServerFrame {
    request_id?: string;
    welcome?: Welcome;
    pong?: {
        server_time: string;
    };
    error?: ErrorBody;
    ack?: Ack;
    group?: Group;
    message?: Message;
    receipt?: Receipt;
    sync_done?: SyncDone;
    history_page?: HistoryPage;
    conversation_list?: ConversationList;
    typing?: Typing;
    presence_update?: PresenceUpdate;
    feed_item?: FeedItem;
}
/**
 * Every failure the SDK reports. `code` is a server code of PROTOCOL.md (`forbidden`,
 * `rate_limited`, ...) or one of the SDK's own: `timeout` (no answer in time), `disconnected`
 * (a request that is not safe to repeat was on a connection that dropped), `closed` (the client
 * was closed or stopped for good), `unauthorized` (the token was refused at the upgrade).
 */
export declare class ParleyError extends Error {
    readonly code: string;
    readonly status?: number;
    readonly retryAfterMs?: number;
    constructor(code: string, message: string, extra?: {
        status?: number;
        retryAfterMs?: number;
    });
}
export interface BackoffOptions {
    /** delay cap of the first retry, ms (default 500) */
    baseMs?: number;
    /** the bound of every delay, ms (default 30,000) */
    maxMs?: number;
}
/**
 * Full-jitter exponential backoff: a delay drawn uniformly from [0, min(maxMs, baseMs * 2^attempt)).
 * `attempt` counts failed tries since the last good connection, from 0. Drawing over the whole
 * window (not around its end) is what spreads a crowd of clients dropped at the same moment.
 */
export declare function backoffDelay(attempt: number, options?: BackoffOptions, random?: () => number): number;
/**
 * Whether a close code is worth a reconnect. Retried: 1000 when the server (not the app) closed,
 * 1001 going away, 1005 no status, 1006 abnormal (cut, refused, node down), 1011 server error,
 * 1012 restart, 1013 try again later (slow reader), 1014 bad gateway. Everything else stops:
 * 1002/1003/1007/1009/1010 are client bugs that a retry repeats, 1008 is policy (auth, ban), and
 * 4000-4999 are application refusals.
 */
export declare function isRetryableClose(code: number): boolean;
/** The `exp` claim of a JWT in ms since the epoch, or undefined. Does not verify anything. */
export declare function tokenExpiryMs(token: string): number | undefined;
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';
export interface StateChange {
    state: ConnectionState;
    /** reconnecting: the failed tries so far */
    attempt?: number;
    /** reconnecting: ms until the next try, and when (ms since the epoch) */
    delayMs?: number;
    retryAt?: number;
    /** the close code that caused this change, when there is one */
    code?: number;
    reason?: string;
    /** offline: why the client stopped */
    error?: ParleyError;
}
export interface ClientOptions {
    /** ws:// or wss:// URL of the node's /ws endpoint */
    url: string;
    /** the JWT */
    token: string;
    /** called before the token's `exp` (and after the upgrade refused it); resolves to a new token */
    refreshToken?: () => Promise<string>;
    /** how long before `exp` to refresh (default 60,000 ms) */
    refreshBeforeMs?: number;
    /** sent in `hello`; delivery cursors are per device (default "default") */
    deviceId?: string;
    /** a WebSocket constructor: globalThis.WebSocket in browsers, the npm `ws` package in Node 20 */
    WebSocket?: any;
    /** Node with `ws`: send the token as `Authorization: Bearer` instead of `?token=` */
    authHeader?: boolean;
    backoff?: BackoffOptions;
    /** requests other than send fail with `timeout` after this long (default 15,000 ms) */
    requestTimeoutMs?: number;
    /** a send fails with `timeout` after this long, offline time included (default 120,000 ms) */
    sendTimeoutMs?: number;
    /** the connection is declared dead after this many heartbeat intervals without a frame (default 2) */
    heartbeatMisses?: number;
    /** the last seq the app already has per conversation (from an earlier run); older ones are dropped */
    initialSeqs?: Record<string, number>;
    /** acknowledge delivered messages with `receipt DELIVERED` automatically (default true) */
    autoDeliveredReceipts?: boolean;
    /** start connecting in the constructor (default true) */
    autoConnect?: boolean;
}
export interface SendOptions {
    conversationId?: string;
    toUser?: string;
    body: string;
    /** the idempotency key; generated when absent */
    clientMsgId?: string;
}
type Events = {
    message: Message;
    receipt: Receipt;
    typing: Typing;
    presence: PresenceUpdate;
    feed: FeedItem;
    group: Group;
    state: StateChange;
    welcome: Welcome;
    error: ParleyError;
};
export declare class ParleyClient {
    readonly options: ClientOptions;
    private token;
    private ws;
    private stateValue;
    private stopped;
    private attempt;
    private retryTimer;
    private refreshTimer;
    private heartbeatTimer;
    private lastFrameAt;
    private nextRequest;
    private pending;
    private listeners;
    /** the highest seq handed to the app per conversation */
    private delivered;
    /** seqs of this client's own acked sends above `delivered` (not emitted as messages) */
    private ownSeqs;
    /** messages held until a sync ends: after a reconnect, or after a gap */
    private held;
    private syncing;
    private receiptsDue;
    private receiptsScheduled;
    private presenceSubs;
    private feedSubscribed;
    private welcomeValue;
    private gapSyncWanted;
    constructor(options: ClientOptions);
    /** Subscribes to an event; returns the function that unsubscribes. */
    on<K extends keyof Events>(event: K, fn: (value: Events[K]) => void): () => void;
    private emit;
    get state(): ConnectionState;
    get welcome(): Welcome | undefined;
    get currentToken(): string;
    /** the highest seq handed to the app per conversation (store it to pass as initialSeqs later) */
    get seqs(): Record<string, number>;
    private setState;
    /** Opens the connection (again, after close()). */
    connect(): void;
    /** Closes for good: pending requests fail with `closed`. */
    close(): void;
    private wsUrl;
    private open;
    private onDisconnect;
    /** Drops the current connection as if the network failed (it reconnects); for apps that know better, and tests. */
    reconnectNow(): void;
    private startHeartbeat;
    private stopHeartbeat;
    private scheduleRefresh;
    private write;
    private failAll;
    private onFrame;
    private onWelcome;
    /** sync rounds until the node says there is no more; held messages are released at the end. */
    private syncAll;
    private onMessage;
    /** the next seq expected after `last`, skipping this client's own sends (known by their acks) */
    private nextExpected;
    private deliver;
    /**
     * Hands held messages to the app in seq order. contiguousOnly (between sync rounds): only those
     * that follow what the app has without a gap. A conversation the app has never seen starts at
     * the lowest held seq: sync sends each conversation from this device's cursor, in seq order.
     */
    private releaseHeld;
    private receiptDue;
    private flushReceipts;
    /** Requests made while disconnected, and repeatable ones whose connection dropped, in request order. */
    private flushQueue;
    /** writes now (hello, sync: part of the connection itself), never queued */
    private rawRequest;
    private track;
    /** A request answered by one frame; queued while disconnected. */
    request(frame: ClientFrame, repeatable?: boolean): Promise<ServerFrame>;
    /**
     * Sends a message. Resolves with the ack once the node stored it. While disconnected the send
     * waits, and a send whose connection dropped before its ack is written again with the same
     * client_msg_id: the node answers the original ack and stores nothing twice.
     */
    send(o: SendOptions): Promise<Ack>;
    createGroup(title: string, memberIds: string[]): Promise<Group>;
    addMembers(conversationId: string, userIds: string[]): Promise<Group>;
    removeMembers(conversationId: string, userIds: string[]): Promise<Group>;
    leave(conversationId: string): Promise<Group>;
    /** READ (or DELIVERED) up to seq, cumulative; no answer (fire and forget while connected). */
    receipt(conversationId: string, seq: number, status?: 'DELIVERED' | 'READ'): boolean;
    history(conversationId: string, o?: {
        beforeSeq?: number;
        limit?: number;
    }): Promise<HistoryPage>;
    conversations(): Promise<ConversationSummary[]>;
    typing(conversationId: string, active: boolean): boolean;
    /**
     * Current presence of users (one `presence` event each); with subscribe, later changes too,
     * renewed after every reconnect until unsubscribed.
     */
    presence(userIds: string[], subscribe?: boolean): void;
    /** New posts of followed users arrive as `feed` events; renewed after every reconnect. */
    feedSubscribe(): void;
    /** REST helpers on the same node, with this client's current token. */
    rest(): ParleyRest;
}
/** Small helpers for the REST API (links, tasks, feed); errors throw ParleyError with the server's code. */
export declare class ParleyRest {
    readonly baseUrl: string;
    private readonly token;
    private readonly fetchFn;
    constructor(baseUrl: string, token: () => string, fetchFn?: typeof fetch);
    call<T = any>(method: string, path: string, body?: unknown): Promise<T>;
    createLink(o: {
        long_url: string;
        custom_alias?: string;
        ttl?: number;
        redirect?: number;
    }): Promise<any>;
    getLink(key: string): Promise<any>;
    deleteLink(key: string): Promise<void>;
    linkStats(key: string): Promise<any>;
    createTask(task: Record<string, unknown>): Promise<any>;
    getTask(id: string): Promise<any>;
    listTasks(q?: {
        status?: string;
        task_type?: string;
        limit?: number;
        cursor?: string;
    }): Promise<any>;
    cancelTask(id: string): Promise<any>;
    pauseTask(id: string): Promise<any>;
    resumeTask(id: string): Promise<any>;
    requeueTask(id: string): Promise<any>;
    createPost(text: string, mediaUrls?: string[]): Promise<Post>;
    getPost(id: string): Promise<Post>;
    deletePost(id: string): Promise<void>;
    feed(q?: {
        limit?: number;
        cursor?: string;
        mode?: 'ranked' | 'chronological';
    }): Promise<{
        items: FeedItem[];
        next_cursor: string;
    }>;
    follow(userId: string): Promise<void>;
    unfollow(userId: string): Promise<void>;
    like(postId: string): Promise<any>;
    comment(postId: string, text: string): Promise<any>;
}
export {};
