#!/usr/bin/env python3
"""first_write.py T0_MS DEADLINE_MS IP:PORT...

Sends a REGISTER (protocol v1, docs/protocol.md) to every server every 2 ms
until each has answered one `ok`, and prints, per server, the wall-clock
milliseconds from T0_MS (the caller's time of the last node's start) to
that answer, and the statuses seen before it. Exit 1 if some server did
not answer ok before DEADLINE_MS after T0_MS. Standard library only.
"""
import os
import select
import socket
import struct
import sys
import time

STATUS = {0: "ok", 8: "overloaded", 9: "no_node_available", 11: "not_ready"}


def register(req_id, name):
    body = struct.pack(">QI", 1, 0) + b"\x00\x00\x00"    # handle, ttl, no endpoint
    body += bytes([len(name)]) + name + b"\x00"           # name, no metadata
    op = struct.pack(">BBH", 0x01, 0, len(body)) + body
    return struct.pack(">HBBQHH", 0x5357, 1, 0, req_id, 1, 0) + op


def main():
    t0 = int(sys.argv[1]) / 1000.0
    deadline = t0 + int(sys.argv[2]) / 1000.0
    servers = []
    for s in sys.argv[3:]:
        host, port = s.rsplit(":", 1)
        servers.append((host, int(port)))
    socks = []
    for addr in servers:
        so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        so.connect(addr)
        so.setblocking(False)
        socks.append(so)
    done = [None] * len(servers)
    seen = [dict() for _ in servers]
    req = 0
    tag = os.urandom(4).hex().encode()
    nxt = 0.0
    while None in done and time.time() < deadline:
        now = time.time()
        if now >= nxt:
            for i, so in enumerate(socks):
                if done[i] is None:
                    req += 1
                    try:
                        so.send(register(req, b"first-" + tag + b"-%d" % i))
                    except OSError:
                        pass
            nxt = now + 0.002
        r, _, _ = select.select([s for i, s in enumerate(socks) if done[i] is None],
                                [], [], 0.002)
        for so in r:
            i = socks.index(so)
            try:
                d = so.recv(2048)
            except OSError:
                continue
            if len(d) < 22 or d[0:2] != b"SW":
                continue
            st = d[19]
            name = STATUS.get(st, "status_%d" % st)
            seen[i][name] = seen[i].get(name, 0) + 1
            if st == 0 and done[i] is None:
                done[i] = time.time()
    for i, addr in enumerate(servers):
        ms = "none" if done[i] is None else "%.0f" % ((done[i] - t0) * 1000)
        before = ",".join("%s:%d" % kv for kv in sorted(seen[i].items()) if kv[0] != "ok")
        print("%s:%d %s %s" % (addr[0], addr[1], ms, before or "-"))
    return 0 if None not in done else 1


if __name__ == "__main__":
    sys.exit(main())
