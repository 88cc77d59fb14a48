#!/bin/sh
# Installs the Debian packages berth needs to build, test, demo and benchmark — only those
# missing. Usage: scripts/deps.sh [build|check|demo|bench]  (default: check)
set -eu
what=${1:-check}

build="meson ninja-build pkg-config gcc libc6-dev libarchive-dev libjansson-dev libsqlite3-dev
libssl-dev libcurl4-openssl-dev libseccomp-dev libcap-dev libmnl-dev libnftables-dev libyaml-dev python3"
demo="$build busybox-static tar gzip jq docker-registry"
check="$demo libcmocka-dev bats skopeo umoci zstd xz-utils bzip2 python3 clang-format util-linux
procps attr clang tini runc crun libcap2-bin iproute2 nftables curl docker-registry
apache2-utils"
bench="$demo hyperfine"
# Reference engines for the interop tests and benchmarks: installed when possible; the tests
# that need them skip (saying so) when they are missing.
optional="podman docker.io"

opt=""
case "$what" in
build) pkgs=$build ;;
demo) pkgs=$demo ;;
check) pkgs=$check opt=$optional ;;
bench) pkgs="$check $bench" opt=$optional ;;
*) echo "usage: $0 [build|check|demo|bench]" >&2; exit 2 ;;
esac

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=""
for p in $pkgs; do
  installed "$p" || missing="$missing $p"
done
opt_missing=""
for p in $opt; do
  installed "$p" || opt_missing="$opt_missing $p"
done
[ -z "$missing$opt_missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  [ -z "$missing" ] && exit 0
  echo "berth: missing Debian packages:$missing" >&2
  echo "berth: run as root (or: sudo apt-get install$missing)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || apt-get update -q
if [ -n "$missing" ]; then
  echo "berth: installing Debian packages:$missing" >&2
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
if [ -n "$opt_missing" ]; then
  echo "berth: installing optional Debian packages:$opt_missing" >&2
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $opt_missing >/dev/null 2>&1 ||
    echo "berth: could not install$opt_missing; the tests that need them will skip" >&2
fi
