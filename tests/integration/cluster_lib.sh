# shellcheck shell=bash disable=SC2034  # OBS, WAITED_MS are read by the sourcing scripts
# Helpers shared by the cluster integration scripts that run real swarmd
# nodes in a network namespace (tests/integration/cluster.sh and
# tests/integration/adversarial.sh). Source it after scripts/cluster_net.sh
# (the node processes, SWARM_CL_PID, the namespace SWARM_CL_NS and the
# addresses SWARM_CL_NET.I come from there):
#
#   . "$ROOT/tests/integration/cluster_lib.sh"
#
# It provides:
#   results      ok DESC, ko DESC, note TEXT: "ok - ...", "not ok - ...",
#                "# ..." lines; ok and ko count into passed and failed.
#                summary: the closing "N passed, N failed" line, status 1
#                when anything failed. want N: check N is to run
#   small        now_ms, secs MS, ip_of I, log_of I, indent FILE
#   logs         logtail I..., ko_logs DESC I... (a failed check, with the
#                ends of the nodes' logs)
#   waiting      wait_ms MS CMD...: polls a predicate until it holds
#   clients      ctl, qctl (swarmctl) and storm (swarm-storm) against node
#                I, from the namespace
#   reading      stat_of I COUNTER, state_of I, handle_of I NAME
#   predicates   stat_is, entries_are, serving, handle_is (what they saw is
#                left in OBS), exp_total
#   nodes        conf_base I STRATEGY EXPECTED (the common config lines),
#                start_node I, running I, crashes, phase_stop LABEL,
#                converge N MS, detect_bound N, detect_deadline N
#   set-up       need_builds, swarmd_keys, net_up N
#
# The sourcing script sets, before it calls these functions:
#   B                  the build dir (named in need_builds' message)
#   SWARMD, SWARMCTL, STORM   the binaries
#   TMPD               the temp dir: node I's config is $TMPD/nI.conf, its
#                      log $TMPD/nI.log
#   UDP_PORT, GOSSIP_PORT   the nodes' client and gossip ports
#   C_ALIVE, C_ENTRIES the STATS counters of live members and of names held
#   EXP                names expected in the cluster, per node (summed by
#                      exp_total)
#   ONLY_CHECKS        the checks to run ("1 3"; empty: all), for want
#   NODE_SETS          "k=v k=v": a --set for every swarmd start_node starts
#   PROBE_INTERVAL_MS, SUSPICION_MULT, DETECT_FACTOR, DETECT_SLACK_MS
#                      SWIM settings and slack of detect_bound/detect_deadline
# and may set STORM_TIMEOUT_S (storm's time limit, default 120 s) and,
# after sourcing, LOG_NOISE_WHAT (how logtail's heading names the lines it
# leaves out; default "EAL start-up chatter").
# This file sets passed, failed, OBS, HOPELESS, WAITED_MS, LOG_NOISE and
# LOG_NOISE_WHAT when sourced.

passed=0
failed=0
OBS=			# what the last predicate saw, for failure messages
HOPELESS=0		# a predicate saw a counter the node does not have
WAITED_MS=0		# how long the last wait_ms took

ok() { passed=$((passed + 1)); echo "ok - $*"; }
ko() { failed=$((failed + 1)); echo "not ok - $*"; }
note() { echo "# $*"; }
want() {
	[ -z "$ONLY_CHECKS" ] && return 0
	case " $ONLY_CHECKS " in *" $1 "*) return 0 ;; esac
	return 1
}
# summary: the last lines of a run; status 1 when a check failed
summary() {
	echo
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
now_ms() { date +%s%3N; }
secs() { awk -v m="$1" 'BEGIN { printf "%.1f s", m / 1000 }'; }
ip_of() { echo "$SWARM_CL_NET.$1"; }
log_of() { echo "$TMPD/n$1.log"; }

# logtail NODE...: the end of each node's log, as comments
LOG_NOISE='^(EAL: (Detected|Multi-process socket|Physical addresses|Selected IOVA)|TELEMETRY: No legacy)'
LOG_NOISE_WHAT='EAL start-up chatter'
logtail() {
	local i
	for i; do
		[ -f "$(log_of "$i")" ] || continue
		note "--- n$i log, last 12 lines without $LOG_NOISE_WHAT ($(log_of "$i")):"
		grep -Ev "$LOG_NOISE" "$(log_of "$i")" | tail -n 12 | sed 's/^/#   /'
	done
}
# ko_logs DESC NODE...: a failed check, with the logs of the nodes involved
ko_logs() {
	local d=$1
	shift
	ko "$d"
	logtail "$@"
}
# indent FILE: a command's output under a failed check
indent() { sed 's/^/#   /' "$1"; }

# wait_ms MS CMD...: runs CMD every 0.2 s until it succeeds (0) or MS pass
# (1); WAITED_MS is the time taken
wait_ms() {
	local ms=$1 t0 t
	shift
	t0=$(now_ms)
	while :; do
		HOPELESS=0
		if "$@"; then
			WAITED_MS=$(($(now_ms) - t0))
			return 0
		fi
		t=$(now_ms)
		if [ "$HOPELESS" = 1 ]; then
			WAITED_MS=$((t - t0))
			OBS+=" (a counter is missing: not waiting)"
			return 1
		fi
		if [ $((t - t0)) -ge "$ms" ]; then
			WAITED_MS=$((t - t0))
			return 1
		fi
		sleep 0.2
	done
}

# ---- clients, from the namespace ----------------------------------------
# ctl NODE ARGS...: swarmctl against node NODE (retries for writes)
ctl() {
	local i=$1
	shift
	swarm_cluster_in_ns "$SWARMCTL" -s "$(ip_of "$i"):$UDP_PORT" \
		--timeout 500 --retries 3 "$@"
}
# qctl NODE ARGS...: the same, quick, for polling
qctl() {
	local i=$1
	shift
	swarm_cluster_in_ns "$SWARMCTL" -s "$(ip_of "$i"):$UDP_PORT" \
		--timeout 300 --retries 1 "$@"
}
# storm NODE ARGS...: swarm-storm against NODE, killed after STORM_TIMEOUT_S
# (default 120) seconds: a wedged node must not hang the tests (exit 124)
storm() {
	local i=$1
	shift
	timeout -k 5 "${STORM_TIMEOUT_S:-120}" ip netns exec "$SWARM_CL_NS" \
		"$STORM" -s "$(ip_of "$i"):$UDP_PORT" "$@"
}
# stat_of NODE COUNTER: one STATS counter; status 1 when the node answers
# without it, 2 when the node does not answer
stat_of() {
	local out
	out=$(qctl "$1" stats 2>/dev/null) || return 2
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { exit !f }' <<<"$out"
}
# missed_of NODE...: rx.missed of each NODE (frames its port lost before
# swarmd read them), space-separated; x for a node that does not answer
missed_of() {
	local i out=
	for i; do
		out+="$(stat_of "$i" rx.missed || echo x) "
	done
	echo "${out% }"
}
# missed_since "BEFORE" NODE...: "nI=delta ..." against missed_of's BEFORE
missed_since() {
	local -a b
	local i k=0 now out=
	read -ra b <<<"$1"
	shift
	for i; do
		now=$(stat_of "$i" rx.missed || echo x)
		if [[ $now =~ ^[0-9]+$ ]] && [[ ${b[k]:-x} =~ ^[0-9]+$ ]]; then
			out+=" n$i=$((now - b[k]))"
		else
			out+=" n$i=?"
		fi
		k=$((k + 1))
	done
	echo "${out# }"
}
# state_of NODE: what READINESS says (serving, joining, syncing, no_owner),
# or no_answer
state_of() {
	qctl "$1" --json status 2>/dev/null |
		sed -n 's/.*"state":"\([a-z_]*\)".*/\1/p' | grep . || echo no_answer
}
# handle_of NODE NAME: the handle NAME resolves to on NODE, or nothing
handle_of() {
	qctl "$1" whereis "$2" 2>/dev/null | awk '$1 == "handle" { print $2; exit }'
}

# ---- predicates (they leave what they saw in OBS) -------------------------
# A node that answers STATS without a counter will never grow it: such a
# predicate sets HOPELESS, and wait_ms gives up at once.
# stat_is COUNTER VALUE NODE...: the counter has VALUE on every NODE
stat_is() {
	local k=$1 v=$2 i x rc r=0
	shift 2
	OBS=
	for i; do
		x=$(stat_of "$i" "$k")
		rc=$?
		case $rc in
		0) ;;
		1) x=missing; HOPELESS=1 ;;
		*) x=no_answer ;;
		esac
		OBS+=" n$i=$x"
		[ "$x" = "$v" ] || r=1
	done
	return $r
}
# entries_are VALUE NODE...
entries_are() { stat_is "$C_ENTRIES" "$@"; }
# serving NODE...: every NODE holds the registry and takes writes
serving() {
	local i x r=0
	OBS=
	for i; do
		x=$(state_of "$i")
		OBS+=" n$i=$x"
		[ "$x" = serving ] || r=1
	done
	return $r
}
# handle_is NAME HANDLE NODE...
handle_is() {
	local name=$1 h=$2 i x r=0
	shift 2
	OBS=
	for i; do
		x=$(handle_of "$i" "$name")
		OBS+=" n$i=${x:-none}"
		[ "$x" = "$h" ] || r=1
	done
	return $r
}
# exp_total: the names expected in the cluster (the sum of EXP)
exp_total() {
	local s=0 x
	for x in "${EXP[@]}"; do s=$((s + x)); done
	echo $s
}

# ---- nodes -----------------------------------------------------------------
# start_node I: starts node I with its config; 0 when it is ready
start_node() {
	local i=$1 kv
	local -a sets=()
	for kv in $NODE_SETS; do sets+=(--set "$kv"); done
	swarm_cluster_start "$SWARMD" "$i" "$TMPD/n$i.conf" "$(log_of "$i")" "${sets[@]}" &&
		return 0
	swarm_cluster_kill "$i"	# not ready: gone, or hung before its ready line
	return 1
}
running() { swarm_cluster_running "$1"; }

# conf_base I STRATEGY EXPECTED: the lines of node I's config that every
# script writes alike (name, id, address, ports, table size, strategy)
conf_base() {
	local i=$1 strategy=$2 expected=$3
	echo "node_name = n$i"
	echo "node_id = $i"
	echo "ip = $(ip_of "$i")/24"
	echo "udp_port = $UDP_PORT"
	echo "gossip_port = $GOSSIP_PORT"
	echo "partitions = 0"
	echo "expected_entries = $expected"
	echo "idle_policy = backoff"
	echo "telemetry = true"
	echo "strategy = $strategy"
	echo "static_quorum_size = 2"
}

# crashes: a node that should run and does not is a failure of its own
crashes() {
	local i pid rc
	for i in "${!SWARM_CL_PID[@]}"; do
		pid=${SWARM_CL_PID[i]}
		[ -n "$pid" ] || continue
		running "$i" && continue
		wait "$pid" 2>/dev/null
		rc=$?
		SWARM_CL_PID[i]=
		ko_logs "node $i is still running (it exited with status $rc)" "$i"
	done
}

# phase_stop LABEL: SIGTERM to every running node, each must exit 0
phase_stop() {
	local label=$1 i rc bad=() all=()
	for i in "${!SWARM_CL_PID[@]}"; do
		[ -n "${SWARM_CL_PID[i]}" ] || continue
		all+=("$i")
		swarm_cluster_stop "$i" 20
		rc=$?
		[ "$rc" -eq 0 ] || bad+=("n$i:$rc")
	done
	if [ ${#bad[@]} -eq 0 ]; then
		ok "$label: every node stops cleanly on SIGTERM (exit 0)"
	else
		ko_logs "$label: every node stops cleanly on SIGTERM (exit status ${bad[*]})" "${all[@]}"
	fi
}

# converge N DEADLINE_MS: waits for cluster.alive == N on nodes 1..N
converge() {
	local n=$1 ms=$2
	wait_ms "$ms" stat_is "$C_ALIVE" "$n" $(seq 1 "$n")
}

# detect_bound N: SWIM's bound in ms on the time every live node needs to
# declare a crashed member dead (docs/membership.md): 2nT + S(n), with
# S(n) = suspicion_mult * ceil(log2(n + 1)) * T
detect_bound() {
	local n=$1 l=0 v=1
	while [ "$v" -lt $((n + 1)) ]; do v=$((v * 2)); l=$((l + 1)); done
	echo $((2 * n * PROBE_INTERVAL_MS + SUSPICION_MULT * l * PROBE_INTERVAL_MS))
}
# detect_deadline N: what a detection check waits, DETECT_FACTOR bounds
# and DETECT_SLACK_MS
detect_deadline() { echo $((DETECT_FACTOR * $(detect_bound "$1") + DETECT_SLACK_MS)); }

# ---- set-up ----------------------------------------------------------------
# need_builds: ends the run (one failure) when a binary is not built
need_builds() {
	local x
	for x in "$SWARMD" "$SWARMCTL" "$STORM"; do
		if [ ! -x "$x" ]; then
			echo "missing $x: build first (meson setup $B && ninja -C $B)"
			echo "0 passed, 1 failed"
			exit 1
		fi
	done
}
# swarmd_keys: the configuration keys SWARMD lists in its --help, one a
# line ("  key")
swarmd_keys() {
	# shellcheck disable=SC2153  # SWARM_CL_PFX is set in scripts/cluster_net.sh
	"$SWARMD" -l 0 --no-huge --no-pci -m 64 --file-prefix "$SWARM_CL_PFX-check" \
		--log-level=lib.eal:error -- --help 2>/dev/null | grep -E '^  [a-z_]+$'
	rm -rf "/var/run/dpdk/$SWARM_CL_PFX-check"
}
# net_up N: the namespace, its bridge and N veth pairs, as a check; when
# they cannot be made, the run ends there
net_up() {
	local n=$1
	if ! swarm_cluster_net_up "$n"; then
		ko "network: namespace $SWARM_CL_NS, bridge and $n veth pairs"
		summary
		exit 1
	fi
	ok "network: namespace $SWARM_CL_NS, bridge $SWARM_CL_BR ($SWARM_CL_CLIENT_IP) and $n veth pairs"
}
