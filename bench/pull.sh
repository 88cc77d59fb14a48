#!/bin/bash
# bench/pull.sh: `berth pull` of a 300 MB, 4-layer image (bench/mkregimage: two 150 MB random
# layers, text, 3,000 small files; gzip layers) from docker-registry on loopback, against
# `docker pull` (private dockerd), `podman pull` (private storage) and `skopeo copy` to an OCI
# directory (no unpack) when they can run here.
#
#   bench/pull.sh            (root; see bench/lib.sh for BERTH, BENCH_* variables)
#   BENCH_RUNS=5             runs per command
#
# Two measurements: cold (the image and its layers removed before each run: berth's store is
# wiped, docker/podman rmi the image — no other image shares its layers), and the re-pull of an
# image that is present (the registry is asked, nothing is downloaded).
# Targets (issue 6): cold pull <= 1.0 s, re-pull <= 50 ms.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/reglib.bash"
bench_init
trap 'rc=$?; bench_reg_cleanup; (exit $rc); bench_cleanup' EXIT
BENCH_RUNS=${BENCH_RUNS:-5}

bench_reg_start src
REF=$REG_src/bench/reg:latest
bench_reg_image "$REG_src" bench/reg:latest
bench_start_peers

ROOT=$BENCH_WORK/berth-root
RUNROOT=$BENCH_WORK/berth-run
OCI=$BENCH_WORK/skopeo-oci
B=$(bench_quote "$BERTH" --root "$ROOT" --runroot "$RUNROOT")
cmds=("$B pull -q $REF")
# The previous run's store is moved aside, not deleted: ext4 allocates new inodes slowly for a
# while after many were freed (recently_deleted), which would charge the deletion to the next
# pull. Every prepare ends with sync, so no run pays for the previous one's writeback.
OLD=$BENCH_WORK/berth-old
mkdir -p "$OLD"
preps=("o=\$(mktemp -d $(bench_quote "$OLD")/XXXXXX) && mv $(bench_quote "$ROOT" "$RUNROOT") \$o/ 2>/dev/null; sync")
warm=("$B pull -q $REF")
if [[ ${#DOCKER[@]} -gt 0 ]]; then
  cmds+=("$(bench_quote "${DOCKER[@]}") pull -q $REF")
  preps+=("$(bench_quote "${DOCKER[@]}") rmi -f $REF >/dev/null 2>&1; sync")
  warm+=("$(bench_quote "${DOCKER[@]}") pull -q $REF")
fi
if [[ ${#PODMAN[@]} -gt 0 ]]; then
  cmds+=("$(bench_quote "${PODMAN[@]}") pull -q --tls-verify=false $REF")
  preps+=("$(bench_quote "${PODMAN[@]}") rmi -f $REF >/dev/null 2>&1; sync")
  warm+=("$(bench_quote "${PODMAN[@]}") pull -q --tls-verify=false $REF")
fi
if command -v skopeo >/dev/null; then
  cmds+=("skopeo copy -q --src-tls-verify=false docker://$REF oci:$OCI:latest")
  preps+=("rm -rf $(bench_quote "$OCI"); sync")
else
  bench_skip skopeo "not installed"
fi

args=(--runs "$BENCH_RUNS" --warmup 1)
for i in "${!cmds[@]}"; do args+=(--prepare "${preps[$i]}"); done
bench_hyperfine pull-cold "pull: 300 MB, 4 gzip layers from a loopback registry, image and layers absent" \
  "${args[@]}" "${cmds[@]}"

# present: pulled once (the last cold run left it), then pulled again
bench_hyperfine pull-present "pull: the same image again, already present (up to date)" \
  --runs $((BENCH_RUNS * 4)) --warmup 2 "${warm[@]}"
