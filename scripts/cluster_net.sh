# shellcheck shell=bash disable=SC2034  # SWARM_CL_* are read by callers
# scripts/cluster_net.sh - sourced helpers: several swarmd nodes on one
# host, each on its own veth pair, joined by a Linux bridge in a network
# namespace that is also the client host. Used by the cluster integration
# tests (tests/integration/cluster.sh) and meant for a several-node demo.
#
#   root namespace                 namespace swarm-cl (the client host)
#   swarmd n1 -- swcl1a  <veth>  swcl1b --+
#   swarmd n2 -- swcl2a  <veth>  swcl2b --+-- br0 10.79.0.100/24
#   swarmd nI -- swclIa  <veth>  swclIb --+   (swarmctl, swarm-storm)
#                                            br1 10.79.0.101 (partitions)
#
# Node i: ip 10.79.0.i/24, udp 7400, gossip 7401; DPDK drives swclIa with
# net_af_packet (--vdev=net_af_packetI,iface=swclIa), file prefix swclI.
# Nodes reach each other through br0, so every frame between two nodes
# also crosses two veth pairs and the bridge, as on a switch.
#
# Network:
#   swarm_cluster_net_up N       namespace, bridge and nodes 1..N (tears
#                                down whatever an earlier run left first)
#   swarm_cluster_net_add_node I one more node's veth pair (idempotent)
#   swarm_cluster_net_down       kills our leftover swarmd and client
#                                processes, removes namespace, veths and
#                                DPDK runtime directories; idempotent
#   swarm_cluster_partition I [bridge|link]
#                                cuts node I off from the other nodes.
#                                bridge (default): its port moves to br1,
#                                which the client still reaches (through
#                                a host route via 10.79.0.101), so both
#                                sides keep serving clients; nodes moved
#                                together form one side. link: the port
#                                goes down (the client loses the node too).
#   swarm_cluster_heal I         undoes the partition of node I
#   swarm_cluster_ip I, swarm_cluster_if I, swarm_cluster_seeds N
#   swarm_cluster_in_ns CMD...   runs CMD in the client namespace
#   swarm_cluster_lock [SECS]    one user of the topology per host at a time:
#                                takes an exclusive lock (fd 9) for the rest
#                                of the calling shell's life, waiting up to
#                                SECS (default 1800); call it before any
#                                other helper and before trapping EXIT.
#                                Two runs would otherwise tear down each
#                                other's namespace and kill each other's
#                                nodes (same names, same file prefixes).
#
# Processes (PIDs in SWARM_CL_PID[I]):
#   swarm_cluster_eal_args I     prints node I's EAL arguments, one a line
#   swarm_cluster_start SWARMD I CONF LOG [ARGS...]
#                                starts node I in the background (output
#                                appended to LOG), waits for its ready line
#   swarm_cluster_running I      true while node I's process is alive
#   swarm_cluster_stop I [SECS]  SIGTERM, then SIGKILL after SECS (15);
#                                returns swarmd's exit status
#   swarm_cluster_kill I         SIGKILL (a crash), reaps it
#   swarm_cluster_kill_leftovers SIGKILLs every swarmd with one of our file
#                                prefixes (from an earlier, aborted run)
#
# Tunables (set before sourcing, or keep the defaults).

SWARM_CL_NS=${SWARM_CL_NS:-swarm-cl}
SWARM_CL_PFX=${SWARM_CL_PFX:-swcl}		# veths swclIa/swclIb, file prefix swclI
SWARM_CL_NET=${SWARM_CL_NET:-10.79.0}		# node I is $SWARM_CL_NET.I
SWARM_CL_BR=${SWARM_CL_BR:-br0}
SWARM_CL_CLIENT_IP=${SWARM_CL_CLIENT_IP:-$SWARM_CL_NET.100}
SWARM_CL_ISO_BR=${SWARM_CL_ISO_BR:-br1}
SWARM_CL_ISO_IP=${SWARM_CL_ISO_IP:-$SWARM_CL_NET.101}
SWARM_CL_UDP_PORT=${SWARM_CL_UDP_PORT:-7400}
SWARM_CL_GOSSIP_PORT=${SWARM_CL_GOSSIP_PORT:-7401}
SWARM_CL_MEM=${SWARM_CL_MEM:-256}		# EAL -m, MB per node
SWARM_CL_CORES=${SWARM_CL_CORES:-$(nproc 2>/dev/null || echo 1)}
SWARM_CL_MTU=${SWARM_CL_MTU:-1600}
SWARM_CL_PID=()
SWARM_CL_PARTITIONED=()		# node -> method, while partitioned

swarm_cluster_ip() { echo "$SWARM_CL_NET.$1"; }
swarm_cluster_if() { echo "$SWARM_CL_PFX${1}a"; }
swarm_cluster_in_ns() { ip netns exec "$SWARM_CL_NS" "$@"; }

# swarm_cluster_seeds N: the gossip addresses of nodes 1..N, comma-separated
swarm_cluster_seeds() {
	local n=$1 i s=
	for ((i = 1; i <= n; i++)); do
		s+="${s:+, }$SWARM_CL_NET.$i:$SWARM_CL_GOSSIP_PORT"
	done
	echo "$s"
}

_swarm_cl_ns() { ip netns exec "$SWARM_CL_NS" "$@"; }

swarm_cluster_lock() {
	local secs=${1:-1800} f=${SWARM_CL_LOCK:-/run/lock/swarm-cluster-$SWARM_CL_NS.lock}
	[ -d "${f%/*}" ] || f=/tmp/${f##*/}
	exec 9>"$f" || return 1
	flock -n 9 && return 0
	echo "# another run uses $SWARM_CL_NS (lock $f held); waiting up to ${secs}s" >&2
	flock -w "$secs" 9
}

swarm_cluster_net_up() {
	local n=$1 i

	swarm_cluster_net_down
	ip netns add "$SWARM_CL_NS" || return 1
	_swarm_cl_ns ip link set lo up
	_swarm_cl_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
	_swarm_cl_ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
	# bridged frames must not meet netfilter (empty in a new namespace
	# anyway), and the isolation bridge's host route must not be checked
	# against reverse paths
	_swarm_cl_ns sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
	_swarm_cl_ns sysctl -qw net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
	_swarm_cl_ns sysctl -qw net.ipv4.conf.all.rp_filter=0 2>/dev/null || true
	_swarm_cl_ns sysctl -qw net.ipv4.conf.default.rp_filter=0 2>/dev/null || true
	_swarm_cl_ns sysctl -qw net.ipv4.ip_forward=0 2>/dev/null || true
	# fixed bridge MACs: a bridge otherwise takes its lowest port's, which
	# changes when a partition moves a port from one bridge to the other
	_swarm_cl_ns ip link add "$SWARM_CL_BR" address 02:79:00:00:00:64 type bridge \
		stp_state 0 forward_delay 0 || return 1
	_swarm_cl_ns ip link add "$SWARM_CL_ISO_BR" address 02:79:00:00:00:65 type bridge \
		stp_state 0 forward_delay 0 || return 1
	_swarm_cl_ns ip addr add "$SWARM_CL_CLIENT_IP/24" dev "$SWARM_CL_BR" || return 1
	# no prefix route: only host routes of partitioned nodes point at br1
	_swarm_cl_ns ip addr add "$SWARM_CL_ISO_IP/24" dev "$SWARM_CL_ISO_BR" noprefixroute || return 1
	for ((i = 1; i <= n; i++)); do
		swarm_cluster_net_add_node "$i" || return 1
	done
	_swarm_cl_ns ip link set "$SWARM_CL_BR" mtu "$SWARM_CL_MTU" 2>/dev/null || true
	_swarm_cl_ns ip link set "$SWARM_CL_BR" up
	_swarm_cl_ns ip link set "$SWARM_CL_ISO_BR" up
	# the client's checksums in software (see scripts/netns.sh)
	_swarm_cl_ns ethtool -K "$SWARM_CL_BR" tx off >/dev/null 2>&1 || true
	_swarm_cl_ns ethtool -K "$SWARM_CL_ISO_BR" tx off >/dev/null 2>&1 || true
	return 0
}

swarm_cluster_net_add_node() {
	local i=$1 a b
	a=$SWARM_CL_PFX${i}a
	b=$SWARM_CL_PFX${i}b

	ip link show "$a" >/dev/null 2>&1 && return 0
	ip link add "$a" type veth peer name "$b" || return 1
	ip link set "$b" netns "$SWARM_CL_NS" || return 1
	# the DPDK side: no IPv6 chatter, checksums in software, room for
	# datagrams above the protocol's 1472-byte limit (as scripts/netns.sh)
	sysctl -qw "net.ipv6.conf.$a.disable_ipv6=1" 2>/dev/null || true
	ethtool -K "$a" tx off rx off >/dev/null 2>&1 || true
	ip link set "$a" mtu "$SWARM_CL_MTU"
	ip link set "$a" up
	_swarm_cl_ns ethtool -K "$b" tx off rx off >/dev/null 2>&1 || true
	_swarm_cl_ns ip link set "$b" mtu "$SWARM_CL_MTU"
	_swarm_cl_ns ip link set "$b" master "$SWARM_CL_BR" || return 1
	_swarm_cl_ns ip link set "$b" up
}

# swarm_cluster_partition I [bridge|link]
swarm_cluster_partition() {
	local i=$1 how=${2:-bridge} b ip
	b=$SWARM_CL_PFX${i}b
	ip=$SWARM_CL_NET.$i

	case $how in
	bridge)
		_swarm_cl_ns ip link set "$b" nomaster || return 1
		_swarm_cl_ns ip link set "$b" master "$SWARM_CL_ISO_BR" || return 1
		_swarm_cl_ns ip link set "$b" up
		_swarm_cl_ns ip route replace "$ip/32" dev "$SWARM_CL_ISO_BR" \
			src "$SWARM_CL_ISO_IP" || return 1
		_swarm_cl_ns ip neigh flush dev "$SWARM_CL_BR" to "$ip" 2>/dev/null || true
		;;
	link)
		_swarm_cl_ns ip link set "$b" down || return 1
		;;
	*)
		echo "swarm_cluster_partition: unknown method $how (bridge, link)" >&2
		return 2
		;;
	esac
	SWARM_CL_PARTITIONED[i]=$how
}

swarm_cluster_heal() {
	local i=$1 b ip
	b=$SWARM_CL_PFX${i}b
	ip=$SWARM_CL_NET.$i

	_swarm_cl_ns ip route del "$ip/32" dev "$SWARM_CL_ISO_BR" 2>/dev/null || true
	_swarm_cl_ns ip neigh flush dev "$SWARM_CL_ISO_BR" to "$ip" 2>/dev/null || true
	if [ "$(_swarm_cl_ns cat "/sys/class/net/$b/master/ifindex" 2>/dev/null)" != \
		"$(_swarm_cl_ns cat "/sys/class/net/$SWARM_CL_BR/ifindex" 2>/dev/null)" ]; then
		_swarm_cl_ns ip link set "$b" nomaster 2>/dev/null
		_swarm_cl_ns ip link set "$b" master "$SWARM_CL_BR" || return 1
	fi
	_swarm_cl_ns ip link set "$b" up || return 1
	unset "SWARM_CL_PARTITIONED[$i]"
}

# Our processes: swarmd with --file-prefix swclN (either spelling).
_swarm_cl_is_ours() {
	local pid=$1 prev='' arg exe=''
	[ -r "/proc/$pid/cmdline" ] || return 1
	while IFS= read -r -d '' arg; do
		if [ -z "$exe" ]; then
			exe=${arg##*/}
			[ "$exe" = swarmd ] || return 1
		elif [ "$prev" = --file-prefix ] && [[ $arg =~ ^${SWARM_CL_PFX}[0-9]+$ ]]; then
			return 0
		elif [[ $arg =~ ^--file-prefix=${SWARM_CL_PFX}[0-9]+$ ]]; then
			return 0
		fi
		prev=$arg
	done <"/proc/$pid/cmdline"
	return 1
}

swarm_cluster_kill_leftovers() {
	local d pid
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = "$$" ] && continue
		if _swarm_cl_is_ours "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

swarm_cluster_net_down() {
	local pid l i

	# our own nodes first (reaped, so that their packet sockets go), then
	# any swarmd with one of our prefixes that an aborted run left behind
	for i in "${!SWARM_CL_PID[@]}"; do
		swarm_cluster_kill "$i"
	done
	swarm_cluster_kill_leftovers
	for ((i = 0; i < 30; i++)); do
		_swarm_cl_leftovers_gone && break
		sleep 0.1
	done
	if ip netns list 2>/dev/null | awk -v ns="$SWARM_CL_NS" '$1 == ns { f = 1 } END { exit !f }'; then
		# clients (swarmctl, swarm-storm) still inside the namespace
		for pid in $(ip netns pids "$SWARM_CL_NS" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
		ip netns del "$SWARM_CL_NS" 2>/dev/null || true
	fi
	# veth ends left in the root namespace (deleting one end deletes both)
	for l in $(ip -o link show 2>/dev/null |
		awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
		grep -E "^${SWARM_CL_PFX}[0-9]+[ab]$"); do
		ip link del "$l" 2>/dev/null || true
	done
	# DPDK runtime directories of our file prefixes
	for l in /var/run/dpdk/"$SWARM_CL_PFX"*; do
		[[ ${l##*/} =~ ^${SWARM_CL_PFX}([0-9]+|-check)$ ]] || continue
		rm -rf "$l"
	done
	SWARM_CL_PARTITIONED=()
	return 0
}

_swarm_cl_leftovers_gone() {
	local d
	for d in /proc/[0-9]*; do
		_swarm_cl_is_ours "${d#/proc/}" &&
			[ "$(awk '{ print $3 }' "$d/stat" 2>/dev/null)" != Z ] && return 1
	done
	return 0
}

# swarm_cluster_eal_args I: EAL arguments of node I, one a line. Lcores
# alternate over the machine's cores: node 1 on 0, node 2 on 1, ...
swarm_cluster_eal_args() {
	local i=$1
	printf '%s\n' -l "$(((i - 1) % SWARM_CL_CORES))" --no-huge --no-pci \
		-m "$SWARM_CL_MEM" --file-prefix "$SWARM_CL_PFX$i" \
		"--vdev=net_af_packet$i,iface=$SWARM_CL_PFX${i}a"
}

# swarm_cluster_running I
swarm_cluster_running() {
	local pid=${SWARM_CL_PID[$1]:-} st
	[ -n "$pid" ] || return 1
	st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# swarm_cluster_start SWARMD I CONF LOG [ARGS...]: extra ARGS go after -c
# CONF. Returns 0 once the ready line is printed, 1 when the process exits
# or is not ready within SWARM_CL_START_S seconds (default 30).
swarm_cluster_start() {
	local try
	# A node started right after an earlier process on the same veth died
	# can find the kernel still tearing down that process's packet socket:
	# net_af_packet then fails with "could not set PACKET_FANOUT". That is
	# transient: wait and start again.
	for try in 1 2 3 4 5; do
		_swarm_cl_start_once "$@" && return 0
		tail -n 5 "$4" | grep -q 'could not set PACKET_FANOUT' || return 1
		sleep "$try"
	done
	return 1
}

_swarm_cl_start_once() {
	local bin=$1 i=$2 conf=$3 log=$4 before n t
	local -a eal
	shift 4

	mapfile -t eal < <(swarm_cluster_eal_args "$i")
	touch "$log"
	before=$(grep -c '^swarmd: node' "$log")
	echo "=== $(date '+%F %T') start: $bin ${eal[*]} -- -c $conf $*" >>"$log"
	# 9>&-: a node must not hold swarm_cluster_lock's lock after we die
	"$bin" "${eal[@]}" -- -c "$conf" "$@" >>"$log" 2>&1 9>&- &
	SWARM_CL_PID[i]=$!
	for ((t = 0; t < ${SWARM_CL_START_S:-30} * 10; t++)); do
		n=$(grep -c '^swarmd: node' "$log")
		[ "$n" -gt "$before" ] && return 0
		swarm_cluster_running "$i" || return 1
		sleep 0.1
	done
	return 1
}

# swarm_cluster_stop I [SECS]: SIGTERM, SIGKILL after SECS; the exit status
swarm_cluster_stop() {
	local i=$1 secs=${2:-15} pid=${SWARM_CL_PID[$1]:-} t rc
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((t = 0; t < secs * 10; t++)); do
		swarm_cluster_running "$i" || break
		sleep 0.1
	done
	swarm_cluster_running "$i" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	SWARM_CL_PID[i]=
	return $rc
}

swarm_cluster_kill() {
	local pid=${SWARM_CL_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	SWARM_CL_PID[$1]=
	return 0
}
