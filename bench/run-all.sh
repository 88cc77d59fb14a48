#!/bin/bash
# bench/run-all.sh REPORT.md: run every bench/*.sh (not lib.sh, not this file) and append one
# markdown section to REPORT.md (e.g. docs/performance.md): date, kernel, CPU, versions, then
# each benchmark's exact commands with mean ± σ, median, min, max and the ratio to berth.
#
#   sudo bench/run-all.sh docs/performance.md
#   BENCH_ONLY="load" bench/run-all.sh out.md      only the named benchmarks
#
# Environment as in bench/lib.sh (BERTH, BENCH_TMPDIR, BENCH_PEERS, BENCH_INSTALL, ...).
set -euo pipefail

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  echo "usage: $0 REPORT.md" >&2
  exit 2
fi
REPORT=$1
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
BERTH=${BERTH:-$REPO/build/berth}
export BERTH

RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-results.XXXXXX")
trap 'rm -rf "$RESULTS"' EXIT

version_of() {
  local v
  if v=$("$@" 2>/dev/null | head -n 1) && [[ -n $v ]]; then
    echo "$v"
  else
    echo "not available"
  fi
}

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO" status --porcelain 2>/dev/null) ]]; then
  commit+=" (with uncommitted changes)"
fi

{
  printf '## Benchmark run %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf -- '- Machine: %s, %s CPUs, %s RAM; kernel %s\n' "${cpu:-unknown CPU}" "$(nproc)" "$mem" "$(uname -r)"
  printf -- '- berth: %s, commit %s\n' "$(version_of "$BERTH" --version)" "$commit"
  printf -- '- docker: %s; podman: %s; %s\n' "$(version_of docker --version)" \
    "$(version_of podman --version)" "$(version_of hyperfine --version)"
  printf -- '- Command: `%s`\n\n' "bench/run-all.sh $REPORT"
} >"$RESULTS/header.md"

failed=0
for script in "$BENCH_DIR"/*.sh; do
  name=$(basename "$script" .sh)
  case $name in lib | run-all) continue ;; esac
  if [[ -n ${BENCH_ONLY:-} && " $BENCH_ONLY " != *" $name "* ]]; then
    continue
  fi
  echo "=== bench/$name.sh" >&2
  mkdir -p "$RESULTS/$name"
  if BENCH_RESULTS=$RESULTS/$name bash "$script"; then
    :
  else
    rc=$?
    failed=1
    printf '### %s\n\nbench/%s.sh failed (exit %d); see its output.\n\n' "$name" "$name" "$rc" \
      >>"$RESULTS/$name/report.md"
  fi
done

{
  cat "$RESULTS/header.md"
  for f in "$RESULTS"/*/report.md; do
    [[ -f $f ]] && cat "$f"
  done
} >>"$REPORT"
echo "appended to $REPORT" >&2
exit $failed
