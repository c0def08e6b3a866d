#!/usr/bin/env bash
# The whole test suite: unit tests, integration tests on a real kube-apiserver + etcd, the simulator's tests.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBEBUILDER_ASSETS=$(bash hack/test-bins.sh)
export KUBEBUILDER_ASSETS
echo "test control plane: $("$KUBEBUILDER_ASSETS/kube-apiserver" --version), etcd $("$KUBEBUILDER_ASSETS/etcd" --version | sed -n 's/^etcd Version: //p')"
# Prometheus' promtool checks and unit-tests the chart's alert rules (tests/chart_monitoring.rs).
PROMTOOL=$(bash hack/promtool.sh)
export PROMTOOL

mkdir -p target
# The demo test runs the workspace's binaries (the operator, jira-sim, testenv): build them all first.
cargo build --workspace --bins
# The whole suite leaves a record of everything the operator said (apiserver audit log of every write, trace
# logs, metrics) in this directory; tests/leak_audit.rs then searches it for the suite's credentials.
JCO_LEAK_AUDIT_DIR="$(pwd)/target/leak-audit"
export JCO_LEAK_AUDIT_DIR
rm -rf "$JCO_LEAK_AUDIT_DIR"
mkdir -p "$JCO_LEAK_AUDIT_DIR"
# Benches are not run here (their harness-less mains are benchmarks, not tests): `make bench` runs them.
cargo test --workspace --no-fail-fast 2>&1 | tee target/test.log
cp target/test.log "$JCO_LEAK_AUDIT_DIR/output-cargo-test.log"
cargo test --test leak_audit -- --ignored --nocapture 2>&1 | tee target/leak-audit.log
passed=$(cat target/test.log target/leak-audit.log | grep -Eo 'test result: ok\. [0-9]+ passed' | awk '{s+=$4} END {print s+0}')
echo "tests passed: $passed"
