#!/usr/bin/env bash
# Integration tests: a real swarmd on DPDK (net_af_packet on a veth pair,
# no hugepages) and clients in a network namespace on the other end,
# driven by swarmctl, swarm-storm and raw frames. Needs root. Ends with
# "N passed, N failed"; exit status 1 when anything failed.
#
#   tests/integration/run.sh [BUILD_DIR]     (default: build)
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
B=${1:-build}
NS=swarm-it
DP=swit0
HOST=swit1
IP=10.78.0.2
SERVER=$IP:7400
PREFIX=swarm-it
LOG=$(mktemp /tmp/swarmd-it.XXXXXX)
SWARMD_PID=
LCORES=0	# swarmd's lcores: one worker unless a test says otherwise
QPAIRS=1
passed=0
failed=0

. scripts/netns.sh

ok() { passed=$((passed + 1)); echo "ok - $*"; }
ko() { failed=$((failed + 1)); echo "not ok - $*"; }
# check DESC CMD...: passes when CMD exits 0
check() { local d=$1; shift; if "$@"; then ok "$d"; else ko "$d"; fi; }
# check_rc DESC RC CMD...: passes when CMD exits with RC
check_rc() {
	local d=$1 want=$2 rc
	shift 2
	"$@" >/tmp/swarm-it.out 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$d"; else
		ko "$d (exit $rc, want $want)"; sed 's/^/    /' /tmp/swarm-it.out; fi
}
eventually() { swarm_eventually "$@"; }
# counter_at_least CMD KEY N: telemetry counter KEY of CMD is >= N
counter_at_least() { [ "$(tel_get "$1" "$2")" -ge "$3" ]; }
in_ns() { ip netns exec "$NS" "$@"; }
ctl() { in_ns "$B/app/swarmctl/swarmctl" -s "$SERVER" --timeout 300 "$@"; }
storm() { in_ns "$B/app/swarm-storm/swarm-storm" -s "$SERVER" -q "$@"; }
tel() { python3 tests/integration/swarm_net.py telemetry "$PREFIX" "$1"; }
# tel_get CMD KEY: one counter from a telemetry command
tel_get() { tel "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'].get('$2', -1))"; }

swarmd_start_once() {
	: >"$LOG"
	"$B/app/swarmd/swarmd" -l "$LCORES" --no-huge -m 512 --no-pci \
		--file-prefix "$PREFIX" --vdev="net_af_packet0,iface=$DP,qpairs=$QPAIRS" \
		-- -c configs/demo.conf --set ip=$IP/24 --set idle_sleep_us=100 \
		"$@" >"$LOG" 2>&1 &
	SWARMD_PID=$!
	swarm_wait_start "$LOG" "$SWARMD_PID" 30
}
swarmd_start() { swarm_start_retry "$LOG" swarmd_start_once "$@"; }

swarmd_stop() {
	local rc
	kill -TERM "$SWARMD_PID" 2>/dev/null
	wait "$SWARMD_PID"
	rc=$?
	SWARMD_PID=
	return $rc
}

cleanup() {
	[ -n "$SWARMD_PID" ] && kill -KILL "$SWARMD_PID" 2>/dev/null
	swarm_netns_down "$NS" "$DP"
	rm -rf "/var/run/dpdk/$PREFIX" "/var/run/dpdk/$PREFIX-bad"
	rm -f "$LOG" /tmp/swarm-it.out
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "integration tests need root (network namespaces, DPDK)"
	echo "0 passed, 1 failed"
	exit 1
fi

# --- configuration errors: exit 2 naming the key, before any port is used
bad() {
	"$B/app/swarmd/swarmd" -l 0 --no-huge -m 64 --no-pci \
		--file-prefix "$PREFIX-bad" -- "$@"
}
check_rc "bad value exits 2" 2 bad -c configs/demo.conf --set udp_port=70000
check "bad value message names the key" grep -q 'udp_port' /tmp/swarm-it.out
check_rc "unknown key exits 2" 2 bad -c configs/demo.conf --set no_such_key=1
check_rc "missing file exits 2" 2 bad -c /nonexistent.conf
check_rc "--check of the demo config exits 0" 0 bad -c configs/demo.conf --check
check_rc "a removed key (ring_steering) exits 2" 2 bad -c configs/demo.conf --set ring_steering=flow
check "the message names ring_steering" grep -q 'ring_steering' /tmp/swarm-it.out

# --- start
swarm_netns_up "$NS" "$DP" "$HOST" 10.78.0.1/24
if ! swarmd_start; then
	ko "swarmd starts"; cat "$LOG"
	echo "$passed passed, $failed failed"
	exit 1
fi
ok "swarmd starts"
check "ARP and ICMP echo: ping answers" in_ns ping -c 3 -i 0.2 -W 1 -q $IP

# --- every operation and status over the wire
check_rc "register" 0 ctl register it-1 1 --endpoint 10.78.0.1:5683 --meta hello
check_rc "register again, same handle: ok" 0 ctl register it-1 1 --endpoint 10.78.0.1:5683 --meta hello
check_rc "register, other handle: already_registered" 3 ctl register it-1 2
check "already_registered names the holder" grep -q 'already_registered' /tmp/swarm-it.out
check_rc "whereis" 0 ctl whereis it-1
check "whereis returns the handle and metadata" grep -q 'hello' /tmp/swarm-it.out
check_rc "whereis unknown: not found" 1 ctl whereis it-nope
check_rc "unregister with the wrong handle: handle_mismatch" 3 ctl unregister it-1 --handle 9
check_rc "whereis-or-register new name" 0 ctl whereis-or-register it-2 5
check_rc "whereis-or-register existing name" 0 ctl whereis-or-register it-2 6
check "whereis-or-register returned the first handle" grep -Eq 'handle +5 ' /tmp/swarm-it.out
check_rc "join" 0 ctl join devices it-1
check_rc "join of an unknown name: not found" 1 ctl join devices it-nope
check_rc "members" 0 ctl members devices
check "members lists it-1" grep -q 'it-1' /tmp/swarm-it.out
check_rc "leave" 0 ctl leave devices it-1
check_rc "members after leave" 0 ctl members devices
check "members no longer lists it-1" bash -c '! grep -q it-1 /tmp/swarm-it.out'
check_rc "registered" 0 ctl registered
check "registered lists both names" bash -c 'grep -q it-1 /tmp/swarm-it.out && grep -q it-2 /tmp/swarm-it.out'
check_rc "status" 0 ctl status
check "status names the node" grep -q 'demo-1' /tmp/swarm-it.out
check_rc "stats" 0 ctl stats
check "stats reports the counters" bash -c "grep -Eq '^requests +[1-9]' /tmp/swarm-it.out && grep -q 'drop.udp_cksum' /tmp/swarm-it.out"
raw_status() { in_ns python3 tests/integration/swarm_net.py request $IP 7400 "$1"; }
check "a version 2 request is answered bad_version" [ "$(raw_status bad_version)" = 6 ]
check "a reserved opcode is answered unsupported" [ "$(raw_status unsupported)" = 5 ]
check "a 1500-byte request is answered too_large" [ "$(raw_status too_large)" = 7 ]
check_rc "register with a 300 ms lease" 0 ctl register it-lease 3 --ttl 300
lease_gone() { ctl whereis it-lease >/dev/null 2>&1; [ $? -eq 1 ]; }
check "the lease expired: not found within 5 s" eventually 5 lease_gone
check_rc "unregister with the right handle" 0 ctl unregister it-1 --handle 1
check_rc "whereis after unregister: not found" 1 ctl whereis it-1

# --- a storm with zero loss, every name resolvable
check_rc "storm of 100k registrations, zero loss, all verified" 0 \
	storm register --names 100000 --batch 16 --window 64

# --- malformed frames during a storm: all counted, nothing stored changes
before=$(tel_get /swarm/stats entries)
storm register --pattern 'it-storm-%06u' --names 50000 --batch 16 \
	--window 32 >/tmp/swarm-it.storm 2>&1 &
STORM=$!
mac=$(cat /sys/class/net/$DP/address)
kinds=$(in_ns python3 tests/integration/swarm_net.py badpkt $HOST "$mac" \
	10.78.0.1 $IP 7400 20)
wait $STORM
check "storm during malformed frames: zero loss, all verified" [ $? -eq 0 ]
for k in $kinds; do
	case $k in
	proto:bad_request)
		eventually 5 counter_at_least /swarm/ops bad_request 20
		n=$(tel_get /swarm/ops bad_request)
		check "malformed request answered bad_request ($n)" [ "$n" -ge 20 ] ;;
	ip_fragment)
		# net_af_packet opens its sockets with PACKET_FANOUT_FLAG_DEFRAG:
		# the kernel holds a lone fragment for reassembly and it never
		# reaches swarmd. tests/net covers the drop; here it must simply
		# change nothing (checked below).
		echo "# ip_fragment: held by the kernel (af_packet defrag), not counted" ;;
	proto:dropped)
		eventually 5 counter_at_least /swarm/stats proto_dropped 20
		n=$(tel_get /swarm/stats proto_dropped)
		check "non-protocol datagrams dropped and counted ($n)" [ "$n" -ge 20 ] ;;
	*)
		eventually 5 counter_at_least /swarm/drops "$k" 20
		n=$(tel_get /swarm/drops "$k")
		check "drop reason $k counted ($n)" [ "$n" -ge 20 ] ;;
	esac
done
after=$(tel_get /swarm/stats entries)
check "entries: $before + 50000 storm names = $after" [ "$after" -eq $((before + 50000)) ]
check_rc "the first 100k names still resolve" 0 storm verify --names 100000

# --- stop and start again
check "SIGTERM stops swarmd cleanly (exit 0)" swarmd_stop
check "final stats line printed" grep -q '^swarmd: rx' "$LOG"
if swarmd_start; then ok "swarmd starts again"; else ko "swarmd starts again"; cat "$LOG"; fi
check "ping after restart" in_ns ping -c 2 -i 0.2 -W 1 -q $IP
check_rc "a fresh node has no entries: not found" 1 ctl whereis it-2
check "second stop is clean" swarmd_stop

# --- capacity: writes beyond max_entries are answered overloaded; and a
# configured MAC becomes the port's (the client learns it by ARP)
if swarmd_start --set max_entries=2 --set partitions=1 --set mac=02:00:00:00:00:42; then
	in_ns ip neigh flush dev $HOST
	check "ping with a configured MAC" in_ns ping -c 2 -i 0.2 -W 1 -q $IP
	check "ARP answered with the configured MAC" \
		bash -c "ip netns exec $NS ip neigh show $IP | grep -qi 02:00:00:00:00:42"
	check_rc "register 1 of 2" 0 ctl register cap-1 1
	check_rc "register 2 of 2" 0 ctl register cap-2 2
	check_rc "register beyond max_entries: overloaded" 3 ctl register cap-3 3
	check "the answer says overloaded" grep -q 'overloaded' /tmp/swarm-it.out
	check_rc "lookups still answered when full" 0 ctl whereis cap-1
	check "stop when full is clean" swarmd_stop
else
	ko "swarmd starts with max_entries=2"; cat "$LOG"
fi

# --- two workers: writes for the other worker's partitions are forwarded
LCORES=0-1 QPAIRS=2
if swarmd_start --set partitions=4; then
	ok "swarmd starts with two workers"
	check_rc "storm over 4 sockets with two workers, all verified" 0 \
		storm register --names 50000 --batch 16 --window 64 --sockets 4
	n=$(tel_get /swarm/stats fwd_in)
	check "sub-requests were forwarded between workers ($n)" [ "$n" -gt 0 ]
	n=$(in_ns python3 tests/integration/swarm_net.py rw $IP 7400 40)
	check "REGISTER x; WHEREIS x in one datagram: read sees write ($n/40)" [ "$n" = 40 ]
	n=$(tel_get /swarm/stats fwd_ring_full)
	check "no forward was refused ($n)" [ "$n" -eq 0 ]
	check "stop with two workers is clean" swarmd_stop
else
	ko "swarmd starts with two workers"; cat "$LOG"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
