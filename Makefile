# The two commands of the README, and the tools they need. Every target installs what it needs itself.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help demo test test-bins crds lint bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

demo: ## Run the operator end to end on a local control plane and the Jira simulator
	@bash hack/demo.sh

test: ## Run the whole test suite (builds the test control plane on first use)
	@bash hack/test.sh

test-bins: ## Build (or find in the cache) etcd, kube-apiserver, kube-controller-manager, kubectl and helm
	@bash hack/test-bins.sh

crds: ## Regenerate crds/ and the chart's CRDs from the Rust types
	@cargo run --quiet --bin crdgen

lint: ## cargo fmt --check, clippy, hadolint on the Dockerfile, helm lint on the chart
	@cargo fmt --all -- --check
	@cargo clippy --workspace --all-targets -- -D warnings
	@bash hack/lint-docker.sh
	@bash hack/chart-check.sh >/dev/null

bench: ## Run the benchmarks (figures to stdout, JSON to target/bench.json)
	@bash hack/bench.sh
