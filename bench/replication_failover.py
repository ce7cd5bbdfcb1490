#!/usr/bin/env python3
"""Time from SIGKILL of a partition's primary to its partition acknowledging writes again
(docs/benchmarks.md, "Replication"): finds a direct conversation whose primary is the node to
kill (asking a survivor's admin console, entities.where), sends one message into it, kills the
node, then sends the next message through a survivor, retrying `unavailable` with the same
client_msg_id as a client does, until it is acknowledged. Prints the time, detection included.

    replication_failover.py --port SURVIVOR --victim-node n2 --victim-pid PID --secret S
"""
import argparse
import http.client
import json
import os
import signal
import sys
import time

from cluster_hop import token
from cluster_join import ws


def owner(port, secret, conv):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("POST", "/admin/v1/entities.where", json.dumps({"kind": "conv", "id": conv}),
                 {"Authorization": "Bearer " + token(secret, "bench-ops", "admin"),
                  "Content-Type": "application/json"})
    reply = json.loads(conn.getresponse().read())
    return reply["answers"][0]["data"]["owner"]


def send(conn, rid, body):
    conn.send({"request_id": rid, "send": body})
    while True:
        f = conn.read()
        if f.get("request_id") == rid:
            return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--victim-node", required=True)
    ap.add_argument("--victim-pid", type=int, required=True)
    ap.add_argument("--secret", required=True)
    a = ap.parse_args()

    conn = ws(a.port, token(a.secret, "failover-a"))
    conn.read()  # welcome
    for i in range(1000):
        f = send(conn, f"probe{i}", {"to_user": f"failover-b{i}", "client_msg_id": "first",
                                     "body": "before the kill"})
        if "ack" not in f:
            sys.exit(f"a send before the kill was answered {f}")
        conv = f["ack"]["conversation_id"]
        if owner(a.port, a.secret, conv) == a.victim_node:
            break
    else:
        sys.exit(f"no conversation owned by {a.victim_node} found")

    killed = time.monotonic()
    os.kill(a.victim_pid, signal.SIGKILL)
    tries = 0
    while True:
        tries += 1
        f = send(conn, f"after{tries}", {"conversation_id": conv, "client_msg_id": "after",
                                         "body": "after the kill"})
        if "ack" in f:
            break
        if f.get("error", {}).get("code") != "unavailable":
            sys.exit(f"a send after the kill was answered {f}")
        time.sleep(0.05)
    took = (time.monotonic() - killed) * 1000
    print(f"SIGKILL of a primary -> its partition acknowledges writes again: {took:.0f} ms "
          f"({tries} sends, seq {f['ack']['seq']}, lease TTL 3000 ms)")


if __name__ == "__main__":
    main()
