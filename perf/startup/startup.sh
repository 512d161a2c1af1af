#!/usr/bin/env bash
# perf/startup/startup.sh [ROUNDS] [BUILD_DIR]: how soon a new 3-node
# cluster takes writes. Each round starts three empty swarmd nodes at once
# (configs/cluster.conf on the cluster test topology, scripts/cluster_net.sh),
# then REGISTERs through every node every 2 ms (first_write.py) until each
# has answered ok, and prints the time from the last node's start (its
# spawn) to that answer: first the time until every node's ready line (EAL
# init and port set-up, not ours to shorten), then until the last write ok.
# Not a test (no pass/fail on timing): the figures go to perf/RESULTS.md.
# Needs root. Default: 50 rounds, build/. STARTUP_LOGS=DIR keeps every
# round's node logs there; STARTUP_SET="k=v ..." adds --set overrides.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROUNDS=${1:-50}
B=${2:-build}
SWARMD=$B/app/swarmd/swarmd
SETS=()
for kv in ${STARTUP_SET:-}; do SETS+=(--set "$kv"); done
. scripts/cluster_net.sh
swarm_cluster_lock 600 || { echo "startup: the cluster topology is in use"; exit 1; }
TMPD=$(mktemp -d /tmp/swarm-startup.XXXXXX)
cleanup() {
	local i
	for i in 1 2 3; do swarm_cluster_kill "$i"; done
	swarm_cluster_net_down >/dev/null 2>&1
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ms() { date +%s%3N; }

swarm_cluster_net_up 3 >/dev/null || { echo "startup: network set-up failed"; exit 1; }
# The client knows the nodes' MACs (their veths') from the start: a kernel
# whose first ARP for a node that is not up yet goes unanswered retries
# only after a second, which would be measured here instead of swarmd.
for i in 1 2 3; do
	swarm_cluster_in_ns ip neigh replace "10.79.0.$i" lladdr \
		"$(cat "/sys/class/net/$(swarm_cluster_if "$i")/address")" \
		dev "$SWARM_CL_BR" nud permanent
done
spawn() {
	local i=$1
	local -a eal
	mapfile -t eal < <(swarm_cluster_eal_args "$i")
	"$SWARMD" "${eal[@]}" -- -c configs/cluster.conf --set "node_name=n$i" \
		--set "node_id=$i" --set "ip=10.79.0.$i/24" "${SETS[@]}" \
		>"$TMPD/n$i.log" 2>&1 9>&- &
	SWARM_CL_PID[i]=$!
}
all_ready_lines() {
	local i
	for i in 1 2 3; do grep -q '^swarmd: node' "$TMPD/n$i.log" || return 1; done
}

good=0 clashes=0 round=0
: >"$TMPD/results"
while [ "$good" -lt "$ROUNDS" ] && [ "$round" -lt $((ROUNDS * 2)) ]; do
	round=$((round + 1))
	spawn 1; spawn 2; t0=$(ms); spawn 3
	# when the last ready line appeared (EAL and port set-up done)
	# and, with STARTUP_LOGS, when each node's port and cluster were ready
	( seen=
	for ((t = 0; t < 2000; t++)); do
		if [ -n "${STARTUP_LOGS:-}" ]; then
			for i in 1 2 3; do
				for w in node ready; do
					case " $seen " in *" $w$i "*) continue ;; esac
					grep -q "^swarmd: $w" "$TMPD/n$i.log" || continue
					seen+=" $w$i"
					echo "n$i $w $(($(ms) - t0))" >>"$TMPD/times"
				done
			done
		fi
		[ -f "$TMPD/up" ] || ! all_ready_lines || echo $(($(ms) - t0)) >"$TMPD/up"
		[ -f "$TMPD/up" ] && { [ -z "${STARTUP_LOGS:-}" ] || [ "$(wc -w <<<"$seen")" -ge 6 ]; } && break
		sleep 0.005
	done ) &
	watcher=$!
	out=$(swarm_cluster_in_ns python3 perf/startup/first_write.py "$t0" 10000 \
		10.79.0.1:7400 10.79.0.2:7400 10.79.0.3:7400)
	rc=$?
	for ((t = 0; t < 100; t++)); do all_ready_lines && break; sleep 0.05; done
	wait "$watcher" 2>/dev/null
	up=$(cat "$TMPD/up" 2>/dev/null || echo 0)
	rm -f "$TMPD/up"
	if grep -q 'could not set PACKET_FANOUT' "$TMPD"/n*.log; then
		clashes=$((clashes + 1))	# DPDK af_packet fanout clash: not ours
	elif [ $rc -ne 0 ]; then
		echo "round $round: not every node took a write within 10 s:"
		echo "$out" | sed 's/^/  /'
		good=$((good + 1))
		echo "fail" >>"$TMPD/results"
	else
		good=$((good + 1))
		last=$(awk '{ if ($2 > m) m = $2 } END { print m }' <<<"$out")
		echo "$last $up $(tr '\n' ' ' <<<"$out")" >>"$TMPD/results"
	fi
	for i in 1 2 3; do swarm_cluster_stop "$i" 10 >/dev/null; done
	if [ -n "${STARTUP_LOGS:-}" ]; then
		mkdir -p "$STARTUP_LOGS"
		for i in 1 2 3; do
			{ echo "=== round $round"; cat "$TMPD/n$i.log"; } >>"$STARTUP_LOGS/n$i.log"
		done
		{ echo "round $round: $out" | tr '\n' ' '; echo
		  sort -k3 -n "$TMPD/times" 2>/dev/null | tr '\n' ' '; echo; } >>"$STARTUP_LOGS/writes"
		rm -f "$TMPD/times"
	fi
done
echo "rounds $good (plus $clashes restarted after an af_packet fanout clash)"
grep -c '^fail' "$TMPD/results" | sed 's/^/rounds failed: /'
# figures COLUMN TEXT: min, median, p90 and max of one column of results
figures() {
	grep -v '^fail' "$TMPD/results" | awk -v c="$1" '{ print $c }' | sort -n |
		awk -v t="$2" '{ v[NR] = $1 } END { if (NR == 0) exit
		printf "%s: min %d  median %d  p90 %d  max %d ms (n=%d)\n", t,
			v[1], v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR], NR }'
}
figures 2 "last start -> every ready line (EAL, tables, port)"
figures 1 "last start -> a write ok through every node"
grep -v '^fail' "$TMPD/results" | awk '{ print $1 - $2 }' >"$TMPD/after"
sort -n "$TMPD/after" | awk '{ v[NR] = $1 } END { if (NR == 0) exit
	printf "last ready line -> a write ok through every node: min %d  median %d  p90 %d  max %d ms\n",
		v[1], v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR] }'
awk '$1 != "fail" { for (i = 3; i <= NF; i += 3) if ($(i + 2) != "-") print $(i + 2) }' "$TMPD/results" |
	tr ',' '\n' | awk -F: '{ s[$1] += $2 } END { for (k in s) printf "answers before the first ok: %s %d\n", k, s[k] }'
