#!/usr/bin/env bash
# Benchmarks `planguard check` on synthetic plans of 1k, 10k and 100k resources.
#
#   bench/run.sh                 # all sizes, every variant
#   bench/run.sh 1000 10000      # only these sizes
#
# Builds the release binary, then runs benches/check.rs (`cargo bench --bench check`), which
# generates the plans into a temporary directory, times `planguard check` on each (builtin
# library, and a conftest-style policy) and prints a table. Environment knobs are described in
# bench/README.md. Installs GNU time (for peak RSS) when it is missing and apt-get can.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/time ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== installing GNU time (peak RSS)"
    apt-get install -y -qq time >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y -qq time >/dev/null; } ||
      echo "could not install GNU time: peak RSS will show n/a" >&2
  else
    echo "/usr/bin/time is missing (apt-get install -y time): peak RSS will show n/a" >&2
  fi
fi

if [ "$#" -gt 0 ]; then
  PLANGUARD_BENCH_SIZES=$(IFS=,; echo "$*")
  export PLANGUARD_BENCH_SIZES
fi

echo "== building the release binary"
cargo build --release
echo "== benchmarking"
cargo bench --bench check
