#!/usr/bin/env bash
# Transmit checksum offload, on a port that offers it: swarmd on net_tap
# (whose PMD advertises RTE_ETH_TX_OFFLOAD_UDP_CKSUM and finishes the
# checksum itself), inside a network namespace of its own, with kernel
# sockets on the other end of the tap. The kernel verifies the UDP
# checksum of every frame that comes out of a tap (it arrives without a
# checksum-verified mark) and drops a wrong one as InCsumErrors, so a reply
# or a gossip datagram whose checksum the port did not finish is lost and
# counted: the checks below would see it. net_af_packet (the other tests)
# offers no tx offload, so there swarmd computes checksums in software.
# Needs root. Ends with "N passed, N failed"; exit status 1 on a failure.
#
#   tests/integration/tap.sh [BUILD_DIR]     (default: build)
#
# 1. one node: the port reports the offload in use (/swarm/port
#    tx_udp_cksum_offload), REGISTER and WHEREIS are answered, a storm of
#    STORM_NAMES registrations is answered and verified, no UDP checksum
#    error in the namespace
# 2. two cluster nodes, each on its own tap, the taps bridged in the
#    namespace: gossip (sent with offloaded checksums) joins them, a name
#    registered on node 1 resolves on node 2, neither node dropped a frame
#    for its UDP checksum, no checksum error in the namespace
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
B=${1:-build}
NS=swarm-tap
STORM_NAMES=20000
UDP_PORT=7400
GOSSIP_PORT=7401
KEY=3c1e5d7a9b2f4e6081a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5d7
TMPD=$(mktemp -d /tmp/swarm-tap.XXXXXX)

. scripts/netns.sh
PIDS=()
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
ko() { failed=$((failed + 1)); echo "not ok - $*"; }
note() { echo "# $*"; }
in_ns() { ip netns exec "$NS" "$@"; }
ctl() { local ip=$1; shift; in_ns "$B/app/swarmctl/swarmctl" -s "$ip:$UDP_PORT" --timeout 300 "$@"; }
tel() { python3 tests/integration/swarm_net.py telemetry "$1" "$2"; }
# tel_get PREFIX CMD KEY: one counter of a telemetry command (-1: none)
tel_get() { tel "$1" "$2" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'].get('$3', -1))"; }
# csum_errors: UDP datagrams the namespace's kernel dropped for their checksum
csum_errors() {
	in_ns cat /proc/net/snmp | awk '$1 == "Udp:" && !h { for (i = 2; i <= NF; i++) if ($i == "InCsumErrors") c = i; h = 1; next }
		$1 == "Udp:" { print $c; exit }'
}
# stat_of IP COUNTER: one STATS counter of the node at IP
stat_of() { ctl "$1" stats 2>/dev/null | awk -v k="$2" '$1 == k { print $2; f = 1 } END { exit !f }'; }
stat_is() { [ "$(stat_of "$1" "$2")" = "$3" ]; }
resolves() { ctl "$1" whereis "$2" 2>/dev/null | grep -q "^handle *$3 "; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	if [ "$failed" -eq 0 ]; then rm -rf "$TMPD"; else note "logs kept in $TMPD"; fi
}
[ -n "${TAP_KEEP:-}" ] || trap cleanup EXIT

# start_node I IFACE CIDR [--set ...]: swarmd on net_tap IFACE in the
# namespace; waits for its ready line, then gives the kernel end of the
# tap an address (the PMD creates the interface while swarmd starts)
start_node() {
	local i=$1 ifc=$2 ip=$3
	shift 3
	# ip execs swarmd: $! is swarmd's pid (a backgrounded function is not)
	ip netns exec "$NS" "$B/app/swarmd/swarmd" -l 0 --no-huge -m 512 --no-pci \
		--file-prefix "swarm-tap$i" --vdev="net_tap$i,iface=$ifc" \
		-- "$@" --set "ip=$ip" --set idle_sleep_us=100 \
		>"$TMPD/n$i.log" 2>&1 &
	PIDS+=($!)
	swarm_wait_start "$TMPD/n$i.log" "${PIDS[-1]}" 30 && return 0
	ko "node $i starts on net_tap ($ifc)"
	sed 's/^/#   /' "$TMPD/n$i.log" | tail -n 20
	return 1
}
tap_up() {
	in_ns ethtool -K "$1" tx off >/dev/null 2>&1 || true
	in_ns ip link set "$1" up
}

ip netns del "$NS" 2>/dev/null
ip netns add "$NS"
in_ns ip link set lo up
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true

# --- 1. one node
if start_node 0 swtap0 10.79.0.2/24 -c configs/demo.conf; then
	in_ns ip addr add 10.79.0.1/24 dev swtap0
	tap_up swtap0
	e0=$(csum_errors)
	v=$(tel_get swarm-tap0 /swarm/port tx_udp_cksum_offload)
	if [ "$v" = 1 ]; then
		ok "1. net_tap: swarmd asks the port for UDP checksums (/swarm/port tx_udp_cksum_offload = 1)"
	else
		ko "1. net_tap: swarmd asks the port for UDP checksums (tx_udp_cksum_offload = $v)"
	fi
	if swarm_eventually 10 ctl 10.79.0.2 register tap-1 41 >/dev/null 2>&1 &&
	   resolves 10.79.0.2 tap-1 41; then
		ok "1. REGISTER and WHEREIS are answered through the tap (their checksums finished by the port)"
	else
		ko "1. REGISTER and WHEREIS are answered through the tap"
	fi
	if in_ns "$B/app/swarm-storm/swarm-storm" -s 10.79.0.2:$UDP_PORT -q \
		register --names "$STORM_NAMES" >"$TMPD/storm.out" 2>&1; then
		ok "1. a storm of $STORM_NAMES registrations: every one answered ok and verified"
	else
		ko "1. a storm of $STORM_NAMES registrations answered and verified"
		sed 's/^/#   /' "$TMPD/storm.out" | tail -n 15
	fi
	e1=$(csum_errors)
	if [ "$e1" = "$e0" ]; then
		ok "1. no UDP checksum error in the namespace (InCsumErrors $e1)"
	else
		ko "1. no UDP checksum error in the namespace (InCsumErrors $e0 -> $e1)"
	fi
fi

# --- 2. two cluster nodes on bridged taps
in_ns ip link add swtap-br type bridge
in_ns ip addr add 10.79.1.100/24 dev swtap-br
in_ns ip link set swtap-br up
e0=$(csum_errors)
started=0
for i in 1 2; do
	cat >"$TMPD/n$i.conf" <<EOF
node_name = tap$i
node_id = $i
udp_port = $UDP_PORT
gossip_port = $GOSSIP_PORT
seeds = 10.79.1.1:$GOSSIP_PORT, 10.79.1.2:$GOSSIP_PORT
cluster_key = $KEY
strategy = ring
partitions = 1
expected_entries = 65536
idle_policy = backoff
telemetry = true
EOF
	start_node "$i" "swtap$i" "10.79.1.$i/24" -c "$TMPD/n$i.conf" || break
	# net_tap gives the kernel end of the tap swarmd's MAC, and a bridge
	# keeps its ports' own MACs for itself: give the kernel end another
	in_ns ip link set "swtap$i" address "02:00:00:79:01:0$i"
	in_ns ip link set "swtap$i" master swtap-br
	tap_up "swtap$i"
	started=$((started + 1))
done
if [ "$started" = 2 ]; then
	if swarm_eventually 30 stat_is 10.79.1.1 cluster.alive 2 &&
	   swarm_eventually 10 stat_is 10.79.1.2 cluster.alive 2; then
		ok "2. two nodes on bridged taps join by gossip (cluster.alive = 2 on both)"
	else
		ko "2. two nodes on bridged taps join by gossip (alive: $(stat_of 10.79.1.1 cluster.alive) $(stat_of 10.79.1.2 cluster.alive))"
	fi
	if swarm_eventually 30 ctl 10.79.1.1 register tap-c 77 >/dev/null 2>&1 &&
	   swarm_eventually 10 resolves 10.79.1.2 tap-c 77; then
		ok "2. a name registered on node 1 resolves on node 2"
	else
		ko "2. a name registered on node 1 resolves on node 2"
	fi
	# telemetry: a cluster node's STATS list is cut before the drops
	d1=$(tel_get swarm-tap1 /swarm/drops udp_cksum)
	d2=$(tel_get swarm-tap2 /swarm/drops udp_cksum)
	e1=$(csum_errors)
	if [ "$d1" = 0 ] && [ "$d2" = 0 ] && [ "$e1" = "$e0" ]; then
		ok "2. no frame dropped for its UDP checksum (/swarm/drops udp_cksum 0 on both nodes, InCsumErrors $e1)"
	else
		ko "2. no frame dropped for its UDP checksum (udp_cksum drops $d1 $d2, InCsumErrors $e0 -> $e1)"
	fi
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
