#!/usr/bin/env bash
# The demo, as root on a fresh Debian 12 machine: installs what is missing,
# builds, and runs one swarmd node on DPDK (no hugepages, net_af_packet on a
# veth pair) with a client host in a network namespace on the other end.
# From there swarm-storm registers one million device names and verifies
# that every one resolves, and swarmctl shows a few lookups. Everything is
# removed again on exit and on Ctrl-C.
#
# Environment: NAMES (default 1000000), BATCH (16), WINDOW (256).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NAMES=${NAMES:-1000000}
BATCH=${BATCH:-16}
WINDOW=${WINDOW:-256}

NS=swarm-demo
DP=swdemo0		# DPDK side (root namespace)
HOST=swdemo1		# client side, inside $NS
SERVER=10.77.0.2:7400
LOG=$(mktemp /tmp/swarmd-demo.XXXXXX)
SWARMD_PID=

. scripts/netns.sh

cleanup() {
	if [ -n "$SWARMD_PID" ] && kill -0 "$SWARMD_PID" 2>/dev/null; then
		kill -INT "$SWARMD_PID" 2>/dev/null || true
		wait "$SWARMD_PID" 2>/dev/null || true
		tail -n 1 "$LOG"
	fi
	swarm_netns_down "$NS" "$DP"
	rm -f "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it creates a network namespace and runs DPDK)" >&2
	exit 2
fi

bash scripts/deps.sh
if [ ! -f build/build.ninja ]; then
	rm -rf build
	meson setup build -Dfuzz=false >/dev/null
	echo "-Dfuzz=false" >build/.swarm-options	# as scripts/test.sh does
fi
echo "demo: building..."
ninja -C build >/dev/null

swarm_netns_up "$NS" "$DP" "$HOST" 10.77.0.1/24
echo "demo: starting swarmd on $DP (10.77.0.2, udp 7400)"
build/app/swarmd/swarmd -l 0 --no-huge -m 1024 --no-pci --file-prefix swarm-demo \
	--vdev="net_af_packet0,iface=$DP" -- -c configs/demo.conf >"$LOG" 2>&1 &
SWARMD_PID=$!
if ! swarm_wait_line "$LOG" '^swarmd: node' 30; then
	echo "demo: swarmd did not start:" >&2
	cat "$LOG" >&2
	exit 1
fi
grep '^swarmd: node' "$LOG"

in_ns() { ip netns exec "$NS" "$@"; }

echo
echo "demo: ping from the client host"
in_ns ping -c 2 -i 0.2 -W 1 10.77.0.2 | tail -n 2

echo
echo "demo: a registration storm of $NAMES names, $BATCH per datagram"
in_ns build/app/swarm-storm/swarm-storm -s "$SERVER" register \
	--names "$NAMES" --batch "$BATCH" --window "$WINDOW"

echo
echo "demo: a few lookups with swarmctl"
for i in 0 1 $((NAMES / 2)) $((NAMES - 1)); do
	in_ns build/app/swarmctl/swarmctl -s "$SERVER" whereis "$(printf 'dev-%08u' "$i")"
done
in_ns build/app/swarmctl/swarmctl -s "$SERVER" whereis no-such-device || true
in_ns build/app/swarmctl/swarmctl -s "$SERVER" status

echo
echo "demo: done; stopping swarmd"
