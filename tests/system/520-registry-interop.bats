#!/usr/bin/env bats
# Registry interop: berth pushes -> skopeo and docker (a private dockerd, as in
# 425-build-interop.bats) pull the same digests; docker and skopeo push -> berth pulls and runs;
# an OCI index of two platforms (linux/amd64 + linux/arm64) -> the host's by default, the other
# with --platform. docker's part skips when dockerd is missing or cannot start.

load helpers
load ../registry/lib

setup_file() {
  berth_setup_file
  export DOCKER_WORK=""
  if command -v dockerd >/dev/null && command -v docker >/dev/null; then
    DOCKER_WORK=$(mktemp -d /tmp/berth-dockerd.XXXXXX)
    dockerd --data-root "$DOCKER_WORK/data" --exec-root "$DOCKER_WORK/exec" \
      --pidfile "$DOCKER_WORK/dockerd.pid" --host "unix://$DOCKER_WORK/docker.sock" \
      --bridge none --iptables=false --ip6tables=false --insecure-registry 127.0.0.0/8 \
      >"$DOCKER_WORK/dockerd.log" 2>&1 &
    for _ in $(seq 1 100); do
      docker --host "unix://$DOCKER_WORK/docker.sock" version >/dev/null 2>&1 && break
      sleep 0.2
    done
  fi
}

teardown_file() {
  if [[ -n $DOCKER_WORK && -f $DOCKER_WORK/dockerd.pid ]]; then
    local pid
    pid=$(cat "$DOCKER_WORK/dockerd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    umount -R "$DOCKER_WORK/exec" 2>/dev/null || true
    umount -R "$DOCKER_WORK/data" 2>/dev/null || true
    rm -rf "$DOCKER_WORK"
  fi
}

docker_() { docker --host "unix://$DOCKER_WORK/docker.sock" "$@"; }

require_docker() {
  [[ -n $DOCKER_WORK ]] || skip "dockerd is not installed"
  docker_ version >/dev/null 2>&1 || skip "dockerd did not start: $(tail -n 2 "$DOCKER_WORK/dockerd.log" 2>/dev/null)"
}

setup() {
  reg_setup
  start_registry plain
}

teardown() {
  if [[ -n ${DOCKER_WORK:-} ]] && docker_ version >/dev/null 2>&1; then
    local ids
    ids=$(docker_ images -aq)
    # shellcheck disable=SC2086
    [[ -z $ids ]] || docker_ rmi -f $ids >/dev/null 2>&1 || true
  fi
  reg_teardown
}

@test "interop: berth push -> skopeo inspect and copy: same digests, config and layers" {
  load_busybox
  berth tag busybox:latest "$REG/i/bb:1"
  run_berth push "$REG/i/bb:1"
  assert_success
  local d
  d=$(grep -E '^1: digest: ' <<<"$output" | awk '{print $3}')
  assert_equal "$(reg_manifest_digest i/bb:1)" "$d"
  # skopeo copies it to another repository (verifying every blob); the manifest is unchanged
  skopeo copy -q --src-tls-verify=false --dest-tls-verify=false --preserve-digests \
    "docker://$REG/i/bb:1" "docker://$REG/i/bb-copy:1" || fail "skopeo copy failed"
  assert_equal "$(reg_manifest_digest i/bb-copy:1)" "$d"
  # and berth pulls skopeo's copy back to the same image
  run_berth pull "$REG/i/bb-copy:1"
  assert_success
  assert_line "Digest: $d"
  assert_equal "$(berth image inspect --format '{{.Id}}' "$REG/i/bb-copy:1")" "$BUSYBOX_ID"
}

@test "interop: skopeo pushes (docker-archive, OCI) -> berth pulls and runs" {
  push_fixture i/multi:v1 "$FIXTURES/multi.tar"
  skopeo copy -q --dest-tls-verify=false --format oci "docker-archive:$FIXTURES/busybox.tar" \
    "docker://$REG/i/oci:1" || fail "skopeo copy --format oci"
  [[ $(skopeo inspect --tls-verify=false --raw "docker://$REG/i/oci:1") == *application/vnd.oci.image.manifest.v1+json* ]] ||
    fail "not an OCI manifest"
  run_berth pull "$REG/i/multi:v1"
  assert_success
  assert_line "Digest: $(reg_manifest_digest i/multi:v1)"
  run_berth run --rm "$REG/i/multi:v1" testhelper echo multi
  assert_output "multi"
  run_berth pull "$REG/i/oci:1"
  assert_success
  assert_line "Digest: $(reg_manifest_digest i/oci:1)"
  run_berth run --rm "$REG/i/oci:1" testhelper echo oci
  assert_output "oci"
  # skopeo converted the config to OCI's: the image ID is that config's digest
  assert_equal "$(berth image inspect --format '{{.Id}}' "$REG/i/oci:1")" \
    "$(skopeo inspect --tls-verify=false --raw "docker://$REG/i/oci:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')"
}

@test "interop: berth push -> docker pull; docker push -> berth pull: same digests and IDs" {
  require_docker
  load_busybox
  berth tag busybox:latest "$REG/i/tod:1"
  run_berth push "$REG/i/tod:1"
  assert_success
  local d
  d=$(grep -E '^1: digest: ' <<<"$output" | awk '{print $3}')
  run docker_ pull "$REG/i/tod:1"
  echo "$output"
  [[ $status -eq 0 ]] || fail "docker pull failed"
  assert_line "Digest: $d"
  assert_equal "$(docker_ image inspect --format '{{.Id}}' "$REG/i/tod:1")" "$BUSYBOX_ID"
  run docker_ run --rm --network none "$REG/i/tod:1" testhelper echo from-berth
  assert_output "from-berth"
  # docker pushes under another name; berth pulls
  docker_ tag "$REG/i/tod:1" "$REG/i/fromdocker:2"
  run docker_ push "$REG/i/fromdocker:2"
  echo "$output"
  [[ $status -eq 0 ]] || fail "docker push failed"
  local dd
  dd=$(grep -E '^2: digest: ' <<<"$output" | awk '{print $3}')
  run_berth pull "$REG/i/fromdocker:2"
  assert_success
  assert_line "Digest: $dd"
  assert_equal "$(berth image inspect --format '{{.Id}}' "$REG/i/fromdocker:2")" "$BUSYBOX_ID"
  run_berth run --rm "$REG/i/fromdocker:2" testhelper echo from-docker
  assert_output "from-docker"
}

# mk_index REPO: test/REPO:amd64 (the fixture) and :arm64 (its config saying arm64, same layer)
# pushed with skopeo, then an OCI index of both PUT as :latest. Prints the index digest.
mk_index() {
  local repo=$1 oci=$BATS_TEST_TMPDIR/oci-arm64
  push_fixture "$repo:amd64"
  mkdir -p "$oci"
  tar -xf "$FIXTURES/busybox.tar" -C "$oci" blobs index.json oci-layout
  python3 - "$oci" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
def blob(dg): return os.path.join(d, "blobs", "sha256", dg.split(":")[1])
def put(b):
    dg = "sha256:" + hashlib.sha256(b).hexdigest()
    open(blob(dg), "wb").write(b)
    return dg, len(b)
idx = json.load(open(os.path.join(d, "index.json")))
m = json.load(open(blob(idx["manifests"][0]["digest"])))
c = json.load(open(blob(m["config"]["digest"])))
c["architecture"] = "arm64"
c["variant"] = "v8"
m["config"]["digest"], m["config"]["size"] = put(json.dumps(c).encode())
md, ms = put(json.dumps(m).encode())
idx["manifests"] = [{"mediaType": m.get("mediaType", "application/vnd.oci.image.manifest.v1+json"), "digest": md, "size": ms}]
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
PY
  skopeo copy -q --dest-tls-verify=false "oci:$oci" "docker://$REG/$repo:arm64" >&2 || fail "skopeo copy arm64"
  local body=$BATS_TEST_TMPDIR/index.json
  python3 - "$REG" "$repo" >"$body" <<'PY'
import json, subprocess, sys, hashlib
reg, repo = sys.argv[1:]
ents = []
for arch in ("amd64", "arm64"):
    raw = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--raw", "docker://%s/%s:%s" % (reg, repo, arch)],
                         check=True, stdout=subprocess.PIPE).stdout
    mt = json.loads(raw).get("mediaType", "application/vnd.oci.image.manifest.v1+json")
    p = {"architecture": arch, "os": "linux"}
    if arch == "arm64":
        p["variant"] = "v8"
    ents.append({"mediaType": mt, "digest": "sha256:" + hashlib.sha256(raw).hexdigest(), "size": len(raw), "platform": p})
sys.stdout.write(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": ents}))
PY
  curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary "@$body" \
    "http://$REG/v2/$repo/manifests/latest" >&2 || fail "PUT of the index failed"
  echo "sha256:$(sha256sum <"$body" | cut -c1-64)"
}

@test "interop: an OCI index of linux/amd64 + linux/arm64: the host's by default, --platform picks" {
  [[ $(uname -m) == x86_64 ]] || skip "the index's default entry is amd64"
  local idx
  idx=$(mk_index i/ma)
  run_berth pull "$REG/i/ma:latest"
  assert_success
  assert_line "Digest: $idx"
  run_berth image inspect --format '{{.Architecture}} {{.Id}}' "$REG/i/ma:latest"
  assert_output "amd64 $BUSYBOX_ID"
  run_berth run --rm "$REG/i/ma:latest" testhelper echo native
  assert_output "native"
  run_berth pull --platform linux/arm64 "$REG/i/ma:latest"
  assert_success
  assert_line "Digest: $idx"
  run_berth image inspect --format '{{.Architecture}}' "$REG/i/ma:latest"
  assert_output "arm64"
  run_berth pull --platform linux/s390x "$REG/i/ma:latest"
  assert_failure
  assert_output_contains "no matching manifest for linux/s390x in the manifest list entries"
  # skopeo agrees on what the index holds
  run skopeo inspect --tls-verify=false --override-arch arm64 --format '{{.Architecture}}' "docker://$REG/i/ma:latest"
  assert_output "arm64"
}
