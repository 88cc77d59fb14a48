#!/bin/bash
# bench/load-settled.sh: single cold loads of the bench/load.sh archive on a settled filesystem,
# berth against docker, alternating, ROUNDS times (default 3).
#
# Why: bench/load.sh deletes the previous run's store before each run (hyperfine --prepare), and
# ext4 then spends much of the next load skipping recently freed inodes (ext4_create ->
# recently_deleted: inodes freed in the last 60 s are avoided), which swamps the engines' own
# costs and differs from one run to the next. Here every load starts after `sync` and SETTLE
# seconds (default 70) without deletions. It takes ROUNDS * 2 * SETTLE seconds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init load-settled
ROUNDS=${ROUNDS:-3}
SETTLE=${SETTLE:-70}
ARCHIVE=$BENCH_CACHE/load-300m-4layers.tar
[[ -f $ARCHIVE ]] || bench_die "run bench/load.sh first (it builds $ARCHIVE)"
bench_start_peers
ms() { echo $((($2 - $1) / 1000000)); }
REPORT=$BENCH_RESULTS/report.md
{
  printf '### load-settled: single cold loads after sync + %ss without deletions\n\n' "$SETTLE"
  printf '| round | berth (ms) | docker (ms) |\n|---|---|---|\n'
} >"$REPORT"
for ((r = 1; r <= ROUNDS; r++)); do
  sync
  sleep "$SETTLE"
  s=$(date +%s%N)
  "$BERTH" --root "$BENCH_WORK/root-$r" --runroot "$BENCH_WORK/run-$r" load -i "$ARCHIVE" >/dev/null
  e=$(date +%s%N)
  tb=$(ms "$s" "$e")
  echo "round $r: berth load $tb ms" >&2
  td="(skipped)"
  if [[ ${#DOCKER[@]} -gt 0 ]]; then
    sync
    sleep "$SETTLE"
    s=$(date +%s%N)
    "${DOCKER[@]}" load -i "$ARCHIVE" >/dev/null
    e=$(date +%s%N)
    td=$(ms "$s" "$e")
    echo "round $r: docker load $td ms" >&2
    "${DOCKER[@]}" rmi -f berth-bench/load:latest >/dev/null 2>&1 || true
  fi
  echo "| $r | $tb | $td |" >>"$REPORT"
done
echo >>"$REPORT"
cat "$REPORT"
