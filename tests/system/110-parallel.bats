#!/usr/bin/env bats
# Many berth processes at once on one store (catalog F2 for load).

load helpers

@test "ten parallel loads of images sharing layers all succeed; each layer stored once" {
  local w=$BATS_TEST_TMPDIR/w i
  mkdir -p "$w"
  tar -xOf "$FIXTURES/busybox.tar" "$(tar -xOf "$FIXTURES/busybox.tar" manifest.json | jq -r '.[0].Layers[0]')" >"$w/bb.tar"
  mkdir -p "$w/shared"
  head -c $((4 << 20)) /dev/urandom >"$w/shared/blob"
  la_tar_dir "$w/shared" "$w/shared.tar"
  for i in $(seq 1 10); do
    mkdir -p "$w/own$i"
    echo "image $i" >"$w/own$i/id"
    la_tar_dir "$w/own$i" "$w/own$i.tar"
    mkarchive "$w/img$i.tar" "par:$i" "$w/bb.tar" "$w/shared.tar" "$w/own$i.tar"
  done
  local pids=() rc=0
  for i in $(seq 1 10); do
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" load -i "$w/img$i.tar" >"$w/out$i" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { rc=1; cat "$w/out$((i + 1))"; }
  done
  [ "$rc" -eq 0 ]
  for i in $(seq 1 10); do
    grep -qx "Loaded image: par:$i" "$w/out$i"
  done
  run_berth images -q
  [ "${#lines[@]}" -eq 10 ]
  # 1 busybox + 1 shared + 10 own layers, each unpacked once
  [ "$(find "$TEST_ROOT/layers" -mindepth 1 -maxdepth 1 | wc -l)" -eq 12 ]
  [ -z "$(ls -A "$TEST_ROOT/tmp")" ]
  # and all of them can be removed again, in parallel too
  pids=()
  for i in $(seq 1 10); do
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" rmi "par:$i" >/dev/null 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  [ -z "$(ls -A "$TEST_ROOT/layers")" ]
  run_berth images -q
  assert_output ""
}
