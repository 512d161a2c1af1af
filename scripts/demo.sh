#!/usr/bin/env bash
# The demo, as root on a fresh Debian 12 machine: installs what is missing,
# builds, and runs a 3-node swarm cluster on DPDK (no hugepages; each node
# on net_af_packet over its own veth pair, the three joined by a Linux
# bridge in a network namespace that is also the client host). Then:
#   - the nodes find each other (SWIM) and form one ring;
#   - swarm-storm registers one million device names, a third through each
#     node, and verifies them; every write is serialized by its name's
#     owner node and replicated to the others;
#   - every node ends up holding every name: lookups of names registered
#     through another node are answered locally;
#   - one node is killed (kill -9): the others detect it and remove the
#     registrations made through it; it restarts and resyncs.
# Everything is removed again on exit and on Ctrl-C.
#
# Environment: NAMES (default 1000000), BATCH (16), WINDOW (64).
set -euo pipefail
cd "$(dirname "$0")/.."
NAMES=${NAMES:-1000000}
BATCH=${BATCH:-16}
WINDOW=${WINDOW:-64}
CONF=configs/cluster.conf
TMPD=$(mktemp -d /tmp/swarm-demo.XXXXXX)

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it creates network namespaces and runs DPDK)" >&2
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

SWARMD=build/app/swarmd/swarmd
CTL=build/app/swarmctl/swarmctl
STORM=build/app/swarm-storm/swarm-storm
. scripts/cluster_net.sh
swarm_cluster_lock 600

cleanup() {
	local i
	for i in 1 2 3; do
		swarm_cluster_stop "$i" 10 >/dev/null 2>&1 || true
	done
	swarm_cluster_net_down >/dev/null 2>&1 || true
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctl() { swarm_cluster_in_ns "$CTL" -s "10.79.0.$1:7400" "${@:2}"; }
stat_of() { ctl "$1" stats 2>/dev/null | awk -v k="$2" '$1 == k { print $2 }'; }
ms() { date +%s%3N; }

# wait_all DEADLINE_S COUNTER VALUE: every running node shows COUNTER == VALUE
wait_all() {
	local deadline=$(($(date +%s) + $1)) i ok
	while :; do
		ok=1
		for i in $NODES; do
			[ "$(stat_of "$i" "$2")" = "$3" ] || ok=0
		done
		[ $ok = 1 ] && return 0
		[ "$(date +%s)" -ge $deadline ] && return 1
		sleep 0.2
	done
}

start() {
	swarm_cluster_start "$SWARMD" "$1" "$CONF" "$TMPD/n$1.log" \
		--set "node_name=n$1" --set "node_id=$1" \
		--set "ip=10.79.0.$1/24" || {
		echo "demo: node $1 did not start:" >&2
		tail -n 20 "$TMPD/n$1.log" >&2
		exit 1
	}
}

swarm_cluster_net_up 3 >/dev/null
NODES="1 2 3"
for i in $NODES; do
	start "$i"
	grep '^swarmd: node' "$TMPD/n$i.log" | tail -n 1
done

echo
echo "demo: the nodes find each other"
t0=$(ms)
wait_all 30 cluster.alive 3 || { echo "demo: no cluster formed" >&2; exit 1; }
wait_all 30 cluster.ring_nodes 3 || { echo "demo: rings differ" >&2; exit 1; }
echo "demo: 3 members, one ring, after $(($(ms) - t0)) ms"

echo
echo "demo: a registration storm of $NAMES names, a third through each node"
t0=$(ms)
per=$(((NAMES + 2) / 3))
pids=()
for i in $NODES; do
	start_n=$(((i - 1) * per))
	n=$per
	[ $((start_n + n)) -gt "$NAMES" ] && n=$((NAMES - start_n))
	swarm_cluster_in_ns "$STORM" -s "10.79.0.$i:7400" register \
		--start "$start_n" --names "$n" --batch "$BATCH" \
		--window "$WINDOW" >"$TMPD/storm$i.txt" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
for i in $NODES; do
	echo "  through n$i:"
	sed 's/^/    /' "$TMPD/storm$i.txt" | tail -n 4
done
[ $rc = 0 ] || { echo "demo: a storm failed" >&2; cat "$TMPD"/storm*.txt >&2; exit 1; }
echo "demo: storm done in $(($(ms) - t0)) ms; waiting for every node to hold every name"
wait_all 120 entries "$NAMES" || {
	echo "demo: nodes did not converge:" >&2
	for i in $NODES; do echo "  n$i entries $(stat_of "$i" entries)" >&2; done
	exit 1
}
echo "demo: all 3 nodes hold $NAMES names, $(($(ms) - t0)) ms after the storm began"

echo
echo "demo: lookups answered locally, whichever node took the registration"
for i in $NODES; do
	name=$(printf 'dev-%08u' $(((i % 3) * per + 7)))
	printf '  on n%s: %s: ' "$i" "$name"
	ctl "$i" --json whereis "$name" | tr -d '\n'
	echo
done

echo
echo "demo: kill -9 of n3; n1 and n2 detect it and drop what was registered through it"
swarm_cluster_kill 3 || true	# returns the killed process's status
NODES="1 2"
t0=$(ms)
wait_all 30 cluster.alive 2 || { echo "demo: the crash was not detected" >&2; exit 1; }
echo "demo: detected in $(($(ms) - t0)) ms"
left=$((2 * per))		# the names registered through n1 and n2
[ "$left" -gt "$NAMES" ] && left=$NAMES
wait_all 60 entries "$left" || echo "demo: n1/n2 hold $(stat_of 1 entries) entries (want $left)"
echo "demo: n1 and n2 hold $(stat_of 1 entries) entries ($(($(ms) - t0)) ms after the kill)"

echo
echo "demo: n3 restarts and resyncs"
t0=$(ms)
start 3
NODES="1 2 3"
wait_all 60 cluster.alive 3 || { echo "demo: n3 did not rejoin" >&2; exit 1; }
wait_all 120 entries "$left" || echo "demo: n3 holds $(stat_of 3 entries) entries (want $left)"
echo "demo: n3 holds $(stat_of 3 entries) entries, $(($(ms) - t0)) ms after its restart"
# holding them is not serving yet: the sync is verified first (counts per
# segment, the pushers' streams), then n3 takes writes again
ctl 3 wait-ready --writable --wait 60000 >/dev/null ||
	echo "demo: n3 does not serve writes yet" >&2
echo "demo: n3 serves, $(($(ms) - t0)) ms after its restart"
ctl 3 status

echo
echo "demo: done; stopping the cluster"
