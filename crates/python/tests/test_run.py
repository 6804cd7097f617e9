"""Runs from Python give the command line's bytes, release the GIL, and stop on Ctrl-C."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import coprosim
import pytest
from conftest import compare_dirs


def test_write_gives_the_command_lines_files_byte_for_byte(repo, tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(repo)  # the same scenario path as given, recorded in both manifests
    done = run_cli("run", "scenarios/baseline.toml", "--replications", 4, "--seed", 7, "-j", 2, "-o", tmp_path / "cli")
    assert done.returncode == 0, done.stderr
    run = coprosim.run(coprosim.Scenario.load("scenarios/baseline.toml"), replications=4, seed=7, threads=2)
    written = run.write(tmp_path / "py")
    assert tmp_path / "py" / "summary.csv" in written
    files = compare_dirs(tmp_path / "cli", tmp_path / "py")
    assert {"series.csv", "replications.csv", "report.html", "explorer.html", "manifest.json"} <= set(files)
    # The tables are those files, and the frames read them back exactly.
    for name in run.tables:
        assert run.csv(name) == (tmp_path / "cli" / f"{name}.csv").read_bytes()
    import csv

    with open(tmp_path / "cli" / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    frame = run.summary
    assert len(frame) == len(rows)
    for column in ("mean", "sd", "p05", "p95"):
        exact = [float(r[column]) if r[column] else None for r in rows]
        read = [None if v != v else v for v in frame[column]]
        assert read == exact, column


def test_agents_and_events_give_the_command_lines_files(repo, tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(repo)
    flags = ["--agents", "40,50", "--events", "--detail-replications", 2, "--no-charts"]
    done = run_cli("run", "scenarios/baseline.toml", "-n", 3, "--seed", 5, *flags, "-o", tmp_path / "cli")
    assert done.returncode == 0, done.stderr
    scenario = coprosim.Scenario.load("scenarios/baseline.toml")
    run = coprosim.run(scenario, replications=3, seed=5, agents=[40, 50], events=True, detail_replications=2)
    run.write(tmp_path / "py", charts=False)
    files = compare_dirs(tmp_path / "cli", tmp_path / "py")
    assert {"agents.csv", "events.csv", "spells.csv"} <= set(files)
    assert set(run.agents["replication"]) == {0, 1} and set(run.agents["year"]) == {40, 50}
    assert set(run.spells["reason"]) <= {"left", "no_time", "dissolved", "censored"}
    assert coprosim.run(scenario, replications=1).events is None
    with pytest.raises(ValueError, match="agents: found year 3"):
        coprosim.run(scenario, replications=1, agents=[3])


def test_tables_respect_their_ranges():
    run = coprosim.run(coprosim.Scenario.baseline(), replications=3, seed=2)
    reps = run.replications
    assert sorted(reps["replication"].unique()) == [0, 1, 2]
    shares = reps[reps["metric"] == "annual_retention"]["value"].dropna()
    assert len(shares) > 0 and shares.between(0, 1).all()
    members = run.series.query("metric == 'members' and coalition == 'all' and group == 'all'")
    assert (members["mean"] >= 0).all() and (members["p05"] <= members["p95"]).all()
    assert set(run.summary.columns) >= {"metric", "coalition", "group", "mean"}


def test_results_do_not_depend_on_threads():
    s = coprosim.Scenario.baseline()
    one = coprosim.run(s, replications=3, seed=11, threads=1)
    two = coprosim.run(s, replications=3, seed=11, threads=2)
    other = coprosim.run(s, replications=3, seed=12, threads=2)
    assert one.digest() == two.digest() != other.digest()
    assert one.csv("series") == two.csv("series")


def test_writing_keeps_the_users_own_files_and_refuses_other_results(repo, tmp_path):
    run = coprosim.run(coprosim.Scenario.baseline(), replications=2, seed=1)
    mine = tmp_path / "out" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("my notes")
    with pytest.raises(coprosim.OutputError):
        run.write(tmp_path / "out", charts=False)  # not a coprosim result: only with force
    run.write(tmp_path / "out", charts=False, force=True)
    run.write(tmp_path / "out", charts=False)  # a rerun replaces only its own files
    assert mine.read_text() == "my notes"
    sweep = coprosim.sweep(repo / "scenarios" / "sweeps" / "ci_small.toml", replications=1)
    sweep.write(tmp_path / "sweep", charts=False)
    with pytest.raises(coprosim.OutputError):
        run.write(tmp_path / "sweep", charts=False)
    with pytest.raises(ValueError):
        coprosim.run(coprosim.Scenario.baseline(), replications=0)
    with pytest.raises(ValueError):
        coprosim.run(coprosim.Scenario.baseline(), threads=0)
    # No more threads than the command line accepts (four per core), before any is started.
    for call in (
        lambda: coprosim.run(coprosim.Scenario.baseline(), threads=99999),
        lambda: coprosim.sweep(repo / "scenarios" / "sweeps" / "ci_small.toml", threads=99999),
    ):
        with pytest.raises(ValueError, match=r"threads: found 99999, expected at most \d+ \(4 per core"):
            call()


def test_the_gil_is_released_during_a_run():
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    start = time.perf_counter()
    coprosim.run(coprosim.Scenario.baseline(), replications=8, seed=3, threads=1)
    elapsed = time.perf_counter() - start
    stop.set()
    t.join()
    # A thread holding the GIL for the whole run would leave the counter at about zero.
    assert elapsed > 0.05
    assert len(ticks) > 0.02 * elapsed / 0.001, (len(ticks), elapsed)


CHILD = textwrap.dedent(
    """\
    import faulthandler, signal, sys, time, coprosim
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    # A process started with SIGINT ignored (a background job of a shell: CI run with `&`)
    # passes that on, and Python then keeps ignoring it; a user's Python at a terminal has
    # this handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    s = coprosim.Scenario.baseline().with_values({"simulation.years": 40})
    print("started", flush=True)
    start = time.perf_counter()
    try:
        coprosim.run(s, replications=400, seed=1, threads=1)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print(f"interrupted after {time.perf_counter() - start:.2f}", flush=True)
    # The stop request was withdrawn: the next run runs.
    r = coprosim.run(coprosim.Scenario.baseline(), replications=2, seed=1)
    print("next run", r.scenario.replications, flush=True)
    """
)


def hung_child_report(child):
    """What a child that did not stop was doing: its signal masks and threads (from /proc) and
    every Python thread's stack (faulthandler, on SIGUSR1); the child is then killed."""
    lines = []
    proc = f"/proc/{child.pid}"
    try:
        with open(f"{proc}/status") as f:
            lines += [line.strip() for line in f if line.startswith(("State", "Threads", "Sig", "Shd"))]
        for task in sorted(os.listdir(f"{proc}/task")):
            with open(f"{proc}/task/{task}/stat") as f:
                stat = f.read().split()
            with open(f"{proc}/task/{task}/wchan") as f:
                lines.append(f"task {task} {stat[1]} state {stat[2]} wchan {f.read().strip()}")
    except OSError as e:
        lines.append(f"/proc: {e}")
    child.send_signal(signal.SIGUSR1)
    time.sleep(2)
    child.kill()
    out, err = child.communicate()
    return "\n".join(lines) + f"\nstdout: {out}\nstderr: {err}"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_interrupts_cleanly_and_the_next_run_works():
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "started"
    time.sleep(1.0)
    sent = time.perf_counter()
    child.send_signal(signal.SIGINT)
    try:
        out, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the run did not stop within 60 s of SIGINT:\n{hung_child_report(child)}")
    waited = time.perf_counter() - sent
    assert child.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("interrupted after"), out
    assert lines[1] == "next run 2", out
    assert waited < 10, f"the run took {waited:.1f} s to stop"
