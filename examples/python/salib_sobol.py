"""A researcher's sensitivity analysis: SALib designs the experiment, coprosim is the model.

Sobol' indices of annual retention with respect to three levers of the baseline town, with a
dummy parameter that coprosim never sees: its indices show how large an index noise alone
makes (the noise floor). Every row of the design runs the same replication seeds (common
random numbers), so differences between rows are the parameters' doing, not the draws'.
`coprosim sweep` with a Sobol design does the same without Python (docs/SWEEPS.md).

    pip install SALib
    python examples/python/salib_sobol.py [--quick]
"""

import argparse
import sys
from pathlib import Path

import coprosim
import numpy as np
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

REPO = Path(__file__).resolve().parents[2]

PROBLEM = {
    "num_vars": 4,
    "names": [
        "coalitions[food_bank].governance.voice",
        "policy.performance_regime",
        "behaviour.base_exit",
        "dummy",
    ],
    "bounds": [[0.2, 1.0], [0.0, 1.0], [0.1, 0.5], [0.0, 1.0]],
}


def model(base: coprosim.Scenario, x, replications: int, seed: int) -> float:
    """Mean annual retention (all programmes, all groups) over the replications."""
    values = {k: float(v) for k, v in zip(PROBLEM["names"], x) if k != "dummy"}
    run = coprosim.run(base.with_values(values), replications=replications, seed=seed)
    s = run.summary
    row = s[(s["metric"] == "annual_retention") & (s["coalition"] == "all") & (s["group"] == "all")]
    return float(row["mean"].iloc[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small design on a 10-year town")
    args = parser.parse_args()
    base = coprosim.Scenario.load(REPO / "scenarios" / "baseline.toml")
    n, replications = (64, 4)
    if args.quick:
        n, replications = 8, 1
        base = base.with_values({"simulation.burn_in_years": 0})
    X = sobol_sample.sample(PROBLEM, n, calc_second_order=False, seed=7)
    Y = np.array([model(base, x, replications, seed=11) for x in X])
    Si = sobol_analyze.analyze(PROBLEM, Y, calc_second_order=False, seed=7)
    print(f"Sobol' indices of annual retention: N = {n}, {len(X)} design rows x {replications} replications")
    print(f"{'parameter':42} {'S1':>7} {'S1 95%':>8} {'ST':>7} {'ST 95%':>8}")
    for name, s1, s1c, st, stc in zip(PROBLEM["names"], Si["S1"], Si["S1_conf"], Si["ST"], Si["ST_conf"]):
        print(f"{name:42} {s1:7.3f} {s1c:8.3f} {st:7.3f} {stc:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
