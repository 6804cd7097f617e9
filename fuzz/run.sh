#!/usr/bin/env bash
# Fuzz the scenario or sweep parser and validator with libFuzzer.
#   fuzz/run.sh scenario 600      # target (scenario | sweep), seconds
# Needs cargo-fuzz (`cargo install cargo-fuzz`). The project's toolchain is stable, so
# RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass the sanitizer flags it needs. The corpus is seeded
# with the shipped scenario and sweep files; crashes land in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?target: scenario or sweep}
seconds=${2:-60}
mkdir -p "corpus/$target"
if [ "$target" = scenario ]; then
  cp ../scenarios/*.toml ../scenarios/experiments/*.toml ../scenarios/presets/*.toml "corpus/$target/"
else
  cp ../scenarios/sweeps/*.toml "corpus/$target/"
fi
RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" --fuzz-dir . -- -max_total_time="$seconds" -rss_limit_mb=4096
