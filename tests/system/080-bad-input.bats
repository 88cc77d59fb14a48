#!/usr/bin/env bats
# Bad archives get a clear error, a non-zero exit and an unchanged store.

load helpers

# store_state: everything a user (or a later command) could see of the store
store_state() {
  berth images -a --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort
  (cd "$TEST_ROOT" && find layers blobs -maxdepth 2 | sort)
  ls -A "$TEST_ROOT/tmp"
}

setup() {
  berth_setup
  load_busybox
  BEFORE=$(store_state)
  W=$BATS_TEST_TMPDIR/work
  mkdir -p "$W"
  tar -xf "$FIXTURES/busybox.tar" -C "$W"
}

# rewrap OUT: tar the (modified) extracted archive back up
rewrap() { tar -C "$W" -cf "$1" .; }

assert_store_unchanged() {
  local after
  after=$(store_state)
  assert_equal "$after" "$BEFORE"
}

@test "truncated archive" {
  local size
  size=$(stat -c %s "$FIXTURES/busybox.tar")
  head -c $((size / 2)) "$FIXTURES/busybox.tar" >"$BATS_TEST_TMPDIR/t.tar"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/t.tar"
  assert_output_contains "Error:"
  assert_store_unchanged
}

@test "not an archive, empty input" {
  head -c 100000 /dev/urandom >"$BATS_TEST_TMPDIR/r"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/r"
  assert_output_contains "invalid archive"
  : >"$BATS_TEST_TMPDIR/e"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/e"
  assert_output_contains "Error:"
  tar -cf "$BATS_TEST_TMPDIR/nomanifest.tar" -C "$FIXTURES" busybox.tar
  run_berth -1 load -i "$BATS_TEST_TMPDIR/nomanifest.tar"
  assert_output_contains "neither manifest.json nor index.json"
  assert_store_unchanged
}

@test "a corrupted layer blob fails verification" {
  local layer
  layer=$(jq -r '.[0].Layers[0]' "$W/manifest.json")
  # flip one byte in the middle of the layer
  printf 'X' | dd of="$W/$layer" bs=1 seek=20000 conv=notrunc status=none
  rm -f "$W/index.json" "$W/oci-layout"
  rewrap "$BATS_TEST_TMPDIR/c.tar"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/c.tar"
  assert_output_contains "verification failed"
  assert_store_unchanged
}

@test "diff_ids that do not match the layers, in value or count" {
  local cfg tmp
  cfg=$(jq -r '.[0].Config' "$W/manifest.json")
  tmp=$(jq -c --arg d "sha256:$(printf '%064d' 1)" '.rootfs.diff_ids = [$d]' "$W/$cfg")
  printf '%s' "$tmp" >"$W/new.json"
  jq -c '.[0].Config = "new.json"' "$W/manifest.json" >"$W/m" && mv "$W/m" "$W/manifest.json"
  rm -f "$W/index.json" "$W/oci-layout"
  rewrap "$BATS_TEST_TMPDIR/d.tar"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/d.tar"
  assert_output_contains "layers from manifest don't match image configuration"
  jq -c '.rootfs.diff_ids = []' "$W/$cfg" >"$W/new.json"
  rewrap "$BATS_TEST_TMPDIR/d2.tar"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/d2.tar"
  assert_output_contains "layers from manifest don't match image configuration"
  assert_store_unchanged
}

@test "a config whose name claims another digest" {
  local cfg
  cfg=$(jq -r '.[0].Config' "$W/manifest.json")
  jq -c '.config.Cmd = ["evil"]' "$W/$cfg" >"$W/x" && mv "$W/x" "$W/$cfg"
  rm -f "$W/index.json" "$W/oci-layout"
  rewrap "$BATS_TEST_TMPDIR/cfg.tar"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/cfg.tar"
  assert_output_contains "image config verification failed"
  assert_store_unchanged
}

@test "missing layer, missing config, bad manifest.json" {
  local layer
  layer=$(jq -r '.[0].Layers[0]' "$W/manifest.json")
  cp -a "$W" "$W.orig"
  rm -f "$W/$layer" "$W/index.json"
  rewrap "$BATS_TEST_TMPDIR/m1.tar"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/m1.tar"
  assert_output_contains "is missing"
  rm -rf "$W" && cp -a "$W.orig" "$W"
  echo '[{"Config": 5}]' >"$W/manifest.json"
  rewrap "$BATS_TEST_TMPDIR/m2.tar"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/m2.tar"
  assert_output_contains "lacks Config or Layers"
  echo '{not json' >"$W/manifest.json"
  rewrap "$BATS_TEST_TMPDIR/m3.tar"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/m3.tar"
  assert_output_contains "invalid JSON in manifest.json"
  assert_store_unchanged
}

@test "bad references in RepoTags are rejected" {
  for tag in Upper/Case "bad tag" "x@sha256:$(printf '%064d' 0)"; do
    tar -xOf "$FIXTURES/busybox.tar" manifest.json | jq -c --arg t "$tag" '.[0].RepoTags = [$t]' >"$W/manifest.json"
    rm -f "$W/index.json"
    rewrap "$BATS_TEST_TMPDIR/r.tar"
    run_berth -1 load -i "$BATS_TEST_TMPDIR/r.tar"
    assert_output_contains "invalid tag"
  done
  assert_store_unchanged
}

@test "OCI descriptors: wrong size, unsupported digest, ambiguous manifest" {
  rm -rf "$W" && mkdir -p "$W" && tar -xf "$FIXTURES/busybox-oci.tar" -C "$W"
  jq -c '.manifests[0].size += 1' "$W/index.json" >"$W/i" && mv "$W/i" "$W/index.json"
  rewrap "$BATS_TEST_TMPDIR/o1.tar"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/o1.tar"
  assert_output_contains "verification failed"
  jq -c '.manifests[0].size -= 1 | .manifests[0].digest = "md5:d41d8cd98f00b204e9800998ecf8427e"' "$W/index.json" >"$W/i" && mv "$W/i" "$W/index.json"
  rewrap "$BATS_TEST_TMPDIR/o2.tar"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/o2.tar"
  assert_output_contains "unsupported digest algorithm"
  jq -c '.manifests[0].digest = "sha256:../../../etc/passwd"' "$W/index.json" >"$W/i" && mv "$W/i" "$W/index.json"
  rewrap "$BATS_TEST_TMPDIR/o3.tar"
  run_berth -1 load -i "$BATS_TEST_TMPDIR/o3.tar"
  assert_output_contains "invalid digest"
  assert_store_unchanged
}
