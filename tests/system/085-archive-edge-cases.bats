#!/usr/bin/env bats
# Archive shapes at the edges: many entries, big configs, repeated and nested OCI indexes,
# multi-platform indexes, save's output file handling, what rmi leaves behind.

load helpers

# oci_blob DIR FILE: store FILE as a blob in the OCI layout DIR; prints its digest and size
oci_blob() {
  local hex
  hex=$(sha256sum "$2" | cut -d' ' -f1)
  mkdir -p "$1/blobs/sha256"
  cp "$2" "$1/blobs/sha256/$hex"
  echo "sha256:$hex $(stat -c %s "$2")"
}

# small_image DIR ARCH: an OCI manifest (one tiny layer) in DIR for ARCH; prints "digest size"
small_image() {
  local d=$1 arch=$2 w=$BATS_TEST_TMPDIR/w-$2
  mkdir -p "$w/l"
  echo "built for $arch" >"$w/l/arch.txt"
  la_tar_dir "$w/l" "$w/layer.tar"
  local ld ls cd cs
  read -r ld ls < <(oci_blob "$d" "$w/layer.tar")
  jq -cn --arg a "$arch" --arg d "$ld" '{architecture: $a, os: "linux", config: {},
    rootfs: {type: "layers", diff_ids: [$d]}}' >"$w/config.json"
  read -r cd cs < <(oci_blob "$d" "$w/config.json")
  jq -cn --arg cd "$cd" --argjson cs "$cs" --arg ld "$ld" --argjson ls "$ls" '{schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
    layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls}]}' \
    >"$w/manifest.json"
  oci_blob "$d" "$w/manifest.json"
}

@test "a multi-platform index loads the host's platform only" {
  local d=$BATS_TEST_TMPDIR/oci md ms ad as
  mkdir -p "$d"
  read -r md ms < <(small_image "$d" amd64)
  read -r ad as < <(small_image "$d" arm64)
  echo '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
  jq -cn --arg md "$md" --argjson ms "$ms" --arg ad "$ad" --argjson asz "$as" '{schemaVersion: 2,
    manifests: [
      {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $ad, size: $asz,
       platform: {architecture: "arm64", os: "linux"},
       annotations: {"io.containerd.image.name": "docker.io/library/mp:1"}},
      {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
       platform: {architecture: "amd64", os: "linux"},
       annotations: {"io.containerd.image.name": "docker.io/library/mp:1"}}]}' >"$d/index.json"
  tar -C "$d" -cf "$BATS_TEST_TMPDIR/mp.tar" .
  run_berth load -i "$BATS_TEST_TMPDIR/mp.tar"
  assert_success
  assert_output "Loaded image: mp:1"
  run_berth image inspect -f '{{.Architecture}}' mp:1
  assert_output amd64
  run_berth images -q
  [ "${#lines[@]}" -eq 1 ]
}

@test "a hostile index repeating itself does not multiply the work" {
  local d=$BATS_TEST_TMPDIR/oci md ms i
  mkdir -p "$d"
  read -r md ms < <(small_image "$d" amd64)
  # three levels of indexes, each naming the level below 40 times
  local cur_d=$md cur_s=$ms cur_t=application/vnd.oci.image.manifest.v1+json
  for i in 1 2 3; do
    jq -cn --arg dg "$cur_d" --argjson sz "$cur_s" --arg mt "$cur_t" '{schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [range(40) | {mediaType: $mt, digest: $dg, size: $sz}]}' >"$BATS_TEST_TMPDIR/idx$i.json"
    read -r cur_d cur_s < <(oci_blob "$d" "$BATS_TEST_TMPDIR/idx$i.json")
    cur_t=application/vnd.oci.image.index.v1+json
  done
  jq -cn --arg dg "$cur_d" --argjson sz "$cur_s" '{schemaVersion: 2, manifests: [range(40) |
    {mediaType: "application/vnd.oci.image.index.v1+json", digest: $dg, size: $sz,
     annotations: {"io.containerd.image.name": "docker.io/library/fan:1"}}]}' >"$d/index.json"
  tar -C "$d" -cf "$BATS_TEST_TMPDIR/fan.tar" .
  local start=$SECONDS
  run_berth load -i "$BATS_TEST_TMPDIR/fan.tar"
  assert_success
  assert_output "Loaded image: fan:1"
  [ $((SECONDS - start)) -lt 20 ]
}

@test "many entries load in reasonable time (no quadratic scan)" {
  require_tool python3
  python3 - "$BATS_TEST_TMPDIR/many.tar" "$FIXTURES/busybox.tar" <<'PY'
import sys, tarfile, io
out, src = sys.argv[1], sys.argv[2]
with tarfile.open(src) as s, tarfile.open(out, "w") as t:
    for i in range(60000):
        ti = tarfile.TarInfo("junk/%06d" % i)
        t.addfile(ti, io.BytesIO(b""))
    for m in s.getmembers():
        t.addfile(m, s.extractfile(m) if m.isfile() else None)
PY
  local start=$SECONDS
  run_berth load -i "$BATS_TEST_TMPDIR/many.tar"
  assert_success
  assert_output "Loaded image: busybox:latest"
  [ $((SECONDS - start)) -lt 30 ]
}

@test "a config over 1 MiB loads" {
  require_tool python3
  python3 - "$BATS_TEST_TMPDIR/bigcfg.tar" <<'PY'
import hashlib, io, json, sys, tarfile
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w") as t:
    ti = tarfile.TarInfo("x"); ti.size = 2; t.addfile(ti, io.BytesIO(b"x\n"))
layer = layer.getvalue()
diff = "sha256:" + hashlib.sha256(layer).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Labels": {"big": "a" * 1500000}},
                     "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
cfg = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": cfg, "RepoTags": ["bigcfg:1"], "Layers": ["l/layer.tar"]}]).encode()
with tarfile.open(sys.argv[1], "w") as t:
    for name, data in ((cfg, config), ("l/layer.tar", layer), ("manifest.json", manifest)):
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
PY
  run_berth load -i "$BATS_TEST_TMPDIR/bigcfg.tar"
  assert_success
  assert_output "Loaded image: bigcfg:1"
  run_berth image inspect -f '{{len (index .Config.Labels "big")}}' bigcfg:1
  assert_output 1500000
}

@test "save -o replaces a symlink at the output path, never writes through it" {
  load_busybox
  echo "precious" >"$BATS_TEST_TMPDIR/victim"
  ln -s "$BATS_TEST_TMPDIR/victim" "$BATS_TEST_TMPDIR/out.tar"
  run_berth save -o "$BATS_TEST_TMPDIR/out.tar" busybox
  assert_success
  [ "$(cat "$BATS_TEST_TMPDIR/victim")" = precious ]
  [ -f "$BATS_TEST_TMPDIR/out.tar" ] && [ ! -L "$BATS_TEST_TMPDIR/out.tar" ]
  # repositories maps the tag to the top layer, as docker writes it
  local top
  top=$(berth image inspect -f '{{index .RootFS.Layers 0}}' busybox)
  run jq -r '.busybox.latest' <(tar -xOf "$BATS_TEST_TMPDIR/out.tar" repositories)
  assert_output "${top#sha256:}"
}

@test "rmi of an OCI-loaded image leaves no blob behind" {
  run_berth load -i "$FIXTURES/busybox-oci.tar"
  assert_success
  [ -n "$(ls -A "$TEST_ROOT/blobs/sha256")" ]
  run_berth rmi busybox
  assert_success
  [ -z "$(ls -A "$TEST_ROOT/blobs/sha256")" ]
  [ -z "$(ls -A "$TEST_ROOT/layers")" ]
}

@test "an empty or / root is refused, and nothing foreign in tmp/ is removed" {
  run "$BERTH" --root "" --runroot "$TEST_RUNROOT" images
  assert_failure 1
  assert_output_contains "invalid root"
  run "$BERTH" --root / --runroot "$TEST_RUNROOT" images
  assert_failure 1
  mkdir -p "$TEST_ROOT/tmp/not-berths"
  echo keep >"$TEST_ROOT/tmp/notes.txt"
  run_berth images
  assert_success
  [ -d "$TEST_ROOT/tmp/not-berths" ] && [ -f "$TEST_ROOT/tmp/notes.txt" ]
  rm -rf "$TEST_ROOT/tmp/not-berths" "$TEST_ROOT/tmp/notes.txt"
}
