#!/usr/bin/env bash
# Usage: scripts/dist.sh [OUT_DIR]   (make dist; OUT_DIR defaults to dist/)
# Writes one archive per OS and architecture a learner's computer may have (Windows and
# macOS and Linux, amd64 and arm64): the static binary (no cgo), README.md and the licence
# file if the repository has one, in a folder named after the archive; a zip for Windows,
# a tar.gz otherwise; then SHA256SUMS over the archives. The binary's `version` names the
# commit it was built from (-ldflags -X main.commit, "-dirty" for uncommitted changes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/dist}")
cd "$root"
version=$(sed -n 's/^var version = "\(.*\)"$/\1/p' cmd/webrepl-kernel/kernel.go)
[ -n "$version" ] || { echo "dist: cannot read the version from cmd/webrepl-kernel/kernel.go" >&2; exit 1; }
commit=$(git describe --always --dirty --abbrev=40 2>/dev/null || echo unknown)
# Reproducible archives: every file dated at the commit.
stamp=$(git log -1 --format=%ct 2>/dev/null || date +%s)
licence=()
for f in LICENSE LICENSE.md LICENSE.txt COPYING; do [ -f "$f" ] && licence+=("$f"); done
[ ${#licence[@]} -gt 0 ] || echo "dist: no LICENSE file in the repository: the archives carry none" >&2
rm -rf "$out"
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
	os=${target%/*} arch=${target#*/}
	name="webrepl-kernel-$version-$os-$arch"
	exe=webrepl-kernel
	[ "$os" = windows ] && exe=webrepl-kernel.exe
	mkdir -p "$stage/$name"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=false \
		-ldflags "-s -w -X main.commit=$commit" -o "$stage/$name/$exe" ./cmd/webrepl-kernel
	cp README.md "${licence[@]}" "$stage/$name/"
	find "$stage/$name" -exec touch -h -d "@$stamp" {} +
	if [ "$os" = windows ]; then
		(cd "$stage" && python3 - "$out/$name.zip" "$name" <<'PY'
import os, sys, zipfile
archive, top = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
    for name in sorted(os.listdir(top)):
        z.write(os.path.join(top, name), f"{top}/{name}")
PY
		)
	else
		tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$stamp" \
			-cf - "$name" | gzip -9n >"$out/$name.tar.gz"
	fi
done
(cd "$out" && sha256sum -- *.tar.gz *.zip >SHA256SUMS)
# The archive's binary for this machine names the commit.
host="webrepl-kernel-$version-$(go env GOOS)-$(go env GOARCH)"
if [ -f "$out/$host.tar.gz" ]; then
	tar -xzf "$out/$host.tar.gz" -C "$stage"
	"$stage/$host/webrepl-kernel" version | grep -qx "commit $commit" || {
		echo "dist: $host's binary does not name commit $commit:" >&2
		"$stage/$host/webrepl-kernel" version >&2
		exit 1
	}
fi
ls -l "$out"
echo "dist: $commit in $out (check with: cd $out && sha256sum -c SHA256SUMS)"
