#!/usr/bin/env bash
# Builds the candor-coordinator and candor-participant images without
# pulling anything: FROM scratch with the release binaries (debug info
# stripped) and exactly the shared objects `ldd` says they load. Prints each
# image's size.
#
#   deploy/images/build.sh                    # podman, target/release, tag "latest"
#   CONTAINER=docker deploy/images/build.sh   # docker instead
#   deploy/images/build.sh --bin-dir target/debug --tag ci
#
# CONTAINER is the container command with any flags it needs on this host,
# e.g. "podman --runtime runc --cgroup-manager cgroupfs --storage-driver vfs".
# Without --bin-dir the release binaries are built first if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN_DIR=""
TAG=latest
while [ $# -gt 0 ]; do
    case "$1" in
        --bin-dir) BIN_DIR=$2; shift 2 ;;
        --tag) TAG=$2; shift 2 ;;
        *) echo "usage: $0 [--bin-dir DIR] [--tag TAG]" >&2; exit 2 ;;
    esac
done
CONTAINER=${CONTAINER:-podman}
if [ -z "$BIN_DIR" ]; then
    BIN_DIR=target/release
    [ -x "$BIN_DIR/candor-coordinator" ] && [ -x "$BIN_DIR/candor-participant" ] ||
        cargo build --release --locked -p candor-coordinator -p candor-participant
fi
format=()
# podman builds OCI images by default, which drop HEALTHCHECK
case "$CONTAINER" in *podman*) format=(--format docker) ;; esac

for daemon in coordinator participant; do
    bin="$BIN_DIR/candor-$daemon"
    [ -x "$bin" ] || { echo "no $bin: build it first" >&2; exit 1; }
    ctx=$(mktemp -d)
    trap 'rm -rf "$ctx"' EXIT
    root="$ctx/rootfs"
    mkdir -p "$root/usr/local/bin" "$root/etc/candor" "$ctx/state"
    objcopy --strip-debug "$bin" "$root/usr/local/bin/candor-$daemon"
    # the dynamic loader and every library it resolves, at the same paths
    for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
    printf 'root:x:0:0:root:/:/nonexistent\ncandor:x:10001:10001:candor:/var/lib/candor:/nonexistent\n' >"$root/etc/passwd"
    printf 'root:x:0:\ncandor:x:10001:\n' >"$root/etc/group"
    cp "deploy/images/Containerfile.$daemon" "$ctx/Containerfile"
    $CONTAINER build "${format[@]}" --quiet -t "candor-$daemon:$TAG" "$ctx" >/dev/null
    rm -rf "$ctx"
    trap - EXIT
    size=$($CONTAINER image inspect --format '{{.Size}}' "candor-$daemon:$TAG")
    echo "candor-$daemon:$TAG $((size / 1000000)) MB ($(basename "$(dirname "$(readlink -f "$bin")")") binary, $(ldd "$bin" | grep -c '/') shared objects)"
done
