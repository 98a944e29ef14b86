#!/usr/bin/env bash
# Synth time of the Go app against its JS CDK twin (app.js): the same stack,
# the same aws-cdk-lib, the same Node, the same cdk.json, interleaved rounds
# through the pinned CLI, each into a fresh output folder; with CDK's
# CloudFormation validation on (make synth) and off (make synth-fast).
# Prints wall and CPU (user+sys of the CLI, the app and jsii's Node) per
# synth and the medians. Run by `make bench-twin` (after `make synth`
# built .build/bin/rdsiam and the Lambda assets). ROUNDS=n (default 5).
set -euo pipefail
cd "$(dirname "$0")/../.."
node=$(.build/bin/rdsiam-dev node)
export JSII_NODE=$node CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=true
rounds=${ROUNDS:-5}
results=$(mktemp)
trap 'rm -f "$results"' EXIT
one() { # label validation app
  local out t
  out=$(mktemp -d)
  t=$(mktemp)
  CDK_VALIDATION=$2 /usr/bin/time -f "%e %U %S" -o "$t" \
    "$node" node_modules/aws-cdk/bin/cdk synth --quiet --no-notices --app "$3" -o "$out" >/dev/null
  read -r wall user sys <"$t"
  printf '%-10s wall %6.2f s  cpu %6.2f s\n' "$1" "$wall" "$(echo "$user + $sys" | bc)"
  echo "$1 $wall $(echo "$user + $sys" | bc)" >>"$results"
  rm -rf "$out" "$t"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$rounds"); do
  one go true .build/bin/rdsiam
  one js true "$node bench/jstwin/app.js"
  one go-fast false .build/bin/rdsiam
  one js-fast false "$node bench/jstwin/app.js"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for l in go js go-fast js-fast; do
  printf 'median %-8s wall %6.2f s  cpu %6.2f s\n' "$l" \
    "$(awk -v l="$l" '$1==l {print $2}' "$results" | median)" "$(awk -v l="$l" '$1==l {print $3}' "$results" | median)"
done
