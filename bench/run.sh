#!/bin/bash
# bench/run.sh: container start-up and supervision, berth side by side with docker and podman.
#
#   run --rm --network none busybox true      (target: median <= 10 ms)
#   run --rm --gpus all, fake NVIDIA driver (tests/fixtures/fake-nvidia.sh) through a CDI spec
#   and through the spec berth generates from the driver, against the same run without --gpus
#   (target: --gpus all adds <= 5 ms)
#   exec <running container> true             (target: median <= 10 ms)
#   100 detached containers: wall time to start them (target <= 2 s), monitor memory per
#   container from /proc/<pid>/smaps_rollup (target <= 1 MiB PSS, <= 2 MiB RSS), and
#   `ps` with 100 containers (target <= 20 ms).
#
# Environment as in bench/lib.sh; BENCH_DETACHED (default 100).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init

N=${BENCH_DETACHED:-100}
FIXTURE=$BENCH_REPO/tests/fixtures/out/busybox.tar
if [[ ! -f $FIXTURE ]]; then
  "$BENCH_REPO/tests/fixtures/mkimages" "$BENCH_REPO/tests/fixtures/out" >&2
fi

bench_start_peers

ROOT=$BENCH_WORK/berth-root
RUNROOT=$(mktemp -d /tmp/berth-bench-run.XXXXXX)
BERTH_CMD=("$BERTH" --root "$ROOT" --runroot "$RUNROOT")
cleanup_run() {
  local ids p
  ids=$("${BERTH_CMD[@]}" ps -aq 2>/dev/null) || true
  # shellcheck disable=SC2086
  [[ -z $ids ]] || "${BERTH_CMD[@]}" rm -f $ids >/dev/null 2>&1 || true
  # whatever berth could not remove (a failed run): monitors and their containers
  for p in $(pgrep -f "berth-monitor .*--exit-file $RUNROOT/"); do
    pkill -9 -P "$p" 2>/dev/null || true
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$RUNROOT"
}
trap 'cleanup_run; bench_cleanup' EXIT

"${BERTH_CMD[@]}" load -i "$FIXTURE" >/dev/null
# podman on this hybrid-cgroup host needs runc (crun refuses hybrid) and explicit ulimits (its
# defaults ask for an NPROC/NOFILE hard limit the host's bounding set cannot grant).
PODMAN_RUN=()
if [[ ${#DOCKER[@]} -gt 0 ]] && ! "${DOCKER[@]}" load -i "$FIXTURE" >/dev/null; then
  DOCKER=()
  bench_skip docker "docker load failed"
fi
if [[ ${#PODMAN[@]} -gt 0 ]]; then
  if "${PODMAN[@]}" load -i "$FIXTURE" >/dev/null 2>&1; then
    PODMAN_RUN=("${PODMAN[@]}" run --runtime runc --ulimit nproc=1024:1024 --ulimit nofile=1024:1024)
    if ! "${PODMAN_RUN[@]}" --rm --network none busybox true >/dev/null 2>&1; then
      PODMAN_RUN=()
      bench_skip podman "podman run fails on this host even with --runtime runc and explicit ulimits"
    fi
  else
    bench_skip podman "podman load failed"
  fi
fi

# ---- run --rm ----
run_cmds=("$(bench_quote "${BERTH_CMD[@]}" run --rm --network none busybox true)")
[[ ${#DOCKER[@]} -gt 0 ]] && run_cmds+=("$(bench_quote "${DOCKER[@]}" run --rm --network none busybox true)")
[[ ${#PODMAN_RUN[@]} -gt 0 ]] && run_cmds+=("$(bench_quote "${PODMAN_RUN[@]}" --rm --network none busybox true)")
bench_hyperfine run "run --rm --network none busybox true" -N --warmup 5 --min-runs 30 \
  "${run_cmds[@]}"

# ---- run --rm --gpus all (fake driver) ----
# A fake driver root (nodes, libcuda/libnvidia-ml in an ld.so.cache, nvidia-smi), a CDI spec for
# it as `nvidia-ctk cdi generate` would write one (per-GPU nodes, "all", the control nodes and
# the libraries at spec level), and two berth configs: one reading that spec, one with no spec
# so that berth generates it from the driver root. The baseline runs with the first config.
GPU=$BENCH_WORK/gpu
mkdir -p "$GPU/cdi" "$GPU/nocdi"
sh "$BENCH_REPO/tests/fixtures/fake-nvidia.sh" "$GPU/nv" >/dev/null
python3 - "$GPU" <<'PY'
import json, os, sys
g = sys.argv[1]
nv = g + "/nv"
lib = "/usr/lib/x86_64-linux-gnu"
node = lambda p: {"path": p, "hostPath": nv + p}
libs = [f for f in sorted(os.listdir(nv + lib))
        if f.startswith(("libcuda.so.", "libnvidia-ml.so.")) and not f.endswith(".so.1")]
opts = ["ro", "nosuid", "nodev", "bind"]
mounts = [{"hostPath": nv + lib + "/" + f, "containerPath": lib + "/" + f, "options": opts}
          for f in libs]
mounts.append({"hostPath": nv + "/usr/bin/nvidia-smi", "containerPath": "/usr/bin/nvidia-smi",
               "options": opts})
all_nodes = [node("/dev/nvidia0"), node("/dev/nvidia1")]
spec = {"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu",
        "devices": [{"name": "0", "containerEdits": {"deviceNodes": [all_nodes[0]]}},
                    {"name": "1", "containerEdits": {"deviceNodes": [all_nodes[1]]}},
                    {"name": "all", "containerEdits": {"deviceNodes": all_nodes}}],
        "containerEdits": {"env": ["NVIDIA_VISIBLE_DEVICES=void"],
                           "deviceNodes": [node("/dev/nvidiactl"), node("/dev/nvidia-uvm"),
                                           node("/dev/nvidia-uvm-tools")],
                           "mounts": mounts}}
json.dump(spec, open(g + "/cdi/nvidia.json", "w"), indent=1)
json.dump({"cdi-spec-dirs": [g + "/cdi"]}, open(g + "/with-spec.json", "w"))
json.dump({"cdi-spec-dirs": [g + "/nocdi"], "nvidia-driver-root": nv},
          open(g + "/no-spec.json", "w"))
PY
for c in with-spec no-spec; do
  BERTH_CONFIG=$GPU/$c.json "${BERTH_CMD[@]}" run --rm --network none --gpus all busybox \
    sh -c 'test -c /dev/nvidia1 && ls /usr/lib/x86_64-linux-gnu | grep -q "^libcuda\.so\."' \
    || bench_die "--gpus all with the fake driver ($c) does not give the devices"
done
gpu_cmds=(
  "$(bench_quote env "BERTH_CONFIG=$GPU/with-spec.json" "${BERTH_CMD[@]}" run --rm --network none busybox true)"
  "$(bench_quote env "BERTH_CONFIG=$GPU/with-spec.json" "${BERTH_CMD[@]}" run --rm --network none --gpus all busybox true)"
  "$(bench_quote env "BERTH_CONFIG=$GPU/no-spec.json" "${BERTH_CMD[@]}" run --rm --network none --gpus all busybox true)"
)
bench_hyperfine gpus "run --rm --gpus all (fake driver: CDI spec, then generated) vs without" \
  -N --warmup 5 --min-runs 40 "${gpu_cmds[@]}"

# ---- exec ----
"${BERTH_CMD[@]}" run -d --name bench-exec --network none busybox sleep 100000 >/dev/null
exec_cmds=("$(bench_quote "${BERTH_CMD[@]}" exec bench-exec true)")
if [[ ${#DOCKER[@]} -gt 0 ]]; then
  "${DOCKER[@]}" run -d --name bench-exec --network none busybox sleep 100000 >/dev/null
  exec_cmds+=("$(bench_quote "${DOCKER[@]}" exec bench-exec true)")
fi
if [[ ${#PODMAN_RUN[@]} -gt 0 ]]; then
  "${PODMAN_RUN[@]}" -d --name bench-exec --network none busybox sleep 100000 >/dev/null
  exec_cmds+=("$(bench_quote "${PODMAN[@]}" exec bench-exec true)")
fi
bench_hyperfine exec "exec <running container> true" -N --warmup 5 --min-runs 30 "${exec_cmds[@]}"
"${BERTH_CMD[@]}" rm -f bench-exec >/dev/null
[[ ${#DOCKER[@]} -gt 0 ]] && "${DOCKER[@]}" rm -f bench-exec >/dev/null
[[ ${#PODMAN_RUN[@]} -gt 0 ]] && "${PODMAN[@]}" rm -f bench-exec >/dev/null

# ---- 100 detached: start time, monitor memory, ps ----
t0=$(date +%s%N)
for i in $(seq "$N"); do
  "${BERTH_CMD[@]}" run -d --network none --name "d$i" busybox sleep 100000 >/dev/null
done
t1=$(date +%s%N)
start_ms=$(((t1 - t0) / 1000000))
pss=0 rss=0 n=0
for p in $(pgrep -f "berth-monitor .*--exit-file $RUNROOT/"); do
  read -r a b < <(awk '/^Pss:/ {p=$2} /^Rss:/ {r=$2} END {print p, r}' "/proc/$p/smaps_rollup")
  pss=$((pss + a))
  rss=$((rss + b))
  n=$((n + 1))
done
ps_cmds=("$(bench_quote "${BERTH_CMD[@]}" ps)")
bench_hyperfine ps "ps with $N running containers" -N --warmup 3 --min-runs 20 "${ps_cmds[@]}"
{
  printf '### %d detached containers\n\n' "$N"
  printf -- '- `%s run -d --network none --name dN busybox sleep 100000`, %d times in a row: **%d ms** in all (%.1f ms each)\n' \
    "berth" "$N" "$start_ms" "$(echo "$start_ms / $N" | bc -l)"
  if [[ $n -gt 0 ]]; then
    printf -- '- monitor memory (berth-monitor, %d processes, from /proc/PID/smaps_rollup): **%d KiB PSS** and %d KiB RSS on average\n' \
      "$n" $((pss / n)) $((rss / n))
  fi
  printf '\n'
} >>"$BENCH_RESULTS/report.md"
