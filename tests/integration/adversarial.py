#!/usr/bin/env python3
"""Helpers of tests/integration/adversarial.sh: frame replay, spoofing and
a registration client that records the outcome of every single name.

  adversarial.py replay --port MAC=IFACE [--port ...] [--gossip-port P]
                        [--rate FPS] PCAP...
      Reads the pcap files (tcpdump -w, Ethernet), keeps the IPv4/UDP
      frames from or to the gossip port (default 7401), drops duplicates
      (a frame seen on two veths), and sends each one unchanged from the
      interface mapped to its destination MAC (AF_PACKET, run where those
      interfaces are). Prints what it sent per interface.
  adversarial.py gossip-payload PCAP SRC_IP DST_IP [--gossip-port P]
      Prints (hex) the UDP payload of the last gossip datagram from SRC_IP
      to DST_IP in PCAP: an authentic datagram, to be replayed from a
      spoofed source.
  adversarial.py spoof-udp IFACE DST_MAC SRC_IP DST_IP PORT HEX [COUNT]
      Sends COUNT (1) UDP datagrams SRC_IP:PORT -> DST_IP:PORT with payload
      HEX from IFACE, with IFACE's own MAC as the Ethernet source.
  adversarial.py spoof-arp IFACE CLAIM_IP TARGET_IP TARGET_MAC [COUNT]
                           [--flood-s S [--interval-ms MS]]
      From IFACE, with IFACE's MAC: an unsolicited ARP reply to TARGET
      saying CLAIM_IP is at our MAC, a gratuitous ARP request and a
      gratuitous ARP reply (broadcast) for CLAIM_IP; COUNT (1) times each.
      With --flood-s S: only the unicast reply, every --interval-ms (2)
      for S seconds or until SIGTERM.
  adversarial.py writes --server IP:PORT --pattern P --start S --count N
                        --out FILE [--xor X] [--rate OPS] [--batch K]
                        [--window W] [--timeout MS] [--retries R]
                        [--deadline-s S] [--progress FILE]
      REGISTERs names P % n (n = S .. S+N-1) with handle
      splitmix64(n) ^ X (swarm-storm's handles when X = 0), K ops a
      datagram, W datagrams in flight; not_ready and overloaded are
      retried after the node's hint (like swarm-storm), a timeout resends
      up to R times, then the op is lost. Writes one line per name to
      FILE: name handle status first_send_ms answer_ms not_ready_seen
      (status lost when never answered, times in ms since the epoch).
      --progress FILE is rewritten every 200 ms with "answered N ok N".
      --names-from FILE [--names-status ok] [--first-after MS]
      [--first-before MS]: instead of a pattern, the names FILE (of an
      earlier run) records with that status, first sent in that time
      range, each with its recorded handle ^ X. --persist: no_node_available
      is retried too (every 100 ms, until the deadline), so each op ends
      with a decision of the ring's owner.
  adversarial.py resolve --server IP:PORT [--status ok] FILE...
      For every name that the FILEs (of writes) record with the status,
      WHEREIS on the server and compares the handle. A name recorded ok
      with two different handles is a conflict. Prints a summary line
      "checked N same N other N not_found N lost N conflicts N" and the
      first few bad names; exit 1 when anything is not the same.
  adversarial.py conflicts [--t0 MS] [--max N] FILE...
      The first N (6) names recorded ok with two different handles, one
      line per ok (file, handle, times relative to --t0).
  adversarial.py tally FILE [--after MS] [--before MS] [--before-first MS]
                     [--answered-after MS]
      Counts the final statuses in FILE: "total N ok N already_registered
      N ...", over the names first sent at or after --after, answered
      before --before, first sent before --before-first, answered at or
      after --answered-after (ms since the epoch), or every name; then
      the median and largest time from the first send to the final
      answer of the answered ones.
"""
import argparse
import os
import random
import select
import signal
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swarm_net  # noqa: E402  (csum, ipv4, udp, mac_bytes)

STATUS = {0: "ok", 1: "not_found", 2: "already_registered",
          3: "handle_mismatch", 4: "bad_request", 5: "unsupported",
          6: "bad_version", 7: "too_large", 8: "overloaded",
          9: "no_node_available", 10: "internal", 11: "not_ready"}
M64 = (1 << 64) - 1
GOSSIP_TYPES = {1: "MEMBER", 2: "BATCH", 3: "ACK", 4: "DIGEST",
                5: "REPAIR_REQ", 6: "REPAIR", 7: "FWD", 8: "FWD_REPLY",
                9: "READY", 10: "HELLO"}  # docs/cluster.md, header byte 3


def splitmix64(n):
    x = (n + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def now_ms():
    return int(time.time() * 1000)


# ---- pcap ------------------------------------------------------------------
def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit("%s: not a pcap file" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit("%s: link type %d, not Ethernet" % (path, linktype))
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + incl]
        off += incl


def udp_of(frame):
    """(src_ip, dst_ip, sport, dport, payload) of an IPv4/UDP frame."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 0x0F) * 4
    if frame[14] >> 4 != 4 or frame[23] != 17 or len(frame) < 14 + ihl + 8:
        return None
    total = struct.unpack("!H", frame[16:18])[0]
    u = 14 + ihl
    sport, dport, ulen = struct.unpack("!HHH", frame[u:u + 6])
    payload = frame[u + 8:min(u + ulen, 14 + total)]
    return (socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34]),
            sport, dport, payload)


def fmt_mac(b):
    return ":".join("%02x" % x for x in b)


def cmd_replay(a):
    ports = {}
    for p in a.port:
        mac, iface = p.split("=", 1)
        ports[mac.lower()] = iface
    seen = set()
    total = 0
    frames = []
    kept = {}
    for path in a.pcap:
        for fr in pcap_frames(path):
            u = udp_of(fr)
            if u is None or a.gossip_port not in (u[2], u[3]):
                continue
            total += 1
            if fr in seen:
                continue
            seen.add(fr)
            iface = ports.get(fmt_mac(fr[0:6]))
            if iface is None:
                continue
            frames.append((iface, fr))
    types = {}
    for _, fr in frames:
        pl = udp_of(fr)[4]
        t = GOSSIP_TYPES.get(pl[3], "type%d" % pl[3]) \
            if len(pl) > 3 and pl[0:2] == b"SC" else "other"
        types[t] = types.get(t, 0) + 1
    socks = {}
    sent = {}
    gap = 1.0 / a.rate if a.rate > 0 else 0
    t0 = time.time()
    for i, (iface, fr) in enumerate(frames):
        s = socks.get(iface)
        if s is None:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((iface, 0))
            socks[iface] = s
        try:
            s.send(fr)
            sent[iface] = sent.get(iface, 0) + 1
        except OSError:
            kept[iface] = kept.get(iface, 0) + 1
        if gap and i % 64 == 63:
            late = t0 + (i + 1) * gap - time.time()
            if late > 0:
                time.sleep(late)
    print("replayed %d gossip frames (%d captured, %d unique): %s%s; by "
          "type: %s" % (
              sum(sent.values()), total, len(seen),
              " ".join("%s=%d" % kv for kv in sorted(sent.items())) or "none",
              (" send errors: " + " ".join(
                  "%s=%d" % kv for kv in sorted(kept.items()))) if kept
              else "",
              " ".join("%s %d" % kv for kv in sorted(types.items()))))


def cmd_gossip_payload(a):
    last = None
    for fr in pcap_frames(a.pcap):
        u = udp_of(fr)
        if u and u[0] == a.src and u[1] == a.dst and u[3] == a.gossip_port:
            last = u[4]
    if last is None:
        raise SystemExit(1)
    print(last.hex())


# ---- spoofing --------------------------------------------------------------
def raw_sock(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    return s, s.getsockname()[4]


def cmd_spoof_udp(a):
    s, mine = raw_sock(a.iface)
    payload = bytes.fromhex(a.hex)
    ip = swarm_net.ipv4(a.src, a.dst, swarm_net.udp(a.src, a.dst, a.port,
                                                    a.port, payload))
    frame = swarm_net.mac_bytes(a.dst_mac) + mine + b"\x08\x00" + ip
    for _ in range(a.count):
        s.send(frame)
    print("sent %d UDP datagrams %s:%d -> %s:%d from MAC %s (%d bytes)" % (
        a.count, a.src, a.port, a.dst, a.port, fmt_mac(mine), len(payload)))


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha,
                       socket.inet_aton(spa), tha, socket.inet_aton(tpa))


def cmd_spoof_arp(a):
    s, mine = raw_sock(a.iface)
    tmac = swarm_net.mac_bytes(a.target_mac)
    bcast = b"\xff" * 6
    frames = [
        # unsolicited unicast reply: "CLAIM_IP is at my MAC"
        tmac + mine + b"\x08\x06" + arp(2, mine, a.claim, tmac, a.target),
        # gratuitous request and reply (broadcast)
        bcast + mine + b"\x08\x06" + arp(1, mine, a.claim, b"\0" * 6,
                                          a.claim),
        bcast + mine + b"\x08\x06" + arp(2, mine, a.claim, bcast, a.claim),
    ]
    frames = [fr + b"\0" * max(0, 60 - len(fr)) for fr in frames]
    if a.flood_s > 0:
        # the unsolicited reply, every interval_ms, for flood_s seconds or until
        # SIGTERM
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        t0 = time.time()
        end = t0 + a.flood_s
        n = 0
        while time.time() < end and not stop:
            s.send(frames[0])
            n += 1
            time.sleep(a.interval_ms / 1000.0)
        print("sent %d unsolicited ARP replies to %s in %.1f s: %s is-at %s"
              % (n, a.target, time.time() - t0, a.claim, fmt_mac(mine)))
        return
    for _ in range(a.count):
        for fr in frames:
            s.send(fr)
    print("sent %d x (unsolicited ARP reply to %s, gratuitous ARP request, "
          "gratuitous ARP reply): %s is-at %s" % (a.count, a.target, a.claim,
                                                 fmt_mac(mine)))


# ---- the recording client --------------------------------------------------
def reg_op(name, handle):
    body = struct.pack("!QI", handle, 0) + b"\0" + struct.pack("!H", 0) + \
        bytes([len(name)]) + name + b"\0"
    return b"\x01\x00" + struct.pack("!H", len(body)) + body


def whereis_op(name):
    return b"\x03\x00" + struct.pack("!H", len(name) + 1) + \
        bytes([len(name)]) + name


def parse_reply(d):
    """(req_id, [(index, status, body)]) or None."""
    if len(d) < 16 or d[0:2] != b"SW" or not d[3] & 1:
        return None
    rid = struct.unpack("!Q", d[4:12])[0]
    n = struct.unpack("!H", d[12:14])[0]
    off = 16
    ops = []
    for _ in range(n):
        if off + 6 > len(d):
            return None
        idx, _, st, ln = struct.unpack("!HBBH", d[off:off + 6])
        ops.append((idx, st, d[off + 6:off + 6 + ln]))
        off += 6 + ln
    return rid, ops


class Engine:
    """A window of request datagrams, each holding up to batch ops, with
    timeouts, resends under new ids and not_ready/overloaded back-off."""

    def __init__(self, server, window, timeout_ms, retries, deadline,
                 persist=()):
        host, port = server.rsplit(":", 1)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.connect((host, int(port)))
        self.sock.setblocking(False)
        self.window = window
        self.timeout = timeout_ms / 1000.0
        self.retries = retries
        self.deadline = deadline
        self.persist = set(persist)    # further statuses retried, 100 ms
        self.base = random.getrandbits(48) << 16
        self.gen = 0
        self.slots = {}        # req id -> slot
        self.waiting = []      # (when, ops) to resend after a hint

    def new_id(self):
        self.gen += 1
        return (self.base + self.gen) & M64

    def send(self, ops, tries=0):
        """ops: list of op records (dicts with 'wire')."""
        rid = self.new_id()
        dgram = struct.pack("!HBBQHH", 0x5357, 1, 0, rid, len(ops), 0) + \
            b"".join(o["wire"] for o in ops)
        t = time.time()
        for o in ops:
            o.setdefault("first", now_ms())
        self.slots[rid] = {"ops": ops, "sent": t, "tries": tries,
                           "left": set(range(len(ops))), "hint": 0.0}
        try:
            self.sock.send(dgram)
        except (BlockingIOError, ConnectionRefusedError):
            pass

    def busy(self):
        return len(self.slots) + len(self.waiting)

    def step(self, final):
        """Waits a little for replies; calls final(op, status, body) for
        every op with its final answer."""
        now = time.time()
        wake = 0.005
        r, _, _ = select.select([self.sock], [], [], wake)
        if r:
            for _ in range(256):
                try:
                    d = self.sock.recv(65536)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                p = parse_reply(d)
                if p is None or p[0] not in self.slots:
                    continue
                sl = self.slots[p[0]]
                for idx, st, body in p[1]:
                    if idx == 0xFFFF:
                        idxs = list(sl["left"])
                    else:
                        idxs = [idx] if idx in sl["left"] else []
                    for i in idxs:
                        sl["left"].discard(i)
                        o = sl["ops"][i]
                        if (st in (8, 11) or st in self.persist) and \
                                time.time() < self.deadline:
                            hint = struct.unpack("!I", body[:4])[0] \
                                if len(body) >= 4 and st in (8, 11) else 0
                            if st in self.persist:
                                o["persisted"] = o.get("persisted", 0) + 1
                                hint = 100
                            if st == 11:
                                o["not_ready"] = o.get("not_ready", 0) + 1
                            o["backoff"] = min(1.0, max(
                                0.002, o.get("backoff", 0.001) * 2))
                            wait = hint / 1000.0 if hint else o["backoff"]
                            sl["hint"] = max(sl["hint"], wait)
                            sl.setdefault("again", []).append(o)
                        else:
                            final(o, STATUS.get(st, "status_%d" % st), body)
                if not sl["left"]:
                    del self.slots[p[0]]
                    if sl.get("again"):
                        self.waiting.append(
                            (time.time() + sl["hint"] *
                             random.uniform(1.0, 1.25), sl["again"]))
        now = time.time()
        for rid in [k for k, s in self.slots.items()
                    if now - s["sent"] >= self.timeout]:
            sl = self.slots.pop(rid)
            again = sl.get("again", [])
            rest = [sl["ops"][i] for i in sorted(sl["left"])]
            if again:
                self.waiting.append((now + sl["hint"], again))
            if not rest:
                continue
            if sl["tries"] >= self.retries or now >= self.deadline:
                for o in rest:
                    final(o, "lost", b"")
            else:
                self.send(rest, sl["tries"] + 1)
        if self.waiting:
            due = [w for w in self.waiting if w[0] <= now]
            self.waiting = [w for w in self.waiting if w[0] > now]
            for _, ops in due:
                self.send(ops)


def cmd_writes(a):
    start_t = time.time()
    eng = Engine(a.server, a.window, a.timeout, a.retries,
                 start_t + a.deadline_s,
                 [9] if a.persist else [])
    if a.names_from:
        # (name, handle) of the names a record file holds with a status
        lo = a.first_after if a.first_after is not None else -1
        hi = a.first_before if a.first_before is not None else 1 << 62
        todo = [(n.encode(), h ^ a.xor) for n, h, st, first, _, _ in
                read_records(a.names_from)
                if st == a.names_status and lo <= first < hi]
    else:
        todo = [((a.pattern % n).encode(), splitmix64(n) ^ a.xor)
                for n in range(a.start, a.start + a.count)]
    a.count = len(todo)
    pos = 0
    done = []
    counts = {"answered": 0, "ok": 0}

    def final(o, status, body):
        o["status"] = status
        o["answer"] = now_ms()
        counts["answered"] += 1
        if status == "ok":
            counts["ok"] += 1
        done.append(o)

    tokens = float(a.batch)
    last = time.time()
    prog_t = 0
    while pos < a.count or eng.busy():
        now = time.time()
        if a.rate > 0:
            tokens = min(tokens + (now - last) * a.rate,
                         max(a.batch, a.rate * 0.005))
        last = now
        while pos < a.count and len(eng.slots) < a.window and \
                (a.rate <= 0 or tokens >= 1):
            k = a.batch if a.rate <= 0 else min(a.batch, int(tokens))
            ops = []
            for name, h in todo[pos:pos + k]:
                ops.append({"name": name, "handle": h,
                            "wire": reg_op(name, h)})
            pos += len(ops)
            tokens -= len(ops)
            eng.send(ops)
        eng.step(final)
        if a.progress and now - prog_t >= 0.2:
            prog_t = now
            with open(a.progress + ".tmp", "w") as f:
                f.write("answered %d ok %d sent %d\n" % (
                    counts["answered"], counts["ok"], pos))
            os.replace(a.progress + ".tmp", a.progress)
    with open(a.out, "w") as f:
        for o in done:
            f.write("%s %d %s %d %d %d\n" % (
                o["name"].decode(), o["handle"], o["status"], o["first"],
                o["answer"], o.get("not_ready", 0)))
    if a.progress:
        with open(a.progress, "w") as f:
            f.write("answered %d ok %d sent %d done\n" % (
                counts["answered"], counts["ok"], pos))
    tally = {}
    for o in done:
        tally[o["status"]] = tally.get(o["status"], 0) + 1
    print("writes through %s: %d names in %.1f s: %s" % (
        a.server, len(done), time.time() - start_t,
        " ".join("%s %d" % kv for kv in sorted(tally.items()))))


def read_records(path):
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 6:
                yield p[0], int(p[1]), p[2], int(p[3]), int(p[4]), int(p[5])


def cmd_resolve(a):
    want = {}
    for path in a.files:
        for name, h, st, _, _, _ in read_records(path):
            if st == a.status:
                want.setdefault(name, set()).add(h)
    conflicts = [n for n, hs in want.items() if len(hs) > 1]
    eng = Engine(a.server, 32, 500, 5, time.time() + 120)
    res = {"same": 0, "other": 0, "not_found": 0, "lost": 0, "else": 0}
    bad = []

    def final(o, status, body):
        if status == "ok" and len(body) >= 8:
            h = struct.unpack("!Q", body[:8])[0]
            if h in want[o["name"].decode()] and \
                    len(want[o["name"].decode()]) == 1:
                res["same"] += 1
                return
            res["other"] += 1
            bad.append("%s=%d" % (o["name"].decode(), h))
        elif status in ("not_found", "lost"):
            res[status] += 1
            bad.append("%s:%s" % (o["name"].decode(), status))
        else:
            res["else"] += 1
            bad.append("%s:%s" % (o["name"].decode(), status))

    items = sorted(want)
    pos = 0
    while pos < len(items) or eng.busy():
        while pos < len(items) and len(eng.slots) < eng.window:
            ops = [{"name": n.encode(), "wire": whereis_op(n.encode())}
                   for n in items[pos:pos + 16]]
            pos += len(ops)
            eng.send(ops)
        eng.step(final)
    print("checked %d same %d other %d not_found %d lost %d else %d "
          "conflicts %d%s%s" % (
              len(items), res["same"], res["other"], res["not_found"],
              res["lost"], res["else"], len(conflicts),
              (" bad: " + " ".join(bad[:8])) if bad else "",
              (" conflicting: " + " ".join(
                  "%s=%s" % (n, "/".join(str(h) for h in sorted(want[n])))
                  for n in conflicts[:4])) if conflicts else ""))
    sys.exit(0 if res["same"] == len(items) and not conflicts else 1)


def cmd_tally(a):
    t = {}
    nr = 0
    lat = []
    for _, _, st, first, answer, nrs in read_records(a.file):
        if a.after is not None and first < a.after:
            continue
        if a.before_first is not None and first >= a.before_first:
            continue
        if a.before is not None and answer >= a.before:
            continue
        if a.answered_after is not None and answer < a.answered_after:
            continue
        t[st] = t.get(st, 0) + 1
        nr += nrs
        if st != "lost":
            lat.append(answer - first)
    order = ["ok", "already_registered", "no_node_available", "not_ready",
             "overloaded", "lost"]
    keys = order + sorted(k for k in t if k not in order)
    lat.sort()
    print("total %d %s not_ready_answers_seen %d latency_ms p50 %d max %d" % (
        sum(t.values()), " ".join("%s %d" % (k, t.get(k, 0)) for k in keys),
        nr, lat[len(lat) // 2] if lat else -1, lat[-1] if lat else -1))


def cmd_conflicts(a):
    oks = {}
    for path in a.files:
        for name, h, st, first, answer, _ in read_records(path):
            if st == "ok":
                oks.setdefault(name, []).append(
                    (os.path.basename(path), h, st, first - a.t0,
                     answer - a.t0))
    shown = 0
    for name in sorted(oks):
        if len(set(r[1] for r in oks[name])) > 1 and shown < a.max:
            shown += 1
            for r in oks[name]:
                print("%s %s handle %d %s sent %+d ms answered %+d ms" % (
                    (name,) + r))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("replay")
    p.add_argument("--port", action="append", default=[])
    p.add_argument("--gossip-port", type=int, default=7401)
    p.add_argument("--rate", type=float, default=20000)
    p.add_argument("pcap", nargs="+")
    p.set_defaults(fn=cmd_replay)
    p = sub.add_parser("gossip-payload")
    p.add_argument("pcap")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--gossip-port", type=int, default=7401)
    p.set_defaults(fn=cmd_gossip_payload)
    p = sub.add_parser("spoof-udp")
    for k in ("iface", "dst_mac", "src", "dst"):
        p.add_argument(k)
    p.add_argument("port", type=int)
    p.add_argument("hex")
    p.add_argument("count", type=int, nargs="?", default=1)
    p.set_defaults(fn=cmd_spoof_udp)
    p = sub.add_parser("spoof-arp")
    for k in ("iface", "claim", "target", "target_mac"):
        p.add_argument(k)
    p.add_argument("count", type=int, nargs="?", default=1)
    p.add_argument("--flood-s", type=float, default=0)
    p.add_argument("--interval-ms", type=float, default=2)
    p.set_defaults(fn=cmd_spoof_arp)
    p = sub.add_parser("writes")
    p.add_argument("--server", required=True)
    p.add_argument("--pattern", default="dev-%08u")
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--names-from")
    p.add_argument("--names-status", default="ok")
    p.add_argument("--first-after", type=int)
    p.add_argument("--first-before", type=int)
    p.add_argument("--persist", action="store_true")
    p.add_argument("--out", required=True)
    p.add_argument("--xor", type=lambda s: int(s, 0), default=0)
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--window", type=int, default=16)
    p.add_argument("--timeout", type=int, default=500)
    p.add_argument("--retries", type=int, default=5)
    p.add_argument("--deadline-s", type=float, default=120)
    p.add_argument("--progress")
    p.set_defaults(fn=cmd_writes)
    p = sub.add_parser("resolve")
    p.add_argument("--server", required=True)
    p.add_argument("--status", default="ok")
    p.add_argument("files", nargs="+")
    p.set_defaults(fn=cmd_resolve)
    p = sub.add_parser("conflicts")
    p.add_argument("--t0", type=int, default=0)
    p.add_argument("--max", type=int, default=6)
    p.add_argument("files", nargs="+")
    p.set_defaults(fn=cmd_conflicts)
    p = sub.add_parser("tally")
    p.add_argument("file")
    p.add_argument("--after", type=int)
    p.add_argument("--before", type=int)
    p.add_argument("--before-first", type=int)
    p.add_argument("--answered-after", type=int)
    p.set_defaults(fn=cmd_tally)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
