"""Sweeps and calibrations from Python give the command line's files, byte for byte."""

import os
import textwrap

import coprosim
import pytest
from conftest import compare_dirs

TINY_TARGETS = textwrap.dedent(
    """\
    name = "tiny"
    seed = 3
    [abc]
    particles = 30
    generations = 3
    predictive = 10

    [scenario]
    name = "tiny_town"
    [scenario.simulation]
    years = 4
    ticks_per_year = 12
    replications = 1
    seed = 1
    [scenario.population]
    size = 300
    [[scenario.population.groups]]
    name = "residents"
    share = 1.0
    incentives = { material = 1.0, solidary = 2.5, purposive = 2.0 }
    time_cost = 0.05
    [[scenario.coalitions]]
    name = "club"
    founders = 15
    goal_hours = 60
    mode = { planning = "community", delivery = "community" }
    governance = { voice = 1.0 }
    [scenario.coalitions.funding]
    donation_per_member = 10
    earned_income = 5000

    [[observed]]
    metric = "annual_retention"
    value = 0.7
    sd = 0.04

    [[observed]]
    metric = "participants"
    value = 45
    sd = 6

    [[parameters]]
    key = "behaviour.base_exit"
    prior = "uniform"
    low = 0.05
    high = 0.8

    [[parameters]]
    key = "behaviour.join_max"
    prior = "log_uniform"
    low = 0.02
    high = 0.5
    """
)


def test_sweep_writes_the_command_lines_files(repo, tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(repo)
    path = "scenarios/sweeps/ci_small.toml"
    done = run_cli("sweep", path, "--replications", 2, "-j", 2, "-o", tmp_path / "cli")
    assert done.returncode == 0, done.stderr
    result = coprosim.sweep(path, replications=2, threads=2)
    result.write(tmp_path / "py")
    files = compare_dirs(tmp_path / "cli", tmp_path / "py")
    assert "points.csv" in files and any(f.startswith("charts/") for f in files)
    points = result.points
    assert len(points) == coprosim.Sweep.load(path).points == 9
    assert result.sensitivity is None
    assert result.info["replications"] == 2
    # Every replication's value behind each point's mean.
    reps = result.replications
    assert len(reps) == 9 * 2 * 2
    means = reps.groupby(["point", "output"])["value"].mean()
    for _, row in points.iterrows():
        for output in ("annual_retention", "final_members"):
            assert means[(row["point"], output)] == pytest.approx(row[f"{output}_mean"], rel=1e-5, abs=1e-6)


def test_calibration_writes_the_command_lines_files(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text(TINY_TARGETS)
    done = run_cli("calibrate", "tiny.toml", "-j", 2, "-o", "cli")
    assert done.returncode == 0, done.stderr
    fit = coprosim.calibrate("tiny.toml", threads=2)
    fit.write("py")
    files = compare_dirs(tmp_path / "cli", tmp_path / "py")
    assert {"posterior.csv", "summary.csv", "report.html"} <= set(files)
    assert fit.parameters == ["behaviour.base_exit", "behaviour.join_max"]
    posterior = fit.posterior
    last = posterior[posterior["generation"] == posterior["generation"].max()]
    assert len(last) == 30
    assert abs(last["weight"].sum() - 1) < 1e-9
    assert last["behaviour.base_exit"].between(0.05, 0.8).all()


def test_states_saved_by_a_posterior_run_are_refused_with_the_reason(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text(TINY_TARGETS.replace("predictive = 10", "predictive = 0"))
    assert run_cli("calibrate", "tiny.toml", "-o", "fit", "-q", "--no-charts").returncode == 0
    # The targets' own scenario, as a file of its own.
    town = TINY_TARGETS.split("[scenario]\n", 1)[1].split("[[observed]]", 1)[0]
    (tmp_path / "town.toml").write_text(town.replace("[scenario.", "[").replace("[[scenario.", "[["))
    done = run_cli("run", "town.toml", "--posterior", "fit", "-n", 2, "--save-state", "-q", "--no-charts", "-o", "s")
    assert done.returncode == 0, done.stderr
    # Each state is its replication's draw: the package's runs, which draw from no posterior,
    # cannot start from them.
    with pytest.raises(ValueError, match="saved by `coprosim run --posterior`"):
        coprosim.WarmStates.load(tmp_path / "s")


def test_input_errors_of_sweeps_and_targets(repo, tmp_path):
    bad = tmp_path / "bad_sweep.toml"
    base = (repo / "scenarios" / "baseline.toml").as_posix()
    bad.write_text(f'name = "s"\nbase = "{base}"\nreplications = 0\n[[axes]]\nkey = "no.such"\nvalues = [1]\n')
    with pytest.raises(coprosim.ScenarioError) as caught:
        coprosim.Sweep.load(bad)
    assert all(p.line is not None for p in caught.value.problems)
    assert {"replications", "axes[0].key"} <= {p.path for p in caught.value.problems}, caught.value
    bad.write_text('name = "t"\n[abc]\nparticles = -1\n')
    with pytest.raises(coprosim.ScenarioError) as caught:
        coprosim.Targets.load(bad)
    assert "abc.particles" in {p.path for p in caught.value.problems}, caught.value


def test_a_sweep_is_not_written_over_another_sweep_without_force(repo, tmp_path, run_cli):
    sweeps = repo / "scenarios" / "sweeps"
    done = run_cli("sweep", sweeps / "ci_small.toml", "-n", 1, "--no-charts", "-o", tmp_path / "finished")
    assert done.returncode == 0, done.stderr
    # The progress of a stopped sweep: its description and log, no manifest yet.
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    for name in ("sweep.json", "progress.jsonl"):
        (unfinished / name).write_bytes((tmp_path / "finished" / name).read_bytes())
    other = coprosim.sweep(sweeps / "planning_modes.toml", replications=1)
    for target in (tmp_path / "finished", unfinished):
        before = (target / "progress.jsonl").read_bytes()
        with pytest.raises(coprosim.OutputError, match="different sweep"):
            other.write(target, charts=False)
        assert (target / "progress.jsonl").read_bytes() == before
    other.write(unfinished, charts=False, force=True)
    assert coprosim.Sweep.load(sweeps / "planning_modes.toml").name in (unfinished / "sweep.json").read_text()
    # The same sweep, finished or not, is simply completed.
    same = coprosim.sweep(sweeps / "ci_small.toml", replications=1)
    same.write(tmp_path / "finished", charts=False)


def test_a_sweep_records_whole_trajectories_with_labels(repo, tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(repo)
    path = "scenarios/sweeps/planning_modes.toml"
    done = run_cli("sweep", path, "--replications", 2, "-o", tmp_path / "cli")
    assert done.returncode == 0, done.stderr
    result = coprosim.sweep(path, replications=2)
    result.write(tmp_path / "py")
    files = compare_dirs(tmp_path / "cli", tmp_path / "py")
    assert "series.csv" in files and "charts/series_roles_filled_food_bank_all.svg" in files
    series = result.series
    years = result.info["series_years"]
    assert len(series) == 6 * 2 * len(years)
    assert set(series["series_label"]) == {"roles filled (food_bank)", "lived experience share (food_bank)"}
    assert series["n"].max() == 2
    assert result.info["axis_labels"] == ["who plans the food bank", "credentialed roles"]
    share = series[series["series"] == "lived_experience_share[food_bank/all]"]
    assert share["ci95_low"].min() >= 0 and share["ci95_high"].max() <= 1


class CountingExecutor:
    """An executor that runs each task in this process when it is submitted, counting them,
    and (with ``swap``) hands the workers another targets file at the path they are given."""

    def __init__(self, swap=None):
        self.submitted = 0
        self.swap = swap

    def submit(self, fn, *args):
        import concurrent.futures

        self.submitted += 1
        if self.swap is not None:
            args = (self.swap,) + args[1:]
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_result(fn(*args))
        return future


def test_a_calibration_spread_over_an_executor_is_the_same_bytes(tmp_path, run_cli, monkeypatch):
    import concurrent.futures

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text(TINY_TARGETS)
    done = run_cli("calibrate", "tiny.toml", "-j", 2, "-o", "cli")
    assert done.returncode == 0, done.stderr
    # Worker processes, two tasks of 64 attempts at a time.
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        fit = coprosim.calibrate("tiny.toml", threads=2, executor=pool, tasks=2, attempts_per_task=64)
    fit.write("pool")
    assert "posterior.csv" in compare_dirs(tmp_path / "cli", tmp_path / "pool")
    # Any object with an executor's submit will do; the blocks' sizes change nothing.
    counting = CountingExecutor()
    fit = coprosim.calibrate("tiny.toml", threads=2, executor=counting, tasks=3, attempts_per_task=128)
    fit.write("counted")
    compare_dirs(tmp_path / "cli", tmp_path / "counted")
    assert counting.submitted >= 3 * 3, "each of the three generations computed on the executor"


def test_an_executor_calibration_refuses_what_would_change_its_bytes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text(TINY_TARGETS)
    with pytest.raises(ValueError, match="multiple of 64"):
        coprosim.calibrate("tiny.toml", executor=CountingExecutor(), attempts_per_task=100)
    # Workers that read another targets file at the path compute another calibration's
    # attempts: refused, never merged.
    (tmp_path / "other.toml").write_text(TINY_TARGETS.replace("seed = 3", "seed = 4"))
    swapped = CountingExecutor(swap=str(tmp_path / "other.toml"))
    with pytest.raises(RuntimeError, match="were refused"):
        coprosim.calibrate("tiny.toml", executor=swapped, tasks=2, attempts_per_task=64)
    assert swapped.submitted == 2, "it stops at the first round whose blocks were refused"
    # A log from another calibration is refused by the native merge step.
    other = coprosim.Targets.load("other.toml")
    log, needed, finished = coprosim._core.calibration_merge(coprosim.Targets.load("tiny.toml")._native, "", [])
    assert (needed, finished) == ((0, 0), None) and log == ""
    block = coprosim._core.calibration_block(other._native, "", 0, 64, 1)
    log, needed, _ = coprosim._core.calibration_merge(other._native, "", [block])
    assert needed == (1, 0) and len(log.splitlines()) == 1, "64 attempts complete generation 0's 30 particles"
    with pytest.raises(ValueError, match="another calibration's"):
        coprosim._core.calibration_merge(coprosim.Targets.load("tiny.toml")._native, log + "x y\n", [])


def test_a_calibration_on_a_dask_cluster_is_the_same_bytes(tmp_path, run_cli, monkeypatch):
    """Dask's Client is an executor: the same bytes from a LocalCluster of worker processes.
    Required in CI (the test extras install dask); skipped elsewhere without it."""
    if os.environ.get("CI"):
        from dask.distributed import Client, LocalCluster
    else:
        distributed = pytest.importorskip("dask.distributed")
        Client, LocalCluster = distributed.Client, distributed.LocalCluster
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text(TINY_TARGETS)
    done = run_cli("calibrate", "tiny.toml", "-j", 2, "-o", "cli")
    assert done.returncode == 0, done.stderr
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            fit = coprosim.calibrate("tiny.toml", threads=2, executor=client, tasks=2, attempts_per_task=64)
    fit.write("dask")
    compare_dirs(tmp_path / "cli", tmp_path / "dask")


def test_a_model_comparison_gives_each_models_probability_as_the_command_line(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    models = '\n[[models]]\nname = "flat"\n\n[[models]]\nname = "newcomers"\n'
    models += 'set = { "behaviour.newcomer_exit_multiplier" = 5.0 }\n'
    (tmp_path / "compare.toml").write_text(TINY_TARGETS + models)
    done = run_cli("calibrate", "compare.toml", "-j", 2, "-o", "cli")
    assert done.returncode == 0, done.stderr
    fit = coprosim.calibrate("compare.toml", threads=2)
    fit.write("py")
    assert "models.csv" in compare_dirs(tmp_path / "cli", tmp_path / "py")
    table = fit.models
    assert list(table["model"].unique()) == ["flat", "newcomers"]
    last = table[table["generation"] == table["generation"].max()]
    assert abs(last["probability"].sum() - 1) < 1e-5
    (tmp_path / "one.toml").write_text(TINY_TARGETS)
    assert coprosim.calibrate("one.toml").models is None
