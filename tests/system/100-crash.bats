#!/usr/bin/env bats
# kill -9 of `berth load` at random points (catalog E1 for load): the next command finds a
# consistent store — the image absent or complete, nothing unreferenced left — and a second
# load succeeds.

load helpers

# referenced_layers: layer dirs the images reference (one line each, hex)
referenced_layers() {
  local id
  for id in $(berth images -q --no-trunc); do
    berth image inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' "$id"
  done | sed -n 's/^sha256://p' | sort -u
}

@test "kill -9 during load leaves either nothing or a complete image" {
  # a 3-layer image big enough for load to take a while: busybox + 2 x 24 MiB random files
  local w=$BATS_TEST_TMPDIR/w i
  for i in 1 2; do
    mkdir -p "$w/l$i"
    head -c $((24 << 20)) /dev/urandom >"$w/l$i/blob$i"
    for n in $(seq 1 300); do echo "$i $n" >"$w/l$i/small-$n"; done
    la_tar_dir "$w/l$i" "$w/l$i.tar"
  done
  tar -xOf "$FIXTURES/busybox.tar" "$(tar -xOf "$FIXTURES/busybox.tar" manifest.json | jq -r '.[0].Layers[0]')" >"$w/bb.tar"
  mkarchive "$w/big.tar" big:1 "$w/bb.tar" "$w/l1.tar" "$w/l2.tar"
  # how long does a load take here?
  local t0 t1 dur
  t0=$(date +%s%N)
  berth load -i "$w/big.tar" >/dev/null
  t1=$(date +%s%N)
  dur=$(((t1 - t0) / 1000000))
  berth rmi big:1 >/dev/null
  echo "# one load: ${dur} ms" >&3
  local complete=0 absent=0
  for i in $(seq 1 12); do
    local delay=$((RANDOM % (dur * 3 / 2 + 20)))
    "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" load -i "$w/big.tar" >/dev/null 2>&1 &
    local pid=$!
    sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # the next command works and sees a consistent store
    run_berth images --format '{{.Repository}}:{{.Tag}}'
    assert_success
    if [[ $output == *big:1* ]]; then
      complete=$((complete + 1))
      run_berth image inspect -f '{{len .RootFS.Layers}}' big:1
      assert_output 3
      local l
      for l in $(referenced_layers); do
        [ -d "$TEST_ROOT/layers/$l/diff" ]
      done
      berth rmi big:1 >/dev/null
    else
      absent=$((absent + 1))
    fi
    # nothing unreferenced survives the next command's recovery
    berth images >/dev/null
    [ "$(find "$TEST_ROOT/layers" -mindepth 1 -maxdepth 1 | wc -l)" -eq "$(referenced_layers | wc -l)" ]
    [ -z "$(ls -A "$TEST_ROOT/tmp")" ]
  done
  echo "# after kill -9: $complete complete, $absent absent" >&3
  run_berth load -i "$w/big.tar"
  assert_success
  assert_output "Loaded image: big:1"
  run_berth image inspect -f '{{len .RootFS.Layers}}' big:1
  assert_output 3
}
