#!/usr/bin/env bats
# berth image prune and system df.

load helpers

@test "image prune removes dangling images only; -a removes all unused" {
  load_busybox
  load_fixture multi.tar
  berth tag multi:latest keep:1
  berth rmi multi:latest multi:v2 >/dev/null
  # make a dangling image: move busybox:latest to another image
  mkdir -p "$BATS_TEST_TMPDIR/l" && echo x >"$BATS_TEST_TMPDIR/l/x"
  la_tar_dir "$BATS_TEST_TMPDIR/l" "$BATS_TEST_TMPDIR/l.tar"
  mkarchive "$BATS_TEST_TMPDIR/new.tar" busybox:latest "$BATS_TEST_TMPDIR/l.tar"
  berth load -i "$BATS_TEST_TMPDIR/new.tar" >/dev/null
  run_berth images -q --filter dangling=true
  [ "${#lines[@]}" -eq 1 ]
  local dangling=${lines[0]}
  run_berth image prune -f
  assert_success
  assert_line "Deleted Images:"
  assert_line --partial "deleted: sha256:$dangling"
  assert_output_matches 'Total reclaimed space: [0-9.]+[kMG]?B'
  run_berth images --format '{{.Repository}}:{{.Tag}}'
  assert_line "keep:1"
  assert_line "busybox:latest"
  run_berth image prune -a -f
  assert_success
  assert_line "untagged: keep:1"
  run_berth images -q
  assert_output ""
  [ -z "$(ls -A "$TEST_ROOT/layers")" ]
}

@test "image prune asks first and does nothing on no" {
  load_busybox
  run bash -c "echo n | '$BERTH' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' image prune -a"
  assert_success
  assert_output_contains "WARNING! This will remove all images without at least one container associated to them."
  run_berth images -q
  [ "${#lines[@]}" -eq 1 ]
}

@test "system df shows image totals" {
  run_berth system df
  assert_success
  assert_output_matches '^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE'
  assert_output_matches 'Images +0 +0 +0B +0B'
  load_busybox
  run_berth system df --format '{{.Type}} {{.TotalCount}}'
  assert_line "Images 1"
  assert_line "Containers 0"
  assert_line "Local Volumes 0"
  assert_line "Build Cache 0"
  run_berth system df -v
  assert_success
  assert_output_contains "busybox"
}
