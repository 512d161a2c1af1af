#!/usr/bin/env bash
# Every example configuration (configs/*.conf) starts: swarmd on DPDK
# (net_af_packet on a veth pair, no hugepages) reaches its ready line,
# answers a swarmctl STATUS from a client in a network namespace, and
# stops cleanly on SIGTERM (exit 0). Then a few keys whose effect can be
# seen from outside: stats_interval_s, log_level, lease_max_ms, and the
# keys that were removed. Needs root. Ends with "N passed, N failed"; exit
# status 1 when anything failed.
#
#   tests/integration/configs.sh [BUILD_DIR]     (default: build)
#
# Each configuration is used as written. The namespace takes the
# configuration's own subnet (the client end gets the configuration's
# gateway, or another address of the subnet), so `ip` never needs to be
# overridden for a file that sets it. What is overridden is only what this
# machine forces, with the reason next to it in OVERRIDES below. Names:
# namespace swcfg-ns, veth swcfg0/swcfg1, DPDK file prefix swcfg, so that
# nothing clashes with the other integration tests.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
NS=swcfg-ns
DP=swcfg0
HOST=swcfg1
PREFIX=swcfg
LOG=$(mktemp /tmp/swcfg-log.XXXXXX)
OUT=$(mktemp /tmp/swcfg-out.XXXXXX)
SWARMD=$B/app/swarmd/swarmd
SWARMCTL=$B/app/swarmctl/swarmctl
SWARMD_PID=
START_TRIES=5		# af_packet's PACKET_FANOUT clash: retry the start
READY_SECS=60		# a start presizes tables (gateway.conf: 4M entries)
STOP_SECS=20
passed=0
failed=0

. scripts/netns.sh

ok() { passed=$((passed + 1)); echo "ok - $*"; }
ko() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else ko "$d"; fi; }
in_ns() { ip netns exec "$NS" "$@"; }
q() { "$@" >"$OUT" 2>&1; }	# run quietly, output kept in $OUT

cleanup() {
	[ -n "$SWARMD_PID" ] && kill -KILL "$SWARMD_PID" 2>/dev/null
	swarm_netns_down "$NS" "$DP"
	rm -rf "/var/run/dpdk/$PREFIX" "/var/run/dpdk/$PREFIX-bad"
	rm -f "$LOG" "$OUT"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "configs tests need root (network namespaces, DPDK)"
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -x "$SWARMD" ] || [ ! -x "$SWARMCTL" ]; then
	echo "no $SWARMD or $SWARMCTL: build first (ninja -C $B)"
	echo "0 passed, 1 failed"
	exit 1
fi

NCPU=$(nproc)

# Per configuration: EAL lcores, then the overrides and why each is needed.
# A file not listed runs with one lcore and no override.
lcores_for() {
	case $1 in
	# its header starts it with -l 0-3 (3 workers); this machine may have
	# fewer CPUs: as many of those as there are, at most 4
	gateway.conf) [ "$NCPU" -ge 4 ] && echo 0-3 || echo "0-$((NCPU - 1))" ;;
	*) echo 0 ;;
	esac
}
OVERRIDES_cluster_conf=(
	# the file is shared by the nodes of a cluster and holds no identity:
	# each node adds it on the command line (see the file's header); these
	# are node 1's
	--set node_name=n1 --set node_id=1 --set ip=10.79.0.1/24
	# the other two demo nodes do not exist here: run alone
	--set seeds=
)
OVERRIDES_gateway_conf=(
	# the two other site nodes (10.20.1.1, 10.20.1.2) do not exist here:
	# run alone (the cluster key keeps it a cluster node, so it starts the
	# cluster protocol and, with static_quorum_ring, owns no names)
	--set seeds=
)
# the first line of the "why" comments above, printed with the results
why_of() {
	case $1 in
	cluster.conf) echo "identity of node 1 (the file has none by design); seeds= (the other nodes do not exist here)" ;;
	gateway.conf) echo "seeds= (the other site nodes do not exist here); -l $(lcores_for gateway.conf) ($NCPU CPUs)" ;;
	*) echo "none" ;;
	esac
}
overrides_of() {
	OVR=()
	case $1 in
	cluster.conf) OVR=("${OVERRIDES_cluster_conf[@]}") ;;
	gateway.conf) OVR=("${OVERRIDES_gateway_conf[@]}") ;;
	esac
}

# conf_value FILE KEY ARGS...: a key's effective value (--print-config)
conf_value() {
	local file=$1 key=$2
	shift 2
	"$SWARMD" -l 0 --no-huge -m 64 --no-pci --file-prefix "$PREFIX-bad" \
		--log-level=error -- -c "$file" "$@" --print-config 2>/dev/null |
		sed -n "s/^$key = \([^ #]*\).*/\1/p"
}

# host_cidr IP/LEN [GATEWAY]: the client end of the veth, on the subnet
host_cidr() {
	python3 - "$1" "${2-}" <<'EOF'
import ipaddress, sys
iface = ipaddress.ip_interface(sys.argv[1])
net = iface.network
if sys.argv[2]:
    print(f"{sys.argv[2]}/{net.prefixlen}")
    sys.exit(0)
for h in net.hosts():
    if h != iface.ip:
        print(f"{h}/{net.prefixlen}")
        sys.exit(0)
sys.exit(1)
EOF
}

# wait_up MODE: 0 once up, 1 if swarmd exited, 2 after READY_SECS.
# MODE "line": the ready line; MODE "status": a STATUS is answered.
wait_up() {
	local mode=$1 i

	for ((i = 0; i < READY_SECS * 10; i++)); do
		if [ "$mode" = line ] && grep -q '^swarmd: node ' "$LOG"; then
			return 0
		fi
		if [ "$mode" = status ] && in_ns "$SWARMCTL" -s "$SERVER" \
				--timeout 100 --retries 0 status >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$SWARMD_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 2
}

# swarmd_start CONF MODE LCORES ARGS...: starts swarmd and waits for it to
# be up. net_af_packet derives its PACKET_FANOUT group id from the pid and
# the ifindex; when that id is taken the port set-up fails ("could not set
# PACKET_FANOUT") and a new process (a new pid) is the cure.
swarmd_start() {
	local conf=$1 mode=$2 lc=$3 try rc nq
	shift 3

	nq=$(( ${lc#*-} - ${lc%-*} + 1 ))
	for ((try = 1; try <= START_TRIES; try++)); do
		: >"$LOG"
		"$SWARMD" -l "$lc" --no-huge -m 512 --no-pci \
			--file-prefix "$PREFIX" \
			--vdev="net_af_packet0,iface=$DP,qpairs=$nq" \
			-- -c "$conf" "$@" >"$LOG" 2>&1 &
		SWARMD_PID=$!
		wait_up "$mode"
		rc=$?
		[ "$rc" -eq 0 ] && return 0
		if [ "$rc" -eq 1 ] && grep -q 'PACKET_FANOUT' "$LOG"; then
			wait "$SWARMD_PID" 2>/dev/null
			SWARMD_PID=
			echo "# $conf: PACKET_FANOUT clash, start again ($try)"
			continue
		fi
		[ "$rc" -eq 2 ] && kill -KILL "$SWARMD_PID" 2>/dev/null
		wait "$SWARMD_PID" 2>/dev/null
		SWARMD_PID=
		return 1
	done
	return 1
}

# swarmd_stop: SIGTERM, then true when it exits with status 0 in time.
swarmd_stop() {
	local i rc

	[ -n "$SWARMD_PID" ] || return 1
	kill -TERM "$SWARMD_PID" 2>/dev/null
	for ((i = 0; i < STOP_SECS * 10; i++)); do
		kill -0 "$SWARMD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SWARMD_PID" 2>/dev/null; then
		kill -KILL "$SWARMD_PID" 2>/dev/null
		wait "$SWARMD_PID" 2>/dev/null
		SWARMD_PID=
		echo "#   still running ${STOP_SECS}s after SIGTERM: killed"
		return 1
	fi
	wait "$SWARMD_PID"
	rc=$?
	SWARMD_PID=
	[ "$rc" -eq 0 ] || echo "#   exit status $rc"
	return "$rc"
}

# wait_lines PATTERN N SECS: N lines matching PATTERN in the log
wait_lines() {
	local i

	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(grep -c "$1" "$LOG")" -ge "$2" ] && return 0
		kill -0 "$SWARMD_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

ctl() { in_ns "$SWARMCTL" -s "$SERVER" --timeout 300 --retries 5 "$@"; }
show_log() { sed 's/^/#   /' "$LOG" | tail -20; }

# net_up CONF ARGS...: the namespace on CONF's subnet; sets SERVER
net_up() {
	local conf=$1 ip gw port cidr
	shift

	ip=$(conf_value "$conf" ip "$@")
	gw=$(conf_value "$conf" gateway "$@")
	port=$(conf_value "$conf" udp_port "$@")
	NODE=$(conf_value "$conf" node_name "$@")
	cidr=$(host_cidr "$ip" "$gw") || return 1
	swarm_netns_up "$NS" "$DP" "$HOST" "$cidr"
	SERVER=${ip%/*}:$port
	echo "# $conf: swarmd on $ip udp $port, client $cidr"
}

# --- every example configuration
for conf in configs/*.conf; do
	name=${conf##*/}
	overrides_of "$name"
	lc=$(lcores_for "$name")
	echo "# $conf: overrides: $(why_of "$name")"
	if "$SWARMD" -l 0 --no-huge -m 64 --no-pci --file-prefix "$PREFIX-bad" \
			-- -c "$conf" "${OVR[@]}" --check >"$OUT" 2>&1; then
		ok "$conf: --check is valid with the overrides"
	else
		ko "$conf: --check is valid with the overrides"
		sed 's/^/#   /' "$OUT"
		continue
	fi
	if ! net_up "$conf" "${OVR[@]}"; then
		ko "$conf: a client address on its subnet"
		continue
	fi
	if ! swarmd_start "$conf" line "$lc" "${OVR[@]}"; then
		ko "$conf: swarmd starts (ready line)"
		show_log
		continue
	fi
	ok "$conf: swarmd starts (ready line)"
	if ctl status >"$OUT" 2>&1 && grep -q "$NODE" "$OUT"; then
		ok "$conf: STATUS answered, names $NODE"
	else
		ko "$conf: STATUS answered, names $NODE"
		sed 's/^/#   /' "$OUT"
	fi
	check "$conf: SIGTERM stops it with exit 0" swarmd_stop
	check "$conf: final counter line printed" grep -q '^swarmd: rx ' "$LOG"
done

# --- keys seen from outside, on the demo configuration (it runs as is)
conf=configs/demo.conf
if net_up "$conf"; then
	# stats_interval_s: a counter line every second while it runs
	if swarmd_start "$conf" line 0 --set stats_interval_s=1; then
		check "stats_interval_s=1: two counter lines within 10 s" \
			wait_lines '^swarmd: rx ' 2 10
		check "stats_interval_s=1: stops with exit 0" swarmd_stop
	else
		ko "stats_interval_s=1: swarmd starts"; show_log
	fi
	# log_level=warning: no start or counter line, still serving
	if swarmd_start "$conf" status 0 --set log_level=warning; then
		ok "log_level=warning: STATUS answered"
		check "log_level=warning: stops with exit 0" swarmd_stop
		check "log_level=warning: no start line, no counter line" \
			bash -c "! grep -q '^swarmd: node \|^swarmd: rx ' '$LOG'"
	else
		ko "log_level=warning: swarmd serves"; show_log
	fi
	# log_level=debug: one line per worker before the start line
	if swarmd_start "$conf" line 0 --set log_level=debug; then
		check "log_level=debug: the worker line is printed" \
			grep -q '^swarmd: worker 0 on lcore 0: rx/tx queue 0' "$LOG"
		check "log_level=debug: stops with exit 0" swarmd_stop
	else
		ko "log_level=debug: swarmd starts"; show_log
	fi
	# lease_max_ms: a 60 s lease asked for, 1.5 s granted
	if swarmd_start "$conf" line 0 --set lease_max_ms=1500; then
		check "lease_max_ms=1500: REGISTER with a 60 s ttl is ok" \
			q ctl register cfg-lease 1 --ttl 60000
		ctl whereis cfg-lease >"$OUT" 2>&1
		ttl=$(sed -n 's/^ttl *\([0-9]*\) ms remaining/\1/p' "$OUT")
		check "lease_max_ms=1500: the lease granted is at most 1500 ms (${ttl:-none})" \
			test -n "$ttl" -a "${ttl:-0}" -le 1500 -a "${ttl:-0}" -gt 0
		check "lease_max_ms=1500: stops with exit 0" swarmd_stop
	else
		ko "lease_max_ms=1500: swarmd starts"; show_log
	fi
fi

# --- removed keys and values are refused, naming the key (exit 2)
for kv in rx_queues=0 ring_steering=flow idle_policy=interrupt; do
	"$SWARMD" -l 0 --no-huge -m 64 --no-pci --file-prefix "$PREFIX-bad" \
		-- -c configs/demo.conf --set "$kv" >"$OUT" 2>&1
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q "^swarmd: --set: ${kv%%=*}: " "$OUT"; then
		ok "--set $kv is refused naming ${kv%%=*} (exit 2)"
	else
		ko "--set $kv is refused naming ${kv%%=*} (exit $rc)"
		sed 's/^/#   /' "$OUT"
	fi
done

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
