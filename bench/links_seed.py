#!/usr/bin/env python3
"""Creates N short links through POST /api/v1/urls with 32 concurrent keep-alive connections
and writes their keys, one per line, for the redirect benchmark's wrk script.
Usage: links_seed.py PORT TOKEN COUNT KEYS_FILE"""
import http.client
import json
import sys
import threading

port, token, count, out_path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
workers = 32
keys = [None] * count
done = [0]
lock = threading.Lock()


def work(first):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    for i in range(first, count, workers):
        body = json.dumps({"long_url": f"https://example.com/articles/{i}?utm_source=bench"})
        conn.request("POST", "/api/v1/urls", body, headers)
        res = conn.getresponse()
        data = res.read()
        if res.status != 201:
            sys.exit(f"create failed: {res.status} {data!r}")
        keys[i] = json.loads(data)["key"]
        with lock:
            done[0] += 1
            if done[0] % 10000 == 0:
                print(f"  seeded {done[0]}/{count} links", file=sys.stderr, flush=True)


threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(out_path, "w") as f:
    f.write("\n".join(keys) + "\n")
