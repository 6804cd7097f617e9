"""Warm starts from Python: the same states and the same forked results as the command line."""

import coprosim
import pytest
from conftest import compare_dirs

BASE = "scenarios/experiments/austerity_base.toml"
CUT = "scenarios/experiments/austerity_cut.toml"


def test_states_and_forks_are_the_command_lines(repo, tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(repo)  # the same scenario paths, recorded in both manifests
    done = run_cli("run", BASE, "-n", 2, "--no-charts", "--save-state", "-o", tmp_path / "states")
    assert done.returncode == 0, done.stderr
    states = coprosim.Scenario.load(BASE).warm(replications=2)
    assert (states.replications, states.seed) == (2, 2020)
    for r in range(2):
        assert states.state(r) == (tmp_path / "states" / "warm" / f"replication-{r:06d}.state").read_bytes()
    # The cut forked from the states (in memory or on disk) is the command line's fork, and
    # the cut's full run.
    done = run_cli("run", CUT, "-n", 2, "--no-charts", "--from-state", tmp_path / "states", "-o", tmp_path / "cli")
    assert done.returncode == 0, done.stderr
    cut = coprosim.Scenario.load(CUT)
    forked = coprosim.run(cut, replications=2, from_state=coprosim.WarmStates.load(tmp_path / "states"))
    forked.write(tmp_path / "py", charts=False)
    compare_dirs(tmp_path / "cli", tmp_path / "py")
    assert coprosim.run(cut, replications=2, from_state=states).digest() == forked.digest()
    assert coprosim.run(cut, replications=2, from_state=tmp_path / "states").digest() == forked.digest()
    assert coprosim.run(cut, replications=2).digest() == forked.digest()


def test_what_would_have_changed_the_burn_in_is_refused():
    base = coprosim.Scenario.from_toml(
        'name = "t"\n[simulation]\nyears = 1\nburn_in_years = 2\nreplications = 2\n[population]\nsize = 200\n'
        '[[population.groups]]\nname = "all"\nshare = 1.0\n[[coalitions]]\nname = "club"\nfounders = 10\n'
    )
    states = base.warm()
    changed = base.with_values({"population.size": 300, "behaviour.aspiration_mean": 0.1})
    with pytest.raises(coprosim.ScenarioError) as e:
        coprosim.run(changed, from_state=states)
    paths = [p.path for p in e.value.problems]
    assert paths == ["behaviour.aspiration_mean", "population.size"], paths
    with pytest.raises(ValueError, match="seed: found 5, expected 1"):
        coprosim.run(base, seed=5, from_state=states)
    with pytest.raises(ValueError, match="at most the 2 states"):
        coprosim.run(base, replications=3, from_state=states)
    assert coprosim.run(base, from_state=states).digest() == coprosim.run(base).digest()
