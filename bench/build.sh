#!/bin/bash
# bench/build.sh: docker build, berth side by side with docker (legacy builder and BuildKit when
# the daemon offers it) and podman (buildah).
#
#   the reference Dockerfile (FROM busybox; ARG; ENV; WORKDIR; COPY of 20 files of 100 kB; two
#   RUNs; LABEL; EXPOSE; CMD):
#     cold build, --no-cache                  (target: berth median <= 150 ms)
#     fully cached rebuild                    (target: berth median <= 15 ms)
#   COPY . of a 1 GB context of 10,000 files, --no-cache   (target: >= 3x faster than docker)
#
# Environment as in bench/lib.sh; BENCH_BIG_MB (default 1000) sizes the big context.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init

FIXTURE=$BENCH_REPO/tests/fixtures/out/busybox.tar
if [[ ! -f $FIXTURE ]]; then
  "$BENCH_REPO/tests/fixtures/mkimages" "$BENCH_REPO/tests/fixtures/out" >&2
fi
BIG_MB=${BENCH_BIG_MB:-1000}

bench_start_peers

ROOT=$BENCH_WORK/berth-root
RUNROOT=$(mktemp -d /tmp/berth-bench-build.XXXXXX)
BERTH_CMD=("$BERTH" --root "$ROOT" --runroot "$RUNROOT")
cleanup_build() {
  local ids
  ids=$("${BERTH_CMD[@]}" ps -aq 2>/dev/null) || true
  # shellcheck disable=SC2086
  [[ -z $ids ]] || "${BERTH_CMD[@]}" rm -f $ids >/dev/null 2>&1 || true
  rm -rf "$RUNROOT"
}
trap 'cleanup_build; bench_cleanup' EXIT

"${BERTH_CMD[@]}" load -i "$FIXTURE" >/dev/null
if [[ ${#DOCKER[@]} -gt 0 ]] && ! "${DOCKER[@]}" load -i "$FIXTURE" >/dev/null; then
  DOCKER=()
  bench_skip docker "docker load failed"
fi
if [[ ${#PODMAN[@]} -gt 0 ]] && ! "${PODMAN[@]}" load -i "$FIXTURE" >/dev/null 2>&1; then
  PODMAN=()
  bench_skip podman "podman load failed"
fi

# ---- the reference context ----
REF=$BENCH_WORK/ref
mkdir -p "$REF/files"
for i in $(seq -w 1 20); do
  head -c 100000 /dev/urandom >"$REF/files/f$i.bin"
done
cat >"$REF/Dockerfile" <<'EOF'
FROM busybox
ARG VERSION=1.0
ENV APP_HOME=/app VERSION=$VERSION
WORKDIR /app
COPY files/ /app/files/
RUN ls /app/files | wc -l > /app/count
RUN echo "built $VERSION" > /app/version
LABEL org.example.version=$VERSION
EXPOSE 8080
CMD ["sh", "-c", "cat /app/version"]
EOF

# Network none for RUN in every tool: the peers have no bridge here (--bridge none).
cold=("$(bench_quote "${BERTH_CMD[@]}" build -q --no-cache --network none -t ref "$REF")")
cached=("$(bench_quote "${BERTH_CMD[@]}" build -q --network none -t ref "$REF")")
if [[ ${#DOCKER[@]} -gt 0 ]]; then
  cold+=("env DOCKER_BUILDKIT=0 $(bench_quote "${DOCKER[@]}" build -q --no-cache --network none -t ref "$REF")")
  cached+=("env DOCKER_BUILDKIT=0 $(bench_quote "${DOCKER[@]}" build -q --network none -t ref "$REF")")
  if DOCKER_BUILDKIT=1 "${DOCKER[@]}" build -q --network none -t refbk "$REF" >/dev/null 2>&1; then
    cold+=("env DOCKER_BUILDKIT=1 $(bench_quote "${DOCKER[@]}" build -q --no-cache --network none -t refbk "$REF")")
    cached+=("env DOCKER_BUILDKIT=1 $(bench_quote "${DOCKER[@]}" build -q --network none -t refbk "$REF")")
  else
    bench_skip "docker BuildKit" "the daemon's BuildKit did not build offline"
  fi
fi
if [[ ${#PODMAN[@]} -gt 0 ]]; then
  if "${PODMAN[@]}" build -q --network none --runtime runc -t ref "$REF" >/dev/null 2>&1; then
    cold+=("$(bench_quote "${PODMAN[@]}" build -q --no-cache --network none --runtime runc -t ref "$REF")")
    cached+=("$(bench_quote "${PODMAN[@]}" build -q --network none --runtime runc -t ref "$REF")")
  else
    bench_skip "podman build" "podman build failed on this host"
  fi
fi
# warm every cache once
for c in "${cached[@]}"; do bash -c "$c" >/dev/null; done
bench_hyperfine build-cold "build --no-cache of the reference Dockerfile" -N --warmup 2 --min-runs 10 \
  "${cold[@]}"
bench_hyperfine build-cached "build of the reference Dockerfile, everything cached" -N --warmup 3 \
  --min-runs 20 "${cached[@]}"

# ---- COPY of a big context ----
BIG=$BENCH_CACHE/build-context-${BIG_MB}mb
if [[ ! -f $BIG/.done ]]; then
  rm -rf "$BIG"
  mkdir -p "$BIG"
  per=$((BIG_MB * 1000 * 1000 / 10000))
  for d in $(seq 0 99); do
    mkdir -p "$BIG/d$d"
    for f in $(seq 0 99); do
      head -c "$per" /dev/urandom >"$BIG/d$d/f$f"
    done
  done
  printf 'FROM busybox\nCOPY . /data\n' >"$BIG/Dockerfile"
  touch "$BIG/.done"
fi
printf '.done\n' >"$BIG/.dockerignore"
big=("$(bench_quote "${BERTH_CMD[@]}" build -q --no-cache -t big "$BIG")")
[[ ${#DOCKER[@]} -gt 0 ]] && big+=("env DOCKER_BUILDKIT=0 $(bench_quote "${DOCKER[@]}" build -q --no-cache -t big "$BIG")")
bench_hyperfine build-big "build --no-cache: COPY . of ${BIG_MB} MB in 10,000 files" -N --warmup 1 \
  --min-runs 3 --prepare "sync" "${big[@]}"
"${BERTH_CMD[@]}" rmi big >/dev/null 2>&1 || true
[[ ${#DOCKER[@]} -gt 0 ]] && "${DOCKER[@]}" rmi big >/dev/null 2>&1 || true
