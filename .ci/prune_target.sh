#!/usr/bin/env bash
# Keeps the shared target directory from filling the disk. Every clone at a new path builds
# its own copy of the workspace's crates, test binaries and examples (about 10 GB each), so
# copies left by earlier clones pile up. When free space runs low this deletes those
# workspace artifacts and the incremental caches, which any build recreates. The compiled
# third-party dependencies stay, so the next build still skips DataFusion, burn and Polars.
# When even that is not enough, the whole debug folder goes.
set -euo pipefail

target="${1:?usage: prune_target.sh TARGET_DIR}"
# Free space required before a build, in GiB.
want_gib="${GOVERNANCE_CI_FREE_GIB:-30}"

[ -d "$target" ] || exit 0

free_gib() { df -P -k "$target" | awk 'NR == 2 { print int($4 / 1048576) }'; }

if [ "$(free_gib)" -ge "$want_gib" ]; then
    exit 0
fi
echo "only $(free_gib) GiB free; deleting workspace build artifacts under $target"
for profile in debug release; do
    dir="$target/$profile"
    [ -d "$dir" ] || continue
    rm -rf "$dir/incremental"
    # Test harnesses, binaries and examples are the only executables cargo writes to these
    # folders. Libraries carry an extension, and build scripts live under build/.
    find "$dir/deps" "$dir/examples" -maxdepth 1 -type f -perm -u+x \
        ! -name '*.so' ! -name '*.rlib' ! -name '*.rmeta' ! -name '*.d' -delete 2>/dev/null || true
    find "$dir/deps" -maxdepth 1 -name 'libgovernance*' -delete 2>/dev/null || true
done
echo "now $(free_gib) GiB free"

if [ "$(free_gib)" -lt $((want_gib / 2)) ]; then
    echo "still short of space; deleting $target/debug (the next build starts cold)"
    rm -rf "$target/debug"
    echo "now $(free_gib) GiB free"
fi
