#!/usr/bin/env bats
# berth pull against Debian's docker-registry on 127.0.0.1 (plain HTTP, allowed for loopback as
# Docker allows it): Docker 20.10's output, by tag and by digest, -q, --all-tags, errors, the
# image identical to what skopeo pushed, and the auto-pull of run and build (--pull
# missing|always|never, build --pull). The image is put there by skopeo, never by berth.

load helpers
load ../registry/lib

setup() {
  reg_setup
  start_registry plain
  push_fixture test/busybox:latest
}

teardown() { reg_teardown; }

@test "pull: by tag, Docker's output, image ID and RepoDigests as in the registry" {
  local digest
  digest=$(reg_manifest_digest test/busybox:latest)
  run_berth pull "$REG/test/busybox:latest"
  assert_success
  assert_line -n 0 "latest: Pulling from test/busybox"
  assert_output_matches "[0-9a-f]{12}: Pull complete"
  assert_line "Digest: $digest"
  assert_line "Status: Downloaded newer image for $REG/test/busybox:latest"
  assert_line -n -1 "$REG/test/busybox:latest"
  run_berth image inspect --format '{{.Id}} {{json .RepoDigests}} {{.Architecture}}' "$REG/test/busybox:latest"
  assert_success
  assert_output "$BUSYBOX_ID [\"$REG/test/busybox@$digest\"] amd64"
  run_berth images --format '{{.Repository}}:{{.Tag}}'
  assert_output "$REG/test/busybox:latest"
  run_berth run --rm "$REG/test/busybox:latest" testhelper echo pulled-and-run
  assert_success
  assert_output "pulled-and-run"
  store_tmp_empty
}

@test "pull: again is 'Image is up to date' and fetches no blob" {
  run_berth pull "$REG/test/busybox:latest"
  assert_success
  local blobs
  blobs=$(reg_access_count '"GET /v2/test/busybox/blobs/')
  run_berth pull "$REG/test/busybox:latest"
  assert_success
  assert_line "Status: Image is up to date for $REG/test/busybox:latest"
  refute_output_contains "Pull complete"
  assert_equal "$(reg_access_count '"GET /v2/test/busybox/blobs/')" "$blobs"
}

@test "pull: without a tag uses latest; -q prints only the name" {
  run_berth pull "$REG/test/busybox"
  assert_success
  assert_line -n 0 "Using default tag: latest"
  assert_line -n 1 "latest: Pulling from test/busybox"
  run_berth rmi "$REG/test/busybox:latest"
  assert_success
  run_berth pull -q "$REG/test/busybox"
  assert_success
  assert_output "$REG/test/busybox:latest"
}

@test "pull: by digest — verified, no tag created, RepoDigests set" {
  local digest
  digest=$(reg_manifest_digest test/busybox:latest)
  run_berth pull "$REG/test/busybox@$digest"
  assert_success
  assert_line "Digest: $digest"
  assert_line -n -1 "$REG/test/busybox@$digest"
  run_berth image inspect --format '{{.Id}}' "$REG/test/busybox@$digest"
  assert_success
  assert_output "$BUSYBOX_ID"
  run_berth images --format '{{.Repository}}:{{.Tag}}'
  assert_output "$REG/test/busybox:<none>"
  # an unknown digest: not found, nothing stored
  run_berth pull "$REG/test/busybox@sha256:$(printf '%064d' 0)"
  assert_failure
  assert_output_matches "not found|manifest unknown"
}

@test "pull: an unknown tag or repository fails with the registry's message, stores nothing" {
  run_berth pull "$REG/test/busybox:nope"
  assert_failure
  assert_output_contains "manifest unknown"
  run_berth pull "$REG/no/such:latest"
  assert_failure
  assert_output_matches "manifest unknown|name unknown|not found"
  run_berth images -q
  assert_output ""
  store_tmp_empty
}

@test "pull: a malformed reference and a refused port fail clearly, without network" {
  run_berth pull "$REG/UPPER/case:latest"
  assert_failure
  assert_output_contains "invalid reference format"
  local port
  port=$(_free_port)
  run_berth pull "127.0.0.1:$port/test/busybox:latest"
  assert_failure
  assert_output_matches "connect|refused|Connection"
}

@test "pull --all-tags: every tag of the repository" {
  push_fixture test/busybox:v1
  push_fixture test/busybox:v2 "$FIXTURES/multi.tar"
  run_berth pull --all-tags "$REG/test/busybox"
  assert_success
  run_berth images --format '{{.Repository}}:{{.Tag}}'
  assert_success
  assert_line "$REG/test/busybox:latest"
  assert_line "$REG/test/busybox:v1"
  assert_line "$REG/test/busybox:v2"
  [[ ${#lines[@]} -eq 3 ]] || fail "expected 3 tags"
  # multi shares busybox's layer: it is stored once
  run_berth run --rm "$REG/test/busybox:v2" testhelper echo ok
  assert_output "ok"
  run_berth pull -a "$REG/test/busybox:latest"
  assert_failure
  assert_output_contains "tag can't be used with --all-tags/-a"
}

@test "pull: layers shared with an image already present are not downloaded again" {
  push_fixture other/multi:v1 "$FIXTURES/multi.tar"
  run_berth pull "$REG/test/busybox:latest"
  assert_success
  run_berth pull "$REG/other/multi:v1"
  assert_success
  assert_output_contains "Already exists"
  # busybox's layer blob was fetched once, in the first pull (the mount made it the same blob)
  [[ $(reg_access_count '"GET /v2/other/multi/blobs/') -eq 3 ]] ||
    fail "expected config + 2 new layers fetched for multi: $(grep 'GET /v2/other/multi/blobs/' "$REG_DIR/registry.log")"
}

@test "run: auto-pull of a missing image; --pull never and always" {
  run_berth run --rm --pull never "$REG/test/busybox:latest" testhelper echo x
  assert_failure
  assert_output_contains "No such image"
  run_berth run --rm "$REG/test/busybox:latest" testhelper echo auto-pulled
  assert_success
  assert_line -n 0 "Unable to find image '$REG/test/busybox:latest' locally"
  assert_line "latest: Pulling from test/busybox"
  assert_line "auto-pulled"
  # present: --pull missing (the default) does not ask the registry
  local n
  n=$(reg_access_count '"(GET|HEAD) /v2/test/busybox/manifests/')
  run_berth run --rm "$REG/test/busybox:latest" testhelper echo again
  assert_output "again"
  assert_equal "$(reg_access_count '"(GET|HEAD) /v2/test/busybox/manifests/')" "$n"
  # --pull always: the tag now names another image in the registry; run gets it
  push_fixture test/busybox:latest "$FIXTURES/multi.tar"
  run_berth run --rm --pull always "$REG/test/busybox:latest" testhelper echo always
  assert_success
  assert_line "always"
  [[ $(reg_access_count '"(GET|HEAD) /v2/test/busybox/manifests/') -gt $n ]] ||
    fail "--pull always did not ask the registry"
  run_berth image inspect --format '{{.Id}}' "$REG/test/busybox:latest"
  [[ $output != "$BUSYBOX_ID" ]] || fail "--pull always kept the old image"
  run_berth create --pull bogus "$REG/test/busybox:latest"
  assert_failure
  assert_output_contains "invalid pull option"
}

@test "create: auto-pulls too" {
  run_berth create --name c1 "$REG/test/busybox:latest" true
  assert_success
  assert_output_contains "Unable to find image"
  run_berth image inspect --format '{{.Id}}' "$REG/test/busybox:latest"
  assert_output "$BUSYBOX_ID"
  run_berth rm c1
  assert_success
}

@test "build: FROM pulls a missing base image; --pull re-checks the registry" {
  local ctx=$BATS_TEST_TMPDIR/ctx
  mkdir -p "$ctx"
  printf 'FROM %s/test/busybox:latest\nRUN testhelper echo built > /built\n' "$REG" >"$ctx/Dockerfile"
  run_berth build -t fromreg "$ctx"
  assert_success
  assert_output_contains "latest: Pulling from test/busybox"
  run_berth run --rm fromreg cat /built
  assert_output "built"
  local n
  n=$(reg_access_count '"(GET|HEAD) /v2/test/busybox/manifests/')
  run_berth build -t fromreg "$ctx"
  assert_success
  assert_equal "$(reg_access_count '"(GET|HEAD) /v2/test/busybox/manifests/')" "$n"
  push_fixture test/busybox:latest "$FIXTURES/multi.tar"
  run_berth build --pull -t fromreg2 "$ctx"
  assert_success
  [[ $(reg_access_count '"(GET|HEAD) /v2/test/busybox/manifests/') -gt $n ]] ||
    fail "build --pull did not ask the registry"
  run_berth image inspect --format '{{.Id}}' "$REG/test/busybox:latest"
  [[ $output != "$BUSYBOX_ID" ]] || fail "build --pull kept the old base image"
}
