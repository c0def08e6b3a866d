#!/usr/bin/env bash
# Lints the Helm chart and renders it with its default values and every values file under ci/; fails on any
# error. Writes the rendered manifests (one file per values file) to CHART_RENDER_DIR (default
# target/chart-render) and prints that directory. HELM overrides the
# helm binary (by default the one hack/test-bins.sh builds).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
chart="$root/charts/jira-cloud-operator"
helm=${HELM:-$(bash "$root/hack/test-bins.sh")/helm}
out=${CHART_RENDER_DIR:-$root/target/chart-render}
mkdir -p "$out"

"$helm" lint --strict "$chart" >&2
for values in "$chart"/ci/*-values.yaml; do
  name=$(basename "$values" -values.yaml)
  "$helm" lint --strict "$chart" -f "$values" >&2
  "$helm" template jira-cloud-operator "$chart" --namespace jira-operator -f "$values" >"$out/$name.yaml"
done
echo "$out"
