#!/usr/bin/env bash
# `make demo`: a simulated ESP32, the kernel installed into a temporary Jupyter folder, and the
# lesson notebooks run through it with nbclient, showing every cell's output.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/webrepl-kernel}
exec scripts/with-board.sh "$bin" /usr/bin/python3 scripts/run-notebook.py notebooks/*.ipynb
