#!/bin/bash
# End-to-end test of the swarm-storm binary against the loopback test node:
# exit codes 0/1/2, the JSON report, and option messages.
# usage: test_storm_cli.sh SWARM_STORM STORM_SERVER
set -u
storm=$1
server=$2
fails=0
tmp=$(mktemp -d)
trap 'kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; rm -rf "$tmp"' EXIT

"$server" 0 120 >"$tmp/port" &
spid=$!
for _ in $(seq 50); do
	[ -s "$tmp/port" ] && break
	sleep 0.1
done
port=$(cat "$tmp/port")
[ -n "$port" ] || { echo "FAIL: no server port"; exit 1; }
S="-s 127.0.0.1:$port"

# expect CODE DESCRIPTION -- ARGS: runs swarm-storm, checks the exit code.
expect() {
	local want=$1 what=$2
	shift 3
	"$storm" "$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: $what: exit $got, want $want"
		sed 's/^/  out: /' "$tmp/out"; sed 's/^/  err: /' "$tmp/err"
		fails=$((fails + 1))
	else
		echo "ok: $what (exit $got)"
	fi
}

# grep_in FILE TEXT DESCRIPTION
grep_in() {
	if ! grep -qF -- "$2" "$tmp/$1"; then
		echo "FAIL: $3: '$2' not in $1"
		sed 's/^/  /' "$tmp/$1"
		fails=$((fails + 1))
	fi
}

expect 0 "register 3000 with verify" -- $S register --names 3000 --json
grep_in out '"exit_code": 0' "register json"
grep_in out '"resolved_correctly": 3000' "register json verify"
expect 0 "verify alone" -- $S verify --names 3000 --quiet
grep_in out "resolved   3000 of 3000" "verify text"
expect 1 "lookup of unknown names expects ok" -- $S lookup --names 500 \
	--pattern 'unknown-%u' --quiet
grep_in out "not_found 500" "unknown lookups answered not_found"
expect 0 "lookup with --expect not_found" -- $S lookup --names 500 \
	--pattern 'unknown-%u' --expect not_found --quiet
expect 0 "progress line on stderr" -- $S register --names 200000 --rate 150k \
	--no-verify
grep_in err "outstanding" "progress line"

expect 2 "two conversions" -- $S register --pattern 'a%u%u'
grep_in err "--pattern" "two conversions message"
expect 2 "%s" -- $S register --pattern 'a%s'
grep_in err "--pattern" "%s message"
expect 2 "no conversion" -- $S register --pattern 'abc'
grep_in err "--pattern" "no conversion message"
expect 2 "rate 0" -- $S register --rate 0
grep_in err "--rate" "rate message"
expect 2 "batch too large" -- $S register --batch 64 --meta 100
grep_in err "--batch" "batch message"
expect 2 "no mode" -- $S --names 5
expect 0 "help" -- --help
grep_in out "usage: swarm-storm" "help text"

echo "$fails failure(s)"
[ "$fails" = 0 ]
