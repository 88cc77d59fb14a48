#!/bin/sh
# Installs the Debian packages berth needs to build, test, demo and benchmark — only those
# missing. Usage: scripts/deps.sh [build|check|demo|bench]  (default: check)
set -eu
what=${1:-check}

build="meson ninja-build pkg-config gcc libc6-dev libarchive-dev libjansson-dev libsqlite3-dev
libssl-dev libcurl4-openssl-dev"
demo="$build busybox-static tar gzip jq"
check="$demo libcmocka-dev bats skopeo umoci zstd xz-utils bzip2 python3 clang-format util-linux
procps attr"
bench="$demo hyperfine"

case "$what" in
build) pkgs=$build ;;
demo) pkgs=$demo ;;
check) pkgs=$check ;;
bench) pkgs="$check $bench" ;;
*) echo "usage: $0 [build|check|demo|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "berth: missing Debian packages:$missing" >&2
  echo "berth: run as root (or: sudo apt-get install$missing)" >&2
  exit 1
fi
echo "berth: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
