#!/usr/bin/env bash
# Usage: scripts/hubenv.sh
# Makes examples/jupyterhub/.venv/ (ignored by git) from examples/jupyterhub/requirements.txt
# (JupyterHub 6.1.1, jupyterhub-idle-culler, JupyterLab 4.6.6, all pinned) and
# examples/jupyterhub/node_modules/ from its package-lock.json (configurable-http-proxy), and
# prints the path of the venv's python. Both are reused while their pin files are unchanged.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hub="$root/examples/jupyterhub"
venv="$hub/.venv"
req="$hub/requirements.txt"
want=$(sha256sum "$req" | cut -d' ' -f1)
if ! [ -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  command -v python3 >/dev/null || { echo "hubenv: python3 is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
  echo "hubenv: installing examples/jupyterhub/requirements.txt into examples/jupyterhub/.venv/ (once)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req" >&2
  echo "$want" >"$venv/.requirements.sha256"
fi
if ! [ -e "$hub/node_modules/.package-lock.json" ] || [ "$hub/package-lock.json" -nt "$hub/node_modules/.package-lock.json" ]; then
  command -v npm >/dev/null || { echo "hubenv: npm is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
  echo "hubenv: npm ci in examples/jupyterhub (configurable-http-proxy)" >&2
  (cd "$hub" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
echo "$venv/bin/python"
