#!/usr/bin/env bats
# berth compose logs, run, exec, top, port, images, build, pull, push: the tools that work on
# a project's containers (found by their com.docker.compose.* labels).

load helpers
load net-helpers
load ../registry/lib

teardown() {
  _kill_wait "${REG_SERVER_PIDS[@]}"
  berth_teardown
}

setup() {
  berth_setup
  load_busybox
  PROJ=$BATS_TEST_TMPDIR/demo
  mkdir -p "$PROJ"
  cd "$PROJ" || return 1
}

# compose ARGS...: berth compose in the project directory.
compose() {
  berth compose "$@"
}

write_compose() {
  cat >"$PROJ/compose.yaml"
}

basic_project() {
  write_compose <<EOF
services:
  web:
    image: $BUSYBOX
    command: ["sleep", "60"]
  db:
    image: $BUSYBOX
    command: ["sleep", "60"]
EOF
}

@test "compose logs: prefixes padded to the longest name, --tail, --no-log-prefix, services" {
  write_compose <<EOF
services:
  web:
    image: $BUSYBOX
    command: ["sh", "-c", "echo w1; echo w2; echo w3"]
  db:
    image: $BUSYBOX
    command: ["sh", "-c", "echo d1 >&2"]
EOF
  run_berth compose up -d
  assert_success
  berth wait demo-web-1 demo-db-1 >/dev/null
  run_berth compose logs --no-color
  assert_success
  assert_line "web-1  | w1"
  assert_line "web-1  | w3"
  assert_line "db-1   | d1"
  run_berth compose logs --tail 1 web
  assert_success
  assert_line "web-1  | w3"
  refute_output_contains "w2"
  refute_output_contains "d1"
  run_berth compose logs --no-log-prefix web
  assert_success
  assert_line "w1"
  run_berth compose logs -t web
  assert_output_matches "web-1  \| [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z w1"
  run_berth compose logs nosuch
  assert_failure
  assert_output_contains "no such service: nosuch"
  # Without a file, -p names the project and the labels say the rest.
  cd "$BATS_TEST_TMPDIR"
  run_berth compose logs --no-color
  assert_failure
  run_berth compose -p demo logs --no-color web
  assert_success
  assert_line "web-1  | w1"
}

@test "compose logs -f: follows until every container has stopped" {
  write_compose <<EOF
services:
  web:
    image: $BUSYBOX
    command: ["sh", "-c", "echo start; sleep 1; echo late"]
  db:
    image: $BUSYBOX
    command: ["sh", "-c", "echo db-start; sleep 2; echo db-late"]
EOF
  run_berth compose up -d
  assert_success
  run timeout 20 "$BERTH" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" compose logs -f --no-color
  assert_success
  assert_line "web-1  | late"
  assert_line "db-1   | db-late"
}

@test "compose exec: -T, -u, -w, -e, --index, not running" {
  write_compose <<EOF
services:
  web:
    image: $BUSYBOX
    command: ["sleep", "60"]
    scale: 2
EOF
  run_berth compose exec -T web true
  assert_failure
  assert_output_contains 'service "web" is not running'
  run_berth compose up -d
  assert_success
  run_berth compose exec -T web hostname
  assert_success
  local h1=$output
  run_berth compose exec -T --index 2 web hostname
  assert_success
  [[ $output != "$h1" ]] || fail "--index 2 ran in the first container"
  [[ $output == "$(berth inspect -f '{{.Config.Hostname}}' demo-web-2)" ]] || fail "not web-2: $output"
  run_berth compose exec -T -u 1234 -w /tmp -e FOO=bar web sh -c 'echo $(id -u) $(pwd) $FOO'
  assert_success
  assert_output "1234 /tmp bar"
  run_berth compose exec -T web sh -c 'exit 7'
  [[ $status -eq 7 ]] || fail "exit code $status"
  run_berth compose exec -T --index 3 web true
  assert_failure
  assert_output_contains 'service "web" is not running container #3'
  run_berth compose exec -T nosuch true
  assert_failure
  assert_output_contains "no such service: nosuch"
}

@test "compose top and port" {
  local hp
  hp=$(free_port)
  write_compose <<EOF
services:
  web:
    image: $BUSYBOX
    command: ["sleep", "60"]
    ports:
      - "127.0.0.1:$hp:80"
EOF
  run_berth compose up -d
  assert_success
  run_berth compose top
  assert_success
  assert_line "demo-web-1"
  assert_output_contains "PID"
  assert_output_contains "sleep 60"
  run_berth compose port web 80
  assert_success
  assert_output "127.0.0.1:$hp"
  run_berth compose port web 81
  assert_failure
  assert_output_contains "no port 81/tcp"
  run_berth compose port --protocol udp web 80
  assert_failure
}

@test "compose images: compose v2's columns" {
  basic_project
  run_berth compose up -d web
  assert_success
  run_berth compose images
  assert_success
  assert_output_matches "CONTAINER +REPOSITORY +TAG +IMAGE ID +SIZE"
  assert_output_matches "demo-web-1 +busybox +latest +[0-9a-f]{12} +[0-9.]+[kM]?B"
  run_berth compose images -q
  assert_output_matches "^sha256:[0-9a-f]{64}$"
}

@test "compose build: a service with build: becomes <project>-<service>" {
  mkdir -p "$PROJ/app"
  cat >"$PROJ/app/Dockerfile" <<EOF
FROM $BUSYBOX
ARG GREETING=hi
RUN echo "\$GREETING" >/greeting
EOF
  write_compose <<EOF
services:
  web:
    build:
      context: ./app
      args:
        GREETING: hello
  tagged:
    image: demo-custom:1
    build: ./app
  plain:
    image: $BUSYBOX
EOF
  run_berth compose build web
  assert_success
  run_berth run --rm demo-web cat /greeting
  assert_success
  assert_output "hello"
  run_berth image inspect demo-tagged
  assert_failure
  run_berth compose build --build-arg GREETING=bye
  assert_success
  run_berth run --rm demo-custom:1 cat /greeting
  assert_output "bye"
  run_berth compose build nosuch
  assert_failure
  assert_output_contains "no such service: nosuch"
  berth rmi demo-web demo-custom:1 >/dev/null
}

@test "compose push and pull: service images to and from a registry on 127.0.0.1" {
  REG_SERVER_PIDS=()
  start_registry plain
  berth tag "$BUSYBOX" "$REG/team/web:1"
  write_compose <<EOF
services:
  web:
    image: $REG/team/web:1
    command: ["sleep", "60"]
  local:
    build: .
EOF
  printf 'FROM %s\n' "$BUSYBOX" >"$PROJ/Dockerfile"
  run_berth compose push
  assert_success
  assert_output_contains "The push refers to repository [$REG/team/web]"
  assert_output_matches "1: digest: sha256:[0-9a-f]{64} size: [0-9]+"
  # The registry has it now, under the digest push printed.
  local digest
  digest=$(sed -n 's/^1: digest: \(sha256:[0-9a-f]*\) size.*/\1/p' <<<"$output")
  run curl -sf -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REG/v2/team/web/manifests/$digest"
  assert_output "200"
  berth rmi "$REG/team/web:1" >/dev/null
  # pull skips a service that is only built; the other comes back with the same digest.
  run_berth compose pull
  assert_success
  assert_output_contains "Status: Downloaded newer image for $REG/team/web:1"
  run_berth image inspect -f '{{json .RepoDigests}}' "$REG/team/web:1"
  assert_output "[\"$REG/team/web@$digest\"]"
  run_berth compose up -d --pull never web
  assert_success
  run_berth compose down
  assert_success
  # An image that is not in the registry: pull fails and says which.
  write_compose <<EOF
services:
  web:
    image: $REG/team/missing:1
EOF
  run_berth compose pull
  assert_failure
  assert_output_contains "team/missing"
}

@test "compose run: one-off container, --rm, exit code, -e, -u, -w, --entrypoint, labels" {
  write_compose <<EOF2
services:
  web:
    image: $BUSYBOX
    command: ["sleep", "60"]
    environment:
      FROM_FILE: yes
    ports:
      - "127.0.0.1:$(free_port):80"
EOF2
  run_berth compose run --no-deps -T web sh -c 'echo $FROM_FILE; exit 3'
  [[ $status -eq 3 ]] || fail "exit code $status: $output"
  assert_line "yes"
  # Kept without --rm, labelled as compose's one-off: <project>-<service>-run-<12hex>.
  run_berth ps -a --filter label=com.docker.compose.oneoff=True --format '{{.Names}}'
  assert_output_matches "^demo-web-run-[0-9a-f]{12}$"
  local name=$output
  run_berth inspect -f '{{index .Config.Labels "com.docker.compose.project"}} {{index .Config.Labels "com.docker.compose.service"}}' "$name"
  assert_output "demo web"
  # compose logs leaves one-offs out.
  run_berth compose logs
  refute_output_contains "yes"
  berth rm "$name" >/dev/null
  run_berth compose run --rm -T -e FOO=bar -e FROM_FILE=over -u 4321 -w /tmp web \
    sh -c 'echo $FOO $FROM_FILE $(id -u) $(pwd)'
  assert_success
  assert_line "bar over 4321 /tmp"
  run_berth ps -aq
  assert_output ""
  run_berth compose run --rm -T --entrypoint "echo from-entrypoint" web
  assert_success
  assert_line "from-entrypoint"
  run_berth compose run --rm -T --name custom-one -l extra=1 web sh -c 'hostname >/dev/null; echo ok'
  assert_success
  run_berth compose run --rm -T web nosuchcmd
  assert_failure
  run_berth compose run --rm -T nosuch true
  assert_failure
  assert_output_contains "no such service: nosuch"
  run_berth ps -aq
  assert_output ""
}

@test "compose run: ports only with --service-ports or -p" {
  local hp hp2
  hp=$(free_port)
  hp2=$(free_port)
  write_compose <<EOF2
services:
  web:
    image: $BUSYBOX
    command: ["sleep", "60"]
    ports:
      - "127.0.0.1:$hp:8080"
EOF2
  run_berth compose run -d --no-deps web /usr/bin/testhelper listen-tcp 8080
  assert_success
  local id=${lines[-1]}
  run_berth inspect -f '{{json .HostConfig.PortBindings}}' "$id"
  refute_output_contains "$hp"
  berth rm -f "$id" >/dev/null
  run_berth compose run -d --no-deps --service-ports web /usr/bin/testhelper listen-tcp 8080
  assert_success
  id=${lines[-1]}
  wait_for host_connect 127.0.0.1 "$hp"
  run host_connect 127.0.0.1 "$hp"
  assert_output_contains "hello from"
  berth rm -f "$id" >/dev/null
  run_berth compose run -d --no-deps -p "127.0.0.1:$hp2:8080" web /usr/bin/testhelper listen-tcp 8080
  assert_success
  id=${lines[-1]}
  wait_for host_connect 127.0.0.1 "$hp2"
  run host_connect 127.0.0.1 "$hp2"
  assert_output_contains "hello from"
  run_berth inspect -f '{{json .HostConfig.PortBindings}}' "$id"
  refute_output_contains "$hp\""
  berth rm -f "$id" >/dev/null
}

@test "compose run: dependencies are started first, not with --no-deps" {
  write_compose <<EOF2
services:
  app:
    image: $BUSYBOX
    command: ["true"]
    depends_on: [db]
  db:
    image: $BUSYBOX
    command: ["/usr/bin/testhelper", "listen-tcp", "6379"]
EOF2
  run_berth compose run --rm -T --no-deps app true
  assert_success
  run_berth ps -q
  assert_output ""
  run_berth compose run --rm -T app sh -c \
    'for i in 1 2 3 4 5 6 7 8 9 10; do /usr/bin/testhelper connect-tcp db 6379 && exit 0; sleep 0.3; done; exit 1'
  assert_success
  assert_output_contains "hello from"
  run_berth ps --format '{{.Names}}'
  assert_output "demo-db-1"
}
