#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs a registration storm
# of one million device names through swarm's request path in one process
# (protocol encoder -> request executor -> partitioned RCU registry ->
# replies), resolves every name, then refreshes them all while lookups run.
#
# The DPDK daemon comes with the data-plane work; until then this is the
# same path without packet I/O. Extra arguments go to swarm-pipeline
# (see: build/perf/pipeline/swarm-pipeline --help).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
if [ ! -f build/build.ninja ]; then
	rm -rf build
	meson setup build -Dfuzz=false >/dev/null
	echo "-Dfuzz=false" >build/.swarm-options	# as scripts/test.sh does
fi
echo "building..."
ninja -C build >/dev/null

echo
exec build/perf/pipeline/swarm-pipeline --names 1000000 "$@"
