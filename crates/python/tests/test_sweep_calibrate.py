"""Sweeps and calibrations from Python give the command line's files, byte for byte."""

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
