#!/usr/bin/env python3
"""The cross-node hop at light load: one request at a time, GET /api/v1/posts/{id} answered by
the node that owns the post's shard ("local") and by the other nodes, which forward it
("forwarded"); prints p50/p99 of each and the difference of the medians.

    cluster_hop.py --ports P1,P2,P3 --secret S [--posts 60] [--rounds 20]
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import statistics
import sys
import time


def token(secret, user, role=None):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    claims = {"sub": user, "exp": int(time.time()) + 3600}
    if role:
        claims["role"] = role
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def shard_of(post_id, shards=16):
    """common/time_ordered_id.cpp: id_shard (FNV-1a 32 over the id)."""
    h = 2166136261
    for c in post_id.encode():
        h ^= c
        h = (h * 16777619) & 0xFFFFFFFF
    return h % shards


def call(conn, method, path, body, tok):
    headers = {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    res = conn.getresponse()
    return res.status, res.read()


def percentile(values, p):
    values = sorted(values)
    return values[int(p * (len(values) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--posts", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=20)
    a = ap.parse_args()
    ports = [int(p) for p in a.ports.split(",")]
    conns = [http.client.HTTPConnection("127.0.0.1", p) for p in ports]
    admin = token(a.secret, "bench-ops", "admin")

    owner_of_port = {}
    for i, conn in enumerate(conns):
        status, body = call(conn, "POST", "/admin/v1/cluster.members", {}, admin)
        me = [m for m in json.loads(body)["answers"][0]["data"]["members"] if m.get("self")]
        owner_of_port[i] = me[0]["node"] if me else None

    posts = []
    for n in range(a.posts):
        tok = token(a.secret, f"hop-author-{n}")
        status, body = call(conns[n % len(conns)], "POST", "/api/v1/posts", {"text": "hop"}, tok)
        if status != 201:
            sys.exit(f"creating a post: {status} {body[:200]}")
        post_id = json.loads(body)["post_id"]
        status, body = call(conns[0], "POST", "/admin/v1/entities.where",
                            {"kind": "post_shard", "id": str(shard_of(post_id))}, admin)
        owner = json.loads(body)["answers"][0]["data"]["owner"]
        posts.append((post_id, owner, tok))
    print(f"  {len(posts)} posts over {len(set(o for _, o, _ in posts))} owner nodes",
          file=sys.stderr)

    local, forwarded = [], []
    for r in range(a.rounds):
        for post_id, owner, tok in posts:
            for i, conn in enumerate(conns):
                start = time.perf_counter()
                status, _ = call(conn, "GET", f"/api/v1/posts/{post_id}", None, tok)
                took = (time.perf_counter() - start) * 1000
                if status != 200:
                    sys.exit(f"GET post on port {ports[i]}: {status}")
                (local if owner_of_port[i] == owner else forwarded).append(took)
        if (r + 1) % 5 == 0:
            print(f"  round {r + 1}/{a.rounds}", file=sys.stderr)

    p50l, p50f = statistics.median(local), statistics.median(forwarded)
    print(f"post read, answered by the owner: p50 {p50l:.3f} ms, p99 {percentile(local, 0.99):.3f} ms"
          f" ({len(local)} requests)")
    print(f"post read, forwarded to the owner: p50 {p50f:.3f} ms, p99 {percentile(forwarded, 0.99):.3f} ms"
          f" ({len(forwarded)} requests)")
    print(f"cross-node hop overhead at light load: p50 {p50f - p50l:.3f} ms")


if __name__ == "__main__":
    main()
