#!/usr/bin/env bats
# Interop with the reference engines, both ways: what berth saves, `docker load` and
# `podman load` read with the same image ID and diff_ids; what they save, berth loads.
# Each engine runs on private storage (a private dockerd on its own socket, podman with
# --root/--runroot); a test skips when its engine is not installed or cannot start.

load helpers

setup_file() {
  berth_setup_file
  export DOCKER_WORK=""
  if command -v dockerd >/dev/null && command -v docker >/dev/null; then
    DOCKER_WORK=$(mktemp -d /tmp/berth-dockerd.XXXXXX)
    dockerd --data-root "$DOCKER_WORK/data" --exec-root "$DOCKER_WORK/exec" \
      --pidfile "$DOCKER_WORK/dockerd.pid" --host "unix://$DOCKER_WORK/docker.sock" \
      --bridge none --iptables=false --ip6tables=false >"$DOCKER_WORK/dockerd.log" 2>&1 &
    local i
    for i in $(seq 1 100); do
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

podman_() { podman --root "$BATS_TEST_TMPDIR/podman" --runroot "$BATS_TEST_TMPDIR/podman-run" "$@"; }

require_podman() {
  require_tool podman
  podman_ info >/dev/null 2>&1 || skip "podman cannot run here"
}

setup() {
  berth_setup
  load_busybox
  load_fixture multi.tar
  run_berth save -o "$BATS_TEST_TMPDIR/berth.tar" busybox multi:latest
  assert_success
  WANT_IDS=$(berth image inspect -f '{{.Id}} {{json .RootFS.Layers}}' busybox multi | sort)
}

@test "docker loads what berth saves: same IDs and diff_ids" {
  require_docker
  run docker_ load -i "$BATS_TEST_TMPDIR/berth.tar"
  assert_success
  assert_output_contains "Loaded image: busybox:latest"
  assert_output_contains "Loaded image: multi:latest"
  run docker_ image inspect -f '{{.Id}} {{json .RootFS.Layers}}' busybox multi
  assert_equal "$(echo "$output" | sort)" "$WANT_IDS"
  docker_ rmi -f busybox multi:latest >/dev/null
}

@test "berth loads what docker saves" {
  require_docker
  docker_ load -i "$BATS_TEST_TMPDIR/berth.tar" >/dev/null
  docker_ tag multi:latest fromdocker:1
  docker_ save -o "$BATS_TEST_TMPDIR/docker.tar" fromdocker:1 busybox:latest
  TEST_ROOT=$BATS_TEST_TMPDIR/root2
  run_berth load -i "$BATS_TEST_TMPDIR/docker.tar"
  assert_success
  assert_line "Loaded image: fromdocker:1"
  assert_line "Loaded image: busybox:latest"
  run_berth image inspect -f '{{.Id}} {{json .RootFS.Layers}}' busybox fromdocker:1
  assert_equal "$(echo "$output" | sort)" "$WANT_IDS"
  docker_ rmi -f busybox fromdocker:1 multi:latest >/dev/null
}

@test "podman loads what berth saves, and berth loads what podman saves" {
  require_podman
  run podman_ load -i "$BATS_TEST_TMPDIR/berth.tar"
  assert_success
  # podman names the images itself (localhost/…); the IDs and layers are what must agree
  local id layers
  id=$(berth image inspect -f '{{.Id}}' multi)
  layers=$(berth image inspect -f '{{json .RootFS.Layers}}' multi)
  run podman_ images --no-trunc --format '{{.ID}}'
  assert_line "$id"
  run podman_ image inspect --format '{{json .RootFS.Layers}}' "$id"
  assert_output "$layers"
  # and back, in both of podman's formats
  podman_ tag "$id" frompodman:1
  podman_ save --format docker-archive -o "$BATS_TEST_TMPDIR/p-docker.tar" frompodman:1
  podman_ save --format oci-archive -o "$BATS_TEST_TMPDIR/p-oci.tar" frompodman:1
  TEST_ROOT=$BATS_TEST_TMPDIR/root3
  run_berth load -i "$BATS_TEST_TMPDIR/p-docker.tar"
  assert_success
  assert_output_contains "Loaded image"
  run_berth image inspect -f '{{.Id}} {{json .RootFS.Layers}}' "${id#sha256:}"
  assert_output "$id $layers"
  TEST_ROOT=$BATS_TEST_TMPDIR/root4
  run_berth load -i "$BATS_TEST_TMPDIR/p-oci.tar"
  assert_success
  assert_output_contains "Loaded image"
  run_berth images --format '{{json .}}'
  assert_success
  run_berth image inspect -f '{{json .RootFS.Layers}}' "$(berth images -q | head -1)"
  assert_output "$layers"
}

teardown() {
  if command -v podman >/dev/null && [[ -d $BATS_TEST_TMPDIR/podman ]]; then
    podman_ system reset -f >/dev/null 2>&1 || true
  fi
  berth_teardown
}
