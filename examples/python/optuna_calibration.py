"""Calibration two ways: coprosim's own ABC-SMC, and Optuna driving coprosim from outside.

Both fit the baseline's behavioural parameters to the observed statistics of
scenarios/calibration/baseline.toml. coprosim's ABC-SMC gives a posterior; Optuna's TPE
minimises the same distance ABC uses (the Euclidean norm of each fitted statistic's
difference from its observed value, in units of its sd) and gives one best point. They agree
when Optuna's best point lies inside the posterior's 90% credible intervals and fits about as
well as the posterior's particles. docs/PYTHON.md records what a full run gave.

    pip install optuna
    python examples/python/optuna_calibration.py [--quick] [--trials N]

The full run takes about as long as `coprosim calibrate scenarios/calibration/baseline.toml`
(about 65 minutes on 2 cores) plus Optuna's trials, a simulation each; --quick fits a much smaller
budget.
"""

import argparse
import math
import re
import sys
import tempfile
from pathlib import Path

import coprosim

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
TARGETS = REPO / "scenarios" / "calibration" / "baseline.toml"


def quick_targets(directory: Path) -> Path:
    """The shipped targets file with a small ABC budget (its base named by absolute path)."""
    text = TARGETS.read_text()
    text = text.replace('base = "../baseline.toml"', f'base = "{(REPO / "scenarios" / "baseline.toml").as_posix()}"')
    for key, value in (("particles", 40), ("generations", 2), ("budget", 300), ("predictive", 10)):
        text = re.sub(rf"(?m)^{key} = \d+$", f"{key} = {value}", text, count=1)
    path = directory / "quick_targets.toml"
    path.write_text(text)
    return path


def fitted(targets: coprosim.Targets):
    """(what, observed value, sd) of each fitted statistic, read from the targets file: `what` is a
    summary metric's name, or the number of weeks of a membership survival statistic."""
    doc = tomllib.loads(TARGETS.read_text())
    return [
        (o["metric"] if "metric" in o else float(o["survival_weeks"]), o["value"], o["sd"])
        for o in doc["observed"]
        if not o.get("held_out", False)
    ]


def distance(base: coprosim.Scenario, names, theta, stats, seed: int) -> float:
    """ABC's distance for one simulation of the base with parameters `theta`."""
    run = coprosim.run(base.with_values(dict(zip(names, theta))), replications=1, seed=seed, threads=1)
    r = run.replications
    r = r[(r["coalition"] == "all") & (r["group"] == "all")].set_index("metric")["value"]
    # Survival of membership spells: the Kaplan-Meier estimate at that tenure, all groups.
    km = run.retention
    km = km[(km["curve"] == "km") & (km["group"] == "all")].set_index("weeks")["estimate"]
    d2 = 0.0
    for what, value, sd in stats:
        simulated = km.get(what, float("nan")) if isinstance(what, float) else r.get(what, float("nan"))
        z = (simulated - value) / sd
        if not math.isfinite(z):
            return float("inf")
        d2 += z * z
    return math.sqrt(d2)


def weighted_quantile(xs, cumulative, p: float) -> float:
    """The smallest value whose cumulative normalised weight reaches p (xs sorted)."""
    return float(xs[min(int((cumulative >= p).argmax()), len(xs) - 1)])


def main() -> int:
    import optuna

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small ABC budget and 30 Optuna trials")
    parser.add_argument("--trials", type=int, help="Optuna trials (default 200, 30 with --quick)")
    args = parser.parse_args()
    trials = args.trials or (30 if args.quick else 200)
    with tempfile.TemporaryDirectory() as tmp:
        path = quick_targets(Path(tmp)) if args.quick else TARGETS
        targets = coprosim.Targets.load(path)
        fit = coprosim.calibrate(targets)
    base = coprosim.Scenario.load(REPO / "scenarios" / "baseline.toml")
    stats = fitted(targets)
    names = targets.parameters

    # The priors' ranges, from the targets file: uniform or log-uniform.
    priors = {p["key"]: p for p in tomllib.loads(TARGETS.read_text())["parameters"]}

    def objective(trial):
        theta = [
            trial.suggest_float(k, priors[k]["low"], priors[k]["high"], log=priors[k]["prior"] == "log_uniform")
            for k in names
        ]
        return distance(base, names, theta, stats, seed=trial.number + 1)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
    study.optimize(objective, n_trials=trials)

    posterior = fit.posterior
    last = posterior[posterior["generation"] == posterior["generation"].max()]
    print(f"coprosim ABC-SMC: {fit.simulations} simulations, stopped because {fit.stopped_by}")
    print(f"Optuna TPE: {trials} trials, best distance {study.best_value:.3f}")
    print(f"{'parameter':32} {'ABC median':>11} {'ABC 90% interval':>22} {'Optuna best':>12}  inside")
    inside_all = True
    for k in names:
        w = last["weight"].to_numpy()
        order = last[k].to_numpy().argsort()
        xs, cw = last[k].to_numpy()[order], w[order].cumsum() / w.sum()
        lo, med, hi = (weighted_quantile(xs, cw, p) for p in (0.05, 0.5, 0.95))
        best = study.best_params[k]
        inside = lo <= best <= hi
        inside_all &= inside
        print(f"{k:32} {med:11.4f} {lo:10.4f} to {hi:9.4f} {best:12.4f}  {'yes' if inside else 'no'}")
    d = last["distance"]
    print(f"posterior particles' distances: median {d.median():.3f}, 90% below {d.quantile(0.9):.3f}")
    print("agree: " + ("yes" if inside_all else "no"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
