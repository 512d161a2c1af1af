#!/usr/bin/env bash
# Installs the Debian packages swarm needs to build, test and run its demo.
# Idempotent: does nothing when everything is present. Must run as root
# (or with sudo available) on Debian 12.
set -euo pipefail

PKGS=(
	build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
	libdpdk-dev dpdk liburcu-dev libjemalloc-dev libxxhash-dev
	libbenchmark-dev libcmocka-dev libsodium-dev
	iproute2 ethtool iputils-ping python3
	nftables tcpdump
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
