#!/usr/bin/env bash
# Usage: scripts/coverage-report.sh DIR
# Prints per-package statement coverage from Go's binary coverage data in DIR/unit (the unit
# tests, go test -cover -coverpkg=./... -test.gocoverdir) and DIR/integration (every process of a
# -cover build of webrepl-kernel the Jupyter, notebook and browser tests ran, GOCOVERDIR):
# each alone and both together, then the totals. Also writes DIR/coverage.out (both together, for
# `go tool cover -html`).
set -euo pipefail
dir=${1:?usage: $0 DIR}
go=${GO:-go}
inputs=()
for d in unit integration; do
  if [ -n "$(ls -A "$dir/$d" 2>/dev/null)" ]; then inputs+=("$dir/$d"); fi
done
[ ${#inputs[@]} -gt 0 ] || { echo "coverage: no data in $dir/unit or $dir/integration (run make coverage)" >&2; exit 1; }
both=$(IFS=,; echo "${inputs[*]}")

# covdata percent prints "\tPKG\t\tcoverage: N% of statements" per package (a package without
# statements gets no line end, so its name may start the next package's line).
percent() {
  "$go" tool covdata percent -i="$1" | awk '{
    for (i = 2; i < NF; i++) if ($i == "coverage:") { p = $(i + 1); sub(/%$/, "", p); print $(i - 1), p }
  }'
}
total() {
  "$go" tool covdata textfmt -i="$1" -o "$2"
  "$go" tool cover -func="$2" | awk '$1 == "total:" { print $3 }'
}
percent_or_dash() { if [ -n "$(ls -A "$1" 2>/dev/null)" ]; then percent "$1"; fi; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
percent_or_dash "$dir/unit" >"$tmp/unit"
percent_or_dash "$dir/integration" >"$tmp/integration"
percent "$both" >"$tmp/both"
printf '%-48s %8s %12s %9s\n' package unit integration together
awk -v unit="$tmp/unit" -v integ="$tmp/integration" '
  BEGIN {
    while ((getline l < unit) > 0) { split(l, f, " "); u[f[1]] = f[2] "%" }
    while ((getline l < integ) > 0) { split(l, f, " "); i[f[1]] = f[2] "%" }
  }
  { printf "%-48s %8s %12s %8s%%\n", $1, ($1 in u ? u[$1] : "-"), ($1 in i ? i[$1] : "-"), $2 }
' "$tmp/both"
tu=-; ti=-
[ -s "$tmp/unit" ] && tu=$(total "$dir/unit" "$tmp/unit.out")
[ -s "$tmp/integration" ] && ti=$(total "$dir/integration" "$tmp/integration.out")
tb=$(total "$both" "$dir/coverage.out")
printf '%-48s %8s %12s %9s\n' "total (statements)" "$tu" "$ti" "$tb"
