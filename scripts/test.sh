#!/usr/bin/env bash
# Runs every swarm test on this machine and ends with "N passed, N failed".
#
#   1. installs missing Debian packages (scripts/deps.sh, as root)
#   2. release-style build (warnings are errors) + unit tests
#   3. integration tests: real swarmd on DPDK (net_af_packet on a veth) with
#      swarmctl, swarm-storm and raw frames from a network namespace; every
#      example config started; UDP checksums offloaded on net_tap; then
#      the cluster tests: 3 and 5 swarmd nodes on a bridge (readiness
#      after a cold start, a 1M-name storm, kill -9, restart and resync,
#      netsplit and heal, quorum, wrong key)
#   4. AddressSanitizer + UndefinedBehaviorSanitizer build + unit tests
#   5. the integration tests again on the sanitizer build (leaks at exit),
#      and the cluster tests in quick mode (a smaller storm)
#   6. libFuzzer build (clang) + a bounded run of each fuzz target over its
#      seed corpus in tests/fuzz/corpus/<target>/
#
# Environment: FUZZ_SECONDS (default 30) per fuzz target; JOBS (default nproc).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
JOBS=${JOBS:-$(nproc)}

passed=0
failed=0
failures=()

step() { printf '\n=== %s ===\n' "$*"; }
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); failures+=("$1"); echo "FAILED: $1"; }

bash scripts/deps.sh || { echo "deps: install failed"; echo "0 passed, 1 failed"; exit 1; }

# configure DIR [meson options...]: (re)configures DIR from scratch when its
# options changed, otherwise reuses it for incremental builds.
configure() {
	local dir=$1; shift
	local stamp="$dir/.swarm-options"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$*" ] && [ -f "$dir/build.ninja" ]; then
		return 0
	fi
	rm -rf "$dir"
	meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
	echo "$*" >"$stamp"
}

# unit_run NAME DIR: runs the unit suite of DIR and adds its counts.
unit_run() {
	local name=$1 dir=$2 log
	log=$(mktemp)
	meson test -C "$dir" --suite unit --num-processes "$JOBS" --print-errorlogs \
		--timeout-multiplier 4 2>&1 | tee "$log"
	local okn failn
	okn=$(awk '/^Ok:/ {print $2}' "$log")
	failn=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {s += $NF} END {print s + 0}' "$log")
	rm -f "$log"
	if [ -z "$okn" ]; then
		ko "$name: no test summary"
		return
	fi
	passed=$((passed + okn))
	if [ "$failn" -gt 0 ]; then
		failed=$((failed + failn))
		failures+=("$name: $failn unit test(s)")
	fi
}

step "build (gcc, -Werror)"
if configure build -Dfuzz=false && ninja -C build >build.log 2>&1; then
	ok
	step "unit tests"
	unit_run "unit" build
else
	cat build.log; ko "build"
fi

# integration_run NAME DIR [SCRIPT]: real swarmd processes on DPDK in
# network namespaces (tests/integration/run.sh, or SCRIPT); adds its counts.
integration_run() {
	local name=$1 dir=$2 script=${3:-tests/integration/run.sh} log p f
	log=$(mktemp)
	bash "$script" "$dir" 2>&1 | tee "$log"
	p=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ {print $1}' "$log" | tail -n 1)
	f=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ {print $3}' "$log" | tail -n 1)
	rm -f "$log"
	if [ -z "$p" ]; then
		ko "$name: no summary"
		return
	fi
	passed=$((passed + p))
	if [ "$f" -gt 0 ]; then
		failed=$((failed + f))
		failures+=("$name: $f check(s)")
	fi
}

if [ -x build/app/swarmd/swarmd ]; then
	step "integration tests (swarmd on net_af_packet, clients in a netns)"
	integration_run "integration" build
	step "example configurations (each configs/*.conf starts, serves, stops)"
	integration_run "configs" build tests/integration/configs.sh
	step "transmit checksum offload (swarmd on net_tap, kernel sockets check)"
	integration_run "tap" build tests/integration/tap.sh
	step "amplification (reply bytes from an untrusted source)"
	integration_run "amplify" build tests/integration/amplify.sh
	step "overload (twice a node's capacity: answered, overloaded, silent)"
	integration_run "overload" build tests/integration/overload.sh
	step "cluster tests (3 and 5 swarmd nodes on a bridge)"
	integration_run "cluster" build tests/integration/cluster.sh
	integration_run "adversarial" build tests/integration/adversarial.sh
fi

step "build (ASan + UBSan)"
if configure build-san -Db_sanitize=address,undefined -Db_lundef=false -Dperf=false \
	-Dc_args=-fno-sanitize-recover=all -Dcpp_args=-fno-sanitize-recover=all &&
	ninja -C build-san >build-san.log 2>&1; then
	ok
	step "unit tests under ASan + UBSan"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		unit_run "sanitizers" build-san
	if [ -x build-san/app/swarmd/swarmd ]; then
		step "integration tests on the sanitizer build"
		ASAN_OPTIONS=detect_leaks=1 integration_run "integration-san" build-san
		step "cluster tests on the sanitizer build (quick)"
		ASAN_OPTIONS=detect_leaks=1 CLUSTER_QUICK=1 \
			integration_run "cluster-san" build-san tests/integration/cluster.sh
		ASAN_OPTIONS=detect_leaks=1 ADV_QUICK=1 \
			integration_run "adversarial-san" build-san tests/integration/adversarial.sh
	fi
else
	cat build-san.log; ko "sanitizer build"
fi

step "build (clang, libFuzzer)"
if CC=clang CXX=clang++ configure build-fuzz -Dfuzz=true -Dperf=false -Dtests=true &&
	ninja -C build-fuzz >build-fuzz.log 2>&1; then
	ok
	for exe in build-fuzz/tests/fuzz/fuzz_*; do
		[ -f "$exe" ] && [ -x "$exe" ] || continue
		target=$(basename "$exe"); target=${target#fuzz_}
		seeds="$ROOT/tests/fuzz/corpus/$target"
		log="build-fuzz/fuzz-$target.log"
		# Crash, leak, timeout, oom and slow-unit inputs land here, never in
		# the source tree. Copied to tests/fuzz/regress/$target/ under a
		# name that says what it hit, one becomes a unit-suite regression case.
		artifacts="build-fuzz/artifacts/$target"
		mkdir -p "$artifacts"
		work=$(mktemp -d)
		step "fuzz $target for ${FUZZ_SECONDS}s"
		if "$exe" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
			-artifact_prefix="$artifacts/" "$work" "$seeds" >"$log" 2>&1; then
			tail -n 12 "$log"
			ok
		else
			tail -n 60 "$log"
			ko "fuzz $target"
		fi
		sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | while read -r a; do
			echo "fuzz $target: artifact $ROOT/$a"
			echo "  replay: build-fuzz/tests/fuzz/replay_$target $a"
			echo "  keep: cp $a tests/fuzz/regress/$target/<what-it-hit> (and corpus/$target/)"
		done
		rm -rf "$work"
	done
else
	cat build-fuzz.log; ko "fuzz build"
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
	printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
