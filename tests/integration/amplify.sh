#!/usr/bin/env bash
# Integration test: swarmd is not an amplifier (docs/protocol.md 5.1, 12).
# A real swarmd on DPDK (net_af_packet on a veth pair) and clients in a
# network namespace send the requests of the issue - 13 listings in one
# datagram, one listing, STATS, 13 MEMBERS - and more, from a source
# outside trusted_clients and from one inside it, and measure the UDP
# payload bytes of every reply datagram against the request's. Untrusted:
# at most 3 reply bytes per request byte, every op answered, and swarmctl
# still lists everything (page by page, its cursors verify it). Trusted:
# the full budget of 16 reply datagrams, as before. Needs root. Ends with
# "N passed, N failed"; exit status 1 when anything failed.
#
#   tests/integration/amplify.sh [BUILD_DIR]     (default: build)
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
NS=swamp
DP=swamp0
HOST=swamp1
IP=10.83.0.2
CLIENT=10.83.0.1	# the namespace's own address: swarmctl's source
OTHER=10.83.0.9		# a second address on the same link
PREFIX=swamp
NAMES=400
LCORES=0
QPAIRS=1
LOG=$(mktemp /tmp/swarmd-amp.XXXXXX)
PY=$(mktemp /tmp/swarm-amp.XXXXXX)
OUT=$(mktemp /tmp/swarm-amp-out.XXXXXX)
SWARMD_PID=
passed=0
failed=0

. scripts/netns.sh

ok() { passed=$((passed + 1)); echo "ok - $*"; }
ko() { failed=$((failed + 1)); echo "not ok - $*"; }
in_ns() { ip netns exec "$NS" "$@"; }
ctl() { in_ns "$B/app/swarmctl/swarmctl" -s "$IP:7400" --timeout 500 "$@"; }
amp() { in_ns python3 "$PY" "$@"; }

swarmd_start_once() {
	: >"$LOG"
	"$B/app/swarmd/swarmd" -l "$LCORES" --no-huge -m 512 --no-pci \
		--file-prefix "$PREFIX" \
		--vdev="net_af_packet0,iface=$DP,qpairs=$QPAIRS" \
		-- -c configs/demo.conf --set ip=$IP/24 --set idle_sleep_us=100 \
		"$@" >"$LOG" 2>&1 &
	SWARMD_PID=$!
	swarm_wait_start "$LOG" "$SWARMD_PID" 30
}
swarmd_start() { swarm_start_retry "$LOG" swarmd_start_once "$@"; }
swarmd_stop() {
	kill -TERM "$SWARMD_PID" 2>/dev/null
	wait "$SWARMD_PID"
	SWARMD_PID=
}

cleanup() {
	[ -n "$SWARMD_PID" ] && kill -KILL "$SWARMD_PID" 2>/dev/null
	swarm_netns_down "$NS" "$DP"
	rm -rf "/var/run/dpdk/$PREFIX" "/var/run/dpdk/$PREFIX-bad"
	rm -f "$LOG" "$PY" "$OUT"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "integration tests need root (network namespaces, DPDK)"
	echo "0 passed, 1 failed"
	exit 1
fi

# The client side: raw protocol datagrams over a UDP socket bound to a
# chosen source address; every reply datagram of the request is collected
# until each op has its answer, and their payload bytes are added up.
cat >"$PY" <<'EOF'
import socket
import struct
import sys
import time

OP_REGISTER, OP_JOIN, OP_WHEREIS = 0x01, 0x10, 0x03
OP_REGISTERED, OP_MEMBERS = 0x05, 0x12
OP_STATUS, OP_STATS, OP_READINESS = 0x30, 0x31, 0x32
ST = {0: "ok", 8: "overloaded"}


def op(code, body=b""):
    return struct.pack("!BBH", code, 0, len(body)) + body


def s8(b):
    return bytes([len(b)]) + b


def request(rid, ops):
    return struct.pack("!HBBQHH", 0x5357, 1, 0, rid, len(ops), 0) + \
        b"".join(ops)


def name(i):
    return b"amp-%04d" % i


def register(i):
    meta = b"m" * 60
    ep = bytes([4]) + struct.pack("!H", 5683) + bytes([10, 83, 0, 1])
    return op(OP_REGISTER, struct.pack("!QI", 1000 + i, 0) + ep +
              s8(name(i)) + s8(meta))


def case(what):
    if what == "registered13":
        return [op(OP_REGISTERED, struct.pack("!H", 0) + s8(b""))] * 13
    if what == "registered1":
        return [op(OP_REGISTERED, struct.pack("!H", 0) + s8(b""))]
    if what == "stats":
        return [op(OP_STATS)]
    if what == "status":
        return [op(OP_STATUS)]
    if what == "readiness":
        return [op(OP_READINESS)]
    if what == "members13":
        return [op(OP_MEMBERS, struct.pack("!H", 0) + s8(b"amp") +
                   s8(b""))] * 13
    if what == "whereis100":
        return [op(OP_WHEREIS, s8(name(i))) for i in range(100)]
    none = bytes([0, 0, 0])
    if what == "conflicts45":       # held by other handles: entries
        return [op(OP_REGISTER, struct.pack("!QI", 1, 0) + none +
                   s8(name(i)) + s8(b"")) for i in range(45)]
    if what == "mixed45":           # conflicts, lookups, new names
        tag = b"%d" % (time.monotonic_ns() % 10**9)
        return [op(OP_REGISTER, struct.pack("!QI", 1, 0) + none +
                   s8(name(i)) + s8(b"")) if i % 3 == 0 else
                op(OP_WHEREIS, s8(name(i))) if i % 3 == 1 else
                op(OP_REGISTER, struct.pack("!QI", 9, 0) + none +
                   s8(b"new-" + tag + b"-%d" % i) + s8(b""))
                for i in range(45)]
    raise SystemExit("unknown case " + what)


def exchange(server, src, rid, ops, timeout=2.0):
    """Sends one request; returns (request bytes, reply bytes, datagrams,
    {op index: status})."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    req = request(rid, ops)
    s.sendto(req, server)
    got, nbytes, ndg = {}, 0, 0
    end = time.monotonic() + timeout
    while len(got) < len(ops) and time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        if len(data) < 16 or struct.unpack("!Q", data[4:12])[0] != rid:
            continue
        nbytes += len(data)
        ndg += 1
        n, off = struct.unpack("!H", data[12:14])[0], 16
        for _ in range(n):
            idx, _, st, blen = struct.unpack("!HBBH", data[off:off + 6])
            got[idx] = st
            off += 6 + blen
    s.close()
    return len(req), nbytes, ndg, got


def populate(server, src, count):
    """Registers count names (batches of 10) and joins them to group amp;
    prints how many of each were answered ok."""
    regs = joins = 0
    for base in range(0, count, 10):
        ids = range(base, min(count, base + 10))
        _, _, _, got = exchange(server, src, 1 + base,
                                [register(i) for i in ids])
        regs += sum(1 for v in got.values() if v == 0)
        _, _, _, got = exchange(server, src, 100000 + base,
                                [op(OP_JOIN, s8(b"amp") + s8(name(i)))
                                 for i in ids])
        joins += sum(1 for v in got.values() if v == 0)
    print(regs, joins)


def measure(server, src, what):
    """Prints: request bytes, reply bytes, datagrams, ops, answered, ok,
    overloaded."""
    ops = case(what)
    q, r, d, got = exchange(server, src, 7000 + len(ops), ops)
    print(q, r, d, len(ops), len(got),
          sum(1 for v in got.values() if v == 0),
          sum(1 for v in got.values() if v == 8))


if __name__ == "__main__":
    server = (sys.argv[2], int(sys.argv[3]))
    if sys.argv[1] == "populate":
        populate(server, sys.argv[4], int(sys.argv[5]))
    elif sys.argv[1] == "measure":
        measure(server, sys.argv[4], sys.argv[5])
    else:
        raise SystemExit("usage: populate|measure IP PORT SRC ARG")
EOF

# check_untrusted CASE DESC: from CLIENT, every op answered and at most
# 3 reply bytes per request byte
check_untrusted() {
	local what=$1 desc=$2 q r d n a okn ov ratio
	read -r q r d n a okn ov < <(amp measure $IP 7400 $CLIENT "$what")
	ratio=$(awk -v r="${r:-0}" -v q="${q:-1}" 'BEGIN { printf "%.2f", r / q }')
	if [ "${a:-0}" -eq "${n:-1}" ] && [ "${r:-0}" -gt 0 ] &&
	   [ "$r" -le $((3 * q)) ]; then
		ok "untrusted $desc ($q bytes): $r reply bytes in $d datagram(s), ${ratio}x <= 3 ($okn ok, $ov overloaded, all $n answered)"
	else
		ko "untrusted $desc ($q bytes): $r reply bytes in $d datagram(s), ${ratio}x; answered $a of $n"
	fi
}

# check_trusted SRC CASE DESC MIN_DGRAMS [ANY]: every op answered (ok,
# unless ANY) and none overloaded, in at least MIN_DGRAMS datagrams (the
# full budget)
check_trusted() {
	local src=$1 what=$2 desc=$3 min=$4 any=${5:-} q r d n a okn ov ratio
	read -r q r d n a okn ov < <(amp measure $IP 7400 "$src" "$what")
	ratio=$(awk -v r="${r:-0}" -v q="${q:-1}" 'BEGIN { printf "%.1f", r / q }')
	[ -n "$any" ] && okn=$a
	if [ "${a:-0}" -eq "${n:-1}" ] && [ "${okn:-0}" -eq "$n" ] &&
	   [ "${ov:-1}" -eq 0 ] && [ "${d:-0}" -ge "$min" ]; then
		ok "trusted $desc ($q bytes): $r reply bytes in $d datagram(s), ${ratio}x, all $n answered in full"
	else
		ko "trusted $desc ($q bytes): $r reply bytes in $d datagram(s) (want >= $min), $okn of $n ok"
	fi
}

# --- configuration: a bad value exits 2 naming the key
"$B/app/swarmd/swarmd" -l 0 --no-huge -m 64 --no-pci --file-prefix "$PREFIX-bad" \
	-- -c configs/demo.conf --set trusted_clients=10.83.0.5/24 --check >"$OUT" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'trusted_clients: .*host bits set' "$OUT"; then
	ok "trusted_clients with host bits set exits 2 naming the key"
else
	ko "trusted_clients with host bits set: exit $rc"; sed 's/^/    /' "$OUT"
fi

# --- a node that trusts only OTHER: the namespace's own address is not
swarm_netns_up "$NS" "$DP" "$HOST" $CLIENT/24
in_ns ip addr add $OTHER/24 dev "$HOST"
if ! swarmd_start --set trusted_clients=$OTHER; then
	ko "swarmd starts"; cat "$LOG"
	echo "$passed passed, $failed failed"
	exit 1
fi
ok "swarmd starts (trusted_clients = $OTHER; $CLIENT is not trusted)"

read -r regs joins < <(amp populate $IP 7400 $CLIENT $NAMES)
if [ "${regs:-0}" -eq $NAMES ] && [ "${joins:-0}" -eq $NAMES ]; then
	ok "untrusted client registers $NAMES names and joins them to a group"
else
	ko "populate: ${regs:-0} registered, ${joins:-0} joined of $NAMES"
fi

check_untrusted registered13 "13 x REGISTERED in one datagram"
check_untrusted registered1 "1 x REGISTERED"
check_untrusted stats "STATS"
check_untrusted members13 "13 x MEMBERS in one datagram"
check_untrusted whereis100 "100 x WHEREIS"
check_untrusted conflicts45 "45 x REGISTER of names held by others"
check_untrusted mixed45 "45 x REGISTER, WHEREIS, new names"
check_untrusted status "STATUS"
check_untrusted readiness "READINESS"

# (the mixes above registered a few more names than the NAMES amp-*)
if ctl registered --all >"$OUT" 2>&1 &&
   [ "$(grep -c '^amp-' "$OUT")" -eq $NAMES ] &&
   grep -q "^($(grep -c ' handle=' "$OUT") registrations)" "$OUT"; then
	ok "untrusted: swarmctl registered --all lists all $(grep -c ' handle=' "$OUT") (cut pages, then verified by its cursor)"
else
	ko "untrusted: swarmctl registered --all"; tail -3 "$OUT" | sed 's/^/    /'
fi
if ctl members amp >"$OUT" 2>&1 && grep -q "^($NAMES members)" "$OUT"; then
	ok "untrusted: swarmctl members lists all $NAMES"
else
	ko "untrusted: swarmctl members"; tail -3 "$OUT" | sed 's/^/    /'
fi
# a lookup whose answer fits 3 x its request is answered; one whose entry
# is larger (60 bytes of metadata for a 29-byte request) is `overloaded`
# (swarmctl exit 3): such a client belongs in trusted_clients
if ctl register tiny-1 5 >"$OUT" 2>&1 && ctl whereis tiny-1 >"$OUT" 2>&1 &&
   grep -q 'tiny-1' "$OUT"; then
	ok "untrusted: swarmctl register and whereis of a small entry"
else
	ko "untrusted: swarmctl whereis tiny-1"; sed 's/^/    /' "$OUT"
fi
ctl whereis amp-0007 >"$OUT" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -q 'overloaded' "$OUT"; then
	ok "untrusted: whereis of an entry above 3 x the request: overloaded (exit 3)"
else
	ko "untrusted: whereis amp-0007: exit $rc"; sed 's/^/    /' "$OUT"
fi

check_trusted $OTHER registered13 "13 x REGISTERED in one datagram" 13
check_trusted $OTHER members13 "13 x MEMBERS in one datagram" 13
check_trusted $OTHER stats "STATS" 1
swarmd_stop

# --- the default: the subnet of ip is trusted, so the client is
if ! swarmd_start; then
	ko "swarmd restarts with the default trusted_clients"; cat "$LOG"
	echo "$passed passed, $failed failed"
	exit 1
fi
ok "swarmd restarts (default trusted_clients = subnet)"
read -r regs joins < <(amp populate $IP 7400 $CLIENT $NAMES)
[ "${regs:-0}" -eq $NAMES ] && ok "registers $NAMES names again" ||
	ko "populate again: ${regs:-0} of $NAMES"
check_trusted $CLIENT registered13 "(subnet) 13 x REGISTERED in one datagram" 13
check_trusted $CLIENT registered1 "(subnet) 1 x REGISTERED" 1
swarmd_stop

# --- two workers: writes for the other worker's partitions are forwarded
# to it, with the shares of their ops as their budget
LCORES=0-1
QPAIRS=2
if ! swarmd_start --set trusted_clients=$OTHER; then
	ko "swarmd starts with two workers"; cat "$LOG"
	echo "$passed passed, $failed failed"
	exit 1
fi
ok "swarmd starts with two workers (trusted_clients = $OTHER)"
read -r regs joins < <(amp populate $IP 7400 $CLIENT $NAMES)
[ "${regs:-0}" -eq $NAMES ] && ok "two workers: untrusted client registers $NAMES names" ||
	ko "two workers: populate: ${regs:-0} of $NAMES"
check_untrusted conflicts45 "(two workers) 45 x REGISTER of names held by others"
check_untrusted mixed45 "(two workers) 45 x REGISTER, WHEREIS, new names"
check_untrusted registered13 "(two workers) 13 x REGISTERED in one datagram"
check_trusted $OTHER conflicts45 "(two workers) 45 x REGISTER of names held by others" 2 any
swarmd_stop

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
