#!/usr/bin/env bats
# berth save: docker-archive and OCI archive; interop with skopeo and umoci both ways.

load helpers

image_hex() { local i; i=$(la_image_id "$@") && echo "${i#sha256:}"; }

setup() {
  berth_setup
  load_busybox
  load_fixture multi.tar
}

@test "save -o then load into an empty store gives the same image IDs and layers" {
  run_berth save -o "$BATS_TEST_TMPDIR/out.tar" busybox multi:latest multi:v2
  assert_success
  tar -tf "$BATS_TEST_TMPDIR/out.tar" | grep -qx manifest.json
  tar -tf "$BATS_TEST_TMPDIR/out.tar" | grep -qx index.json
  tar -tf "$BATS_TEST_TMPDIR/out.tar" | grep -qx oci-layout
  local before after
  before=$(berth image inspect -f '{{.Id}} {{.RootFS.Layers}}' busybox multi)
  TEST_ROOT=$BATS_TEST_TMPDIR/root2
  run_berth load -i "$BATS_TEST_TMPDIR/out.tar"
  assert_success
  assert_line "Loaded image: busybox:latest"
  assert_line "Loaded image: multi:latest"
  assert_line "Loaded image: multi:v2"
  after=$(berth image inspect -f '{{.Id}} {{.RootFS.Layers}}' busybox multi)
  assert_equal "$after" "$before"
}

@test "save to stdout; refuses a terminal; by ID saves no tags" {
  run bash -c "'$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' save busybox | tar -t | grep -c blobs/sha256/"
  assert_success
  [ "$output" -ge 3 ]
  local id
  id=$(image_hex "$FIXTURES/busybox.tar")
  run_berth save -o "$BATS_TEST_TMPDIR/byid.tar" "${id:0:12}"
  assert_success
  run jq -c '.[0].RepoTags' <(tar -xOf "$BATS_TEST_TMPDIR/byid.tar" manifest.json)
  assert_output "[]"
  run_berth -1 save -o "$BATS_TEST_TMPDIR/x.tar" nope
  assert_output "Error: No such image: nope"
  [ ! -e "$BATS_TEST_TMPDIR/x.tar" ]
  [ -z "$(ls "$BATS_TEST_TMPDIR" | grep berth-)" ]
}

@test "skopeo reads berth's docker-archive and oci-archive with the same diff_ids" {
  require_tool skopeo jq
  run_berth save -o "$BATS_TEST_TMPDIR/d.tar" multi:latest
  assert_success
  run skopeo inspect --raw "docker-archive:$BATS_TEST_TMPDIR/d.tar"
  assert_success
  run skopeo inspect --config "docker-archive:$BATS_TEST_TMPDIR/d.tar"
  assert_success
  local want
  want=$(berth image inspect -f '{{json .RootFS.Layers}}' multi)
  assert_equal "$(echo "$output" | jq -c .rootfs.diff_ids)" "$want"
  run_berth save --format oci-archive -o "$BATS_TEST_TMPDIR/o.tar" multi:latest
  assert_success
  ! tar -tf "$BATS_TEST_TMPDIR/o.tar" | grep -qx manifest.json
  run skopeo inspect --config "oci-archive:$BATS_TEST_TMPDIR/o.tar"
  assert_success
  assert_equal "$(echo "$output" | jq -c .rootfs.diff_ids)" "$want"
  # skopeo copies it on, and berth loads skopeo's output back: same image
  run skopeo copy "oci-archive:$BATS_TEST_TMPDIR/o.tar" "docker-archive:$BATS_TEST_TMPDIR/back.tar:back:1"
  assert_success
  TEST_ROOT=$BATS_TEST_TMPDIR/root3
  run_berth load -i "$BATS_TEST_TMPDIR/back.tar"
  assert_success
  assert_output "Loaded image: back:1"
  run_berth image inspect -f '{{json .RootFS.Layers}}' back:1
  assert_output "$want"
}

@test "umoci unpacks berth's OCI layout with whiteouts applied" {
  require_tool umoci
  run_berth save --format oci-archive -o "$BATS_TEST_TMPDIR/o.tar" multi:latest
  assert_success
  mkdir "$BATS_TEST_TMPDIR/layout"
  tar -xf "$BATS_TEST_TMPDIR/o.tar" -C "$BATS_TEST_TMPDIR/layout"
  run umoci unpack --image "$BATS_TEST_TMPDIR/layout:latest" "$BATS_TEST_TMPDIR/bundle"
  assert_success
  [ -x "$BATS_TEST_TMPDIR/bundle/rootfs/bin/busybox" ]
  [ ! -e "$BATS_TEST_TMPDIR/bundle/rootfs/etc/multi.txt" ]
  [ -f "$BATS_TEST_TMPDIR/bundle/rootfs/data/new" ]
  [ ! -e "$BATS_TEST_TMPDIR/bundle/rootfs/data/a" ]
}

@test "an image umoci builds loads in berth" {
  require_tool umoci skopeo
  local lay=$BATS_TEST_TMPDIR/ulayout
  umoci init --layout "$lay"
  umoci new --image "$lay:u1"
  umoci unpack --image "$lay:u1" "$BATS_TEST_TMPDIR/b"
  echo "made by umoci" >"$BATS_TEST_TMPDIR/b/rootfs/hello.txt"
  umoci repack --image "$lay:u1" "$BATS_TEST_TMPDIR/b"
  umoci config --image "$lay:u1" --config.cmd /hello
  skopeo copy "oci:$lay:u1" "oci-archive:$BATS_TEST_TMPDIR/u.tar:umoci/u1:1"
  run_berth load -i "$BATS_TEST_TMPDIR/u.tar"
  assert_success
  assert_output_contains "Loaded image"
  run_berth images --format '{{.Repository}}:{{.Tag}}'
  assert_line --partial "umoci/u1"
}
