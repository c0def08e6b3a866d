#!/usr/bin/env bash
# The whole test suite: unit tests, integration tests on a real kube-apiserver + etcd, the simulator's tests.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBEBUILDER_ASSETS=$(bash hack/test-bins.sh)
export KUBEBUILDER_ASSETS
echo "test control plane: $("$KUBEBUILDER_ASSETS/kube-apiserver" --version), etcd $("$KUBEBUILDER_ASSETS/etcd" --version | sed -n 's/^etcd Version: //p')"

mkdir -p target
# The demo test runs the workspace's binaries (the operator, jira-sim, testenv): build them all first.
cargo build --workspace --bins
# Benches are not run here (their harness-less mains are benchmarks, not tests): `make bench` runs them.
cargo test --workspace --no-fail-fast 2>&1 | tee target/test.log
passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' target/test.log | awk '{s+=$4} END {print s+0}')
echo "tests passed: $passed"
