#!/usr/bin/env bats
# berth push to Debian's docker-registry on 127.0.0.1: Docker 20.10's output, what lands in the
# registry read back with skopeo (not berth), HEAD-skips and cross-repository mounts, digests
# stable for layers that came from a pull, tags and errors.

load helpers
load ../registry/lib

setup() {
  reg_setup
  start_registry plain
  load_busybox
}

teardown() { reg_teardown; }

# skopeo_json REF FORMAT: skopeo inspect of $REG/REF
sk_inspect() { skopeo inspect --tls-verify=false "$@"; }

@test "push: Docker's output; skopeo reads the same image back" {
  run_berth tag busybox:latest "$REG/test/pushed:1"
  assert_success
  run_berth push "$REG/test/pushed:1"
  assert_success
  assert_line -n 0 "The push refers to repository [$REG/test/pushed]"
  assert_output_matches "[0-9a-f]{12}: Pushed"
  grep -qE '^1: digest: sha256:[0-9a-f]{64} size: [0-9]+' <<<"$output" || fail "no line: 1: digest: sha256:[0-9a-f]{64} size: [0-9]+"
  local line digest size
  line=$(grep -E '^1: digest: ' <<<"$output")
  digest=$(awk '{print $3}' <<<"$line")
  size=$(awk '{print $5}' <<<"$line")
  assert_equal "$(reg_manifest_digest test/pushed:1)" "$digest"
  local raw=$BATS_TEST_TMPDIR/raw
  sk_inspect --raw "docker://$REG/test/pushed:1" >"$raw"
  assert_equal "$(stat -c %s "$raw")" "$size"
  assert_equal "$(sha256sum <"$raw" | cut -c1-64)" "${digest#sha256:}"
  # the config is the image berth has (same ID), and skopeo can copy every blob (digests verified)
  assert_equal "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' "$raw")" "$BUSYBOX_ID"
  skopeo copy -q --src-tls-verify=false "docker://$REG/test/pushed:1" "oci:$BATS_TEST_TMPDIR/oci:x" ||
    fail "skopeo could not copy what berth pushed"
  # the local image has the pushed repo digest now, and is otherwise unchanged
  run_berth image inspect --format '{{.Id}} {{json .RepoDigests}}' "$REG/test/pushed:1"
  assert_output "$BUSYBOX_ID [\"$REG/test/pushed@$digest\"]"
}

@test "push: again is 'Layer already exists' with the same digest; another repo mounts" {
  berth tag busybox:latest "$REG/test/pushed:1"
  run_berth push "$REG/test/pushed:1"
  assert_success
  local d1
  d1=$(grep -E '^1: digest: ' <<<"$output" | awk '{print $3}')
  local puts
  puts=$(reg_access_count '"(PUT|PATCH) /v2/test/pushed/blobs/uploads/')
  run_berth push "$REG/test/pushed:1"
  assert_success
  assert_output_matches "[0-9a-f]{12}: Layer already exists"
  refute_output_contains ": Pushed"
  assert_line "1: digest: $d1 size: $(sk_inspect --raw "docker://$REG/test/pushed:1" | wc -c)"
  assert_equal "$(reg_access_count '"(PUT|PATCH) /v2/test/pushed/blobs/uploads/')" "$puts"
  berth tag busybox:latest "$REG/test/other:2"
  run_berth push "$REG/test/other:2"
  assert_success
  assert_output_matches "[0-9a-f]{12}: Mounted from test/pushed"
  assert_line "2: digest: $d1 size: $(sk_inspect --raw "docker://$REG/test/pushed:1" | wc -c)"
  [[ $(reg_access_count '"POST /v2/test/other/blobs/uploads/\?.*mount=') -ge 1 ]] ||
    fail "no cross-repository mount request"
}

@test "push: a pulled image goes back as the very same compressed blobs" {
  push_fixture test/orig:latest "$FIXTURES/multi.tar"
  run_berth pull "$REG/test/orig:latest"
  assert_success
  berth tag "$REG/test/orig:latest" "$REG/test/copy:latest"
  run_berth push "$REG/test/copy:latest"
  assert_success
  local a b
  a=$(sk_inspect --format '{{.Layers}}' "docker://$REG/test/orig:latest")
  b=$(sk_inspect --format '{{.Layers}}' "docker://$REG/test/copy:latest")
  assert_equal "$b" "$a"
  # every layer existed already (by mount or HEAD): none was uploaded
  refute_output_contains ": Pushed"
  local l
  for l in $(tr -d '[]' <<<"$a"); do
    [[ $(reg_access_count "\"PUT /v2/test/copy/blobs/uploads/[^ ]*digest=sha256%3A${l#sha256:}") -eq 0 ]] ||
      fail "layer $l was uploaded again"
  done
}

@test "push: default tag, --all-tags, and a name that does not exist" {
  berth tag busybox:latest "$REG/test/tags:latest"
  berth tag busybox:latest "$REG/test/tags:v1"
  run_berth push "$REG/test/tags"
  assert_success
  assert_line -n 0 "Using default tag: latest"
  run skopeo list-tags --tls-verify=false "docker://$REG/test/tags"
  [[ $output == *'"latest"'* && $output != *'"v1"'* ]] || fail "only latest expected: $output"
  run_berth push --all-tags "$REG/test/tags"
  assert_success
  grep -qE '^latest: digest: sha256:' <<<"$output" || fail "no line: latest: digest: sha256:"
  grep -qE '^v1: digest: sha256:' <<<"$output" || fail "no line: v1: digest: sha256:"
  run skopeo list-tags --tls-verify=false "docker://$REG/test/tags"
  [[ $output == *'"v1"'* ]] || fail "v1 not pushed: $output"
  run_berth push "$REG/test/nothing:here"
  assert_failure
  assert_output_contains "An image does not exist locally with the tag: $REG/test/nothing"
}

@test "push: a layer berth built is gzip-compressed, and pulls back to the same image" {
  local ctx=$BATS_TEST_TMPDIR/ctx
  mkdir -p "$ctx"
  head -c 100000 /dev/urandom | base64 >"$ctx/data.txt"
  printf 'FROM busybox\nCOPY data.txt /data.txt\n' >"$ctx/Dockerfile"
  run_berth build -t "$REG/test/built:1" "$ctx"
  assert_success
  local id
  id=$(berth image inspect --format '{{.Id}}' "$REG/test/built:1")
  run_berth push "$REG/test/built:1"
  assert_success
  local dir=$BATS_TEST_TMPDIR/dir
  skopeo copy -q --src-tls-verify=false "docker://$REG/test/built:1" "dir:$dir" || fail "skopeo copy"
  python3 - "$dir" <<'PY' || fail "layers are not gzip or their diff_ids differ"
import gzip, hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
cfg = json.load(open(os.path.join(d, m["config"]["digest"].split(":")[1])))
for l, diff in zip(m["layers"], cfg["rootfs"]["diff_ids"]):
    b = open(os.path.join(d, l["digest"].split(":")[1]), "rb").read()
    assert b[:2] == b"\x1f\x8b", l
    assert l["mediaType"].endswith("gzip"), l
    assert "sha256:" + hashlib.sha256(gzip.decompress(b)).hexdigest() == diff
PY
  run_berth rmi "$REG/test/built:1"
  assert_success
  run_berth pull "$REG/test/built:1"
  assert_success
  assert_equal "$(berth image inspect --format '{{.Id}}' "$REG/test/built:1")" "$id"
  run_berth run --rm "$REG/test/built:1" md5sum /data.txt
  assert_equal "${output%% *}" "$(md5sum <"$ctx/data.txt" | cut -d' ' -f1)"
}

@test "push: push-chunk-size uploads in PATCH chunks; the registry verifies the blobs" {
  reg_config_set push-chunk-size 65536
  mkdir -p "$BATS_TEST_TMPDIR/ctx"
  printf 'FROM busybox\nRUN head -c 300000 /dev/urandom >/blob\n' >"$BATS_TEST_TMPDIR/ctx/Dockerfile"
  berth build -q -t "$REG/test/chunked:1" "$BATS_TEST_TMPDIR/ctx" >/dev/null
  run_berth push "$REG/test/chunked:1"
  assert_success
  assert_output_matches "[0-9a-f]{12}: Pushed"
  local d1
  d1=$(grep -E '^1: digest: ' <<<"$output" | awk '{print $3}')
  [[ $(reg_access_count '"PATCH /v2/test/chunked/blobs/uploads/') -ge 4 ]] ||
    fail "no chunked upload: $(reg_access_count '"PATCH /v2/test/chunked/blobs/uploads/') PATCH requests"
  assert_equal "$(reg_manifest_digest test/chunked:1)" "$d1"
  run skopeo copy -q --src-tls-verify=false "docker://$REG/test/chunked:1" "oci:$BATS_TEST_TMPDIR/oci:x"
  assert_success
  reg_config_set push-chunk-size '"big"'
  run_berth push "$REG/test/chunked:1"
  assert_failure
  assert_output_contains "push-chunk-size"
}
