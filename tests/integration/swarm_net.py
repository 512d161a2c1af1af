#!/usr/bin/env python3
"""Raw-frame and telemetry helpers for swarm's integration tests.

  swarm_net.py badpkt IFACE DST_MAC SRC_IP DST_IP PORT COUNT
      Sends COUNT of each kind of malformed frame from IFACE (AF_PACKET,
      run inside the client namespace) to swarmd, and prints one line per
      kind with the drop reason swarmd is expected to count.
  swarm_net.py telemetry PREFIX COMMAND
      Queries swarmd's DPDK telemetry socket and prints the JSON answer.
  swarm_net.py rw IP PORT COUNT
      REGISTER x; WHEREIS x in one datagram, COUNT names; prints how many
      WHEREIS saw the REGISTER before them.
  swarm_net.py request IP PORT bad_version|unsupported|too_large
      Sends a canned request and prints the status code of the answer.
"""
import json
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(src, dst, payload, proto=17, flags_frag=0, ihl=5, total=None,
         ttl=64, bad_csum=False, version=4):
    total = 20 + len(payload) if total is None else total
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, total, 1,
                      flags_frag, ttl, proto, 0, socket.inet_aton(src),
                      socket.inet_aton(dst))
    c = csum(hdr)
    if bad_csum:
        c ^= 0x5A5A
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def udp(src, dst, sport, dport, payload, bad_csum=False, length=None):
    length = 8 + len(payload) if length is None else length
    pseudo = struct.pack("!4s4sBBH", socket.inet_aton(src),
                         socket.inet_aton(dst), 0, 17, 8 + len(payload))
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = csum(pseudo + hdr + payload) or 0xFFFF
    if bad_csum:
        c ^= 0x1234
    return struct.pack("!HHHH", sport, dport, length, c) + payload


def request(payload_ops=1):
    """A valid swarm REGISTER request body (name 'bad-probe')."""
    name = b"bad-probe"
    # handle u64, ttl u32, endpoint "none" (family 0, port 0), name, meta
    body = struct.pack("!QI", 7, 0) + bytes([0]) + struct.pack("!H", 0) + \
        bytes([len(name)]) + name + bytes([0])
    op = bytes([0x01, 0]) + struct.pack("!H", len(body)) + body
    return struct.pack("!HBBQHH", 0x5357, 1, 0, 99, payload_ops, 0) + op


def frames(src_mac, dst_mac, sip, dip, port):
    eth = dst_mac + src_mac
    good_udp = udp(sip, dip, 40000, port, request())
    yield "ip_cksum", eth + b"\x08\x00" + ipv4(sip, dip, good_udp,
                                                bad_csum=True)
    yield "udp_cksum", eth + b"\x08\x00" + ipv4(
        sip, dip, udp(sip, dip, 40000, port, request(), bad_csum=True))
    yield "ip_len", eth + b"\x08\x00" + ipv4(sip, dip, good_udp,
                                              total=20 + len(good_udp) + 40)
    yield "ip_fragment", eth + b"\x08\x00" + ipv4(sip, dip, good_udp,
                                                   flags_frag=0x2000)
    yield "udp_port", eth + b"\x08\x00" + ipv4(
        sip, dip, udp(sip, dip, 40000, port + 99, request()))
    yield "udp_len", eth + b"\x08\x00" + ipv4(
        sip, dip, udp(sip, dip, 40000, port, request(),
                      length=8 + len(request()) + 9))
    yield "ip_version", eth + b"\x08\x00" + ipv4(sip, dip, good_udp,
                                                  version=6)
    yield "ip_proto", eth + b"\x08\x00" + ipv4(sip, dip, good_udp, proto=47)
    yield "ethertype", eth + b"\x88\xb5" + b"garbage" * 8
    yield "short", eth + b"\x08\x00" + b"\x45\x00"
    # a well-formed UDP datagram whose protocol framing is broken: answered
    # bad_request by swarmd (not a frame drop)
    broken = bytearray(request())
    broken[13] = 5  # op count 5, one op present
    yield "proto:bad_request", eth + b"\x08\x00" + ipv4(
        sip, dip, udp(sip, dip, 40000, port, bytes(broken)))
    # not this protocol at all: dropped silently and counted by lib/exec
    yield "proto:dropped", eth + b"\x08\x00" + ipv4(
        sip, dip, udp(sip, dip, 40000, port, b"\x00" * 40))


def mac_bytes(s):
    return bytes(int(x, 16) for x in s.split(":"))


def badpkt(iface, dst_mac, sip, dip, port, count):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    src_mac = s.getsockname()[4]
    for kind, frame in frames(src_mac, mac_bytes(dst_mac), sip, dip,
                              int(port)):
        for _ in range(int(count)):
            s.send(frame)
        print(kind)


def telemetry(prefix, command):
    path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.recv(16384)  # greeting
    s.send(command.encode())
    print(json.dumps(json.loads(s.recv(65536).decode())))


CANNED = {
    # header with version 2: bad_version
    "bad_version": lambda: struct.pack("!HBBQHH", 0x5357, 2, 0, 5, 1, 0) +
    bytes([0x03, 0, 0, 2, 1, 0x61]),
    # SEND (0x20) is reserved, not implemented: unsupported
    "unsupported": lambda: struct.pack("!HBBQHH", 0x5357, 1, 0, 6, 1, 0) +
    bytes([0x20, 0, 0, 0]),
    # a 1500-byte datagram: too_large (needs an MTU above 1528)
    "too_large": lambda: struct.pack("!HBBQHH", 0x5357, 1, 0, 7, 1, 0) +
    bytes([0x03, 0, 0x05, 0xc8]) + bytes([255]) + b"x" * 1479,
}


def req(ip, port, what):
    """Sends a canned request; prints the status of the first reply op."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(CANNED[what](), (ip, int(port)))
    reply = s.recv(4096)
    print(reply[19] if len(reply) > 19 else -1)


def read_your_writes(ip, port, count):
    """REGISTER x; WHEREIS x in one datagram, for count names: prints how
    many WHEREIS were answered ok (the answers of one request may come in
    several datagrams, from different workers)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    good = 0
    for i in range(int(count)):
        name = b"rw-%d" % i
        reg = struct.pack("!QI", 100 + i, 0) + bytes([0]) + \
            struct.pack("!H", 0) + bytes([len(name)]) + name + bytes([0])
        who = bytes([len(name)]) + name
        req_id = 1000 + i
        dgram = struct.pack("!HBBQHH", 0x5357, 1, 0, req_id, 2, 0) + \
            bytes([0x01, 0]) + struct.pack("!H", len(reg)) + reg + \
            bytes([0x03, 0]) + struct.pack("!H", len(who)) + who
        s.sendto(dgram, (ip, int(port)))
        status = {}
        try:
            while len(status) < 2:
                d = s.recv(4096)
                if struct.unpack("!Q", d[4:12])[0] != req_id:
                    continue
                off = 16
                for _ in range(struct.unpack("!H", d[12:14])[0]):
                    idx, _, st, ln = struct.unpack("!HBBH", d[off:off + 6])
                    status[idx] = st
                    off += 6 + ln
        except socket.timeout:
            pass
        if status.get(0) == 0 and status.get(1) == 0:
            good += 1
    print(good)


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "badpkt" and len(sys.argv) == 8:
        badpkt(*sys.argv[2:])
    elif cmd == "telemetry" and len(sys.argv) == 4:
        telemetry(*sys.argv[2:])
    elif cmd == "rw" and len(sys.argv) == 5:
        read_your_writes(*sys.argv[2:])
    elif cmd == "request" and len(sys.argv) == 5:
        req(*sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
