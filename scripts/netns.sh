# scripts/netns.sh - sourced helpers: a test host in a network namespace,
# joined to the root namespace by a veth pair whose root end DPDK drives
# with net_af_packet. Used by the demo and the integration tests.
#
#   swarm_netns_up NS VETH_DPDK VETH_HOST HOST_CIDR
#   swarm_netns_down NS VETH_DPDK
#
# The host end gets its checksums computed in software (tx offload off):
# over a veth the kernel would otherwise leave them partial, and a real
# wire never carries a partial checksum.

swarm_netns_up() {
	local ns=$1 dp=$2 host=$3 cidr=$4

	swarm_netns_down "$ns" "$dp"
	ip netns add "$ns"
	ip link add "$dp" type veth peer name "$host"
	ip link set "$host" netns "$ns"
	ip link set "$dp" up
	ethtool -K "$dp" tx off rx off >/dev/null 2>&1 || true
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip addr add "$cidr" dev "$host"
	ip netns exec "$ns" ip link set "$host" up
	ip netns exec "$ns" ethtool -K "$host" tx off rx off >/dev/null 2>&1 || true
	# room for a datagram above the protocol's 1472-byte limit, so that
	# too_large can be tested (af_packet's default frames are 2048 bytes)
	ip link set "$dp" mtu 1600
	ip netns exec "$ns" ip link set "$host" mtu 1600
	# IPv6 autoconfiguration chatter would reach swarmd as drops: keep quiet
	sysctl -qw "net.ipv6.conf.$dp.disable_ipv6=1" 2>/dev/null || true
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.all.disable_ipv6=1" 2>/dev/null || true
}

swarm_netns_down() {
	local ns=$1 dp=$2

	ip netns del "$ns" 2>/dev/null || true
	ip link del "$dp" 2>/dev/null || true
}

# swarm_eventually SECS CMD...: CMD succeeds within SECS seconds, asked
# every 0.1 s; for conditions that take time to show (a lease running out,
# counters of frames still in flight, a join), never a fixed sleep.
swarm_eventually() {
	local secs=$1 t
	shift
	for ((t = 0; t < secs * 10; t++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# swarm_wait_start LOG PID SECONDS: waits for swarmd's ready line in LOG;
# 1 as soon as the process has exited, or after SECONDS.
swarm_wait_start() {
	local log=$1 pid=$2 secs=$3 i

	for ((i = 0; i < secs * 10; i++)); do
		grep -q '^swarmd: node' "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# swarm_start_retry LOG START_FN [ARGS...]: runs START_FN ARGS (which
# starts a swarmd that logs to LOG, its pid in SWARMD_PID) again, up to 5
# times, while it fails with "could not set PACKET_FANOUT": DPDK's
# net_af_packet derives its fanout group id from its pid and the
# interface index, so two processes started together can pick the same
# group, and a socket of a process that just died can still hold it. Both
# are transient. Any other failure is final.
swarm_start_retry() {
	local log=$1 fn=$2 try
	shift 2
	for try in 1 2 3 4 5; do
		"$fn" "$@" && return 0
		[ -n "${SWARMD_PID:-}" ] && wait "$SWARMD_PID" 2>/dev/null
		grep -q 'could not set PACKET_FANOUT' "$log" 2>/dev/null || return 1
		echo "# swarmd: PACKET_FANOUT clash (try $try), starting again" >&2
		sleep "0.$try"
	done
	return 1
}

# swarm_wait_line FILE PATTERN SECONDS: waits for a line in a log file.
swarm_wait_line() {
	local file=$1 pattern=$2 secs=$3 i

	for ((i = 0; i < secs * 10; i++)); do
		grep -q "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
