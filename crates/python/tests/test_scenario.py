"""Scenarios from Python: loading, dictionaries, values set by key path, and errors that say
where (file, line:column, key path), as `coprosim check` says it."""

import textwrap

import coprosim
import pytest

BROKEN = textwrap.dedent(
    """\
    name = "broken"
    [simulation]
    years = 0
    [population]
    size = -5
    """
)


def test_load_and_round_trips(repo):
    s = coprosim.Scenario.load(repo / "scenarios" / "baseline.toml")
    assert s.name == "baseline"
    assert s.agents > 0 and s.ticks > 0
    assert coprosim.Scenario.from_toml(s.to_toml()).to_toml() == s.to_toml()
    assert coprosim.Scenario.from_dict(s.to_dict()).to_toml() == s.to_toml()
    assert coprosim.Scenario.baseline().to_toml() == s.to_toml()


def test_every_problem_with_its_place_as_the_command_line_says_it(tmp_path, run_cli):
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN)
    with pytest.raises(coprosim.ScenarioError) as caught:
        coprosim.Scenario.load(path)
    e = caught.value
    assert len(e.problems) >= 3, e.problems
    paths = {p.path for p in e.problems}
    assert {"simulation.years", "population.size"} <= paths
    years = next(p for p in e.problems if p.path == "simulation.years")
    assert (years.line, years.column) == (3, 1)
    assert years.file == str(path)
    assert "found 0" in years.message
    # The same lines as `coprosim check` prints, and a ValueError for generic handlers.
    done = run_cli("check", path)
    assert done.returncode == 2
    for line in str(e).splitlines():
        assert line in done.stderr
    assert isinstance(e, ValueError)


def test_from_dict_errors_name_the_key():
    with pytest.raises(coprosim.ScenarioError) as caught:
        coprosim.Scenario.from_dict({"name": "x", "population": {"size": -3}})
    assert "population.size" in {p.path for p in caught.value.problems}
    with pytest.raises(coprosim.ScenarioError):
        coprosim.Scenario.from_dict({"name": None})


def test_with_values_sets_by_name_and_reports_every_problem():
    base = coprosim.Scenario.baseline()
    s = base.with_values({"coalitions[food_bank].governance.voice": 0.25, "simulation.replications": 7})
    assert s.replications == 7
    assert s.to_dict()["coalitions"][1]["governance"]["voice"] == 0.25
    assert "with coalitions[food_bank].governance.voice = 0.25" in s.file
    assert base.to_dict()["coalitions"][1]["governance"]["voice"] != 0.25, "the original is unchanged"
    with pytest.raises(coprosim.ScenarioError) as caught:
        base.with_values({"coalitions[food_bank].governance.voice": 2.0, "no_such.key": 1, "mode.planning": 3})
    assert [p.path for p in caught.value.problems] == [
        "coalitions[food_bank].governance.voice",
        "no_such.key",
        "mode.planning",
    ]
    with pytest.raises(TypeError):
        base.with_values({"simulation.seed": [1, 2]})


def test_check_refuses_what_would_not_fit_in_memory():
    big = coprosim.Scenario.baseline().with_values({"population.size": 50_000_000})
    with pytest.raises(coprosim.ScenarioError) as caught:
        big.check(threads=2, replications=1_000_000)
    assert caught.value.problems[0].path == "population.size"
    assert coprosim.Scenario.baseline().check() is not None


def test_check_tells_the_kinds_of_file_apart(repo):
    assert isinstance(coprosim.check(repo / "scenarios" / "sweeps" / "ci_small.toml"), coprosim.Sweep)
    assert isinstance(coprosim.check(repo / "scenarios" / "calibration" / "baseline.toml"), coprosim.Targets)
    assert isinstance(coprosim.check(repo / "scenarios" / "baseline.toml"), coprosim.Scenario)


def test_the_stubs_match_the_native_module_and_the_package_type_checks():
    """`_core.pyi` says what the native module has (mypy's stubtest), and the package passes
    mypy --strict, so an editor's completions and a user's type checker can trust them."""
    import importlib.util
    import os
    import subprocess
    import sys

    if importlib.util.find_spec("mypy") is None:
        if os.environ.get("CI"):
            pytest.fail("mypy is not installed; .ci/run installs it")
        pytest.skip("mypy is not installed (pip install '.[test]')")
    import tempfile

    env = dict(os.environ, MYPY_CACHE_DIR=tempfile.mkdtemp(prefix="mypy-cache-"))
    stubs = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "coprosim._core"], capture_output=True, text=True, env=env
    )
    assert stubs.returncode == 0, stubs.stdout + stubs.stderr
    strict = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports", "--no-incremental", "-p", "coprosim"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert strict.returncode == 0, strict.stdout + strict.stderr


def test_mistakes_a_user_makes_are_named_in_python_terms(repo, tmp_path):
    base = coprosim.Scenario.baseline()
    # A whole-number parameter takes only whole numbers (a sweep rounds; a typed value is not).
    with pytest.raises(coprosim.ScenarioError) as caught:
        base.with_values({"simulation.years": 10.5})
    assert "expected a whole number" in caught.value.problems[0].message
    with pytest.raises(coprosim.ScenarioError) as caught:
        base.with_values({"population.size": -5})
    assert "non-negative whole number" in caught.value.problems[0].message
    assert "u32" not in str(caught.value)
    import numpy as np

    s = base.with_values([("simulation.years", np.int64(5)), ("coalitions[food_bank].mode.planning", "shared")])
    assert s.file.endswith('with simulation.years = 5, coalitions[food_bank].mode.planning = "shared"'), s.file
    assert s.to_dict()["simulation"]["years"] == 5
    with pytest.raises(TypeError, match="Scenario.load"):
        coprosim.Scenario("scenarios/baseline.toml")
    for kwargs, name in (({"threads": -1}, "threads"), ({"seed": -1}, "seed"), ({"replications": 1.5}, "replications")):
        with pytest.raises((ValueError, TypeError), match=name):
            coprosim.run(base, **kwargs)
    with pytest.raises(coprosim.ScenarioError) as caught:
        coprosim.Scenario.load(repo / "scenarios" / "sweeps" / "ci_small.toml")
    assert caught.value.problems[0].message.startswith("this is a sweep file")
    with pytest.raises(coprosim.ScenarioError) as caught:
        base.with_values({"population.size": 50_000_000}).check(threads=2, replications=1_000_000)
    assert "threads=" in str(caught.value) and "--threads" not in str(caught.value)
    (tmp_path / "mine.txt").write_text("mine")
    run = coprosim.run(base.with_values({"simulation.years": 1, "simulation.burn_in_years": 0}), replications=1)
    with pytest.raises(coprosim.OutputError) as caught:
        run.write(tmp_path, charts=False)
    assert "force=True" in str(caught.value) and "--" not in str(caught.value)
