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
# Not part of the test suite's pass/fail: the figures depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBEBUILDER_ASSETS=$(bash hack/test-bins.sh)
export KUBEBUILDER_ASSETS

echo "bench: building in release" >&2
cargo build --release --quiet --bin jira-cloud-operator -p jira-cloud-operator
cargo build --release --quiet --bin jira-sim -p jira-sim
cargo bench --quiet --no-run --bench suite

BENCH_JSON=${BENCH_JSON:-$PWD/target/bench.json}
export BENCH_JSON
cargo bench --quiet --bench suite
