#!/usr/bin/env bash
# Run a coprosim calibration on Slurm: each generation's attempts are computed as job arrays
# of fixed blocks, and a small merge job accepts them in attempt order exactly as
# `coprosim calibrate` does on one machine, so the result is the same bytes.
#
#   scripts/slurm/calibrate.sh TARGETS.toml OUT_DIR TASKS [--attempts-per-task N] [--wait] [extra sbatch options...]
#
# The result lands in OUT_DIR/calibration; blocks of attempts in OUT_DIR/blocks; job logs in
# OUT_DIR. Each merge job saves the complete generations, then submits the next array (TASKS
# tasks of N attempts each, default 256, a multiple of 64) and a merge that depends on it
# (afterok). If a task fails or is killed, the chain stops; run the same command again to
# resume: complete generations and verified blocks are kept. With --wait, the script returns
# when the chain ends: 0 once the calibration is written. Set COPROSIM to the binary's path if
# `coprosim` is not on the PATH of the compute nodes.
set -euo pipefail
usage() { sed -n '2,14p' "$0" >&2; exit 2; }
[ $# -ge 3 ] || usage
# Without external commands: with no Slurm, the PATH may hold nothing else either.
case $0 in */*) scripts=${0%/*} ;; *) scripts=. ;; esac
# shellcheck source=require_slurm.sh
. "$scripts/require_slurm.sh"
require_slurm "calibrate on this machine with: coprosim calibrate $1 --out $2/calibration"
if ! [[ "$3" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: found TASKS = \"$3\", expected a whole number of array tasks of at least 1" >&2
  exit 2
fi
[ -f "$1" ] || { echo "error: $1: no such targets file" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
targets=$(realpath "$1")
out=$(realpath -m "$2")
tasks=$3
shift 3
per_task=256
if [ "${1:-}" = "--attempts-per-task" ]; then
  per_task=${2:-}
  shift 2 || usage
fi
if ! [[ "$per_task" =~ ^[1-9][0-9]*$ ]] || [ $((per_task % 64)) -ne 0 ]; then
  echo "error: found --attempts-per-task \"$per_task\", expected a positive multiple of 64 (the sampler's batch)" >&2
  exit 2
fi
wait_chain=0
if [ "${1:-}" = "--wait" ]; then
  wait_chain=1
  shift
fi
mkdir -p "$out"
export COPROSIM="${COPROSIM:-$(command -v coprosim || echo coprosim)}"
export COPROSIM_SLURM_DIR="$here"
# The chain's jobs share a name, so that the merge jobs submit alike and --wait can follow them.
name="coprosim-calibrate-$(printf '%s' "$out" | sha256sum | cut -c1-8)"
# The extra sbatch options, NUL-separated, for every job of the chain.
: > "$out/sbatch-options"
[ $# -eq 0 ] || printf '%s\0' "$@" > "$out/sbatch-options"
rm -f "$out/status"
job=$(sbatch --parsable --export=ALL --chdir="$out" --job-name="$name" "$@" \
  "$here/calibrate_merge.sbatch" "$targets" "$out" "$tasks" "$per_task")
echo "submitted merge job ${job%%;*} (jobs named $name); the result will be in $out/calibration"
[ "$wait_chain" -eq 1 ] || exit 0
user=$(id -un)
while [ -n "$(squeue -h -u "$user" -n "$name" -o '%i' 2> /dev/null || echo unknown)" ]; do
  sleep 2
done
if [ "$(cat "$out/status" 2> /dev/null)" = "finished" ]; then
  echo "calibration finished: $out/calibration"
  exit 0
fi
echo "error: the calibration's jobs ended before it finished (see the logs in $out); run the same command again to resume" >&2
exit 1
