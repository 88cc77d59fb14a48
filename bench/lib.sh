# shellcheck shell=bash
# bench/lib.sh: common code for the bench/*.sh scripts (sourced, never run).
#
# Environment:
#   BERTH           binary to measure                     (default: $REPO/build/berth)
#   BENCH_TMPDIR    scratch space, needs ~2 GB for load   (default: /var/tmp)
#   BENCH_CACHE     generated archives, reused between runs (default: $BENCH_TMPDIR/berth-bench-cache)
#   BENCH_RESULTS   directory receiving <name>.json and report.md (default: a temp dir; the
#                   report is printed at the end). bench/run-all.sh sets it.
#   BENCH_PEERS     peers to compare with; empty for none (default: "docker podman")
#   BENCH_INSTALL=1 apt-get install the missing hyperfine/docker.io/podman first
#
# Peers run on private state (their own data root / storage under the scratch dir), so a
# benchmark never touches the machine's images. A peer that cannot run is skipped, with the
# reason printed and written into the report.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO=$(dirname "$BENCH_DIR")
BERTH=${BERTH:-$BENCH_REPO/build/berth}
BENCH_TMPDIR=${BENCH_TMPDIR:-/var/tmp}
BENCH_CACHE=${BENCH_CACHE:-$BENCH_TMPDIR/berth-bench-cache}
BENCH_PEERS=${BENCH_PEERS-docker podman}

# shellcheck source=../tests/fixtures/lib-archive.sh
source "$BENCH_REPO/tests/fixtures/lib-archive.sh"

BENCH_WORK=
BENCH_OWN_RESULTS=0
BENCH_DOCKERD_PID=
DOCKER=()       # docker command line bound to the peer daemon, empty when skipped
PODMAN=()       # podman command line bound to private storage, empty when skipped
BENCH_SKIPPED=() # "peer: reason" lines for the report

bench_note() { echo "bench: $*" >&2; }
bench_die() {
  echo "bench: $*" >&2
  exit 1
}

# bench_init: check the tools, make the scratch dir, arrange cleanup.
bench_init() {
  [[ $EUID -eq 0 ]] || bench_die "run as root (berth, dockerd and podman need it here)"
  [[ -x $BERTH ]] || bench_die "$BERTH is not built (meson setup build && ninja -C build), or set BERTH"
  if ! command -v hyperfine >/dev/null; then
    if [[ ${BENCH_INSTALL:-0} == 1 ]]; then
      apt-get install -y hyperfine >&2
    else
      bench_die "hyperfine is not installed (apt-get install hyperfine, or BENCH_INSTALL=1)"
    fi
  fi
  mkdir -p "$BENCH_TMPDIR" "$BENCH_CACHE"
  BENCH_WORK=$(mktemp -d "$BENCH_TMPDIR/berth-bench.XXXXXX")
  if [[ -z ${BENCH_RESULTS:-} ]]; then
    BENCH_RESULTS=$BENCH_WORK/results
    BENCH_OWN_RESULTS=1
  fi
  mkdir -p "$BENCH_RESULTS"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local rc=$?
  set +e
  if [[ -n $BENCH_DOCKERD_PID ]] && kill -0 "$BENCH_DOCKERD_PID" 2>/dev/null; then
    kill "$BENCH_DOCKERD_PID" 2>/dev/null || true
    local _
    for _ in $(seq 1 100); do
      kill -0 "$BENCH_DOCKERD_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$BENCH_DOCKERD_PID" 2>/dev/null || true
  fi
  if [[ $BENCH_OWN_RESULTS == 1 && -f $BENCH_RESULTS/report.md ]]; then
    echo
    cat "$BENCH_RESULTS/report.md"
  fi
  if [[ -n $BENCH_WORK ]]; then
    # Private peer stores may hold mounts (overlay); detach before deleting.
    awk -v w="$BENCH_WORK/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
      while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -rf "$BENCH_WORK"
  fi
  exit "$rc"
}

# bench_skip PEER REASON
bench_skip() {
  bench_note "skipping $1: $2"
  BENCH_SKIPPED+=("$1: $2")
}

# bench_start_peers: fill DOCKER and PODMAN for each peer in $BENCH_PEERS that can run.
bench_start_peers() {
  local p
  for p in $BENCH_PEERS; do
    case $p in
      docker) bench_start_docker || true ;;
      podman) bench_start_podman || true ;;
      *) bench_skip "$p" "unknown peer" ;;
    esac
  done
}

bench_start_docker() {
  if [[ ${BENCH_INSTALL:-0} == 1 ]] && ! command -v dockerd >/dev/null; then
    apt-get install -y docker.io >&2 || true
  fi
  if ! command -v docker >/dev/null; then
    bench_skip docker "docker CLI not installed (apt-get install docker.io)"
    return 1
  fi
  if command -v dockerd >/dev/null; then
    # A private daemon: own data root, exec root and socket; no iptables or bridge changes.
    local d=$BENCH_WORK/docker
    mkdir -p "$d/data" "$d/exec"
    dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \
      --host "unix://$d/docker.sock" --bridge none --iptables=false --ip6tables=false \
      >"$d/dockerd.log" 2>&1 &
    BENCH_DOCKERD_PID=$!
    DOCKER=(docker --host "unix://$d/docker.sock")
    local _
    for _ in $(seq 1 300); do
      "${DOCKER[@]}" info >/dev/null 2>&1 && break
      if ! kill -0 "$BENCH_DOCKERD_PID" 2>/dev/null; then
        break
      fi
      sleep 0.1
    done
    if ! "${DOCKER[@]}" info >/dev/null 2>&1; then
      DOCKER=()
      bench_skip docker "dockerd did not start: $(tail -n 3 "$d/dockerd.log" | tr '\n' ' ')"
      return 1
    fi
    bench_note "docker: private dockerd $("${DOCKER[@]}" version --format '{{.Server.Version}}')"
    return 0
  fi
  bench_skip docker "dockerd not installed (apt-get install docker.io); the docker CLI alone cannot load images"
  return 1
}

bench_start_podman() {
  if [[ ${BENCH_INSTALL:-0} == 1 ]] && ! command -v podman >/dev/null; then
    apt-get install -y podman >&2 || true
  fi
  if ! command -v podman >/dev/null; then
    bench_skip podman "not installed (apt-get install podman)"
    return 1
  fi
  local d=$BENCH_WORK/podman
  mkdir -p "$d/root" "$d/run"
  PODMAN=(podman --root "$d/root" --runroot "$d/run")
  if ! "${PODMAN[@]}" info >/dev/null 2>"$d/info.err"; then
    PODMAN=()
    bench_skip podman "podman info failed: $(head -n 2 "$d/info.err" | tr '\n' ' ')"
    return 1
  fi
  bench_note "podman: $(podman --version), private storage"
}

# bench_quote WORD...: the words as one shell-quoted command line.
bench_quote() {
  local out='' w
  for w in "$@"; do
    out+="${out:+ }$(printf '%q' "$w")"
  done
  echo "$out"
}

# bench_hyperfine ID TITLE [HYPERFINE ARGS...] -- runs hyperfine, exporting
# $BENCH_RESULTS/ID.json, and appends a markdown section to $BENCH_RESULTS/report.md.
# The first benchmarked command is berth's: ratios are relative to it.
bench_hyperfine() {
  local id=$1 title=$2
  shift 2
  local json=$BENCH_RESULTS/$id.json
  echo "== $title" >&2
  hyperfine --export-json "$json" "$@" >&2
  bench_markdown "$json" "$title" "$@" >>"$BENCH_RESULTS/report.md"
}

# bench_markdown JSON TITLE [HYPERFINE ARGS...]: a markdown section for one hyperfine run:
# the exact commands (with their --prepare), mean ± σ, median, min, max and the ratio to berth.
bench_markdown() {
  local json=$1 title=$2
  shift 2
  local -a prepares=()
  local a
  while [[ $# -gt 0 ]]; do
    a=$1
    shift
    case $a in
      -p | --prepare) prepares+=("$1"); shift ;;
      --prepare=*) prepares+=("${a#--prepare=}") ;;
    esac
  done
  printf '### %s\n\n' "$title"
  printf 'hyperfine %s; times in milliseconds; ratio = mean / mean of berth (row 1).\n\n' \
    "$(hyperfine --version | cut -d' ' -f2)"
  printf '| # | Command | Mean ± σ (ms) | Median (ms) | Min (ms) | Max (ms) | Ratio |\n'
  printf '|---|---|---|---|---|---|---|\n'
  jq -r '
    def ms: . * 100000 | round / 100;
    (.results[0].mean) as $base |
    .results | to_entries[] | .value as $r |
    "| \(.key + 1) | `\($r.command | gsub("\\|"; "\\|"))` | \($r.mean | ms) ± \($r.stddev // 0 | ms) | \($r.median | ms) | \($r.min | ms) | \($r.max | ms) | \($r.mean / $base * 100 | round / 100) |"
  ' "$json"
  if [[ ${#prepares[@]} -gt 0 ]]; then
    printf '\nPrepare, before each run (same order as the commands when there are several):\n\n'
    for a in "${prepares[@]}"; do
      printf -- '- `%s`\n' "$a"
    done
  fi
  local s
  if [[ ${#BENCH_SKIPPED[@]} -gt 0 ]]; then
    printf '\nPeers skipped:\n\n'
    for s in "${BENCH_SKIPPED[@]}"; do
      printf -- '- %s\n' "$s"
    done
  fi
  printf '\n'
}
