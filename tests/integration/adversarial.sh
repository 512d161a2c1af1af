#!/usr/bin/env bash
# Adversarial cluster tests: real swarmd nodes (DPDK net_af_packet on veth
# pairs, authenticated gossip with a cluster_key) on a bridge in their own
# network namespace swarm-adv (veths swadvIa/swadvIb, nodes 10.83.0.I, the
# client 10.83.0.100; scripts/cluster_net.sh draws the topology), attacked
# with replayed and spoofed frames, packet loss, netsplits and crashes
# during writes. Needs root. Prints one "ok - ..." / "not ok - ..." line
# per check and ends with "N passed, N failed"; exit status 1 when
# anything failed. Uses its own namespace, veth names, DPDK file prefixes,
# lock and temp dir, so it can run right after tests/integration/cluster.sh.
#
#   tests/integration/adversarial.sh [BUILD_DIR]     (default: build)
#
# Checks (numbers for ADV_ONLY; 1, 2, 4, 5 run in this order on one ring
# cluster, then 3 on its own), 3 nodes, strategy ring unless said:
#   1  replay: tcpdump records the gossip on every node's veth while node 3
#      restarts and names are registered, then unregistered, through node 1
#      (FWD frames to nodes 2 and 3); node 3 is killed (-9) and restarted;
#      every recorded frame is sent again to its destination node. Then
#      every node still serves with 3 owners, no unregistered name is back,
#      a fresh name registered through each node resolves everywhere, and
#      cluster.rx_stale + cluster.rx_replayed rose on every node
#   2  loss: N names through node 1; node 3 killed; 30% random loss on node
#      3's gossip both ways (nftables, bridge family); node 3 restarts and
#      becomes ready within a bound holding exactly node 1's entries; the
#      same names registered through node 3 with other handles are never
#      answered ok (already_registered, or no_node_available when a
#      forward was lost); loss removed, every node converges and more such
#      registrations are answered already_registered, each within 1 s
#      (a refusal must not wait fwd_timeout_ms)
#   3  a separate static_quorum_ring cluster (quorum 2): recorded writes
#      through nodes 1 and 2 and (overlapping names, other handles) node 3;
#      node 3 is cut off mid-storm and healed; no write first sent to node
#      3 after the cut is answered ok before the heal, the majority kept
#      accepting writes, names the majority acknowledged (before the cut
#      and during the split) registered through node 3 with other handles
#      right after the heal are never answered ok, nodes 1 and 2 take
#      nothing over at the heal (node 3's stale verdicts that they are
#      dead kill neither), and every name the majority answered ok
#      resolves with that handle on all three nodes
#   4  kill -9 of node 2 during recorded writes through node 1: after
#      detection every name answered ok resolves on nodes 1 and 3
#   5  spoofing: from the client, a gossip datagram (an authentic one of
#      node 2, replayed, and garbage) to node 1 with node 2's source IP and
#      the client's MAC, and unsolicited/gratuitous ARP claiming node 2's IP;
#      node 1 keeps sending node 2's gossip to node 2's MAC (none to the
#      client's), a write through node 1 owned by node 2 works and resolves
#      on node 2, cluster.gossip_no_neigh does not climb, alive stays 3;
#      then node 1 is killed (-9) and restarted while the client floods it
#      with ARP replies for node 2's IP (one every 0.2 ms; node 1 asks for
#      node 2's MAC as it starts), until 2 s after node 1 serves: once the
#      flood is over, node 1 gets node 2 back into its ring (bounded),
#      gossips to node 2's MAC (none to the client's) and a write through
#      node 1 owned by node 2 works
#
# Environment:
#   ADV_ONLY="1 3"        run a subset (set-up always runs)
#   ADV_QUICK=1           smaller storms (for the sanitizer build)
#   ADV_STORM_NAMES=N     names of check 2 (20000; quick 5000)
#   ADV_WRITES=N          recorded writes per writer in checks 3, 4 (6000;
#                         quick 2000)
#   ADV_LOSS_PCT=P        check 2's loss, percent (30)
#   ADV_SET="k=v k=v"     extra --set overrides for every swarmd
#   ADV_KEEP=1            keep the temp dir after a passing run
#   ADV_LOCK_WAIT_S=N     how long to wait for another run of this script
set -uo pipefail
ORIG_PWD=$PWD
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
B=${1:-build}
case $B in
/*) ;;
*) [ -d "$ROOT/$B" ] || B=$ORIG_PWD/$B ;;
esac

# our own topology (scripts/cluster_net.sh tunables)
SWARM_CL_NS=swarm-adv
SWARM_CL_PFX=swadv
SWARM_CL_NET=10.83.0
# shellcheck source=scripts/cluster_net.sh
. scripts/cluster_net.sh

C_ALIVE=cluster.alive
C_ENTRIES=entries
C_STALE=cluster.rx_stale
C_REPLAYED=cluster.rx_replayed
C_NO_NEIGH=cluster.gossip_no_neigh
PROBE_INTERVAL_MS=500
PROBE_TIMEOUT_MS=250
SUSPICION_MULT=3
CLUSTER_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
UDP_PORT=7400
GOSSIP_PORT=7401
CONVERGE_MS=15000
REPL_MS=5000
READY_MS=20000
RESYNC_MS=60000
LOSSY_READY_MS=90000		# a node syncing through ADV_LOSS_PCT loss
HEAL_MS=30000
SETTLE_MS=30000			# after a crash or heal, nodes agree
DETECT_FACTOR=3
DETECT_SLACK_MS=3000

ADV_ONLY=${ADV_ONLY:-}
ADV_ONLY=${ADV_ONLY//,/ }
ADV_QUICK=${ADV_QUICK:-0}
if [ "$ADV_QUICK" = 1 ]; then
	ADV_STORM_NAMES=${ADV_STORM_NAMES:-5000}
	ADV_WRITES=${ADV_WRITES:-2000}
else
	ADV_STORM_NAMES=${ADV_STORM_NAMES:-20000}
	ADV_WRITES=${ADV_WRITES:-6000}
fi
ADV_LOSS_PCT=${ADV_LOSS_PCT:-30}
ADV_SET=${ADV_SET:-}
ADV_KEEP=${ADV_KEEP:-0}

SWARMD=$B/app/swarmd/swarmd
SWARMCTL=$B/app/swarmctl/swarmctl
STORM=$B/app/swarm-storm/swarm-storm
PY=tests/integration/adversarial.py

# ok/ko/note, wait_ms, the clients, the common predicates, node start/stop
# shellcheck source=tests/integration/cluster_lib.sh
. "$ROOT/tests/integration/cluster_lib.sh"
ONLY_CHECKS=$ADV_ONLY		# for want
NODE_SETS=$ADV_SET		# for start_node
LOG_NOISE_WHAT='EAL chatter'	# logtail's heading

TMPD=
BG_PIDS=()
CAP_PIDS=()
EXP=(0 0 0 0)		# names expected: [i] registered through node i
KNOWN_KEYS=

mac_of() { cat "/sys/class/net/$SWARM_CL_PFX${1}a/address"; }
port_of() { echo "$SWARM_CL_PFX${1}b"; }	# node I's bridge port (in the namespace)
in_ns() { ip netns exec "$SWARM_CL_NS" "$@"; }
py() { in_ns python3 "$PY" "$@" 9>&-; }

# ---- clients -----------------------------------------------------------------
# stats_of NODE C1 C2...: the counters' values, space-separated (x when absent)
stats_of() {
	local i=$1 out
	shift
	out=$(qctl "$i" stats 2>/dev/null) || out=
	awk -v ks="$*" 'BEGIN { n = split(ks, k, " ") } { v[$1] = $2 }
		END { for (j = 1; j <= n; j++) printf "%s%s", (j > 1 ? " " : ""), ((k[j] in v) ? v[k[j]] : "x"); print "" }' <<<"$out"
}
# readiness_of NODE: "state owners alive" from READINESS, or no_answer
readiness_of() {
	local j
	j=$(qctl "$1" --json status 2>/dev/null) || { echo no_answer; return; }
	sed -n 's/.*"state":"\([a-z_]*\)".*"alive":\([0-9]*\),"owners":\([0-9]*\).*/\1 \3 \2/p' <<<"$j" | grep . || echo unparsed
}
# entries_agree NODE...: every NODE holds the same number of entries
entries_agree() {
	local i x first='' r=0
	OBS=
	for i; do
		x=$(stat_of "$i" "$C_ENTRIES") || x=no_answer
		OBS+=" n$i=$x"
		[ -z "$first" ] && first=$x
		[ "$x" = "$first" ] && [ "$x" != no_answer ] || r=1
	done
	return $r
}
# file_has FILE PATTERN: a line of FILE matches (for waits on tool output)
file_has() { OBS=" $(tail -n 1 "$1" 2>/dev/null)"; grep -q "$2" "$1" 2>/dev/null; }
# progress_at_least FILE FIELD N: a writer's progress FIELD (answered, ok)
# reached N, or the writer is done
# stat_at_least NODE COUNTER VALUE: the node's STATS counter is >= VALUE
stat_at_least() {
	local v
	v=$(stat_of "$1" "$2")
	OBS=" n$1 $2=${v:-none} (want >= $3)"
	[ -n "$v" ] && [ "$v" -ge "$3" ]
}
progress_at_least() {
	local v
	v=$(awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }' "$1" 2>/dev/null)
	OBS=" $2=${v:-none} (want >= $3)"
	[ -n "$v" ] && { [ "$v" -ge "$3" ] || grep -q " done$" "$1"; }
}
pids_done() {
	local p
	OBS=" still running:"
	for p; do kill -0 "$p" 2>/dev/null && { OBS+=" $p"; return 1; }; done
	return 0
}

# ---- nodes -------------------------------------------------------------------
key_known() { grep -qx "  $1" <<<"$KNOWN_KEYS"; }

# write_conf I STRATEGY EXPECTED
write_conf() {
	local i=$1 strategy=$2 expected=$3 f kv
	f=$TMPD/n$i.conf
	{
		echo "# node $i, written by tests/integration/adversarial.sh"
		conf_base "$i" "$strategy" "$expected"
		echo "seeds = $(swarm_cluster_seeds 3)"
		echo "cluster_key = $CLUSTER_KEY"
		for kv in "probe_interval_ms=$PROBE_INTERVAL_MS" \
			"probe_timeout_ms=$PROBE_TIMEOUT_MS" "suspicion_mult=$SUSPICION_MULT"; do
			key_known "${kv%%=*}" && echo "${kv%%=*} = ${kv#*=}"
		done
	} >"$f"
	chmod 600 "$f"
}

# phase_start LABEL STRATEGY EXPECTED: nodes 1..3 start and serve
phase_start() {
	local label=$1 strategy=$2 expected=$3 i bad=()
	EXP=(0 0 0 0)
	for i in 1 2 3; do
		write_conf "$i" "$strategy" "$expected"
		start_node "$i" || bad+=("$i")
	done
	if [ ${#bad[@]} -ne 0 ]; then
		ko_logs "$label: 3 nodes start (strategy $strategy): node(s) ${bad[*]} did not" "${bad[@]}"
		return 1
	fi
	if wait_ms "$READY_MS" serving 1 2 3 && converge 3 "$CONVERGE_MS"; then
		ok "$label: 3 nodes (strategy $strategy, authenticated gossip) serve, $C_ALIVE == 3 ($(secs "$WAITED_MS"))"
		return 0
	fi
	ko_logs "$label: 3 nodes (strategy $strategy) serve with $C_ALIVE == 3 (saw:$OBS)" 1 2 3
	return 1
}

# ensure_up I...: (set-up) restarts the given nodes where they are down
ensure_up() {
	local i started=0
	for i; do
		running "$i" && continue
		note "set-up: starting node $i again"
		start_node "$i" || { note "set-up: node $i does not start"; logtail "$i"; }
		started=1
	done
	[ "$started" = 1 ] || return 0
	converge 3 "$RESYNC_MS" || note "set-up: $C_ALIVE is not 3 everywhere:$OBS"
	wait_ms "$RESYNC_MS" serving 1 2 3 || note "set-up: not every node serves:$OBS"
	wait_ms "$RESYNC_MS" entries_agree 1 2 3 || note "set-up: entries differ:$OBS"
}

# kill_and_forget I: kill -9 of node I, nodes the others see it dead, its
# names purged (set-up of a clean restart)
kill_and_forget() {
	local i=$1 others=() j
	for j in 1 2 3; do [ "$j" = "$i" ] || others+=("$j"); done
	swarm_cluster_kill "$i"
	EXP[i]=0
	wait_ms "$(detect_deadline 3)" stat_is "$C_ALIVE" 2 "${others[@]}" ||
		note "set-up: nodes ${others[*]} did not see node $i go:$OBS"
	wait_ms "$SETTLE_MS" entries_are "$(exp_total)" "${others[@]}" ||
		note "set-up: entries are not $(exp_total) on nodes ${others[*]}:$OBS"
}

# ---- captures ----------------------------------------------------------------
# cap_start FILE IFACE [FILTER...]: tcpdump in the namespace, until cap_stop
cap_start() {
	local f=$1 ifc=$2 p
	shift 2
	# ip netns exec execs tcpdump: $! is tcpdump itself. SIGTERM stops it
	# (a background job of a script ignores SIGINT)
	ip netns exec "$SWARM_CL_NS" tcpdump -i "$ifc" -Z root -U -n -s 0 -w "$f" \
		"${@:-udp port $GOSSIP_PORT}" 2>"$f.err" 9>&- &
	p=$!
	CAP_PIDS+=("$p")
	BG_PIDS+=("$p")
	if ! wait_ms 5000 file_has "$f.err" 'listening on'; then
		note "tcpdump on $ifc did not start:$OBS"
		return 1
	fi
}
cap_stop() {
	local p
	for p in "${CAP_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${CAP_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	CAP_PIDS=()
}
# cap_count FILE [FILTER]: frames in a capture
cap_count() {
	local f=$1
	shift
	tcpdump -r "$f" -n "$@" 2>/dev/null | wc -l
}

# ---- loss (nftables, bridge family, in the namespace) --------------------------
loss_on() {
	local i=$1 pct=$2 b
	b=$(port_of "$i")
	in_ns nft -f - <<-EOF
		table bridge adv_loss {
			chain lossy {
				type filter hook forward priority 0; policy accept;
				oifname "$b" udp dport $GOSSIP_PORT numgen random mod 100 < $pct counter drop
				iifname "$b" udp sport $GOSSIP_PORT numgen random mod 100 < $pct counter drop
			}
		}
	EOF
}
loss_counts() {
	in_ns nft list table bridge adv_loss 2>/dev/null |
		awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") { n++; printf "%s%s %s", (n > 1 ? ", " : ""), ($1 ~ /oif/ ? "to node" : "from node"), $(i + 1) } } END { print "" }'
}
loss_off() { in_ns nft delete table bridge adv_loss 2>/dev/null || true; }

# ---- check 1: replay after restart -------------------------------------------------
C1_NAMES=24
check_1() {
	local t0 i j x s0 p0 s1 p1 out=$TMPD/c1.out owners=() fwd2=0 fwd3=0 bad=() r saw
	local -a before after
	ensure_up 1 2 3
	for i in 1 2 3; do
		cap_start "$TMPD/c1-n$i.pcap" "$(port_of "$i")" || { ko "1. tcpdump records node $i's gossip"; cap_stop; return; }
	done
	# node 3 starts (a new epoch) while recorded
	swarm_cluster_kill 3
	if ! start_node 3; then
		cap_stop
		ko_logs "1. node 3 restarts under capture" 3
		return
	fi
	wait_ms "$RESYNC_MS" serving 1 2 3 || note "set-up: not every node serves after node 3's restart:$OBS"
	converge 3 "$RESYNC_MS" || note "set-up: $C_ALIVE is not 3:$OBS"
	# registered, then unregistered, through node 1: FWD to nodes 2 and 3
	for ((j = 1; j <= C1_NAMES; j++)); do
		if ctl 1 --json register "c1-gone-$j" $((1000 + j)) >"$out" 2>&1; then
			owners[j]=$(sed -n 's/.*"version":{"clock":[0-9]*,"node":\([0-9]*\)}.*/\1/p' "$out")
			[ "${owners[j]}" = 2 ] && fwd2=$((fwd2 + 1))
			[ "${owners[j]}" = 3 ] && fwd3=$((fwd3 + 1))
		else
			bad+=("register:c1-gone-$j")
		fi
	done
	for ((j = 1; j <= C1_NAMES; j++)); do
		wait_ms "$REPL_MS" handle_is "c1-gone-$j" $((1000 + j)) 1 2 3 || bad+=("replicate:c1-gone-$j:$OBS")
	done
	for ((j = 1; j <= C1_NAMES; j++)); do
		ctl 1 unregister "c1-gone-$j" --handle $((1000 + j)) >"$out" 2>&1 || bad+=("unregister:c1-gone-$j")
	done
	r=0
	for ((j = 1; j <= C1_NAMES; j++)); do
		wait_ms "$REPL_MS" absent_on "c1-gone-$j" 1 2 3 || { r=1; bad+=("absent:c1-gone-$j:$OBS"); }
	done
	cap_stop
	local n1 n2 n3
	n1=$(cap_count "$TMPD/c1-n1.pcap")
	n2=$(cap_count "$TMPD/c1-n2.pcap")
	n3=$(cap_count "$TMPD/c1-n3.pcap")
	if [ ${#bad[@]} -eq 0 ]; then
		ok "1. recorded: node 3 restart, $C1_NAMES names registered and unregistered through node 1 ($fwd2 owned by node 2, $fwd3 by node 3: FWD); gossip frames on the veths: n1 $n1, n2 $n2, n3 $n3"
	else
		ko_logs "1. recorded scenario (register, replicate, unregister through node 1): failed ${bad[*]:0:6}" 1 2 3
	fi
	# kill -9 and start node 3 again: a third epoch
	swarm_cluster_kill 3
	t0=$(now_ms)
	if ! start_node 3; then
		ko_logs "1. node 3 restarts after kill -9" 3
		return
	fi
	if wait_ms "$RESYNC_MS" serving 1 2 3 && converge 3 "$RESYNC_MS"; then
		note "node 3 killed and restarted: every node serves, $C_ALIVE == 3 ($(secs $(($(now_ms) - t0))))"
	else
		ko_logs "1. node 3 killed and restarted: every node serves with $C_ALIVE == 3 within $(secs "$RESYNC_MS") (saw:$OBS)" 1 2 3
	fi
	for i in 1 2 3; do before[i]=$(stats_of "$i" "$C_STALE" "$C_REPLAYED"); done
	py replay --port "$(mac_of 1)=$(port_of 1)" --port "$(mac_of 2)=$(port_of 2)" \
		--port "$(mac_of 3)=$(port_of 3)" --gossip-port "$GOSSIP_PORT" \
		"$TMPD/c1-n1.pcap" "$TMPD/c1-n2.pcap" "$TMPD/c1-n3.pcap" >"$out" 2>&1
	note "$(cat "$out")"
	# a fresh name through each node: resolves everywhere (also the
	# barrier: the replayed frames were all taken before these writes)
	bad=()
	for i in 1 2 3; do
		if ctl "$i" register "c1-fresh-$i" $((1100 + i)) >"$TMPD/c1.reg" 2>&1; then
			EXP[i]=$((EXP[i] + 1))
		else
			bad+=("n$i:$(tail -n 1 "$TMPD/c1.reg")")
		fi
	done
	saw=
	for i in 1 2 3; do
		wait_ms "$REPL_MS" handle_is "c1-fresh-$i" $((1100 + i)) 1 2 3 || { bad+=("c1-fresh-$i"); saw+=" c1-fresh-$i:$OBS;"; }
	done
	if [ ${#bad[@]} -eq 0 ]; then
		ok "1. after the replay a fresh name registered through each node resolves on every node"
	else
		ko_logs "1. after the replay a fresh name registered through each node resolves on every node (failed: ${bad[*]}; saw:$saw)" 1 2 3
	fi
	saw='' r=0
	for i in 1 2 3; do
		x=$(readiness_of "$i")
		saw+=" n$i=${x// /\/}"
		[ "$x" = "serving 3 3" ] || r=1
	done
	if [ "$r" = 0 ]; then
		ok "1. after the replay READINESS on every node: serving, 3 owners, 3 alive (state/owners/alive:$saw)"
	else
		ko_logs "1. after the replay READINESS on every node: serving, 3 owners, 3 alive (state/owners/alive:$saw)" 1 2 3
	fi
	saw='' r=0
	for ((j = 1; j <= C1_NAMES; j++)); do
		absent_on "c1-gone-$j" 1 2 3 || { r=1; saw+=" c1-gone-$j(owner n${owners[j]:-?}):$OBS;"; }
	done
	entries_are "$(exp_total)" 1 2 3 || r=1
	if [ "$r" = 0 ]; then
		ok "1. none of the $C1_NAMES unregistered names is back on any node; every node holds $(exp_total) entries"
	else
		ko_logs "1. none of the $C1_NAMES unregistered names is back on any node, entries $(exp_total) (saw:$saw entries:$OBS)" 1 2 3
	fi
	saw='' r=0
	for i in 1 2 3; do
		after[i]=$(stats_of "$i" "$C_STALE" "$C_REPLAYED")
		read -r s0 p0 <<<"${before[i]}"
		read -r s1 p1 <<<"${after[i]}"
		saw+=" n$i stale ${s0}->${s1} replayed ${p0}->${p1};"
		if [[ $s0$p0$s1$p1 =~ ^[0-9]+$ ]] && [ $((s1 + p1)) -gt $((s0 + p0)) ]; then :; else r=1; fi
	done
	if [ "$r" = 0 ]; then
		ok "1. $C_STALE + $C_REPLAYED rose on every node:$saw"
	else
		ko "1. $C_STALE + $C_REPLAYED rose on every node:$saw"
	fi
}
# absent_on NAME NODE...: WHEREIS answers not_found on every NODE
absent_on() {
	local name=$1 i rc r=0
	shift
	OBS=
	for i; do
		qctl "$i" whereis "$name" >/dev/null 2>&1
		rc=$?
		case $rc in
		1) OBS+=" n$i=not_found" ;;
		0) OBS+=" n$i=found:$(handle_of "$i" "$name")"; r=1 ;;
		*) OBS+=" n$i=exit$rc"; r=1 ;;
		esac
	done
	return $r
}

# ---- check 2: loss on the links of a restarting node ----------------------------
C2_PAT='adv2-%07u'
check_2() {
	local n=$ADV_STORM_NAMES out=$TMPD/c2.out t0 rc e1 e3 saw s c i okn ar nn wantn
	ensure_up 1 2 3
	if storm 1 register --pattern "$C2_PAT" --names "$n" --no-verify --batch 16 \
		--window 32 --timeout 1000 --retries 10 -q >"$out" 2>&1; then
		EXP[1]=$((EXP[1] + n))
	else
		ko_logs "2. storm of $n names through node 1 answers ok" 1 2 3
		indent "$out" | tail -n 20
		return
	fi
	wantn=$(exp_total)
	wait_ms "$RESYNC_MS" entries_are "$wantn" 1 2 3 || note "set-up: entries are not $wantn everywhere:$OBS"
	kill_and_forget 3
	wantn=$(exp_total)
	if ! loss_on 3 "$ADV_LOSS_PCT" 2>"$out"; then
		ko "2. nftables (bridge family) drops ${ADV_LOSS_PCT}% of node 3's gossip"
		indent "$out"
		return
	fi
	t0=$(now_ms)
	if ! start_node 3; then
		loss_off
		ko_logs "2. node 3 starts behind ${ADV_LOSS_PCT}% gossip loss" 3
		return
	fi
	ctl 3 wait-ready --writable --wait "$LOSSY_READY_MS" >"$out" 2>&1
	rc=$?
	# at that moment: what node 3 holds against node 1
	e3=$(stat_of 3 "$C_ENTRIES") || e3=no_answer
	e1=$(stat_of 1 "$C_ENTRIES") || e1=no_answer
	local short
	short=$(stat_of 3 cluster.sync_short) || short=x
	if [ "$rc" = 0 ]; then
		ok "2. node 3 behind ${ADV_LOSS_PCT}% gossip loss both ways is ready $(secs $(($(now_ms) - t0))) after its start (bound $(secs "$LOSSY_READY_MS"); dropped so far: $(loss_counts); cluster.sync_short $short)"
	else
		ko_logs "2. node 3 behind ${ADV_LOSS_PCT}% gossip loss both ways is ready within $(secs "$LOSSY_READY_MS") (wait-ready exit $rc: $(tail -n 1 "$out"); dropped: $(loss_counts))" 1 3
	fi
	if [ "$rc" = 0 ] && [ "$e3" = "$e1" ] && [ "$e1" = "$wantn" ]; then
		ok "2. at readiness node 3 holds what node 1 holds: entries $e3 = $e1"
	else
		ko_logs "2. at readiness node 3 holds what node 1 holds (entries: node 3 $e3, node 1 $e1, expected $wantn)" 1 3
	fi
	# the same names through node 3 with other handles: never ok. A
	# client timeout above fwd_timeout_ms (2 s): a forwarded op is
	# answered at the latest then
	c2_sample "$n" 0 100 0x5a5a5a5a "$TMPD/c2-lossy"
	saw=$(py tally "$TMPD/c2-lossy")
	read -r _ c _ okn _ ar _ nn _ <<<"$saw"
	# a forward lost both times (FWD is not resent) ends as
	# no_node_available after fwd_timeout_ms: outcome unknown, documented
	if [ "${okn:-1}" = 0 ] && [ $((${ar:-0} + ${nn:-0})) = "${c:-x}" ] && [ "${ar:-0}" -gt 0 ]; then
		ok "2. 300 of those names registered through node 3 with new handles (loss on): none ok, each already_registered (or no_node_available: forward lost) ($saw)"
	else
		ko_logs "2. 300 of those names registered through node 3 with new handles (loss on): none ok, each already_registered or no_node_available ($saw)" 1 3
	fi
	loss_off
	if wait_ms "$SETTLE_MS" all_agree "$wantn"; then
		ok "2. loss removed: every node sees $C_ALIVE == 3 and holds $wantn entries ($(secs "$WAITED_MS"))"
	else
		ko_logs "2. loss removed: every node sees $C_ALIVE == 3 and holds $wantn entries within $(secs "$SETTLE_MS") (saw:$OBS)" 1 2 3
	fi
	local r=0 vs=
	for i in 1 3; do
		if ! storm "$i" verify -q --pattern "$C2_PAT" --names "$n" --timeout 500 --retries 3 >"$out" 2>&1; then
			r=1
			vs+=" n$i: $(grep -m1 -E 'resolved' "$out" | tr -s ' ')"
		fi
	done
	if [ "$r" = 0 ]; then
		ok "2. all $n names resolve to their original handle on nodes 1 and 3"
	else
		ko "2. all $n names resolve to their original handle on nodes 1 and 3 (failed:$vs)"
	fi
	# without loss, a refusal is a round trip to the owner: it must not
	# wait for the owner's stream (nothing changed), i.e. not take
	# anything near fwd_timeout_ms
	local fu0 fu1
	fu0=$(stat_of 3 cluster.fwd_unconfirmed) || fu0=x
	c2_sample "$n" 100 100 0x6b6b6b6b "$TMPD/c2-clean"
	fu1=$(stat_of 3 cluster.fwd_unconfirmed) || fu1=x
	saw=$(py tally "$TMPD/c2-clean")
	read -r _ c _ okn _ ar _ <<<"$saw"
	local mx=${saw##* max }
	if [ "${okn:-1}" = 0 ] && [ "${ar:-0}" = "${c:-x}" ]; then
		ok "2. loss removed: 300 more of those names through node 3 with new handles: every answer already_registered ($saw)"
	else
		ko_logs "2. loss removed: 300 more of those names through node 3 with new handles: every answer already_registered ($saw)" 1 3
	fi
	if [ "${mx:-99999}" -lt 1000 ]; then
		ok "2. loss removed: those refusals come within 1 s, not held for fwd_timeout_ms (latency p50 ${saw##*p50 }; node 3 cluster.fwd_unconfirmed $fu0 -> $fu1)"
	else
		ko "2. loss removed: those refusals come within 1 s, not held for fwd_timeout_ms (latency p50 ${saw##*p50 }; node 3 cluster.fwd_unconfirmed $fu0 -> $fu1): a refusal changed nothing, yet its FWD_REPLY waits for the owner's stream"
	fi
}
# c2_sample N OFFSET COUNT XOR FILE: COUNT names at 3 places of check 2's N
# registered through node 3 with handle splitmix64(n) ^ XOR, recorded in FILE
c2_sample() {
	local n=$1 off=$2 k=$3 xor=$4 f=$5 s
	: >"$f"
	for s in "$off" $((n / 2 + off)) $((n - 2 * k + off)); do
		py writes --server "$(ip_of 3):$UDP_PORT" --pattern "$C2_PAT" --start "$s" \
			--count "$k" --xor "$xor" --window 8 --timeout 3000 --retries 2 \
			--deadline-s 60 --out "$f.$s" >>"$f.out" 2>&1
		cat "$f.$s" >>"$f"
	done
}
all_agree() {
	local o1
	stat_is "$C_ALIVE" 3 1 2 3 || return 1
	o1=$OBS
	entries_are "$1" 1 2 3 || { OBS="alive$o1; entries$OBS"; return 1; }
}

# ---- check 4: kill -9 of an owner with writes in flight ------------------------------
check_4() {
	local n=$ADV_WRITES w=$TMPD/c4-writes out=$TMPD/c4.out pid t0 saw saw2 r i fu
	ensure_up 1 2 3
	py writes --server "$(ip_of 1):$UDP_PORT" --pattern 'adv4-%06u' --count "$n" \
		--rate 1500 --window 16 --timeout 3000 --retries 2 --deadline-s 60 \
		--progress "$w.progress" --out "$w" >"$out" 2>&1 &
	pid=$!
	BG_PIDS+=("$pid")
	if ! wait_ms 30000 progress_at_least "$w.progress" answered $((n * 2 / 5)); then
		note "set-up: the writes through node 1 did not progress:$OBS"
	fi
	t0=$(now_ms)
	swarm_cluster_kill 2
	EXP[2]=0
	note "node 2 killed (-9) after $(awk '{ print $2 }' "$w.progress") of $n writes were answered"
	if wait_ms "$(detect_deadline 3)" stat_is "$C_ALIVE" 2 1 3; then
		note "nodes 1 and 3 see $C_ALIVE == 2 $(secs $(($(now_ms) - t0))) after the kill"
	else
		ko_logs "4. nodes 1 and 3 see node 2 dead within $(secs "$(detect_deadline 3)") (saw:$OBS)" 1 3
	fi
	wait_ms 90000 pids_done "$pid" || note "writes still running:$OBS"
	wait "$pid"
	note "$(cat "$out")"
	saw=$(py tally "$w")
	fu=$(stats_of 1 cluster.fwd_unconfirmed cluster.fwd_timeouts cluster.takeovers)
	if wait_ms "$SETTLE_MS" entries_agree 1 3; then
		note "nodes 1 and 3 agree on the entry count ($OBS) $(secs "$WAITED_MS") after the writes ended"
	else
		note "nodes 1 and 3 still disagree on the entry count:$OBS"
	fi
	r=0
	saw2=
	for i in 1 3; do
		if ! py resolve --server "$(ip_of "$i"):$UDP_PORT" "$w" >"$out" 2>&1; then
			r=1
		fi
		saw2+=" n$i: $(head -c 400 "$out");"
	done
	if [ "$r" = 0 ]; then
		ok "4. kill -9 of node 2 during $n writes through node 1: every name answered ok resolves with its handle on nodes 1 and 3 (answers: $saw; node 1 fwd_unconfirmed/fwd_timeouts/takeovers: $fu)"
	else
		ko_logs "4. kill -9 of node 2 during $n writes through node 1: every name answered ok resolves on nodes 1 and 3 (answers: $saw; node 1 fwd_unconfirmed/fwd_timeouts/takeovers: $fu;$saw2)" 1 3
	fi
	ensure_up 2
}

# ---- check 5: MAC spoofing -----------------------------------------------------------
check_5() {
	local out=$TMPD/c5.out m1 m2 mc hex nn0 nn1 j name own r saw n_client n_right n_wrong t0 flag=''
	ensure_up 1 2 3
	m1=$(mac_of 1)
	m2=$(mac_of 2)
	mc=$(in_ns cat "/sys/class/net/$SWARM_CL_BR/address")
	# an authentic datagram of node 2 to node 1, to replay from the client
	timeout 10 ip netns exec "$SWARM_CL_NS" tcpdump -i "$(port_of 2)" -Z root -n -s 0 -c 3 \
		-w "$TMPD/c5-auth.pcap" "udp and src host $(ip_of 2) and dst host $(ip_of 1) and dst port $GOSSIP_PORT" \
		>/dev/null 2>&1 9>&-
	hex=$(py gossip-payload "$TMPD/c5-auth.pcap" "$(ip_of 2)" "$(ip_of 1)" 2>/dev/null) ||
		note "no gossip datagram of node 2 to node 1 seen within 10 s: only garbage is spoofed"
	nn0=$(stat_of 1 "$C_NO_NEIGH") || nn0=x
	# watch where node 1's gossip for node 2's IP goes, on the client's
	# bridge and on node 2's port
	cap_start "$TMPD/c5-client.pcap" "$SWARM_CL_BR" "udp port $GOSSIP_PORT and ether dst $mc" || true
	cap_start "$TMPD/c5-n2.pcap" "$(port_of 2)" "udp port $GOSSIP_PORT and src host $(ip_of 1) and dst host $(ip_of 2)" || true
	t0=$(now_ms)
	{
		[ -n "$hex" ] && py spoof-udp "$SWARM_CL_BR" "$m1" "$(ip_of 2)" "$(ip_of 1)" "$GOSSIP_PORT" "$hex" 3
		py spoof-udp "$SWARM_CL_BR" "$m1" "$(ip_of 2)" "$(ip_of 1)" "$GOSSIP_PORT" \
			5343040100000000000000000000000200000000000000010000000000000000000000000000000100 3
		py spoof-arp "$SWARM_CL_BR" "$(ip_of 2)" "$(ip_of 1)" "$m1" 3
	} >"$out" 2>&1
	while read -r l; do note "$l"; done <"$out"
	# a write through node 1 that node 2 owns: forwarded over gossip
	own='' name=''
	for ((j = 1; j <= 40; j++)); do
		if ctl 1 --json register "c5-$j" $((5000 + j)) >"$out" 2>&1; then
			EXP[1]=$((EXP[1] + 1))
			own=$(sed -n 's/.*"version":{"clock":[0-9]*,"node":\([0-9]*\)}.*/\1/p' "$out")
			[ "$own" = 2 ] && { name=c5-$j; break; }
		else
			note "REGISTER c5-$j through node 1: $(tail -n 1 "$out")"
		fi
	done
	if [ -n "$name" ] && wait_ms "$REPL_MS" handle_is "$name" $((5000 + j)) 2; then
		ok "5. after the spoofing, a write through node 1 owned by node 2 ($name) answers ok and resolves on node 2"
	else
		ko_logs "5. after the spoofing, a write through node 1 owned by node 2 answers ok and resolves on node 2 (name ${name:-none found in 40 tries}, last owner ${own:-?}:$OBS)" 1 2
	fi
	# membership keeps working over the probe rounds that follow
	while [ $(($(now_ms) - t0)) -lt $((4 * PROBE_INTERVAL_MS + 1000)) ]; do
		stat_is "$C_ALIVE" 3 1 2 3 || { flag=1; saw=$OBS; }
		sleep 0.2
	done
	cap_stop
	nn1=$(stat_of 1 "$C_NO_NEIGH") || nn1=x
	n_client=$(cap_count "$TMPD/c5-client.pcap")
	n_right=$(cap_count "$TMPD/c5-n2.pcap" "ether src $m1 and ether dst $m2")
	n_wrong=$(cap_count "$TMPD/c5-n2.pcap" "not ether dst $m2")
	if [ -z "$flag" ] && [ "$nn0" = "$nn1" ] && [[ $nn0 =~ ^[0-9]+$ ]]; then
		ok "5. $C_ALIVE stays 3 on every node for $(secs $((4 * PROBE_INTERVAL_MS + 1000))) and node 1's $C_NO_NEIGH does not climb ($nn0 -> $nn1)"
	else
		ko_logs "5. $C_ALIVE stays 3 on every node and node 1's $C_NO_NEIGH does not climb ($nn0 -> $nn1; alive:${saw:- ok})" 1 2
	fi
	if [ "$n_client" = 0 ] && [ "$n_right" -gt 0 ] && [ "$n_wrong" = 0 ]; then
		ok "5. node 1's gossip to node 2's IP goes to node 2's MAC ($n_right frames), none to the client's MAC $mc"
	else
		ko "5. node 1's gossip to node 2's IP goes to node 2's MAC (frames to node 2's MAC $n_right, other MAC on node 2's port $n_wrong, gossip to the client's MAC $n_client)"
		tcpdump -r "$TMPD/c5-client.pcap" -n -e 2>/dev/null | head -n 5 | sed 's/^/#   /'
	fi
	check_5b "$m1" "$m2" "$mc"
}
# 5b: node 1 restarts while the client floods ARP replies "node 2's IP is
# at my MAC" at it: node 1 asks for node 2's MAC as it starts, and any
# reply within ARP_ANSWER_MS of that request is taken. Once the flood is
# over, node 1 must reach node 2 at node 2's MAC again.
C5B_ASKS=2			# the flood goes on until node 1, serving, has
				# asked ARP this many more times (it re-asks
				# once a tentative answer goes unconfirmed)
C5B_INTERVAL_MS=0.2		# one spoofed reply every ...
check_5b() {
	local m1=$1 m2=$2 mc=$3 fp t0 asks n_client n_right j own name='' x saw
	# ip netns exec execs python: $! is the flood itself, for SIGTERM
	ip netns exec "$SWARM_CL_NS" python3 "$PY" spoof-arp "$SWARM_CL_BR" "$(ip_of 2)" \
		"$(ip_of 1)" "$m1" --flood-s 60 --interval-ms "$C5B_INTERVAL_MS" \
		>"$TMPD/c5b-flood.out" 2>&1 9>&- &
	fp=$!
	BG_PIDS+=("$fp")
	swarm_cluster_kill 1
	EXP[1]=0
	if ! start_node 1; then
		kill -TERM "$fp" 2>/dev/null
		ko_logs "5. node 1 restarts during an ARP reply flood" 1
		return
	fi
	t0=$(now_ms)
	wait_ms "$RESYNC_MS" serving 1 || note "node 1 does not serve during the flood:$OBS"
	asks=$(stat_of 1 cluster.arp_requests) || asks=0
	wait_ms "$SETTLE_MS" stat_at_least 1 cluster.arp_requests $((asks + C5B_ASKS)) ||
		note "node 1 did not ask ARP again during the flood:$OBS"
	kill -TERM "$fp" 2>/dev/null
	wait "$fp" 2>/dev/null
	note "node 1 killed (-9) and restarted under a flood of spoofed ARP replies for $(ip_of 2) (one every $C5B_INTERVAL_MS ms, from before its start until it had served and asked ARP $C5B_ASKS more times, $(secs $(($(now_ms) - t0))) after its start; flood stopped): $(cat "$TMPD/c5b-flood.out")"
	# then: the ring of node 1 holds node 2 again (bounded), and its gossip
	# for node 2 goes to node 2
	if wait_ms "$SETTLE_MS" readiness_is 1 "serving 3 3"; then
		note "node 1 serves with 3 owners $(secs "$WAITED_MS") after the flood"
	fi
	saw=$OBS
	cap_start "$TMPD/c5b-client.pcap" "$SWARM_CL_BR" "udp port $GOSSIP_PORT and ether dst $mc" || true
	cap_start "$TMPD/c5b-n2.pcap" "$(port_of 2)" "udp port $GOSSIP_PORT and src host $(ip_of 1) and dst host $(ip_of 2)" || true
	for ((j = 1; j <= 40; j++)); do
		if ctl 1 --json register "c5b-$j" $((5100 + j)) >"$TMPD/c5b.out" 2>&1; then
			EXP[1]=$((EXP[1] + 1))
			own=$(sed -n 's/.*"version":{"clock":[0-9]*,"node":\([0-9]*\)}.*/\1/p' "$TMPD/c5b.out")
			[ "$own" = 2 ] && { name=c5b-$j; break; }
		fi
	done
	wait_ms 5000 cap_has "$TMPD/c5b-n2.pcap" || true
	cap_stop
	n_client=$(cap_count "$TMPD/c5b-client.pcap")
	n_right=$(cap_count "$TMPD/c5b-n2.pcap" "ether dst $m2")
	x=$(stats_of 1 "$C_NO_NEIGH" "$C_ALIVE" "$C_STALE")
	if [ -n "$name" ] && [ "$n_client" = 0 ] && [ "$n_right" -gt 0 ]; then
		ok "5. after an ARP reply flood during node 1's restart, node 1 gossips to node 2 at node 2's MAC ($n_right frames, none to the client's) and a write owned by node 2 ($name) works through node 1"
	else
		ko_logs "5. after an ARP reply flood during node 1's restart, node 1 gossips to node 2 at node 2's MAC and a write owned by node 2 works through node 1 (node 1's gossip for $(ip_of 2): $n_client frames to the client's MAC $mc, $n_right to node 2's MAC $m2; a name owned by node 2 in 40 writes through node 1: ${name:-none}; node 1 readiness:$saw; node 1 gossip_no_neigh/alive/rx_stale: $x)" 1 2
		tcpdump -r "$TMPD/c5b-client.pcap" -n -e 2>/dev/null | head -n 3 | sed 's/^/#   /'
	fi
}
# readiness_is NODE "STATE OWNERS ALIVE"
readiness_is() { local x; x=$(readiness_of "$1"); OBS=" n$1=$x"; [ "$x" = "$2" ]; }
# cap_has FILE: a capture holds a frame
cap_has() { OBS=" $(cap_count "$1") frames in $1"; [ "$(cap_count "$1")" -gt 0 ]; }

# ---- check 3: quorum split during a storm -----------------------------------------------
# Writers (recorded per name): node 1 [0, n), node 2 [n, 2n), node 3
# [n/2, 3n/2) with other handles (overlapping both). Also, in one go, C3_ONE
# names through node 2 just before the cut and C3_ONE through node 1 during
# the split: right after the heal they are registered through node 3 with
# other handles, retried until node 3's ring decides. Node 3 purged the
# first set (their node, 2, was dead to it) and never had the second, yet
# the majority acknowledged both: node 3 must refuse them.
C3_ONE=600
c3_writer() {
	local i=$1 start=$2 xor=$3
	py writes --server "$(ip_of "$i"):$UDP_PORT" --pattern 'adv3-%06u' --start "$start" \
		--count "$ADV_WRITES" --xor "$xor" --rate 500 --window 16 --timeout 3000 \
		--retries 2 --deadline-s 120 --progress "$TMPD/c3-w$i.progress" \
		--out "$TMPD/c3-w$i" >"$TMPD/c3-w$i.out" 2>&1
}
c3_batch() {
	local i=$1 pat=$2 f=$3
	py writes --server "$(ip_of "$i"):$UDP_PORT" --pattern "$pat" --count "$C3_ONE" \
		--window 16 --timeout 3000 --retries 2 --deadline-s 30 --out "$f" >"$f.out" 2>&1
	note "$(cat "$f.out")"
}
check_3() {
	local n=$ADV_WRITES out=$TMPD/c3.out i t_cut t_det t_heal a0 k1 k3 saw r c okn again tk0 tk1
	local -a pids=()
	if ! phase_start "3. quorum cluster" static_quorum_ring 65536; then
		phase_stop "3. quorum cluster"
		return
	fi
	c3_writer 1 0 0 &
	pids[1]=$!
	c3_writer 2 "$n" 0 &
	pids[2]=$!
	c3_writer 3 $((n / 2)) 0x33333333 &
	pids[3]=$!
	BG_PIDS+=("${pids[@]}")
	wait_ms 30000 progress_at_least "$TMPD/c3-w3.progress" answered $((n / 5)) ||
		note "set-up: the writes through node 3 did not progress:$OBS"
	c3_batch 2 'adv3p-%06u' "$TMPD/c3-pre"
	swarm_cluster_partition 3 bridge || { ko "3. partition node 3"; return; }
	t_cut=$(now_ms)
	a0=$(awk '{ print $2 }' "$TMPD/c3-w3.progress")
	note "node 3 cut off after $a0 answers to the writes through it"
	if wait_ms "$(detect_deadline 3)" all_of_split; then
		t_det=$(now_ms)
		note "split seen: $OBS ($(secs $((t_det - t_cut))))"
	else
		t_det=$(now_ms)
		ko_logs "3. split detected within $(secs "$(detect_deadline 3)") (saw:$OBS)" 1 2 3
	fi
	c3_batch 1 'adv3s-%06u' "$TMPD/c3-split"
	# keep the split until, after detection, the majority took n/10 more
	# writes and node 3 answered n/10 more
	k1=$(awk '{ print $4 }' "$TMPD/c3-w1.progress")
	k3=$(awk '{ print $2 }' "$TMPD/c3-w3.progress")
	wait_ms 30000 progress_at_least "$TMPD/c3-w1.progress" ok $((k1 + n / 10)) ||
		note "writes through node 1 during the split did not progress:$OBS"
	wait_ms 30000 progress_at_least "$TMPD/c3-w3.progress" answered $((k3 + n / 10)) ||
		note "writes through node 3 during the split did not progress:$OBS"
	note "node 3 before the heal: $(readiness_of 3) (state owners alive), cluster.takeovers/purged $(stats_of 3 cluster.takeovers cluster.purged)"
	tk0="$(stats_of 1 cluster.takeovers) $(stats_of 2 cluster.takeovers)"
	swarm_cluster_heal 3
	t_heal=$(now_ms)
	note "healed after $(secs $((t_heal - t_cut))) (cut at $t_cut, detected at $t_det, healed at $t_heal, ms since the epoch)"
	cat "$TMPD/c3-pre" "$TMPD/c3-split" >"$TMPD/c3-acked"
	py writes --server "$(ip_of 3):$UDP_PORT" --names-from "$TMPD/c3-acked" --xor 0x44444444 \
		--persist --window 16 --timeout 3000 --retries 2 --deadline-s 30 \
		--out "$TMPD/c3-again" >"$TMPD/c3-again.out" 2>&1
	again=$(py tally "$TMPD/c3-again")
	read -r _ c _ okn _ <<<"$again"
	if [ "${okn:-1}" = 0 ] && [ "${c:-0}" -gt 0 ]; then
		ok "3. right after the heal, $c names the majority acknowledged (through node 2 before the cut, through node 1 during the split), registered through node 3 with other handles: none ok ($again)"
	else
		ko_logs "3. right after the heal, ${c:-?} names the majority acknowledged (through node 2 before the cut, through node 1 during the split), registered through node 3 with other handles: none ok ($again)" 1 3
		note "names answered ok twice (record, handle, first sent / answered, ms after the heal):"
		py conflicts --t0 "$t_heal" "$TMPD/c3-acked" "$TMPD/c3-again" | sed 's/^/#   /'
	fi
	wait_ms 150000 pids_done "${pids[@]}" || note "writes still running:$OBS"
	for i in 1 2 3; do
		wait "${pids[i]}"
		note "$(cat "$TMPD/c3-w$i.out")"
	done
	if wait_ms "$HEAL_MS" all_agree_any; then
		ok "3. after the heal every node sees $C_ALIVE == 3 and the same entry count ($OBS) $(secs $(($(now_ms) - t_heal))) after the heal"
	else
		ko_logs "3. after the heal every node sees $C_ALIVE == 3 and the same entry count within $(secs "$HEAL_MS") (saw:$OBS)" 1 2 3
	fi
	# node 3's first messages after the heal carry its verdicts that
	# nodes 1 and 2 are dead: they must not make 1 and 2 lose each other
	# (a takeover), let alone purge each other's registrations
	tk1="$(stats_of 1 cluster.takeovers) $(stats_of 2 cluster.takeovers)"
	if [ "$tk0" = "$tk1" ] && [[ $tk0 =~ ^[0-9]+\ [0-9]+$ ]]; then
		ok "3. the heal killed nobody: nodes 1 and 2 took nothing over (cluster.takeovers n1 n2: $tk0 before the heal, $tk1 after; cluster.sync_unpurged n1 n2: $(stats_of 1 cluster.sync_unpurged) $(stats_of 2 cluster.sync_unpurged))"
	else
		ko_logs "3. the heal killed nobody: nodes 1 and 2 took nothing over (cluster.takeovers n1 n2: $tk0 before the heal, $tk1 after)" 1 2
	fi
	saw=$(py tally "$TMPD/c3-w3" --after "$t_cut" --before "$t_heal")
	read -r _ _ _ okn _ <<<"$saw"
	note "writes through node 3: first sent before the cut: $(py tally "$TMPD/c3-w3" --before-first "$t_cut")"
	note "writes through node 3: first sent before the cut, answered after it: $(py tally "$TMPD/c3-w3" --before-first "$t_cut" --answered-after "$t_cut")"
	note "writes through node 3: first sent after the heal: $(py tally "$TMPD/c3-w3" --after "$t_heal")"
	if [ "${okn:-1}" = 0 ]; then
		ok "3. no write first sent to node 3 after the cut was answered ok before the heal ($saw)"
	else
		ko_logs "3. no write first sent to node 3 after the cut was answered ok before the heal ($saw)" 3
	fi
	local sp tot
	saw=$(py tally "$TMPD/c3-w1" --after "$t_det" --before "$t_heal")
	read -r _ tot _ okn _ <<<"$saw"
	sp=$(py tally "$TMPD/c3-split")
	read -r _ c _ k _ <<<"$sp"
	# the batch is always sent after detection; the background writer
	# counts too, unless (a slow build) it had finished by then
	if [ "${k:-0}" = "${c:-x}" ] && { [ "${okn:-0}" -gt 0 ] || [ "${tot:-1}" = 0 ]; }; then
		ok "3. the majority kept accepting writes during the split (through node 1 after detection: the storm's $saw; a batch of $c: $sp)"
	else
		ko_logs "3. the majority kept accepting writes during the split (through node 1 after detection: the storm's $saw; a batch of ${c:-?}: $sp)" 1 2
	fi
	# the majority's acknowledged writes stand, on every node
	r=0 saw=
	for i in 1 2 3; do
		py resolve --server "$(ip_of "$i"):$UDP_PORT" "$TMPD/c3-w1" "$TMPD/c3-w2" \
			"$TMPD/c3-pre" "$TMPD/c3-split" >"$out" 2>&1 || r=1
		saw+=" n$i: $(head -c 300 "$out");"
	done
	if [ "$r" = 0 ]; then
		ok "3. every name the majority (nodes 1, 2) answered ok resolves with that handle on all three nodes:$saw"
	else
		ko_logs "3. every name the majority (nodes 1, 2) answered ok resolves with that handle on all three nodes:$saw" 1 2 3
		note "names answered ok by the majority and by node 3 (record, handle, first sent / answered, ms after the cut; heal at +$((t_heal - t_cut)) ms):"
		py conflicts --t0 "$t_cut" "$TMPD/c3-w1" "$TMPD/c3-w2" "$TMPD/c3-pre" "$TMPD/c3-split" \
			"$TMPD/c3-w3" "$TMPD/c3-again" | sed 's/^/#   /'
	fi
	# node 3's own: what happened to the names it acknowledged (a name
	# registered through node 3 is purged by the majority while node 3 is
	# cut off, and may then be taken there: by design, reported only)
	py resolve --server "$(ip_of 1):$UDP_PORT" "$TMPD/c3-w3" >"$out" 2>&1
	note "names node 3 answered ok, on node 1 after the heal: $(head -c 200 "$out")"
	crashes
	phase_stop "3. quorum cluster"
}
all_of_split() {
	local a b
	stat_is "$C_ALIVE" 2 1 2
	a=$?
	local o=$OBS
	stat_is "$C_ALIVE" 1 3
	b=$?
	OBS="alive$o$OBS"
	[ "$a" = 0 ] && [ "$b" = 0 ]
}
all_agree_any() {
	local o1
	stat_is "$C_ALIVE" 3 1 2 3 || return 1
	o1=$OBS
	entries_agree 1 2 3 || { OBS="alive$o1; entries$OBS"; return 1; }
	OBS="entries$OBS"
}

# ---- main --------------------------------------------------------------------------------
cleanup() {
	local rc=$? p
	for p in "${BG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	loss_off 2>/dev/null
	swarm_cluster_net_down
	if [ -n "$TMPD" ] && [ -d "$TMPD" ]; then
		if [ "$failed" -gt 0 ] || [ "$rc" != 0 ] || [ "$ADV_KEEP" = 1 ]; then
			echo "# configs, node logs and captures kept in $TMPD"
		else
			rm -rf "$TMPD"
		fi
	fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "adversarial tests need root (network namespaces, DPDK, raw sockets)"
	echo "0 passed, 1 failed"
	exit 1
fi
need_builds
for x in tcpdump nft python3; do
	if ! command -v "$x" >/dev/null; then
		echo "missing $x (scripts/deps.sh installs it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
if ! swarm_cluster_lock "${ADV_LOCK_WAIT_S:-1800}"; then
	echo "another run of this script still holds the lock"
	echo "0 passed, 1 failed"
	exit 1
fi
trap cleanup EXIT
trap 'exit 130' INT TERM
TMPD=$(mktemp -d /tmp/swarm-adv.XXXXXX)

KNOWN_KEYS=$(swarmd_keys)

note "build $B; temp dir $TMPD; storm $ADV_STORM_NAMES names, $ADV_WRITES recorded writes per writer, loss ${ADV_LOSS_PCT}%${ADV_ONLY:+; only checks $ADV_ONLY}"
note "probe ${PROBE_INTERVAL_MS}/${PROBE_TIMEOUT_MS} ms, suspicion x$SUSPICION_MULT: detection bound B(3) = $(secs "$(detect_bound 3)"), deadline $(secs "$(detect_deadline 3)")"
net_up 3

if want 1 || want 2 || want 4 || want 5; then
	if phase_start "ring cluster" ring $((ADV_STORM_NAMES + 65536)); then
		for c in 1 2 4 5; do
			if want "$c"; then
				note "--- check $c"
				"check_$c"
				crashes
			fi
		done
	fi
	phase_stop "ring cluster"
fi
if want 3; then
	note "--- check 3"
	check_3
fi

summary
