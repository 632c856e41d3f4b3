#!/usr/bin/env bash
# Usage: scripts/pyenv.sh
# Makes .venv/ (ignored by git) from tests/requirements.txt, the exact versions every
# Python-driven test, `make notebook` and `make bench` use, and prints the path of its python.
# It is reused while the requirements file is unchanged (its SHA-256 is kept in the venv).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
req="$root/tests/requirements.txt"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/python"
  exit 0
fi
command -v python3 >/dev/null || { echo "pyenv: python3 is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
echo "pyenv: installing tests/requirements.txt into .venv/ (once)" >&2
rm -rf "$venv"
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req" >&2
echo "$want" >"$venv/.requirements.sha256"
echo "$venv/bin/python"
