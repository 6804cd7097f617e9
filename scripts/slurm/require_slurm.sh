# Sourced by submit.sh and calibrate.sh: stop with exit code 2, saying why and what runs on this
# machine instead, unless Slurm is installed here and its controller answers.
#
#   require_slurm "what to do without it" ["a second line of advice"]
require_slurm() {
  if ! command -v sbatch > /dev/null 2>&1; then
    echo "error: Slurm is not installed here (no \`sbatch\` on the PATH); run this on a Slurm login node," >&2
    echo "or $1" >&2
    [ -z "${2:-}" ] || echo "$2" >&2
    exit 2
  fi
  # Installed but not running (a login node without a controller, a laptop with the client
  # package): say so rather than pass on sbatch's bare "Unable to contact slurm controller".
  local probe=(sinfo -h)
  if command -v timeout > /dev/null 2>&1; then probe=(timeout 10 sinfo -h); fi
  if ! "${probe[@]}" > /dev/null 2>&1; then
    echo "error: Slurm is installed here but its controller does not answer (\`sinfo\` fails); is slurmctld running?" >&2
    echo "meanwhile, $1" >&2
    exit 2
  fi
}
