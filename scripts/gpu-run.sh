#!/usr/bin/env bash
# On a GPU host that has a torch but no Node, npm, cargo or network: unpacks the pack made by
# `npm run gpu:pack` (scripts/gpu-pack-layout.mjs describes it), points convtorch at the host's
# torch, and runs `convtorch doctor`, the ava suite and the benchmark, each step under a timeout
# inside one budget, writing each step's log and results under $OUT as soon as it ends.
#
# Usage, from the repository root with .device/pack carried:  OUT=DIR bash scripts/gpu-run.sh
# Settings (the defaults are the GPU host's; override them to run it elsewhere, e.g. on CPU):
#   OUT                  where logs and results go (required)
#   GPU_PACK             the pack directory (default: .device/pack of this script's repository)
#   GPU_RUN_DIR          where to unpack (default: a new temporary directory, removed at the end)
#   CONVTORCH_PYTHON     the torch's Python (default: /opt/torch/.venv/bin/python3)
#   GPU_RUN_STEPS        the steps, in order (default: doctor ava bench-short bench)
#   GPU_RUN_SPECS        the spec files ava runs, e.g. "__test__/cuda.spec.ts" (default: all)
#   GPU_RUN_SHARD        K/N: only every Nth of those files from the Kth (sorted), so N calls
#                        of the host's 10 minutes each run a share of the suite
#   GPU_RUN_AVA_ARGS     more arguments for ava, e.g. "--concurrency 2" or "--match '*CUDA*'"
#   GPU_RUN_DEVICE       the benchmark's device (default: cuda)
#   GPU_RUN_BENCH_SHORT  the short benchmark's arguments (default: 1 epoch, 1 round, B, B', C)
#   GPU_RUN_BENCH        the full benchmark's arguments (default: B, B', C; bench's 3 epochs x 3 rounds)
#   GPU_RUN_BUDGET       seconds for all of it (default: 540, inside the host's 600 per call)

# One block, which bash reads whole before running it: an edit of this file during a run
# cannot shift what the running shell reads next.
{
set -u
start=$SECONDS
budget=${GPU_RUN_BUDGET:-540}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pack=${GPU_PACK:-$here/.device/pack}
python=${CONVTORCH_PYTHON:-/opt/torch/.venv/bin/python3}
steps=${GPU_RUN_STEPS:-doctor ava bench-short bench}
device=${GPU_RUN_DEVICE:-cuda}
bench_short=${GPU_RUN_BENCH_SHORT:-"--epochs 1 --rounds 1 --contenders \"B,B',C\""}
bench_full=${GPU_RUN_BENCH:-"--contenders \"B,B',C\""}

if [ -z "${OUT:-}" ]; then
  echo "gpu-run: OUT is not set: name the directory for logs and results (OUT=DIR bash scripts/gpu-run.sh)" >&2
  exit 2
fi
mkdir -p "$OUT"
summary=$OUT/summary.txt
: >"$summary"
log() { echo "gpu-run: $*" | tee -a "$summary"; }
fail() {
  log "FAILED: $*"
  exit 1
}
left() { echo $((budget - (SECONDS - start))); }

[ -f "$pack/layout.env" ] || fail "no pack at $pack (run \`npm run gpu:pack\` and carry .device/pack, or set GPU_PACK)"
# shellcheck source=/dev/null
. "$pack/layout.env"
[ -x "$python" ] || fail "no Python at $python (set CONVTORCH_PYTHON to the torch's python3)"
log "pack $PACK_COMMIT built $PACK_BUILT (Node $PACK_NODE_VERSION${PACK_CUDA_SHIM:+, with ${PACK_CUDA_SHIM:-}}); budget ${budget}s"

if [ -n "${GPU_RUN_DIR:-}" ]; then
  run=$GPU_RUN_DIR
  mkdir -p "$run"
else
  run=$(mktemp -d "${TMPDIR:-/tmp}/convtorch-gpu-run.XXXXXX")
  trap 'rm -rf "$run"' EXIT
fi

# GNU tar needs the xz program for -J; without it Python's tarfile (lzma) unpacks.
for archive in $PACK_ARCHIVES; do
  if command -v xz >/dev/null; then
    tar -xJf "$pack/$archive" -C "$run" || fail "tar -xJf $pack/$archive"
  else
    "$python" -c 'import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))' "$pack/$archive" "$run" || fail "unpacking $pack/$archive with $python"
  fi
done
node=$run/$PACK_NODE
"$node" --version >/dev/null || fail "the pack's Node ($node) does not run here"
log "unpacked into $run in $((SECONDS - start))s"

# What `npm test` sets through scripts/with-libtorch.mjs: this torch's libtorch and its Python.
torch_dir=$("$python" -c 'import importlib.util as u; s = u.find_spec("torch"); print(s.submodule_search_locations[0] if s else "")') || fail "$python did not run"
[ -n "$torch_dir" ] || fail "$python has no torch package"
export CONVTORCH_PYTHON=$python LIBTORCH=$torch_dir LIBTORCH_CXX11_ABI=${LIBTORCH_CXX11_ABI:-1}
export PATH="$(dirname "$python"):$run/bin:$PATH"
# The pack's run is not the clone's CI: a spec needing what this host lacks (npm, cargo, the
# sources, Chromium) skips with its reason instead of failing as it must in CI.
unset CI
log "torch: $torch_dir"
# The addon needs the glibc and libstdc++ of the machine that built it or newer (glibc 2.34 for
# a build on Debian 12); if the host has older ones, doctor's loader error names the version.
log "host: $(uname -srm), $(getconf GNU_LIBC_VERSION 2>/dev/null), $(nproc) cores"
command -v nvidia-smi >/dev/null && nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1

# The seconds a step may take: its own cap, less what the steps after it are kept.
reserve() {
  case $1 in
    doctor) echo 30 ;;
    bench-short) echo 120 ;;
    *) echo 0 ;;
  esac
}
cap() {
  case $1 in
    doctor) echo 90 ;;
    bench-short) echo 300 ;;
    *) echo 100000 ;;
  esac
}

# Word lists, as a shell would split them: "--match '*CUDA*'" stays one pattern.
eval "specs=(${GPU_RUN_SPECS:-})"
if [ -n "${GPU_RUN_SHARD:-}" ]; then
  shard_k=${GPU_RUN_SHARD%/*} shard_n=${GPU_RUN_SHARD#*/}
  { [ "$shard_k" -ge 1 ] && [ "$shard_k" -le "$shard_n" ]; } 2>/dev/null || fail "GPU_RUN_SHARD must be K/N with 1 <= K <= N, got '$GPU_RUN_SHARD'"
  [ ${#specs[@]} -gt 0 ] || mapfile -t specs < <(cd "$run" && find __test__ -name '*.spec.ts' | LC_ALL=C sort)
  mapfile -t specs < <(printf '%s\n' "${specs[@]}" | LC_ALL=C sort | awk -v k="$shard_k" -v n="$shard_n" '(NR - k) % n == 0')
  [ ${#specs[@]} -gt 0 ] || fail "shard $GPU_RUN_SHARD has no spec files"
  log "shard $GPU_RUN_SHARD: ${specs[*]}"
fi
eval "ava_args=(${GPU_RUN_AVA_ARGS:-})"
ava_args=("${specs[@]}" "${ava_args[@]}")
eval "short_args=($bench_short)"
eval "full_args=($bench_full)"

# One step: its output into $OUT/<name>.log; timeout runs it in a process group of its own
# and signals all of it (ava's workers, the CLIs and the trainers they start).
step_run() {
  local name=$1 seconds=$2
  shift 2
  (cd "$run" && timeout -k 15 "$seconds" "$@") >"$OUT/$name.log" 2>&1
}

set -- $steps
while [ $# -gt 0 ]; do
  step=$1
  shift
  later=0
  for next in "$@"; do later=$((later + $(reserve "$next"))); done
  seconds=$(($(left) - later))
  [ "$seconds" -gt "$(cap "$step")" ] && seconds=$(cap "$step")
  if [ "$seconds" -lt 20 ]; then
    log "$step: not run, ${seconds}s left of the budget"
    continue
  fi
  began=$SECONDS
  case $step in
    doctor) step_run doctor "$seconds" "$node" "$PACK_CLI" doctor ;;
    ava) step_run ava "$seconds" "$node" "$PACK_AVA" "${ava_args[@]}" ;;
    bench-short) step_run bench-short "$seconds" "$node" "$PACK_BENCH" --device "$device" "${short_args[@]}" --out "$OUT/bench-short.json" ;;
    bench) step_run bench "$seconds" "$node" "$PACK_BENCH" --device "$device" "${full_args[@]}" --out "$OUT/bench.json" ;;
    *) fail "unknown step '$step' (GPU_RUN_STEPS takes doctor ava bench-short bench)" ;;
  esac
  rc=$?
  note=""
  { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && note=" (timed out after ${seconds}s)"
  log "$step: exit $rc in $((SECONDS - began))s$note; log $OUT/$step.log"
  case $step in
    doctor)
      (cd "$run" && timeout 60 "$node" "$PACK_CLI" doctor --json) >"$OUT/doctor.json" 2>>"$OUT/doctor.log"
      cat "$OUT/doctor.log"
      ;;
    ava)
      # ava's closing lines: "N tests passed", "N tests failed", "N known failures", ...
      grep -E '^\s+[0-9]+ (tests?|known failures?|skipped|todo|uncaught exceptions?|unhandled rejections?)\b' "$OUT/ava.log" | sed 's/^ *//' >"$OUT/ava-summary.txt"
      [ -s "$OUT/ava-summary.txt" ] || echo "no summary line (ava exit $rc$note)" >"$OUT/ava-summary.txt"
      log "ava: $(paste -sd ';' "$OUT/ava-summary.txt" | sed 's/;/; /g')"
      ;;
    bench*) grep -E 'train/epoch|^target |skipped' "$OUT/$step.log" | tee -a "$summary" ;;
  esac
done
log "done in $((SECONDS - start))s"
exit 0
}
