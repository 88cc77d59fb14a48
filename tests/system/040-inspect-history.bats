#!/usr/bin/env bats
# berth image inspect / inspect and history.

load helpers

image_hex() { local i; i=$(la_image_id "$@") && echo "${i#sha256:}"; }

setup() {
  berth_setup
  load_busybox
  load_fixture multi.tar
}

@test "image inspect prints Docker's JSON shape" {
  local id
  id=$(image_hex "$FIXTURES/multi.tar")
  run_berth image inspect multi
  assert_success
  echo "$output" | jq -e --arg id "sha256:$id" '
    length == 1 and .[0].Id == $id
    and (.[0].RepoTags | sort) == ["multi:latest", "multi:v2"]
    and .[0].RepoDigests == []
    and .[0].Created == "2024-01-01T00:00:00Z"
    and .[0].Os == "linux" and .[0].Architecture == "amd64"
    and (.[0].Config | has("Env") and has("Cmd") and has("Entrypoint") and has("WorkingDir")
         and has("User") and has("Volumes") and has("Labels") and has("OnBuild"))
    and .[0].Config.Labels["org.berth.test"] == "multi"
    and .[0].RootFS.Type == "layers" and (.[0].RootFS.Layers | length) == 3
    and (.[0].Size | type) == "number" and .[0].Size > 0
    and (.[0].Metadata.LastTagTime | type) == "string"'
}

@test "inspect -f templates: fields, json, index, range, len" {
  run_berth image inspect -f '{{.Os}}/{{.Architecture}}' busybox
  assert_output "linux/amd64"
  run_berth inspect --format '{{json .Config.Cmd}}' busybox
  assert_output '["sh"]'
  run_berth inspect -f '{{index .Config.Labels "org.berth.test"}}' multi
  assert_output "multi"
  run_berth inspect -f '{{range .RepoTags}}{{.}} {{end}}' multi:v2
  assert_output_contains "multi:v2"
  run_berth inspect -f '{{len .RootFS.Layers}}' multi
  assert_output "3"
  run_berth inspect -f '{{.Id}}' busybox multi
  [ "${#lines[@]}" -eq 2 ]
}

@test "inspect of an unknown image: [] and Error: No such image" {
  run_berth -1 image inspect nope
  assert_line "[]"
  assert_line "Error: No such image: nope"
  # the generic inspect looks at every kind of object, so docker says "object"
  run_berth -1 inspect -f '{{.Id}}' busybox nope
  assert_line --partial "sha256:"
  assert_line "Error: No such object: nope"
}

@test "history lists layers newest first with sizes and <missing> rows" {
  run_berth history multi
  assert_success
  assert_line -n 0 --partial "IMAGE"
  assert_output_matches 'CREATED BY'
  local id
  id=$(image_hex "$FIXTURES/multi.tar")
  assert_line -n 1 --partial "${id:0:12}"
  assert_output_contains "<missing>"
  assert_output_contains "LABEL org.berth.test=multi"
  run_berth history -q multi
  assert_line -n 0 "${id:0:12}"
  run_berth history --no-trunc --format '{{.ID}} {{.Size}}' multi
  assert_line -n 0 --partial "sha256:$id"
  run_berth history --format '{{.CreatedBy}}' multi
  # long CREATED BY lines are cut to 45 runes with an ellipsis unless --no-trunc
  local l
  for l in "${lines[@]}"; do [ "$(printf '%s' "$l" | wc -m)" -le 45 ]; done
  assert_output_contains "…"
  run_berth -1 history nope
  assert_output "Error: No such image: nope"
}
