#!/usr/bin/env bats
# Volumes and mounts in containers: -v, --mount, --tmpfs, copy-up, in-use, anonymous volumes.

load helpers

setup() {
  berth_setup
  load_busybox
  load_fixture multi.tar
}

@test "bind mounts: files and directories, :ro, a missing host dir is created" {
  local d=$BATS_TEST_TMPDIR/host
  mkdir -p "$d"
  echo hi >"$d/f"
  run_berth run --rm -v "$d:/data" busybox cat /data/f
  assert_output "hi"
  run_berth run --rm -v "$d/f:/etc/f:ro" busybox sh -c 'cat /etc/f; echo x >/etc/f'
  assert_failure
  assert_output_contains "hi"
  assert_output_contains "Read-only file system"
  run_berth run --rm -v "$d/new/dir:/n" busybox sh -c 'echo w >/n/w'
  assert_success
  [[ $(cat "$d/new/dir/w") == w ]]
  run_berth run --rm --mount "type=bind,src=$d/nope,dst=/x" busybox true
  assert_failure
  assert_output_contains "bind source path does not exist"
}

@test "named volumes survive containers; copy-up from the image; in use cannot be removed" {
  run_berth run --rm -v vol1:/data multi ls /data
  assert_success
  assert_output "new"
  run_berth run --rm -v vol1:/data busybox sh -c 'echo kept >/data/k'
  run_berth run --rm -v vol1:/data busybox cat /data/k
  assert_output "kept"
  run_berth create --name user1 -v vol1:/data busybox true
  run_berth volume rm vol1
  assert_failure
  assert_output_contains "volume is in use"
  run_berth rm user1
  run_berth volume rm vol1
  assert_success
}

@test "anonymous volumes: -v /path, removed with rm -v and --rm" {
  run_berth create --name a1 -v /anon busybox true
  run_berth volume ls -q
  [[ ${#lines[@]} -eq 1 ]]
  run_berth rm -v a1
  run_berth volume ls -q
  assert_output ""
  run_berth run --rm -v /anon2 busybox true
  run_berth volume ls -q
  assert_output ""
}

@test "--tmpfs and --mount type=tmpfs" {
  run_berth run --rm --tmpfs /scratch:size=1m busybox sh -c 'df -k /scratch | tail -1'
  assert_output_contains "1024"
  run_berth run --rm --mount type=tmpfs,dst=/t,tmpfs-size=2m busybox sh -c 'df -k /t | tail -1'
  assert_output_contains "2048"
  run_berth run --rm --mount type=volume,src=v2,dst=/v busybox sh -c 'echo ok >/v/x'
  assert_success
  run_berth volume rm v2
}
