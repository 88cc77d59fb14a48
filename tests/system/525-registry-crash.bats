#!/usr/bin/env bats
# E1: kill -9 of berth pull at several points (the fault server throttles a 16 MiB layer so a
# pull lasts a few seconds) -> the next command works, the image is fully there or absent, no
# files left in $root/tmp after the next command, the re-pull completes.
# F2: ten parallel pulls of two images sharing layers -> all succeed, each layer downloaded once
# (counted by the fault server), every image removable.

load helpers
load ../registry/lib

setup() { reg_setup; }
teardown() { reg_teardown; }

# image_whole_or_absent REF: either inspect fails, or the image runs.
image_whole_or_absent() {
  if berth image inspect "$1" >/dev/null 2>&1; then
    run_berth run --rm "$1" testhelper echo whole
    assert_output "whole"
  fi
}

@test "E1: kill -9 during pull at several points; next command consistent; re-pull completes" {
  start_faultserver none --big 16 --rate 5000000
  local ref=$FAULT/x/img:latest t pid
  for t in 0.2 0.7 1.5 2.5 3.3 3.6 3.9 4.5; do
    berth rmi -f "$ref" >/dev/null 2>&1 || true
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" pull "$ref" >"$BATS_TEST_TMPDIR/pull.out" 2>&1 &
    pid=$!
    sleep "$t"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    run_berth images --format '{{.Repository}}:{{.Tag}}'
    assert_success
    [[ -z $output || $output == "$ref" ]] || fail "unexpected images after kill at $t s"
    store_tmp_empty || fail "after the kill at $t s"
    image_whole_or_absent "$ref"
  done
  run_berth pull "$ref"
  assert_success
  run_berth run --rm "$ref" sh -c 'wc -c < /big.bin'
  assert_output "$((16 * 1024 * 1024))"
  store_tmp_empty
  run_berth rmi "$ref"
  assert_success
  run_berth images -q
  assert_output ""
}

@test "E1: a killed pull does not block a second pull of the same image" {
  start_faultserver none --big 16 --rate 8000000
  local ref=$FAULT/x/img:latest pid
  "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" pull "$ref" >/dev/null 2>&1 &
  pid=$!
  sleep 1
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  run_berth pull "$ref"
  assert_success
  assert_line "Status: Downloaded newer image for $ref"
  store_tmp_empty
}

@test "F2: ten parallel pulls of two images sharing layers fetch each layer once" {
  start_faultserver none --blob-delay 0.5
  local i ref pids=() rc=0
  for i in 0 1 2 3 4 5 6 7 8 9; do
    if ((i % 2)); then ref=$FAULT/x/b:b; else ref=$FAULT/x/a:latest; fi
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" pull "$ref" \
      >"$BATS_TEST_TMPDIR/pull.$i" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      echo "-- pull $i failed:" >&2
      cat "$BATS_TEST_TMPDIR/pull.$i" >&2
      rc=1
    fi
  done
  [[ $rc -eq 0 ]] || fail "a parallel pull failed"
  local d n
  for d in $(fault_info layers | tr -d "[]',") $(fault_info extra_layer); do
    n=$(fault_blob_gets "$d")
    [[ $n -eq 1 ]] || fail "layer $d fetched $n times"
  done
  run_berth images --format '{{.Repository}}:{{.Tag}}'
  assert_line "$FAULT/x/a:latest"
  assert_line "$FAULT/x/b:b"
  run_berth run --rm "$FAULT/x/b:b" cat /extra.txt
  assert_output "image b"
  store_tmp_empty
  run_berth rmi "$FAULT/x/a:latest" "$FAULT/x/b:b"
  assert_success
  run_berth images -q
  assert_output ""
  local left
  left=$(find "$TEST_ROOT/layers" -mindepth 1 -maxdepth 1 2>/dev/null | head)
  [[ -z $left ]] || fail "layers left after rmi:" "$left"
}
