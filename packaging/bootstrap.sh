#!/usr/bin/env bash
# Set up ./.venv for Alignment Workbench on a machine that has only Python and pip.
#   bash packaging/bootstrap.sh          the app
#   bash packaging/bootstrap.sh --test   the app and its test tools
# torch==2.13.0 goes in first: on the build machines it is a CPU wheel already on disk,
# while letting pip resolve torch on its own would pull several GB of CUDA packages.
# Re-running is cheap: nothing is reinstalled while pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
extra=""
[ "${1:-}" = "--test" ] && extra="[test]"

[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)${extra:+-test}"
if [ ! -e "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet "torch==2.13.0"
    .venv/bin/python -m pip install --quiet -e ".${extra}"
    touch "$stamp"
fi
