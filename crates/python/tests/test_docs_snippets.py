"""The README's pandas snippets run on the files coprosim writes (the directories they name
are made by the commands the README gives, with fewer replications)."""

import re
import subprocess
import sys

from conftest import REPO


def snippet(name):
    text = (REPO / "README.md").read_text()
    found = re.search(rf"<!-- snippet: {name} -->\n```python\n(.*?)```", text, re.S)
    assert found, f"README.md has no snippet {name}"
    return found.group(1)


def run_snippet(code, cwd):
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_run_replications_snippet(tmp_path, run_cli):
    for name in ("austerity_base", "austerity_cut"):
        scenario = REPO / "scenarios" / "experiments" / f"{name}.toml"
        done = run_cli("run", scenario, "-n", 4, "--no-charts", "-o", tmp_path / "output" / name)
        assert done.returncode == 0, done.stderr
    out = run_snippet(snippet("run-replications"), tmp_path)
    assert "annual_retention" in out and "count" in out


def test_sweep_replications_snippet(tmp_path, run_cli):
    sweep = REPO / "scenarios" / "sweeps" / "ci_small.toml"
    done = run_cli("sweep", sweep, "-n", 2, "--no-charts", "-o", tmp_path / "output" / "fairness_funding")
    assert done.returncode == 0, done.stderr
    out = run_snippet(snippet("sweep-replications"), tmp_path)
    assert "final_members" in out and "annual_retention" in out


def test_run_detail_snippet(tmp_path, run_cli):
    out = tmp_path / "output" / "baseline_agents"
    done = run_cli("run", "--agents", "40,45,50", "--events", "-n", 2, "--no-charts", "-o", out)
    assert done.returncode == 0, done.stderr
    printed = run_snippet(snippet("run-detail"), tmp_path)
    assert "purposive" in printed and "censored" in printed and "join" in printed


def test_run_detail_parquet_snippet(tmp_path, run_cli):
    import pandas as pd

    out = tmp_path / "output" / "baseline_agents_parquet"
    done = run_cli("run", "--agents", "40,45", "--events", "--parquet", "-n", 2, "--no-charts", "-o", out)
    assert done.returncode == 0, done.stderr
    printed = run_snippet(snippet("run-detail-parquet"), tmp_path)
    assert "duration_weeks" in printed and "censored" in printed
    # pyarrow, an independent reader, finds the CSV files' data in the Parquet files.
    for table in ("agents", "events", "spells"):
        csv = pd.read_csv(out / f"{table}.csv")
        parquet = pd.read_parquet(out / f"{table}.parquet")
        assert len(csv) > 0
        pd.testing.assert_frame_equal(csv, parquet, check_dtype=False)


def test_sweep_series_snippet(tmp_path, run_cli):
    sweep = REPO / "scenarios" / "sweeps" / "planning_modes.toml"
    done = run_cli("sweep", sweep, "-n", 2, "--no-charts", "-o", tmp_path / "output" / "planning_modes")
    assert done.returncode == 0, done.stderr
    out = run_snippet(snippet("sweep-series"), tmp_path)
    assert "professional" in out and "community" in out and "50" in out
