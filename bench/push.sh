#!/bin/bash
# bench/push.sh: `berth push` of the 300 MB, 4-layer image (bench/mkregimage) to an empty
# loopback registry, against `docker push` (private dockerd) and `podman push` when they can run.
# The seed's workflow: each engine pulls the image from a source registry first (so its layers
# are the registry's gzip blobs), tags it for the destination, and pushes; the destination's
# storage is wiped before every run (a fresh repository: every blob is uploaded).
#
#   bench/push.sh            (root; see bench/lib.sh for BERTH, BENCH_* variables)
#   BENCH_RUNS=5
# Target (issue 6): push <= 2 s.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/reglib.bash"
bench_init
trap 'rc=$?; bench_reg_cleanup; (exit $rc); bench_cleanup' EXIT
BENCH_RUNS=${BENCH_RUNS:-5}

bench_reg_start src
bench_reg_start dst
SRC=$REG_src/bench/reg:latest
DST=$REG_dst/bench/pushed:latest
bench_reg_image "$REG_src" bench/reg:latest
bench_start_peers

ROOT=$BENCH_WORK/berth-root
RUNROOT=$BENCH_WORK/berth-run
B=$(bench_quote "$BERTH" --root "$ROOT" --runroot "$RUNROOT")
wipe="rm -rf $(bench_quote "$REGDATA_dst")/docker"
$B pull -q "$SRC" >/dev/null && $B tag "$SRC" "$DST" || bench_die "berth could not pull $SRC"
cmds=("$B push $DST")
if [[ ${#DOCKER[@]} -gt 0 ]]; then
  if "${DOCKER[@]}" pull -q "$SRC" >/dev/null && "${DOCKER[@]}" tag "$SRC" "$DST"; then
    cmds+=("$(bench_quote "${DOCKER[@]}") push $DST")
  else
    bench_skip docker "docker pull $SRC failed"
  fi
fi
if [[ ${#PODMAN[@]} -gt 0 ]]; then
  if "${PODMAN[@]}" pull -q --tls-verify=false "$SRC" >/dev/null && "${PODMAN[@]}" tag "$SRC" "$DST"; then
    cmds+=("$(bench_quote "${PODMAN[@]}") push --tls-verify=false $DST")
  else
    bench_skip podman "podman pull $SRC failed"
  fi
fi
bench_hyperfine push "push: 300 MB, 4 layers (pulled from a registry) to an empty loopback registry" \
  --runs "$BENCH_RUNS" --warmup 1 --prepare "$wipe" "${cmds[@]}"
