#!/usr/bin/env bash
# Usage: scripts/install-deps.sh [all|sim|notebook]
# Installs from Debian what a make target needs on a fresh machine (the Python side, Jupyter
# included, comes from PyPI into .venv/: scripts/pyenv.sh, tests/requirements.txt):
#   sim       Node.js and npm (the simulated board; `make demo`)
#   notebook  sim + python3 and python3-venv, to make .venv/ (`make notebook`)
#   all       everything `make test` needs (the default): notebook + Chromium and a font for the
#             browser tests + Wine and the mingw-w64 C compiler for the Windows build's test
#             (wine64 gcc-mingw-w64-x86-64-win32: about 160 MB to download, most of it libwine).
# Without root it only checks and says what is missing.
set -euo pipefail
group=${1:-all}
case "$group" in
  sim) pkgs=() ;;
  notebook) pkgs=(python3 python3-venv) ;;
  all) pkgs=(python3 python3-venv chromium fonts-dejavu-core wine64 gcc-mingw-w64-x86-64-win32) ;;
  *) echo "install-deps: unknown group '$group' (want all, sim or notebook)" >&2; exit 2 ;;
esac
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
