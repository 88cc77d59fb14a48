#!/usr/bin/env bats
# berth load: docker-archive (Docker 25+ and legacy layouts), OCI archives, compression, stdin.

load helpers

# image_hex ARCHIVE [N]: the image ID of a docker-archive's Nth image, without "sha256:"
image_hex() { local i; i=$(la_image_id "$@") && echo "${i#sha256:}"; }

# layer_dirs: number of unpacked layers in the test's store
layer_dirs() { find "$TEST_ROOT/layers" -mindepth 1 -maxdepth 1 -type d | wc -l; }

@test "load a docker-archive: Loaded image line, image listed, layer unpacked" {
  run_berth load -i "$FIXTURES/busybox.tar"
  assert_success
  assert_output "Loaded image: busybox:latest"
  run_berth images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_success
  local id
  id=$(image_hex "$FIXTURES/busybox.tar")
  assert_output "busybox:latest ${id:0:12}"
  [ "$(layer_dirs)" -eq 1 ]
  # the layer holds the real files with their modes
  local diff
  diff=$(find "$TEST_ROOT/layers" -mindepth 2 -maxdepth 2 -name diff)
  [ -x "$diff/bin/busybox" ]
  [ -L "$diff/bin/sh" ]
  [ -x "$diff/usr/bin/testhelper" ]
  [ "$(stat -c %a "$diff/tmp")" = 1777 ]
}

@test "load -q prints only the Loaded lines; stdin works" {
  run_berth load -q <"$FIXTURES/busybox.tar"
  assert_success
  assert_output "Loaded image: busybox:latest"
}

@test "load from a terminal-less empty stdin fails clearly" {
  run_berth load </dev/null
  assert_failure 1
  assert_output_contains "Error:"
}

@test "compressed archives and compressed layers load to the same image" {
  local id
  id=$(image_hex "$FIXTURES/busybox.tar")
  for f in busybox.tar.gz busybox.tar.xz busybox.tar.zst busybox.tar.bz2 busybox-gz.tar; do
    run_berth load -i "$FIXTURES/$f"
    assert_success
    assert_output_contains "Loaded image: busybox:latest"
    run_berth image inspect -f '{{.Id}}' busybox
    assert_output "sha256:$id"
  done
}

@test "multi-layer image with two tags, whiteouts and an opaque dir" {
  load_busybox
  run_berth -D load -i "$FIXTURES/multi.tar"
  assert_success
  assert_line "Loaded image: multi:latest"
  assert_line "Loaded image: multi:v2"
  # the busybox layer is already stored: verified by its digest, not unpacked again
  assert_output_contains "is already stored: verified, not unpacked again"
  run_berth image inspect -f '{{len .RootFS.Layers}} {{index .Config.Labels "org.berth.test"}}' multi:v2
  assert_output "3 multi"
  # the busybox layer is shared, not unpacked twice
  [ "$(layer_dirs)" -eq 3 ]
  # layer 3 holds an overlay whiteout for /etc/multi.txt and an opaque /data
  local l3
  l3=$(berth image inspect -f '{{index .RootFS.Layers 2}}' multi)
  l3=$TEST_ROOT/layers/${l3#sha256:}/diff
  [ -c "$l3/etc/multi.txt" ]
  [ "$(stat -c '%t:%T' "$l3/etc/multi.txt")" = "0:0" ]
  [ ! -e "$l3/etc/.wh.multi.txt" ]
  [ "$(getfattr --only-values -n trusted.overlay.opaque "$l3/data" 2>/dev/null)" = y ]
  [ -f "$l3/data/new" ]
}

@test "OCI archive written by skopeo loads" {
  run_berth load -i "$FIXTURES/busybox-oci.tar"
  assert_success
  assert_output "Loaded image: busybox:latest"
  # skopeo rewrites the config (new image ID) but the layer is the same bytes: same diff_id
  local want
  want=$(tar -xOf "$FIXTURES/busybox.tar" manifest.json | jq -r '.[0].Config' | xargs -I{} tar -xOf "$FIXTURES/busybox.tar" {} | jq -c .rootfs.diff_ids)
  run_berth image inspect -f '{{json .RootFS.Layers}}' busybox
  assert_output "$want"
}

@test "legacy (pre-Docker-25) archive with a symlinked duplicate layer" {
  run_berth load -i "$FIXTURES/legacy.tar"
  assert_success
  assert_line "Loaded image: legacy:a"
  assert_line "Loaded image: legacy:b"
  [ "$(layer_dirs)" -eq 1 ]
  run_berth images --format '{{.Repository}}:{{.Tag}}' legacy
  assert_success
  assert_line "legacy:a"
  assert_line "legacy:b"
}

@test "loading the same archive twice is idempotent" {
  load_busybox
  run_berth load -i "$FIXTURES/busybox.tar"
  assert_success
  assert_output "Loaded image: busybox:latest"
  run_berth images -q
  [ "${#lines[@]}" -eq 1 ]
  [ "$(layer_dirs)" -eq 1 ]
  [ -z "$(ls -A "$TEST_ROOT/tmp")" ]
}

@test "a tag moving to a new image leaves the old one dangling, as docker does" {
  load_busybox
  local old
  old=$(image_hex "$FIXTURES/busybox.tar")
  # a different image tagged busybox:latest
  mkdir -p "$BATS_TEST_TMPDIR/l"
  echo other >"$BATS_TEST_TMPDIR/l/other.txt"
  la_tar_dir "$BATS_TEST_TMPDIR/l" "$BATS_TEST_TMPDIR/l.tar"
  mkarchive "$BATS_TEST_TMPDIR/other.tar" busybox:latest "$BATS_TEST_TMPDIR/l.tar"
  run_berth load -i "$BATS_TEST_TMPDIR/other.tar"
  assert_success
  assert_line "The image busybox:latest already exists, renaming the old one with ID sha256:$old to empty string"
  assert_line "Loaded image: busybox:latest"
  run_berth images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_line "<none>:<none> ${old:0:12}"
}

@test "an untagged image prints Loaded image ID" {
  mkdir -p "$BATS_TEST_TMPDIR/l"
  echo x >"$BATS_TEST_TMPDIR/l/x"
  la_tar_dir "$BATS_TEST_TMPDIR/l" "$BATS_TEST_TMPDIR/l.tar"
  mkarchive "$BATS_TEST_TMPDIR/untagged.tar" "" "$BATS_TEST_TMPDIR/l.tar"
  run_berth load -i "$BATS_TEST_TMPDIR/untagged.tar"
  assert_success
  assert_output "Loaded image ID: sha256:$(image_hex "$BATS_TEST_TMPDIR/untagged.tar")"
  run_berth images --format '{{.Repository}} {{.Tag}}'
  assert_output "<none> <none>"
}
