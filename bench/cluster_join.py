#!/usr/bin/env python3
"""Time for a joining node to serve (docs/benchmarks.md, "Cluster"): called right after a fourth
node's process was started (--started-ns, time.time_ns() then), it polls that node's /readyz
until 200, then connects a WebSocket to it and sends one chat message into a direct
conversation (owned by another node: the new node owns no partition until replication, issue
15) and waits for its ack. Prints both times, counted from the process start.

    cluster_join.py --port P --secret S --started-ns T
"""
import argparse
import base64
import http.client
import json
import os
import socket
import struct
import sys
import time

from cluster_hop import token


def ready(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/readyz")
        return conn.getresponse().status == 200
    except OSError:
        return False


class ws:
    """The smallest WebSocket client this needs: text frames, no extensions."""

    def __init__(self, port, tok):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {tok}\r\n\r\n")
                          .encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            sys.exit(f"WebSocket upgrade refused: {head[:200]}")

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            sys.exit("the node closed the WebSocket")
        return data

    def _take(self, n):
        while len(self.buf) < n:
            self.buf += self._recv()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0xFE]) + struct.pack("!H", n))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def read(self):
        """The next text frame as JSON (control frames skipped)."""
        while True:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._take(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._take(8))[0]
            payload = self._take(n)
            if b0 & 0x0F == 0x1:
                return json.loads(payload)
            if b0 & 0x0F == 0x8:
                sys.exit("the node closed the WebSocket")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--started-ns", type=int, required=True)
    a = ap.parse_args()
    since = lambda: (time.time_ns() - a.started_ns) / 1e6

    deadline = time.time() + 60
    while not ready(a.port):
        if time.time() > deadline:
            sys.exit("the joining node did not answer /readyz 200 within 60 s")
        time.sleep(0.005)
    ready_ms = since()

    conn = ws(a.port, token(a.secret, "join-bench-a"))
    conn.read()  # welcome
    sent_at = since()
    conn.send({"request_id": "1", "send": {"to_user": "join-bench-b", "client_msg_id": "j1",
                                           "body": "first through the new node"}})
    while True:
        f = conn.read()
        if f.get("request_id") == "1":
            break
    if "ack" not in f:
        sys.exit(f"the first message through the joining node was answered {f}")
    acked_ms = since()
    print(f"join (no partition handoff until replication, issue 15): process start -> /readyz 200"
          f" {ready_ms:.0f} ms; -> first message sent through it acknowledged {acked_ms:.0f} ms"
          f" (connect and welcome {sent_at - ready_ms:.1f} ms, send -> ack"
          f" {acked_ms - sent_at:.1f} ms, owner on another node)")


if __name__ == "__main__":
    main()
