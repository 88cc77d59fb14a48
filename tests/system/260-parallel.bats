#!/usr/bin/env bats
# Concurrency: F1, F3, F4.

load helpers

setup() {
  berth_setup
  load_busybox
}

@test "F1: 20 parallel run --rm" {
  local i pids=()
  for i in $(seq 20); do
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --rm busybox true &
    pids+=($!)
  done
  local fails=0
  for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
  [[ $fails -eq 0 ]]
  run_berth ps -aq
  assert_output ""
}

@test "F3: rm -f racing run, kill racing stop" {
  local i
  for i in $(seq 5); do
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run -d --name r$i busybox sleep 1000 >/dev/null
  done
  for i in $(seq 5); do
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" stop -t 1 r$i >/dev/null 2>&1 &
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" kill r$i >/dev/null 2>&1 &
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" rm -f r$i >/dev/null 2>&1 &
  done
  wait
  run_berth ps -aq
  assert_output ""
  # Nothing of the containers is left; the network lock and the realized-bridge markers stay.
  [[ -z $(ls "$TEST_RUNROOT" | grep -v -x -e network.lock -e networks) ]]
}

@test "F4: 20 racing --name same: exactly one wins" {
  local i pids=()
  for i in $(seq 20); do
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" create --name same busybox true \
      >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
    pids+=($!)
  done
  local ok=0
  for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
  [[ $ok -eq 1 ]]
  [[ $(grep -l "is already in use" "$BATS_TEST_TMPDIR"/out.* | wc -l) -eq 19 ]]
  run_berth ps -a --format '{{.Names}}'
  assert_output "same"
}
