#!/usr/bin/env bats
# berth import: a rootfs tarball (file, stdin, URL) becomes a one-layer image.

load helpers

make_rootfs() {
  mkdir -p "$BATS_TEST_TMPDIR/rootfs/etc" "$BATS_TEST_TMPDIR/rootfs/bin"
  echo "imported" >"$BATS_TEST_TMPDIR/rootfs/etc/hello"
  tar -C "$BATS_TEST_TMPDIR/rootfs" -czf "$BATS_TEST_TMPDIR/rootfs.tar.gz" .
}

@test "import a file with a tag, --change and --message" {
  make_rootfs
  run_berth import -c 'CMD ["/bin/sh", "-c", "cat /etc/hello"]' -c 'ENV A=1 B=two' \
    -c 'EXPOSE 8080' -c 'LABEL k=v' -c 'WORKDIR /srv' -c 'USER 1000' -m "my import" \
    "$BATS_TEST_TMPDIR/rootfs.tar.gz" imported:v1
  assert_success
  assert_output_matches '^sha256:[0-9a-f]{64}$'
  local id=$output
  run_berth image inspect imported:v1
  assert_success
  echo "$output" | jq -e --arg id "$id" '.[0].Id == $id
    and .[0].Config.Cmd == ["/bin/sh", "-c", "cat /etc/hello"]
    and .[0].Config.Env == ["A=1", "B=two"]
    and .[0].Config.ExposedPorts == {"8080/tcp": {}}
    and .[0].Config.Labels == {"k": "v"}
    and .[0].Config.WorkingDir == "/srv" and .[0].Config.User == "1000"
    and .[0].Comment == "my import" and (.[0].RootFS.Layers | length) == 1'
  local l
  l=$(berth image inspect -f '{{index .RootFS.Layers 0}}' imported:v1)
  [ "$(cat "$TEST_ROOT/layers/${l#sha256:}/diff/etc/hello")" = imported ]
  run_berth history imported:v1
  assert_output_contains "my import"
}

@test "import from stdin without a name gives a dangling image" {
  make_rootfs
  run_berth import - <"$BATS_TEST_TMPDIR/rootfs.tar.gz"
  assert_success
  run_berth images --format '{{.Repository}}:{{.Tag}}'
  assert_output "<none>:<none>"
  run_berth history --format '{{.Comment}}' "$(berth images -q)"
  assert_output "Imported from -"
}

@test "import from an http URL on 127.0.0.1" {
  require_tool python3
  make_rootfs
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$BATS_TEST_TMPDIR" && exec python3 -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1) &
  local pid=$!
  wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
  run_berth import "http://127.0.0.1:$port/rootfs.tar.gz" web:1
  local rc=$status
  run_berth -1 import "http://127.0.0.1:$port/missing.tar" web:2
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  [ "$rc" -eq 0 ]
  assert_output_contains "404"
  run_berth images --format '{{.Repository}}:{{.Tag}}'
  assert_output "web:1"
}

@test "import errors: bad change, not a tar, bad name, missing file" {
  make_rootfs
  run_berth -1 import -c 'RUN echo hi' "$BATS_TEST_TMPDIR/rootfs.tar.gz" x:1
  assert_output_contains "RUN is not a valid change command"
  echo "not a tarball" >"$BATS_TEST_TMPDIR/junk"
  run_berth -1 import "$BATS_TEST_TMPDIR/junk" x:1
  run_berth -1 import "$BATS_TEST_TMPDIR/rootfs.tar.gz" Bad/Name
  assert_output_contains "must be lowercase"
  run_berth -1 import "$BATS_TEST_TMPDIR/nope.tar" x:1
  run_berth images -q
  assert_output ""
  [ -z "$(ls -A "$TEST_ROOT/layers")" ]
}
