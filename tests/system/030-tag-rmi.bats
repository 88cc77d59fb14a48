#!/usr/bin/env bats
# berth tag and rmi / image rm.

load helpers

image_hex() { local i; i=$(la_image_id "$@") && echo "${i#sha256:}"; }

@test "tag creates names; rmi of one name only untags" {
  load_busybox
  local id
  id=$(image_hex "$FIXTURES/busybox.tar")
  run_berth tag busybox me/bb:v1
  assert_success
  run_berth tag "${id:0:12}" localhost:5000/team/bb
  assert_success
  run_berth images --format '{{.Repository}}:{{.Tag}}'
  assert_line "me/bb:v1"
  assert_line "localhost:5000/team/bb:latest"
  run_berth rmi me/bb:v1
  assert_success
  assert_output "Untagged: me/bb:v1"
  run_berth image inspect -f '{{.Id}}' busybox
  assert_output "sha256:$id"
}

@test "rmi of the last tag deletes the image and its layer" {
  load_busybox
  local id
  id=$(image_hex "$FIXTURES/busybox.tar")
  run_berth rmi busybox
  assert_success
  assert_line -n 0 "Untagged: busybox:latest"
  assert_line -n 1 "Deleted: sha256:$id"
  assert_line -n 2 --partial "Deleted: sha256:"
  [ -z "$(ls -A "$TEST_ROOT/layers")" ]
  [ ! -e "$TEST_ROOT/blobs/sha256/$id" ]
  run_berth images -q
  assert_output ""
}

@test "rmi by ID with several tags needs -f; image rm and image remove are aliases" {
  load_busybox
  local id
  id=$(image_hex "$FIXTURES/busybox.tar")
  berth tag busybox other:1
  run_berth -1 rmi "${id:0:12}"
  assert_output_contains "conflict: unable to delete ${id:0:12} (must be forced) - image is referenced in multiple repositories"
  run_berth image rm -f "${id:0:12}"
  assert_success
  assert_line "Untagged: busybox:latest"
  assert_line "Untagged: other:1"
  assert_line "Deleted: sha256:$id"
  load_busybox
  run_berth image remove busybox
  assert_success
}

@test "rmi keeps layers other images still use" {
  load_busybox
  load_fixture multi.tar
  run_berth rmi multi:latest multi:v2
  assert_success
  [ "$(find "$TEST_ROOT/layers" -mindepth 1 -maxdepth 1 | wc -l)" -eq 1 ]
  run_berth images --format '{{.Repository}}'
  assert_output busybox
}

@test "errors: unknown image, bad target reference, digest as a tag" {
  load_busybox
  run_berth -1 rmi nope
  assert_output "Error: No such image: nope"
  run_berth -1 rmi busybox nope
  assert_line "Untagged: busybox:latest"
  assert_line "Error: No such image: nope"
  load_busybox
  run_berth -1 tag busybox Upper/Case
  assert_output_contains "must be lowercase"
  run_berth -1 tag busybox "bb@sha256:$(printf '%064d' 0)"
  assert_output_contains "refusing to create a tag with a digest reference"
  run_berth -1 tag nope x:1
  assert_output "Error: No such image: nope"
  run_berth images --format '{{.Repository}}:{{.Tag}}'
  assert_output "busybox:latest"
}
