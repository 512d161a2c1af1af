#!/usr/bin/env bash
# Overload is answered, never silent: one swarmd worker (configs/demo.conf,
# net_af_packet on a veth pair, the client in a network namespace) offered
# about twice what it can execute by swarm-storm, which sends at a fixed
# rate without waiting for answers (a window of 16384 datagrams over 12
# sockets). Needs root. Prints the figures (capacity, offered rate, and of
# every op sent: answered, answered overloaded, silent) and ends with
# "N passed, N failed"; exit status 1 when anything failed.
#
#   tests/integration/overload.sh [BUILD_DIR]     (default: build)
#
# The load is relative to the machine: the node's capacity is measured
# first (a closed loop of 256 datagrams in flight: enough to keep the
# worker busy, too few to overflow the 512-frame receive ring or to make
# swarmd shed), then storm is asked for twice that rate. Storm honours
# the retry hints, so once its window is full of requests waiting out a
# hint it sends less: the figures say what it did send.
#
# Silence bound: an op goes unanswered when its datagram is lost before
# swarmd reads it (the port's ring overflows: rx.missed), or its answer is
# lost. swarmd drains the ring into a 4096-frame FIFO ahead of the work
# (storm resends in waves: it scans its timers every 25 ms), and sheds
# (answers overloaded, unexecuted) once 2048 frames wait or the port lost
# frames, keeping about 256 waiting from then on. The queue model of
# tests/swarmd/test_swd_shed.c loses nothing at 2x, even in waves;
# measured: 0 to 0.3 %. SILENCE_MAX (5 %) leaves room for a shared 2-vCPU
# machine (a worker preempted for a few ms still lets the ring overflow:
# 2 to 3 % measured while other swarmd processes polled on its core);
# above it, every silent op must be explained by what the counters saw
# (frames the port lost, answers the client's kernel dropped).
# Before shedding and the FIFO, 57 to 71 % of the ops sent went
# unanswered here.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
NS=swov
DP=swov0
HOST=swov1
IP=10.82.0.2
SERVER=$IP:7400
PREFIX=swov
SILENCE_MAX=${SILENCE_MAX:-0.05}
# 32 REGISTERs per datagram: executing one costs swarmd far more than
# sending it costs storm, so that storm, on the other core of a 2-core
# machine, can offer more than the node executes
BATCH=32
LOG=$(mktemp /tmp/swarmd-ov.XXXXXX)
OUT=$(mktemp -d /tmp/swarm-ov.XXXXXX)
SWARMD_PID=
passed=0
failed=0

. scripts/netns.sh

ok() { passed=$((passed + 1)); echo "ok - $*"; }
ko() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else ko "$d"; fi; }
eventually() { swarm_eventually "$@"; }
in_ns() { ip netns exec "$NS" "$@"; }
# swarm-storm on a CPU swarmd's worker (lcore 0) does not poll, if any
STORM_CPU=
[ "$(nproc)" -ge 2 ] && STORM_CPU="taskset -c 1-$(($(nproc) - 1))"
storm() { in_ns $STORM_CPU "$B/app/swarm-storm/swarm-storm" -s "$SERVER" -q "$@"; }
ctl() { in_ns "$B/app/swarmctl/swarmctl" -s "$SERVER" --timeout 500 "$@"; }
tel() { python3 tests/integration/swarm_net.py telemetry "$PREFIX" "$1"; }
# tel_get CMD KEY: one counter of a telemetry command (-1: missing)
tel_get() {
	tel "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['${1%%,*}'].get('$2', -1))"
}
# jget FILE EXPR: a value of a storm JSON report (d = the report)
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# fcmp A OP B: floating-point comparison
quiet() { "$@" >/dev/null 2>&1; }
fcmp() { python3 -c "import sys; sys.exit(0 if $1 $2 $3 else 1)"; }
# rcvbuf_errors: UDP datagrams the client namespace's kernel dropped for a
# full socket buffer (answers that swarmd sent and storm never read)
rcvbuf_errors() {
	in_ns awk '$1 == "Udp:" && !h { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1; next }
		$1 == "Udp:" && h { print $c; exit }' /proc/net/snmp
}

swarmd_start_once() {
	: >"$LOG"
	"$B/app/swarmd/swarmd" -l 0 --no-huge -m 512 --no-pci \
		--file-prefix "$PREFIX" --vdev="net_af_packet0,iface=$DP" \
		-- -c configs/demo.conf --set ip=$IP/24 --set idle_sleep_us=100 \
		--set expected_entries=4194304 "$@" >"$LOG" 2>&1 &
	SWARMD_PID=$!
	swarm_wait_start "$LOG" "$SWARMD_PID" 30
}

cleanup() {
	[ -n "$SWARMD_PID" ] && kill -KILL "$SWARMD_PID" 2>/dev/null
	swarm_netns_down "$NS" "$DP"
	rm -rf "/var/run/dpdk/$PREFIX" "$OUT"
	rm -f "$LOG"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "integration tests need root (network namespaces, DPDK)"
	echo "0 passed, 1 failed"
	exit 1
fi

swarm_netns_up "$NS" "$DP" "$HOST" 10.82.0.1/24
if ! swarm_start_retry "$LOG" swarmd_start_once; then
	ko "swarmd starts"; cat "$LOG"
	echo "$passed passed, $failed failed"
	exit 1
fi
ok "swarmd starts (1 worker)"
check "ping answers" eventually 10 quiet in_ns ping -c 1 -W 1 -q $IP

# --- capacity: a closed loop, best of two short runs
cap=0
for run in 1 2; do
	storm register --names 200000 --pattern "cap$run-%08u" --batch $BATCH \
		--window 256 --sockets 4 --no-verify --json >"$OUT/cap$run.json"
	r=$(jget "$OUT/cap$run.json" "int(d['main']['achieved_rate'])")
	[ "$r" -gt "$cap" ] && cap=$r
done
echo "# capacity: $cap ops/s ($BATCH REGISTERs per datagram, closed loop of 256 datagrams)"
check "capacity measured ($cap ops/s)" [ "$cap" -gt 0 ]
n=$(tel_get /swarm/stats shed)
check "a closed loop at capacity is never shed ($n shed)" [ "$n" -eq 0 ]

# --- twice the capacity, for about 1 s of new names, without waiting
rate=$((2 * cap))
names=$rate
[ "$names" -lt 100000 ] && names=100000
[ "$names" -gt 3000000 ] && names=3000000	# within expected_entries
missed0=$(tel_get /swarm/stats rx_missed)
rcvbuf0=$(rcvbuf_errors)
storm register --names "$names" --pattern 'ov-%08u' --batch $BATCH \
	--rate "$rate" --window 16384 --sockets 12 --timeout 200 --retries 5 \
	--no-verify --json >"$OUT/ov.json"
echo "# storm exit $? (1: some ops lost after every retry)"
J=$OUT/ov.json
M="d['main']"
ok_ops=$(jget "$J" "$M['answers'].get('ok', 0)")
final_other=$(jget "$J" "$M['answered'] - $M['answers'].get('ok', 0) - $M['answers'].get('overloaded', 0)")
overloaded=$(jget "$J" "$M['overloaded']")
final_ovl=$(jget "$J" "$M['answers'].get('overloaded', 0)")
silent=$(jget "$J" "$M['retransmit_ops'] + $M['lost']")
lost=$(jget "$J" "$M['lost']")
# every op sent (first sends and resends) got an answer, an overloaded,
# or nothing: the op was resent after the timeout, or lost
attempts=$((ok_ops + final_other + overloaded + silent))
offered=$(jget "$J" "$M['offered_rate'] or 0")
sent_rate=$(jget "$J" "$M['dgrams_sent'] * $BATCH / $M['elapsed_s']")
share() { python3 -c "print('%.4f' % ($1 / max($2, 1)))"; }
s_ans=$(share $((ok_ops + final_other)) $attempts)
s_ovl=$(share "$overloaded" $attempts)
s_sil=$(share "$silent" $attempts)
shed=$(tel_get /swarm/stats shed)
missed=$(tel_get /swarm/stats rx_missed)
rcvbuf=$(($(rcvbuf_errors) - rcvbuf0))
# what the counters explain: every frame lost before swarmd read it, and
# every answer the client's kernel dropped, carried up to BATCH ops
counted=$(((missed - missed0 + rcvbuf) * BATCH))
printf '# offered: %.0f new ops/s (%.2fx capacity; storm was asked for 2x), %.0f ops/s sent with resends (%.2fx)\n' \
	"$offered" "$(python3 -c "print($offered / $cap)")" \
	"$sent_rate" "$(python3 -c "print($sent_rate / $cap)")"
echo "# ops sent $attempts: answered $s_ans, overloaded $s_ovl, silent $s_sil" \
	"(ok $ok_ops of $names, $final_other other final answers," \
	"$final_ovl final overloaded, $lost lost)"
echo "# swarmd: shed $shed datagrams, rx.missed $((missed - missed0)) frames during the run; the client's kernel dropped $rcvbuf answers (UDP RcvbufErrors)"
echo "# achieved $(jget "$J" "int($M['achieved_rate'])") ok ops/s," \
	"latency p50 $(jget "$J" "$M['latency_ms']['p50']") ms" \
	"p99 $(jget "$J" "$M['latency_ms']['p99']") ms"
check "overload is answered overloaded ($overloaded ops)" [ "$overloaded" -gt 0 ]
check "swarmd counted the shed datagrams ($shed)" [ "$shed" -gt 0 ]
# a machine that preempts the worker (other processes on its core) lets
# the ring overflow however swarmd sheds: that silence must be counted
silence_ok() {
	fcmp "$s_sil" "<" "$SILENCE_MAX" || [ "$silent" -le "$counted" ]
}
check "silence share $s_sil below $SILENCE_MAX, or every silent op counted ($silent silent, up to $counted in lost frames and answers)" silence_ok
check "no other answer than ok and overloaded ($final_other)" [ "$final_other" -eq 0 ]

# --- every op answered ok is there
storm verify --names "$names" --pattern 'ov-%08u' --batch 16 --window 64 \
	--sockets 4 --json >"$OUT/verify.json"
V="d['main']"
resolved=$(jget "$OUT/verify.json" "$V['resolved_correctly']")
other=$(jget "$OUT/verify.json" "$V['other_handle']")
if [ "$ok_ops" -eq "$names" ]; then
	check "every one of the $names names was answered ok, and all resolve ($resolved)" \
		[ "$resolved" -eq "$names" ]
else
	# names left without ok may or may not have been written: the ok
	# ones are among the resolved ones, which the counts can only bound
	check "the names answered ok resolve: $resolved resolved >= $ok_ops ok" \
		[ "$resolved" -ge "$ok_ops" ]
fi
check "no name resolves to another handle ($other)" [ "$other" -eq 0 ]

# --- the counters are there: telemetry and STATS
check "/swarm/stats has rx_missed ($missed)" [ "$missed" -ge 0 ]
check "/swarm/stats has rx_nombuf" [ "$(tel_get /swarm/stats rx_nombuf)" -ge 0 ]
tel /swarm/port >"$OUT/port.json"
check "/swarm/port reads the af_packet socket (af_packet_sockets 1)" \
	[ "$(jget "$OUT/port.json" "d['/swarm/port']['af_packet_sockets']")" -eq 1 ]
ctl stats >"$OUT/stats.txt" 2>&1
for k in rx.missed rx.nombuf shed; do
	check "STATS shows $k" grep -Eq "^$k +[0-9]+" "$OUT/stats.txt"
done
check "STATS: ops.overloaded counts the shed datagrams" \
	[ "$(awk '$1 == "ops.overloaded" { print $2 }' "$OUT/stats.txt")" -ge "$shed" ]

# --- once the overload is over, nothing is shed: the worker winds down
# (2 s without rx misses), then a closed loop at capacity is all ok
calm() { [ "$(tel_get /swarm/worker,0 shed_armed)" -eq 0 ] &&
	[ "$(tel_get /swarm/worker,0 shed_level)" -eq 0 ]; }
check "the worker stops shedding once nothing is lost (within 10 s)" eventually 10 calm
shed=$(tel_get /swarm/stats shed)
check "after the overload: a closed loop is answered ok, nothing shed" \
	quiet storm register --names 50000 --pattern 'after-%08u' --batch 16 \
	--window 64 --sockets 4 --no-verify
n=$(tel_get /swarm/stats shed)
check "  (shed stayed at $shed: $n)" [ "$n" -eq "$shed" ]

kill -TERM "$SWARMD_PID" 2>/dev/null
wait "$SWARMD_PID"
rc=$?
SWARMD_PID=
check "swarmd stops cleanly (exit $rc)" [ "$rc" -eq 0 ]
check "the final line shows missed and shed" grep -Eq '^swarmd: rx .* missed [0-9]+ shed [0-9]+' "$LOG"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
