#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine: the real Jupyter clients
# (called with /usr/bin/python3) and Node.js/npm for the simulated board.
# Without root it only checks and says what is missing.
set -euo pipefail
pkgs=(python3-jupyter-client python3-nbclient python3-nbformat python3-jupyter-kernel-test jupyter-client jupyter-console)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
