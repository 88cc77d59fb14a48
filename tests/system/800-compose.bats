#!/usr/bin/env bats
# berth compose: the project lifecycle (up, down, ps, ls, scale, recreate, profiles,
# depends_on conditions) with the seed's compose file made offline: `web` built from a
# Dockerfile on busybox, `redis` a busybox TCP server.

load helpers
load net-helpers

setup() {
  berth_setup
  load_busybox
  APP=$BATS_TEST_TMPDIR/app
  mkdir -p "$APP"
  cd "$APP" || return 1
}

teardown() {
  cd / || true
  berth_teardown
}

# The seed's compose file: web from . publishing a port, mounting . and a named log volume,
# linked to redis.
write_seed() {
  WEB_PORT=$(free_port)
  cat >Dockerfile <<'EOF'
FROM busybox:latest
RUN echo built > /built
CMD ["/usr/bin/testhelper", "listen-tcp", "5000"]
EOF
  cat >.env <<EOF
WEB_PORT=$WEB_PORT
GREETING=from-dotenv
EOF
  cat >compose.yaml <<'EOF'
version: "3.9"
services:
  web:
    build: .
    ports:
      - "127.0.0.1:${WEB_PORT}:5000"
    volumes:
      - .:/code
      - logvolume01:/var/log
    environment:
      GREETING: ${GREETING}
    links:
      - redis:cache
    depends_on:
      - redis
  redis:
    image: busybox:latest
    command: ["/usr/bin/testhelper", "listen-tcp", "6379"]
volumes:
  logvolume01: {}
EOF
}

# nothing_created: no containers, no networks but the predefined ones, no volumes.
nothing_created() {
  run_berth ps -aq
  assert_output ""
  run_berth network ls --format '{{.Name}}'
  assert_output "$(printf 'bridge\nhost\nnone')"
  run_berth volume ls -q
  assert_output ""
}

cid() { berth inspect -f '{{.Id}}' "$1"; }

@test "compose up: the seed's file comes up; port, names, link alias, volume, .env" {
  write_seed
  run_berth compose up -d
  assert_success
  assert_output_contains "Network app_default  Created"
  assert_output_contains "Volume app_logvolume01  Created"
  assert_output_contains "Container app-web-1  Started"
  run host_connect 127.0.0.1 "$WEB_PORT"
  assert_output_contains "hello from"
  run_berth exec app-web-1 $TH connect-tcp redis 6379
  assert_output_contains "hello from"
  run_berth exec app-web-1 $TH connect-tcp cache 6379
  assert_output_contains "hello from"
  run_berth exec app-web-1 sh -c 'echo "$GREETING"; cat /built; ls /code'
  assert_output_contains "from-dotenv"
  assert_output_contains "built"
  assert_output_contains "compose.yaml"
  run_berth inspect -f '{{index .Config.Labels "com.docker.compose.project"}} {{index .Config.Labels "com.docker.compose.service"}} {{index .Config.Labels "com.docker.compose.container-number"}}' app-web-1
  assert_output "app web 1"
  run_berth exec app-web-1 sh -c 'echo kept > /var/log/data'
  assert_success
  run_berth compose down
  assert_success
  assert_output_contains "Container app-web-1  Removed"
  assert_output_contains "Network app_default  Removed"
  run_berth ps -aq
  assert_output ""
  run_berth volume ls -q
  assert_output "app_logvolume01"
  run_berth compose up -d
  assert_success
  refute_output_contains "Building"
  run_berth exec app-web-1 cat /var/log/data
  assert_output "kept"
  run_berth compose down -v
  assert_success
  assert_output_contains "Volume app_logvolume01  Removed"
  nothing_created
}

@test "compose up: only the service whose configuration changed is recreated" {
  write_seed
  run_berth compose up -d
  assert_success
  local web redis
  web=$(cid app-web-1)
  redis=$(cid app-redis-1)
  run_berth compose up -d
  assert_output_contains "Container app-web-1  Running"
  assert_equal "$(cid app-web-1)" "$web"
  GREETING=changed run_berth compose up -d
  assert_success
  assert_output_contains "Container app-web-1  Recreate"
  assert_output_contains "Container app-web-1  Recreated"
  assert_output_contains "Container app-redis-1  Running"
  assert_equal "$(cid app-redis-1)" "$redis"
  [[ $(cid app-web-1) != "$web" ]]
  run_berth exec app-web-1 sh -c 'echo "$GREETING"'
  assert_output "changed"
  run_berth compose up -d --force-recreate redis
  assert_output_contains "Container app-redis-1  Recreated"
  [[ $(cid app-redis-1) != "$redis" ]]
  run_berth compose down -v
  nothing_created
}

@test "compose up --scale, ps, ls, stop/start/restart, rm" {
  cat >compose.yaml <<'EOF'
services:
  worker:
    image: busybox:latest
    command: ["/usr/bin/testhelper", "sleep", "300"]
    stop_signal: SIGKILL
EOF
  run_berth compose up -d --scale worker=3
  assert_success
  run_berth compose ps --format '{{.Name}} {{.Service}} {{.State}}'
  assert_output "$(printf 'app-worker-1 worker running\napp-worker-2 worker running\napp-worker-3 worker running')"
  run_berth compose ps
  [[ ${lines[0]} =~ ^NAME\ +IMAGE\ +COMMAND\ +SERVICE\ +CREATED\ +STATUS\ +PORTS$ ]]
  run_berth compose ps --services
  assert_output "worker"
  run_berth compose ps --format json
  assert_output_contains '"Name":"app-worker-2"'
  run_berth compose ls
  assert_output_contains "running(3)"
  run_berth compose up -d --scale worker=1
  assert_output_contains "Container app-worker-3  Removed"
  assert_output_contains "Container app-worker-2  Removed"
  run_berth compose ps -q
  assert_equal "${#lines[@]}" 1
  run_berth compose stop
  assert_output_contains "Container app-worker-1  Stopped"
  run_berth compose ls
  assert_output "NAME      STATUS    CONFIG FILES"
  run_berth compose ls -a
  assert_output_contains "exited(1)"
  run_berth compose ps -a --format '{{.State}}'
  assert_output "exited"
  run_berth compose start
  assert_output_contains "Container app-worker-1  Started"
  run_berth compose restart
  assert_success
  run_berth compose ps --format '{{.State}}'
  assert_output "running"
  run_berth compose rm -f
  run_berth compose ps -q
  assert_equal "${#lines[@]}" 1
  run_berth compose rm -s -f
  assert_output_contains "Container app-worker-1  Removed"
  # Without a file: -p finds the project from its labels.
  run_berth compose up -d
  cd / || return 1
  run_berth compose -p app down
  assert_output_contains "Container app-worker-1  Removed"
  nothing_created
}

@test "compose profiles: services of inactive profiles stay down" {
  cat >compose.yaml <<'EOF'
services:
  main:
    image: busybox:latest
    command: ["/usr/bin/testhelper", "sleep", "300"]
    stop_signal: SIGKILL
  debug:
    image: busybox:latest
    command: ["/usr/bin/testhelper", "sleep", "300"]
    stop_signal: SIGKILL
    profiles: [debug]
EOF
  run_berth compose up -d
  run_berth compose ps --services
  assert_output "main"
  run_berth compose --profile debug up -d
  assert_success
  run_berth compose ps --format '{{.Service}}'
  assert_output "$(printf 'debug\nmain')"
  # The disabled service's container is not an orphan.
  run_berth compose up -d
  refute_output_contains "orphan"
  run_berth compose --profile debug down
  nothing_created
}

@test "compose depends_on: service_healthy waits for the healthcheck, completed_successfully for exit 0" {
  cat >compose.yaml <<'EOF'
services:
  db:
    image: busybox:latest
    command: ["sh", "-c", "sleep 1; touch /ready; exec /usr/bin/testhelper listen-tcp 6379"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "test", "-f", "/ready"]
      interval: 250ms
      retries: 20
  app:
    image: busybox:latest
    command: ["sh", "-c", "/usr/bin/testhelper connect-tcp db 6379 </dev/null; exec sleep 300"]
    stop_signal: SIGKILL
    depends_on:
      db:
        condition: service_healthy
EOF
  run_berth compose up -d
  assert_success
  assert_output_contains "Container app-db-1  Healthy"
  run_berth inspect -f '{{.State.Health.Status}}' app-db-1
  assert_output "healthy"
  # app connected at its start: db was already listening.
  sleep 0.5
  run_berth logs app-app-1
  assert_output_contains "hello from"
  run_berth compose down
  nothing_created

  cat >compose.yaml <<'EOF'
services:
  init:
    image: busybox:latest
    command: ["sh", "-c", "exit 3"]
  app:
    image: busybox:latest
    command: ["sleep", "300"]
    depends_on:
      init:
        condition: service_completed_successfully
EOF
  run_berth compose up -d
  assert_failure
  assert_output_contains "service init didn't complete successfully: exit 3"
  run_berth ps -a --format '{{.Names}}'
  assert_output "app-init-1"
  run_berth compose down
  nothing_created
}

@test "compose: two projects side by side stay isolated" {
  cat >compose.yaml <<'EOF'
services:
  srv:
    image: busybox:latest
    command: ["/usr/bin/testhelper", "listen-tcp", "7000"]
    stop_signal: SIGKILL
  cli:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
EOF
  run_berth compose -p one up -d
  assert_success
  run_berth compose -p two up -d
  assert_success
  run_berth compose ls --format '{{.Name}}'
  assert_output "$(printf 'one\ntwo')"
  local ip1 ip2
  ip1=$(berth inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' one-srv-1)
  ip2=$(berth inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' two-srv-1)
  run_berth exec one-cli-1 $TH resolve srv
  assert_output_contains "$ip1"
  refute_output_contains "$ip2"
  run_berth exec two-cli-1 $TH resolve srv
  assert_output_contains "$ip2"
  # The other project's containers are not reachable from here.
  run_berth exec one-cli-1 timeout 3 $TH connect-tcp "$ip2" 7000
  refute_output_contains "hello from"
  run_berth compose -p one down
  assert_success
  run_berth compose -p two ps --format '{{.Name}}'
  assert_output "$(printf 'two-cli-1\ntwo-srv-1')"
  run_berth compose -p two down
  nothing_created
}

@test "compose: bad files are rejected before anything is created" {
  printf 'services:\n  web:\n    image: busybox:latest\n   bad: [\n' >compose.yaml
  run_berth compose up -d
  assert_failure
  assert_output_matches "line [0-9]+|:[0-9]+:"
  nothing_created

  printf 'services:\n  web:\n    image: busybox:latest\n    colour: red\n' >compose.yaml
  run_berth compose up -d
  assert_failure
  assert_output_contains "colour"
  nothing_created

  cat >compose.yaml <<'EOF'
services:
  a:
    image: busybox:latest
    depends_on: [b]
  b:
    image: busybox:latest
    depends_on: [a]
EOF
  run_berth compose up -d
  assert_failure
  assert_output_contains "cycle"
  nothing_created

  cat >compose.yaml <<'EOF'
services:
  a:
    image: busybox:latest
    ports: ["18123:80"]
  b:
    image: busybox:latest
    ports: ["18123:81"]
EOF
  run_berth compose up -d
  assert_failure
  assert_output_contains "18123"
  nothing_created

  cat >compose.yaml <<'EOF'
services:
  a:
    image: busybox:latest
  b:
    image: no-such-image-here:1.0
volumes:
  data: {}
EOF
  run_berth compose up -d --pull never
  assert_failure
  assert_output_contains "No such image: no-such-image-here:1.0"
  nothing_created
  # A pull that fails (a registry that refuses connections) leaves nothing either.
  sed -i 's|no-such-image-here:1.0|127.0.0.1:1/nope:1.0|' compose.yaml
  run_berth compose up -d
  assert_failure
  assert_output_contains "127.0.0.1:1/nope:1.0"
  nothing_created
}

@test "compose up attached: logs with prefixes, --exit-code-from, --abort-on-container-exit" {
  cat >compose.yaml <<'EOF'
services:
  job:
    image: busybox:latest
    command: ["sh", "-c", "echo job-says-hi; sleep 1; exit 4"]
  side:
    image: busybox:latest
    command: ["sh", "-c", "echo side-says-hi; exec sleep 300"]
    stop_signal: SIGKILL
EOF
  run_berth compose up --exit-code-from job
  [[ $status -eq 4 ]]
  assert_output_matches "job-1 +\\| job-says-hi"
  assert_output_contains "side-1  | side-says-hi"
  assert_output_contains "Aborting on container exit..."
  run_berth compose ps -a --format '{{.Name}} {{.State}}'
  assert_output "$(printf 'app-job-1 exited\napp-side-1 exited')"
  run_berth compose down
  nothing_created
}

@test "compose up: orphans are reported, and removed with --remove-orphans" {
  cat >compose.yaml <<'EOF'
services:
  a:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
  b:
    image: busybox:latest
    command: ["sleep", "300"]
    stop_signal: SIGKILL
EOF
  run_berth compose up -d
  sed -i '/^  b:/,$d' compose.yaml
  run_berth compose up -d
  assert_output_contains "Found orphan containers ([app-b-1])"
  run_berth compose up -d --remove-orphans
  assert_output_contains "Container app-b-1  Removed"
  run_berth compose down
  nothing_created
}

@test "compose down: containers that ignore SIGTERM are stopped in parallel" {
  cat >compose.yaml <<'EOF2'
services:
  a:
    image: busybox:latest
    command: ["/usr/bin/testhelper", "sleep", "300"]
    stop_grace_period: 2s
  b:
    image: busybox:latest
    command: ["/usr/bin/testhelper", "sleep", "300"]
    stop_grace_period: 2s
  c:
    image: busybox:latest
    command: ["/usr/bin/testhelper", "sleep", "300"]
    stop_grace_period: 2s
    depends_on: [a]
  d:
    image: busybox:latest
    command: ["/usr/bin/testhelper", "sleep", "300"]
    stop_grace_period: 2s
    depends_on: [a]
EOF2
  run_berth compose up -d
  assert_success
  # testhelper sleep ignores SIGTERM as PID 1: each container waits its 2 s grace period.
  # Two dependency levels (c, d then a, b), each stopped in parallel: about 4 s, not 8.
  local start=$SECONDS
  run_berth compose down
  assert_success
  local took=$((SECONDS - start))
  echo "down took ${took}s"
  [[ $took -lt 7 ]]
  nothing_created
}
