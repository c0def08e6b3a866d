#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kube-controller-manager, kubectl) and helm from the Go
# modules pinned under tools/, into a cache directory keyed by version, and prints that directory.
# A second run builds nothing. KUBEBUILDER_ASSETS pointing at a directory that already holds the binaries
# skips the build entirely.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# The versions, in one place. They must match tools/*/go.mod (checked below).
K8S_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
HELM_VERSION=v3.21.4

want() { grep -Eq "^(require )?\s*$2 $3( |$)" "$root/tools/$1/go.mod" || { echo "tools/$1/go.mod does not pin $2 $3" >&2; exit 1; }; }
want k8s k8s.io/kubernetes "$K8S_VERSION"
want etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
want helm helm.sh/helm/v3 "$HELM_VERSION"

if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ] && [ -x "$KUBEBUILDER_ASSETS/etcd" ] \
  && [ -x "$KUBEBUILDER_ASSETS/kube-controller-manager" ] && [ -x "$KUBEBUILDER_ASSETS/kubectl" ] && [ -x "$KUBEBUILDER_ASSETS/helm" ]; then
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

cache=${JCO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jira-cloud-operator}
bin="$cache/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION"
mkdir -p "$bin"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly"
log() { echo "test-bins: $*" >&2; }

if ! "$bin/kube-apiserver" --version 2>/dev/null | grep -q "$K8S_VERSION"; then
  log "building kubernetes $K8S_VERSION (kube-apiserver, kube-controller-manager, kubectl); cold builds take 10-25 min"
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  d=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  x="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1"
  x="$x -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.buildDate=$d"
  x="$x -X k8s.io/component-base/version.gitTreeState=clean"
  x="$x -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1"
  x="$x -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  (cd "$root/tools/k8s" && go build -p 2 -tags=notest -ldflags="-s -w $x" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl)
fi

if ! "$bin/etcd" --version 2>/dev/null | grep -q "${ETCD_VERSION#v}"; then
  log "building etcd $ETCD_VERSION"
  (cd "$root/tools/etcd" && go build -ldflags="-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3)
fi

if ! "$bin/helm" version --short 2>/dev/null | grep -q "$HELM_VERSION"; then
  log "building helm $HELM_VERSION"
  x="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  x="$x -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=34"
  x="$x -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=34"
  (cd "$root/tools/helm" && go build -ldflags="-s -w $x" -o "$bin/helm" helm.sh/helm/v3/cmd/helm)
fi

echo "$bin"
