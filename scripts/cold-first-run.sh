#!/usr/bin/env bash
# Times a first `make synth` as a new user gets it: a fresh copy of the
# committed tree, an empty Go build cache and an empty jsii package cache
# (Go modules stay downloaded), then prints wall and CPU time and the disk
# each cache took. Figures in BENCHMARKS.md ("First run from empty caches").
# Takes 5-20 minutes on 2 cores; leaves everything under $WORK for a look.
#
#   scripts/cold-first-run.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d /tmp/rdsiam-cold-XXXX)}
mkdir -p "$work/tree" "$work/gocache" "$work/jsii"
chmod 700 "$work/jsii" # jsii refuses a package cache others could write to
git archive HEAD | tar -x -C "$work/tree"
export GOCACHE=$work/gocache JSII_RUNTIME_PACKAGE_CACHE_ROOT=$work/jsii
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
start=$(date +%s)
( cd "$work/tree" && /usr/bin/time -p make synth ) 2>&1 | tee "$work/synth.log"
echo "wall: $(( $(date +%s) - start )) s (CPU: the real/user/sys lines above)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
for d in "$GOCACHE" "$JSII_RUNTIME_PACKAGE_CACHE_ROOT" "$work/tree/node_modules" "$work/tree/.build" "$work/tree/cdk.out"; do
  du -sh "$d"
done
