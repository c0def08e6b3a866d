#!/usr/bin/env bash
# Builds Prometheus' promtool from the Go module pinned in tools/promtool into a cache directory keyed by
# version, and prints the binary's path. A second run builds nothing. PROMTOOL pointing at a promtool binary
# skips the build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# Prometheus v3.16.0 is the Go module version v0.316.0.
PROMETHEUS_VERSION=3.16.0
PROMETHEUS_MODULE_VERSION=v0.316.0
grep -Eq "^\s*github.com/prometheus/prometheus $PROMETHEUS_MODULE_VERSION( |$)" "$root/tools/promtool/go.mod" \
  || { echo "tools/promtool/go.mod does not pin github.com/prometheus/prometheus $PROMETHEUS_MODULE_VERSION" >&2; exit 1; }

if [ -n "${PROMTOOL:-}" ] && [ -x "$PROMTOOL" ]; then
  echo "$PROMTOOL"
  exit 0
fi

cache=${JCO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jira-cloud-operator}
bin="$cache/bin/promtool-$PROMETHEUS_MODULE_VERSION-nosd"
mkdir -p "$bin"

# One build at a time (tests may ask at once); the others wait for it.
exec 9>"$bin/.lock"
flock 9
if ! "$bin/promtool" --version 2>/dev/null | grep -q "version $PROMETHEUS_VERSION"; then
  echo "promtool: building github.com/prometheus/prometheus/cmd/promtool $PROMETHEUS_MODULE_VERSION (a few minutes once)" >&2
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly"
  x="-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
  # remove_all_sd leaves out the service discovery plugins (cloud SDKs), which rule checks and tests never use.
  (cd "$root/tools/promtool" && go build -tags remove_all_sd -ldflags="-s -w $x" -o "$bin/promtool.tmp" \
    github.com/prometheus/prometheus/cmd/promtool)
  mv "$bin/promtool.tmp" "$bin/promtool"
fi

echo "$bin/promtool"
