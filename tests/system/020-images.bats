#!/usr/bin/env bats
# berth images / image ls: columns, -q, --digests, --no-trunc, filters, --format.

load helpers

image_hex() { local i; i=$(la_image_id "$@") && echo "${i#sha256:}"; }

setup() {
  berth_setup
  load_busybox
  load_fixture multi.tar
}

@test "default table: docker's columns, aligned, newest first" {
  run_berth images
  assert_success
  assert_output_matches '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE'
  [ "${#lines[@]}" -eq 4 ]
  # columns align: every row's TAG column starts where the header's does
  local col=${lines[0]%%TAG*}
  local l
  for l in "${lines[@]:1}"; do
    [[ ${l:${#col}:1} != " " ]]
    [[ ${l:$((${#col} - 1)):1} == " " ]]
  done
  assert_output_matches 'busybox +latest +[0-9a-f]{12} +(About a minute|[0-9]+ [a-z]+|Less than a second) ago +[0-9.]+[kM]B'
  assert_output_matches 'multi +v2 '
}

@test "-q prints short IDs, --no-trunc full ones, image ls is the same command" {
  local bb
  bb=$(image_hex "$FIXTURES/busybox.tar")
  run_berth images -q busybox
  assert_output "${bb:0:12}"
  run_berth images -q --no-trunc busybox
  assert_output "sha256:$bb"
  run_berth image ls -q busybox
  assert_output "${bb:0:12}"
  run_berth image list -q busybox:latest
  assert_output "${bb:0:12}"
}

@test "--digests adds the DIGEST column" {
  run_berth images --digests
  assert_success
  assert_output_matches '^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE'
  assert_output_matches 'busybox +latest +<none> +[0-9a-f]{12}'
}

@test "filters: reference, dangling, label, before, since; bad filter" {
  run_berth images --format '{{.Repository}}:{{.Tag}}' --filter reference='mul*'
  assert_line "multi:latest"
  assert_line "multi:v2"
  refute_line "busybox:latest"
  run_berth images --format '{{.Repository}}:{{.Tag}}' --filter 'reference=multi:v*'
  assert_output "multi:v2"
  run_berth images -q --filter dangling=true
  assert_output ""
  run_berth images --format '{{.Repository}}:{{.Tag}}' --filter label=org.berth.test=multi
  assert_line "multi:latest"
  refute_line "busybox:latest"
  run_berth images --format '{{.Repository}}' -f label=org.berth.test
  refute_line "busybox"
  run_berth -1 images --filter bogus=1
  assert_output_contains "invalid filter 'bogus'"
  run_berth -1 images --filter noequals
}

@test "--format: template, table, json, and Go template errors" {
  run_berth images --format '{{.Repository}}|{{.Tag}}|{{.Size}}' busybox
  assert_output_matches '^busybox\|latest\|[0-9.]+[kM]B$'
  run_berth images --format 'table {{.Repository}}\t{{.Tag}}' busybox
  assert_output_matches $'^REPOSITORY +TAG\nbusybox +latest$'
  run_berth images --format json busybox
  assert_success
  echo "$output" | jq -e '.Repository == "busybox" and .Tag == "latest" and (.ID | length) == 12'
  run_berth images --format '{{.Nope' busybox
  assert_failure
}

@test "a REPOSITORY argument lists only that repository" {
  run_berth images --format '{{.Repository}}:{{.Tag}}' multi
  assert_line "multi:latest"
  assert_line "multi:v2"
  [ "${#lines[@]}" -eq 2 ]
}
