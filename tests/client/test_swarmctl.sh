#!/usr/bin/env bash
# End-to-end test of swarmctl against tests/client/test_node (the real
# request path on a loopback UDP socket): output and exit code of every
# command, --json output parsed by python3, usage errors exit 2.
#   test_swarmctl.sh SWARMCTL TEST_NODE
set -u
CTL=$1
NODE=$2
pass=0
fail=0
tmp=$(mktemp -d)

start_node() {	# start_node VAR [args]: sets VAR to the port, NODE_PIDS
	local var=$1; shift
	local fifo=$tmp/in.$var
	mkfifo "$fifo"
	"$NODE" "$@" < "$fifo" > "$tmp/port.$var" &
	NODE_PIDS+=("$!")
	exec {fd}> "$fifo"	# keep stdin open until the end
	NODE_FDS+=("$fd")
	for _ in $(seq 100); do
		[ -s "$tmp/port.$var" ] && break
		sleep 0.05
	done
	printf -v "$var" '%s' "$(head -n1 "$tmp/port.$var")"
}

cleanup() {
	local fd pid
	for fd in "${NODE_FDS[@]}"; do exec {fd}>&-; done
	for pid in "${NODE_PIDS[@]}"; do wait "$pid"; done
	rm -rf "$tmp"
}
NODE_PIDS=()
NODE_FDS=()
trap cleanup EXIT

start_node PORT
start_node SILENT --silent
start_node OLD --old
S=(-s "127.0.0.1:$PORT")

# check WANT_RC WANT_REGEX ARGS...: runs swarmctl, checks exit code and
# that stdout+stderr match the extended regex.
check() {
	local want_rc=$1 want_re=$2; shift 2
	local out rc
	out=$("$CTL" "$@" 2>&1); rc=$?
	if [ "$rc" -eq "$want_rc" ] && grep -Eq -- "$want_re" <<<"$out"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: swarmctl $* -> rc $rc (want $want_rc), output:"
		echo "$out" | sed 's/^/    /'
		echo "  wanted /$want_re/"
	fi
}

# json ARGS...: stdout must be one valid JSON object; WANT_RC first.
json() {
	local want_rc=$1 want_re=$2; shift 2
	local out rc
	out=$("$CTL" --json "$@" 2>/dev/null); rc=$?
	if [ "$rc" -eq "$want_rc" ] &&
	   python3 -m json.tool <<<"$out" >/dev/null 2>&1 &&
	   [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
	   grep -Eq -- "$want_re" <<<"$out"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: swarmctl --json $* -> rc $rc (want $want_rc): $out"
		echo "  wanted /$want_re/"
	fi
}

# Help and usage.
check 0 'usage: swarmctl' --help
check 0 'Exit codes' -h
for c in register unregister whereis whereis-or-register join leave \
	members registered status stats; do
	check 0 "usage: swarmctl \\[OPTIONS\\] $c" "$c" --help
done
check 2 'no command' "${S[@]}"
check 2 "unknown command 'frob'" frob
check 2 "unknown option '--frob'" whereis x --frob
check 2 'NAME must be 1..255 bytes \(got 0\)' "${S[@]}" whereis ''
check 2 'NAME must be 1..255 bytes \(got 256\)' "${S[@]}" whereis \
	"$(printf 'x%.0s' $(seq 256))"
check 2 "HANDLE 'abc' is not a u64" "${S[@]}" register n abc
check 2 "HANDLE '18446744073709551616' is not a u64" "${S[@]}" register n \
	18446744073709551616
check 2 "HANDLE '-1' is not a u64" "${S[@]}" register n -- -1
check 2 "--endpoint '1.2.3.4' is not" "${S[@]}" register n 1 --endpoint 1.2.3.4
check 2 "--endpoint '1.2.3.4:70000'" "${S[@]}" register n 1 \
	--endpoint 1.2.3.4:70000
check 2 "--ttl '4294967296' must be a number in 0..4294967295" "${S[@]}" \
	register n 1 --ttl 4294967296
check 2 '--meta must be 0..255 bytes' "${S[@]}" register n 1 \
	--meta "$(printf 'm%.0s' $(seq 256))"
check 2 '--meta-hex must be' "${S[@]}" register n 1 --meta-hex abc
check 2 'exclude each other' "${S[@]}" register n 1 --meta a --meta-hex 61
check 2 'option --handle is not valid here' "${S[@]}" whereis n --handle 1
check 2 'missing argument' "${S[@]}" register n
check 2 "unexpected argument 'z'" "${S[@]}" whereis n z
check 2 "--timeout '0' must be" "${S[@]}" --timeout 0 status
check 2 "--retries 'x' must be" "${S[@]}" --retries x status
check 2 '--cursor must be hex' "${S[@]}" registered --cursor zz
check 2 "bad server address '127.0.0.1:0'" -s 127.0.0.1:0 status
check 2 'needs a value' "${S[@]}" register n 1 --ttl

# Commands, human output.
check 0 '^registered dev-1 handle 42 on node 1 version' "${S[@]}" \
	register dev-1 42 --endpoint 192.168.1.20:5683 --meta v1 --ttl 60000
check 0 'registered dev-1 handle 42' "${S[@]}" register dev-1 0x2a \
	--endpoint 192.168.1.20:5683 --meta v1 --ttl 60000
check 3 'already_registered; the name is held by handle 42' "${S[@]}" \
	register dev-1 7
check 0 'endpoint  192.168.1.20:5683' "${S[@]}" whereis dev-1
check 0 'metadata  v1' "${S[@]}" whereis dev-1
check 1 'dev-2: not found' "${S[@]}" whereis dev-2
check 0 'found \(already registered\)' "${S[@]}" whereis-or-register dev-1 9
check 0 '^registered' "${S[@]}" whereis-or-register dev-2 9 \
	--endpoint '[2001:db8::1]:5683' --meta-hex 00ff5c
check 0 'endpoint  \[2001:db8::1\]:5683' "${S[@]}" whereis dev-2
check 0 'metadata  \\x00\\xff\\\\' "${S[@]}" whereis dev-2
check 0 'dev-1 joined g' "${S[@]}" join g dev-1
check 0 'dev-2 joined g' "${S[@]}" join g dev-2
check 1 'not found' "${S[@]}" join g nobody
check 0 '\(2 members\)' "${S[@]}" members g
check 0 'next: --cursor [0-9a-f]+' "${S[@]}" members g --max 1
check 0 'dev-2 left g' "${S[@]}" leave g dev-2
check 0 '\(1 members\)' "${S[@]}" members g --all
check 0 '\(0 members\)' "${S[@]}" members empty-group
check 0 '\(2 registrations\)' "${S[@]}" registered
check 0 'end\)' "${S[@]}" registered --max 0
check 0 'node        1 \(test-node\)' "${S[@]}" status
check 0 'partitions  4' "${S[@]}" status
check 0 '^requests +[0-9]+$' "${S[@]}" stats
check 0 '^entries +2$' "${S[@]}" stats
check 3 'stats: not supported by this server yet' -s "127.0.0.1:$OLD" stats
check 3 'handle_mismatch' "${S[@]}" unregister dev-1 --handle 1
check 0 'unregistered dev-1' "${S[@]}" unregister dev-1 --handle 42
check 1 'not found' "${S[@]}" unregister dev-1 --handle 42
check 0 'unregistered dev-2' "${S[@]}" unregister dev-2
SWARM_SERVER=127.0.0.1:$PORT check 0 'entries     0' status
check 0 'entries     0' --server "127.0.0.1:$PORT" status
check 0 'entries     0' status -s "127.0.0.1:$PORT"
check 0 '^registered -dash' "${S[@]}" register -- -dash 1

# Binary and quoting in names.
check 0 'registered q\\\\"\\\\x' "${S[@]}" register 'q\"\x' 5
check 0 'name      q\\\\"\\\\x' "${S[@]}" whereis 'q\"\x'
check 0 "registered tab\\\\x09" "${S[@]}" register "$(printf 'tab\t')" 6

# JSON.
json 0 '"status":"ok"' "${S[@]}" register j-1 1 --meta 'a"b\c'
json 0 '"metadata":"a\\"b\\\\\\\\c"' "${S[@]}" whereis j-1
json 0 '"name_hex":"6a2d31"' "${S[@]}" whereis j-1
json 0 '"name":"q\\\\\\\\\\"' "${S[@]}" whereis 'q\"\x'
json 0 '"name":"tab\\\\x09","name_hex":"74616209"' "${S[@]}" whereis \
	"$(printf 'tab\t')"
json 1 '"status":"not_found"' "${S[@]}" whereis nope
json 3 '"status":"already_registered".*"entry":\{' "${S[@]}" register j-1 2
json 0 '"outcome":"found"' "${S[@]}" whereis-or-register j-1 2
json 0 '"status":"ok"' "${S[@]}" join jg j-1
json 0 '"count":1' "${S[@]}" members jg
json 0 '"end":true,"cursor":""' "${S[@]}" members jg --max 5
json 0 '"count":4' "${S[@]}" registered
json 0 '"node_name":"test-node"' "${S[@]}" status
json 0 '"supported":true.*"counters":\{"requests":[0-9]+,"entries":4\}' \
	"${S[@]}" stats
json 3 '"status":"unsupported","supported":false' -s "127.0.0.1:$OLD" stats
json 0 '"status":"ok"' "${S[@]}" leave jg j-1
json 0 '"status":"ok"' "${S[@]}" unregister j-1 --handle 1
json 4 '"status":"no_answer".*"tries":2' -s "127.0.0.1:$SILENT" \
	--timeout 50 --retries 1 whereis x

# No answer: exit 4, the message names the server and the tries.
check 4 "no answer from 127.0.0.1:$SILENT after 3 tries" \
	-s "127.0.0.1:$SILENT" --timeout 50 --retries 2 whereis x
check 4 "no answer from 127.0.0.1:$SILENT after 1 try" \
	-s "127.0.0.1:$SILENT" --timeout 50 --retries 0 status
# Failover: the first server is silent, the second answers.
check 0 "server      127.0.0.1:$PORT" -s "127.0.0.1:$SILENT" -s "127.0.0.1:$PORT" \
	--timeout 50 status

echo "swarmctl: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
