"""A policy analyst's question: what does a funding cut do to my programme?

Runs the austerity experiment's two scenarios (scenarios/experiments/austerity_base.toml and
austerity_cut.toml) with the same seed, so replication r of both runs meets the same random
draws (common random numbers), and reports the paired difference of each headline metric:
its mean, a 95% Student-t interval, and the share of replications in which the difference
has the sign of the mean. `coprosim compare` computes the same table from the two result
directories (paired_differences.csv); tests/test_examples.py checks they agree.

    python examples/python/policy_comparison.py [--quick] [--out DIR]
"""

import argparse
import math
import sys
from pathlib import Path

import coprosim

REPO = Path(__file__).resolve().parents[2]


def t975(df: float) -> float:
    """The 97.5% quantile of Student's t (scipy's when installed; otherwise exact at 1 and 2
    degrees of freedom and the Cornish-Fisher expansion above, as `coprosim compare` does)."""
    try:
        from scipy.stats import t

        return float(t.ppf(0.975, df))
    except ImportError:
        pass
    if df <= 1:
        return 12.706204736174707
    if df <= 2:
        return 4.302652729749464
    z = 1.959963984540054
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def paired_differences(base: coprosim.Run, policy: coprosim.Run):
    """One row per headline metric (all coalitions, all groups): mean paired difference
    policy - base, its 95% interval, and the share of replications with the mean's sign."""
    keys = ["replication", "metric", "coalition", "group"]
    a = base.replications
    b = policy.replications
    both = a.merge(b, on=keys, suffixes=("_base", "_policy"))
    both = both[(both["coalition"] == "all") & (both["group"] == "all")].dropna(subset=["value_base", "value_policy"])
    both["difference"] = both["value_policy"] - both["value_base"]
    rows = []
    for metric, d in both.groupby("metric", sort=False):
        n = len(d)
        mean = d["difference"].mean()
        sd = d["difference"].std(ddof=1) if n > 1 else float("nan")
        half = t975(n - 1) * sd / math.sqrt(n) if n > 1 else float("nan")
        same_sign = ((d["difference"] > 0) if mean > 0 else (d["difference"] < 0)).mean() if mean != 0 else float("nan")
        rows.append(
            {
                "metric": metric,
                "n": n,
                "base_mean": d["value_base"].mean(),
                "policy_mean": d["value_policy"].mean(),
                "difference": mean,
                "ci95_low": mean - half,
                "ci95_high": mean + half,
                "same_sign_share": same_sign,
            }
        )
    import pandas as pd

    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 replications instead of 100")
    parser.add_argument("--out", type=Path, help="also write both runs and paired.csv here")
    args = parser.parse_args()
    experiments = REPO / "scenarios" / "experiments"
    base = coprosim.Scenario.load(experiments / "austerity_base.toml")
    cut = coprosim.Scenario.load(experiments / "austerity_cut.toml")
    replications, seed = (10, 2024) if args.quick else (100, 2024)
    runs = [coprosim.run(s, replications=replications, seed=seed) for s in (base, cut)]
    table = paired_differences(*runs)
    print(f"{cut.name} minus {base.name}, {replications} paired replications (seed {seed}):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.out:
        runs[0].write(args.out / "base", charts=False, force=True)
        runs[1].write(args.out / "cut", charts=False, force=True)
        table.to_csv(args.out / "paired.csv", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
