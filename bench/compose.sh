#!/bin/bash
# bench/compose.sh: compose, berth side by side with Debian's docker-compose 1.29 on a private
# dockerd (when both are installed).
#
#   a 5-service project, images present, services that exit on SIGTERM:
#     up -d from nothing                     (target: berth median <= 150 ms)
#     up -d with everything up to date       (target: berth median <= 30 ms)
#     down                                   (target: berth median <= 100 ms)
#
# Environment as in bench/lib.sh.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init

FIXTURE=$BENCH_REPO/tests/fixtures/out/busybox.tar
if [[ ! -f $FIXTURE ]]; then
  "$BENCH_REPO/tests/fixtures/mkimages" "$BENCH_REPO/tests/fixtures/out" >&2
fi

# Only docker is a peer here (podman has no compose of its own in Debian 12).
BENCH_PEERS=${BENCH_PEERS//podman/}
bench_start_peers
if [[ ${#DOCKER[@]} -gt 0 ]] && ! command -v docker-compose >/dev/null; then
  if [[ ${BENCH_INSTALL:-0} == 1 ]]; then
    apt-get install -y docker-compose >&2 || true
  fi
  if ! command -v docker-compose >/dev/null; then
    DOCKER=()
    bench_skip docker-compose "not installed (apt-get install docker-compose)"
  fi
fi

ROOT=$BENCH_WORK/berth-root
RUNROOT=$(mktemp -d /tmp/berth-bench-compose.XXXXXX)
SFX=${RUNROOT##*.}
# A bridge, subnet and nft table of the benchmark's own.
CONF=$RUNROOT.json
printf '{"bridge-name": "bb%s", "bridge-subnet": "10.253.%d.0/24", "network-pool": "10.254.0.0/16", "nft-table": "berth_bench_%s"}\n' \
  "${SFX:0:6}" $((RANDOM % 250)) "$SFX" >"$CONF"
export BERTH_CONFIG=$CONF
BERTH_CMD=("$BERTH" --root "$ROOT" --runroot "$RUNROOT")
PROJ=$BENCH_WORK/proj
cleanup_compose() {
  (cd "$PROJ" 2>/dev/null && "${BERTH_CMD[@]}" compose down -v -t 0 >/dev/null 2>&1) || true
  if [[ ${#DOCKER[@]} -gt 0 ]]; then
    (cd "$PROJ" 2>/dev/null && DOCKER_HOST=${DOCKER[2]} docker-compose -p dc down -v -t 0 \
      >/dev/null 2>&1) || true
  fi
  ip link del "bb${SFX:0:6}" 2>/dev/null || true
  nft delete table ip "berth_bench_$SFX" 2>/dev/null || true
  rm -rf "$RUNROOT" "$CONF"
}
trap 'cleanup_compose; bench_cleanup' EXIT

"${BERTH_CMD[@]}" load -i "$FIXTURE" >/dev/null
if [[ ${#DOCKER[@]} -gt 0 ]] && ! "${DOCKER[@]}" load -i "$FIXTURE" >/dev/null; then
  DOCKER=()
  bench_skip docker "docker load failed"
fi

mkdir -p "$PROJ"
{
  echo "services:"
  for s in web api worker cache db; do
    cat <<EOF
  $s:
    image: busybox:latest
    command: ["/usr/bin/testhelper", "trap"]
EOF
  done
  echo "    volumes: [\"data:/data\"]"
  echo "volumes:"
  echo "  data: {}"
} >"$PROJ/compose.yaml"
# web depends on the others, as an application would.
sed -i 's|^  web:|  web:\n    depends_on: [api, worker, cache, db]|' "$PROJ/compose.yaml"
cd "$PROJ"

b_up=$(bench_quote "${BERTH_CMD[@]}" compose up -d)
b_down=$(bench_quote "${BERTH_CMD[@]}" compose down)
up=("$b_up")
noop=("$b_up")
down=("$b_down")
up_prep=(--prepare "$b_down")
# The services need a moment after start to install their SIGTERM handling (as PID 1 they
# ignore it until then): a down racing that would measure the 10 s timeout instead.
down_prep=(--prepare "bash -c $(printf '%q' "$b_up && sleep 0.3")")
if [[ ${#DOCKER[@]} -gt 0 ]]; then
  dc="env DOCKER_HOST=${DOCKER[2]} docker-compose -p dc"
  up+=("$dc up -d")
  noop+=("$dc up -d")
  down+=("$dc down")
  up_prep+=(--prepare "$dc down")
  down_prep+=(--prepare "bash -c $(printf '%q' "$dc up -d && sleep 0.3")")
  bench_note "docker-compose: $(docker-compose version --short 2>/dev/null)"
fi

bench_hyperfine compose-up "compose up -d of 5 services (from nothing)" -N --warmup 1 \
  --min-runs 10 "${up_prep[@]}" "${up[@]}"
# the no-op: everything is up and current
for c in "${up[@]}"; do bash -c "$c" >/dev/null 2>&1; done
bench_hyperfine compose-noop "compose up -d, nothing to do" -N --warmup 2 --min-runs 20 "${noop[@]}"
bench_hyperfine compose-down "compose down of 5 services (they exit on SIGTERM)" -N --warmup 1 \
  --min-runs 10 "${down_prep[@]}" "${down[@]}"
for c in "${down[@]}"; do bash -c "$c" >/dev/null 2>&1; done

if [[ $BENCH_OWN_RESULTS == 1 ]]; then
  cat "$BENCH_RESULTS/report.md"
fi
