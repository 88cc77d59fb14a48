#!/usr/bin/env bats
# Registry faults B1–B9 (../shared/research/security-reliability.md) with the scripted server
# tests/registry/faultserver.py on 127.0.0.1 (and its log server on 127.0.0.2, another host).
# Every failing pull must: exit non-zero, name the problem, tag nothing, leave `images` as it
# was and nothing in $root/tmp, and commit no blob of the bad image.

load helpers
load ../registry/lib

setup() {
  reg_setup
  # few retries, so the failing cases end quickly (Docker's key and meaning: attempts in all)
  reg_config_set max-download-attempts 3
  load_busybox
  BEFORE=$(images_snapshot)
}

teardown() { reg_teardown; }

# after_failed_pull REF: the common checks after a pull that had to fail.
after_failed_pull() {
  local saved=$output
  assert_equal "$(images_snapshot)" "$BEFORE"
  run_berth image inspect "$1"
  assert_failure
  store_tmp_empty
  local d
  for d in $(fault_info layers | tr -d "[]',") $(fault_info config); do
    [[ ! -e $TEST_ROOT/blobs/sha256/${d#sha256:} ]] || fail "blob $d of the failed pull was committed"
  done
  output=$saved
}

# fault_pull FAULT ERE [SERVER ARGS...]: start the server, pull from it, expect a failure whose
# output matches ERE, run the common checks.
fault_pull() {
  local fault=$1 ere=$2
  shift 2
  start_faultserver "$fault" "$@"
  run_berth pull "$FAULT/x/img:latest"
  assert_failure
  assert_output_matches "$ere"
  after_failed_pull "$FAULT/x/img:latest"
}

@test "B1: a layer whose bytes do not match its digest" {
  fault_pull wrong-layer-digest "[Dd]igest"
  local d
  d=$(fault_info layers | tr -d "[]',")
  assert_output_contains "$d"
}

@test "B1: a config whose bytes do not match its digest" {
  fault_pull wrong-config-digest "[Dd]igest"
  assert_output_contains "$(fault_info config)"
}

@test "B1: a manifest body that does not match Docker-Content-Digest, or the digest pulled" {
  fault_pull wrong-manifest-digest "[Dd]igest"
  local m
  m=$(fault_info manifest)
  run_berth pull "$FAULT/x/img@$m"
  assert_failure
  assert_output_contains "$m"
  after_failed_pull "$FAULT/x/img@$m"
}

@test "B2: a diff_id that is not the layer's uncompressed digest" {
  fault_pull diffid-mismatch "don't match image configuration|diff_?id|DiffID"
}

@test "B3: malformed digests and sizes are parse errors, never paths or URLs" {
  start_faultserver bad-digests
  rm -f /tmp/berth-b3
  local i
  for i in 0 1 2 3 4 5 6 7; do
    run_berth pull "$FAULT/x/img:bd$i"
    assert_failure
    assert_output_matches "digest|size|invalid"
    after_failed_pull "$FAULT/x/img:bd$i"
  done
  [[ ! -e /tmp/berth-b3 ]] || fail "a digest became a path"
  local bad
  bad=$(grep '/blobs/' "$FAULT_LOG" | grep -vE '/blobs/sha256:[0-9a-f]{64} ' || true)
  [[ -z $bad ]] || fail "malformed digests reached the registry as URLs:" "$bad"
}

@test "B4: a body shorter than the descriptor's size" {
  fault_pull short-body "short|EOF|size|incomplete|ended|truncated|partial|fewer"
}

@test "B4: a body longer than the descriptor's size" {
  fault_pull long-body "size|more|too (long|large)|exceed|longer"
}

@test "B4: an endless chunked body stops at size + 1" {
  local start=$SECONDS
  fault_pull infinite-chunked "size|more|too (long|large)|exceed|longer"
  [[ $((SECONDS - start)) -lt 60 ]] || fail "took $((SECONDS - start)) s"
}

@test "B5: a 50 MiB manifest is refused at a limit" {
  fault_pull huge-manifest "too (large|big)|exceed|limit|size|larger than"
  [[ ${#output} -lt 100000 ]] || fail "the output is ${#output} bytes"
}

@test "B5: a 10 MiB error body is cut, the error still reported" {
  fault_pull huge-error-body "MANIFEST_UNKNOWN|manifest unknown|not found|404"
  [[ ${#output} -lt 100000 ]] || fail "the output is ${#output} bytes: the error body was not bounded"
}

@test "B5: a 1000-deep index is refused" {
  # refused as a nested index, or by not following index entries at all (Docker's way)
  fault_pull deep-index "index|nest|depth|deep|no matching manifest"
  [[ $(grep -c '/manifests/' "$FAULT_LOG") -le 20 ]] || fail "followed $(grep -c '/manifests/' "$FAULT_LOG") manifests"
}

@test "B5: 10,000 layers are refused before any download" {
  fault_pull too-many-layers "layers"
  [[ $(grep -c '^GET .*/blobs/' "$FAULT_LOG") -le 1 ]] || fail "blobs were fetched"
}

@test "B6: a manifest with both manifests and layers is ambiguous" {
  fault_pull ambiguous-manifest "ambiguous|both|manifests"
}

@test "B6: mediaType in the body differs from Content-Type" {
  fault_pull mediatype-mismatch "media ?type|mediaType|Content-Type|mismatch"
}

@test "B7: a redirect to another host is followed without Authorization" {
  start_faultserver foreign-redirect --auth user:secret
  reg_docker_login "$FAULT" user secret
  run_berth pull "$FAULT/x/img:latest"
  assert_success
  grep -q 'auth=yes' "$FAULT_LOG" || fail "the registry itself never got credentials: the test proves nothing"
  grep -q '^GET /v2/redirected/blobs/' "$FAULT_LOGSRV_LOG" || fail "the redirect was not followed"
  run grep 'auth=yes' "$FAULT_LOGSRV_LOG"
  assert_failure
}

@test "B7: a 401 with a realm on another host gets no credentials" {
  start_faultserver foreign-realm
  reg_docker_login "$FAULT" user secret
  run_berth pull "$FAULT/x/img:latest"
  cat "$FAULT_LOGSRV_LOG"
  run grep 'auth=yes' "$FAULT_LOGSRV_LOG"
  assert_failure
}

@test "B7: descriptor urls on another host get no credentials" {
  start_faultserver foreign-urls --auth user:secret
  reg_docker_login "$FAULT" user secret
  run_berth pull "$FAULT/x/img:latest"
  assert_success
  grep -q 'auth=yes' "$FAULT_LOG" || fail "the registry itself never got credentials"
  run grep 'auth=yes' "$FAULT_LOGSRV_LOG"
  assert_failure
}

@test "B8: a 500 once is retried" {
  start_faultserver 500-once
  run_berth pull "$FAULT/x/img:latest"
  assert_success
  local d
  d=$(fault_info layers | tr -d "[]',")
  assert_equal "$(fault_blob_gets "$d")" 2
}

@test "B8: a 500 always fails after a bounded number of attempts" {
  start_faultserver 500-always
  run_berth pull "$FAULT/x/img2:latest"
  assert_failure
  assert_output_matches "500|Internal Server Error|injected internal error"
  local n
  n=$(fault_blob_gets "$(fault_info layers | tr -d "[]',")")
  [[ $n -ge 2 && $n -le 3 ]] || fail "$n attempts with max-download-attempts 3"
  run_berth image inspect "$FAULT/x/img2:latest"
  assert_failure
  store_tmp_empty
}

@test "B8: a reset at 50 % resumes with a Range request" {
  start_faultserver reset-at-half --big 4
  run_berth pull "$FAULT/x/img:latest"
  assert_success
  local big
  big=$(fault_info big_layer)
  grep -qE "^GET [^ ]*/blobs/$big auth=no range=bytes=[1-9][0-9]*-" "$FAULT_LOG" ||
    fail "no resume with Range:" "$(grep "$big" "$FAULT_LOG")"
  run_berth run --rm "$FAULT/x/img:latest" testhelper echo resumed
  assert_output "resumed"
}

@test "B8: a stall mid-blob times out; no half blob; a good server then works" {
  # Short limits so the test takes seconds (the defaults: 30 s of stall, 5 attempts).
  reg_config_set registry-stall-timeout 2
  reg_config_set max-download-attempts 2
  BERTH_TIMEOUT=120
  start_faultserver stall --big 4
  run_berth pull "$FAULT/x/img:latest"
  assert_failure
  assert_output_matches "stall|timed? ?out|timeout|speed"
  after_failed_pull "$FAULT/x/img:latest"
  stop_faultserver
  start_faultserver none --big 4
  run_berth pull "$FAULT/x/img:latest"
  assert_success
}

@test "B9: push with a 500 mid-upload fails; the local image is unchanged" {
  start_faultserver 500-mid-upload
  berth tag busybox:latest "$FAULT/x/p:1"
  local before
  before=$(berth image inspect --format '{{.Id}} {{json .RepoDigests}} {{json .RepoTags}}' "$FAULT/x/p:1")
  run_berth push "$FAULT/x/p:1"
  assert_failure
  assert_output_matches "500|Internal Server Error|injected failure"
  assert_equal "$(berth image inspect --format '{{.Id}} {{json .RepoDigests}} {{json .RepoTags}}' "$FAULT/x/p:1")" "$before"
  run grep -c '^PUT .*/manifests/' "$FAULT_LOG"
  assert_output 0
  store_tmp_empty
}

@test "B9: push answered 201 with a wrong Docker-Content-Digest fails" {
  start_faultserver wrong-digest-201
  berth tag busybox:latest "$FAULT/x/p:1"
  local before
  before=$(berth image inspect --format '{{.Id}} {{json .RepoDigests}}' "$FAULT/x/p:1")
  run_berth push "$FAULT/x/p:1"
  assert_failure
  assert_output_contains "digest"
  assert_equal "$(berth image inspect --format '{{.Id}} {{json .RepoDigests}}' "$FAULT/x/p:1")" "$before"
  run grep -c '^PUT .*/manifests/' "$FAULT_LOG"
  assert_output 0
  store_tmp_empty
}
