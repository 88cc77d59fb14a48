#!/usr/bin/env bats
# Hostile layers through `berth load` (security-reliability.md A1–A9): rejected or contained,
# nothing written outside the store, nothing half-stored.

load helpers

# hostile NAME: write $BATS_TEST_TMPDIR/NAME.tar, a layer made by tests/fixtures/hostile-layer.py
hostile() {
  python3 "$BERTH_REPO/tests/fixtures/hostile-layer.py" "$1" "$BATS_TEST_TMPDIR/$1.tar" "$SENTINEL"
  mkarchive "$BATS_TEST_TMPDIR/$1-img.tar" "evil:$1" "$BATS_TEST_TMPDIR/$1.tar"
}

setup() {
  berth_setup
  require_tool python3
  SENTINEL=$BATS_TEST_TMPDIR/host
  mkdir -p "$SENTINEL/etc"
  echo "host secret" >"$SENTINEL/etc/passwd"
  chmod 600 "$SENTINEL/etc/passwd"
  SENTINEL_SUM=$(find "$SENTINEL" -printf '%p %m %s\n' | sort | sha256sum)
}

teardown() {
  # the host side never changes, whatever the layer did
  assert_equal "$(find "$SENTINEL" -printf '%p %m %s\n' | sort | sha256sum)" "$SENTINEL_SUM"
  [ ! -e /tmp/berth-pwned ]
  berth_teardown
}

top_layer() {
  local l
  l=$(berth image inspect -f '{{index .RootFS.Layers 0}}' "$1")
  echo "$TEST_ROOT/layers/${l#sha256:}/diff"
}

assert_nothing_stored() {
  run_berth images -q
  assert_output ""
  [ -z "$(ls -A "$TEST_ROOT/layers")" ]
  [ -z "$(ls -A "$TEST_ROOT/blobs/sha256")" ]
}

@test "A1: names climbing out of the root are rejected" {
  for n in dotdot dotdot-only slash-dotdot nested-dotdot; do
    hostile "$n"
    run_berth -1 load -i "$BATS_TEST_TMPDIR/$n-img.tar"
    assert_output_contains "invalid path"
  done
  assert_nothing_stored
}

@test "A2: writes through an absolute symlink land inside the layer" {
  hostile symlink-abs
  run_berth load -i "$BATS_TEST_TMPDIR/symlink-abs-img.tar"
  assert_success
  local d
  d=$(top_layer evil:symlink-abs)
  [ -L "$d/etc" ]
  [ -f "$d$SENTINEL/etc/evil" ]
  [ ! -e "$SENTINEL/etc/evil" ]
}

@test "A3: a symlink to / replaced by a directory never writes the host" {
  hostile symlink-override
  run_berth load -i "$BATS_TEST_TMPDIR/symlink-override-img.tar"
  [ ! -e /tmp/berth-pwned ]
  if [ "$status" -eq 0 ]; then
    local d
    d=$(top_layer evil:symlink-override)
    [ "$(cat "$d/foo/tmp/berth-pwned")" = third ]
  fi
}

@test "A4/A5: hardlinks to host files are refused or stay inside" {
  for n in hardlink-abs hardlink-dotdot hardlink-via-symlink hardlink-symlink-chmod; do
    hostile "$n"
    run_berth load -i "$BATS_TEST_TMPDIR/$n-img.tar"
    if [ "$status" -eq 0 ]; then
      local d f
      d=$(top_layer "evil:$n")
      for f in $(find "$d" -type f); do
        [ "$(stat -c %d:%i "$f")" != "$(stat -c %d:%i "$SENTINEL/etc/passwd")" ]
      done
    fi
  done
  [ "$(stat -c %a "$SENTINEL/etc/passwd")" = 600 ]
}

@test "A6: invalid whiteouts are rejected" {
  for n in wh-empty wh-dot wh-dotdot wh-dir-dot; do
    hostile "$n"
    run_berth -1 load -i "$BATS_TEST_TMPDIR/$n-img.tar"
    assert_output_contains "invalid whiteout"
  done
  assert_nothing_stored
}

@test "A7: whiteout through a symlink removes only the link; opaque after files keeps them" {
  hostile wh-symlink
  run_berth load -i "$BATS_TEST_TMPDIR/wh-symlink-img.tar"
  assert_success
  local d
  d=$(top_layer evil:wh-symlink)
  [ -c "$d/lnk" ]
  [ -f "$d/dir/kept" ]
  [ "$(getfattr --only-values -n trusted.overlay.opaque "$d/dir" 2>/dev/null)" = y ]
}

@test "A8: a decompression bomb fails fast against max-layer-size" {
  hostile bomb
  echo '{"max-layer-size": "16m"}' >"$BATS_TEST_TMPDIR/berth.json"
  local start=$SECONDS
  run timeout 60 "$BERTH" --config "$BATS_TEST_TMPDIR/berth.json" --root "$TEST_ROOT" \
    --runroot "$TEST_RUNROOT" load -i "$BATS_TEST_TMPDIR/bomb-img.tar"
  assert_failure 1
  assert_output_contains "maximum size"
  [ $((SECONDS - start)) -lt 30 ]
  assert_nothing_stored
  [ -z "$(ls -A "$TEST_ROOT/tmp")" ]
  # the store still works
  load_busybox
}

@test "A9: a 5000-char name and duplicate paths changing type end cleanly" {
  hostile longname
  run_berth load -i "$BATS_TEST_TMPDIR/longname-img.tar"
  [ "$status" -eq 0 ] || [ "$status" -eq 1 ]
  hostile dup-types
  run_berth load -i "$BATS_TEST_TMPDIR/dup-types-img.tar"
  assert_success
  local d
  d=$(top_layer evil:dup-types)
  [ -L "$d/x" ]
}
