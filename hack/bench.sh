#!/usr/bin/env bash
# The benchmark suite (benches/suite/) against the Jira simulator and the test control plane: builds the
# operator, the simulator and the suite in release, finds the control plane binaries, runs the suite, which
# prints one table and writes target/bench.json (BENCH_JSON to change).
#
#   BENCH_SIZES=1000,10000,50000,100000   scenario sizes of the sync section (human accounts)
#   BENCH_QUICK=1                         smallest sizes only: 1k users, a burst of 100 actions (a smoke run)
#   BENCH_SECTIONS=sync,rate,operator,actions   sections to run
#   BENCH_RATE=50 BENCH_RATE_USERS=1000   the rate-limited sync (quick mode: 200 requests/s)
#   BENCH_OPERATOR=1000:Users,50000:Users,100000:Users,100000:Summary   runs of the operator binary (size:inventory)
#   BENCH_BURSTS=100,1000                 JiraAction bursts
#   BENCH_NAIVE_MEASURED_MAX=10000        the naive strategy's requests are made for real up to this size
#   BENCH_BASELINE=<git ref>              the previous build to compare with (a commit, tag or branch): built
#                                         into target/bench-baseline, its operator binary runs beside this one
#                                         in the operator section, its own suite runs the other sections first,
#                                         and the table ends with the figures side by side
# Not part of the test suite's pass/fail: the figures depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBEBUILDER_ASSETS=$(bash hack/test-bins.sh)
export KUBEBUILDER_ASSETS

if [ -n "${BENCH_BASELINE:-}" ]; then
  base=$PWD/target/bench-baseline
  rev=$(git rev-parse --verify "$BENCH_BASELINE^{commit}")
  echo "bench: building the previous build ($BENCH_BASELINE, $rev) in release" >&2
  rm -rf "$base/src"
  mkdir -p "$base/src" "$base/target"
  git archive "$rev" | tar -x -C "$base/src"
  # The dependencies are the same crates: start from this checkout's release build when there is one.
  own=${CARGO_TARGET_DIR:-$PWD/target}
  if [ ! -d "$base/target/release" ] && [ -d "$own/release" ]; then
    cp -a "$own/release" "$base/target/"
  fi
  (
    cd "$base/src"
    export CARGO_TARGET_DIR=$base/target
    cargo build --release --quiet --bin jira-cloud-operator -p jira-cloud-operator
    cargo build --release --quiet --bin jira-sim -p jira-sim
    sections=$(echo "${BENCH_SECTIONS:-sync,rate,operator,actions}" | tr ',' '\n' | grep -v '^operator$' | paste -sd, - || true)
    if [ -n "$sections" ]; then
      echo "bench: the previous build's suite ($sections)" >&2
      BENCH_SECTIONS=$sections BENCH_JSON=$base/bench.json cargo bench --quiet --bench suite >"$base/bench.log"
      export BENCH_BASELINE_JSON=$base/bench.json
      echo "BENCH_BASELINE_JSON=$base/bench.json" >"$base/env"
    else
      : >"$base/env"
    fi
  )
  # shellcheck disable=SC1091
  . "$base/env"
  export BENCH_BASELINE_JSON
  export BENCH_BASELINE_OPERATOR=$base/target/release/jira-cloud-operator
fi

echo "bench: building in release" >&2
cargo build --release --quiet --bin jira-cloud-operator -p jira-cloud-operator
cargo build --release --quiet --bin jira-sim -p jira-sim
cargo bench --quiet --no-run --bench suite

BENCH_JSON=${BENCH_JSON:-$PWD/target/bench.json}
export BENCH_JSON
cargo bench --quiet --bench suite
