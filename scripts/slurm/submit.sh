#!/usr/bin/env bash
# Submit a coprosim sweep to Slurm as a job array of N shards plus a dependent merge job.
#
#   scripts/slurm/submit.sh SWEEP.toml OUT_DIR N [--wait] [extra sbatch options...]
#
# Results land in OUT_DIR/merged (shards in OUT_DIR/shard-K). Set COPROSIM to the binary's
# path if `coprosim` is not on the PATH of the compute nodes. With --wait, the script returns
# when the merge job ends, with its exit code.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
# Without external commands: with no Slurm, the PATH may hold nothing else either.
case $0 in */*) scripts=${0%/*} ;; *) scripts=. ;; esac
# shellcheck source=require_slurm.sh
. "$scripts/require_slurm.sh"
require_slurm "run the sweep on this machine with: coprosim sweep $1 --out $2" \
  "(or split it yourself: coprosim sweep $1 --shard K/$3, then coprosim merge)"
if ! [[ "$3" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: found N = \"$3\", expected a whole number of shards of at least 1" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
sweep=$(realpath "$1")
out=$(realpath -m "$2")
shards=$3
shift 3
wait_flag=()
if [ "${1:-}" = "--wait" ]; then
  wait_flag=(--wait)
  shift
fi
mkdir -p "$out"
export COPROSIM="${COPROSIM:-$(command -v coprosim || echo coprosim)}"
array=$(sbatch --parsable --export=ALL --chdir="$out" --array="1-$shards" "$@" \
  "$here/sweep_array.sbatch" "$sweep" "$out" "$shards")
array=${array%%;*}
echo "submitted array job $array ($shards shards)"
rc=0
sbatch --parsable --export=ALL --chdir="$out" --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  "${wait_flag[@]}" "$@" "$here/merge.sbatch" "$out" "$shards" || rc=$?
echo "merge job submitted${wait_flag:+ and finished with exit code $rc}; results in $out/merged"
exit $rc
