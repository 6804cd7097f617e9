"""Shared fixtures: the repository, and the command line to compare the package with."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def compare_dirs(a: Path, b: Path, volatile=("wall_time_seconds",)):
    """Assert that two result directories hold the same files with the same bytes, but for
    the manifest's keys that say how long this process took, and the hidden commit lock
    (`.coprosim-lock`) a commit into an existing directory leaves."""

    def listed(d):
        return sorted(p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file() and p.name != ".coprosim-lock")

    files_a, files_b = listed(a), listed(b)
    assert files_a == files_b
    for name in files_a:
        x, y = (a / name).read_bytes(), (b / name).read_bytes()
        if name == "manifest.json":

            def keep(text):
                return [line for line in text.decode().splitlines() if not any(f'"{k}"' in line for k in volatile)]

            assert keep(x) == keep(y), name
        else:
            assert x == y, name
    return files_a


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `coprosim` binary: $COPROSIM_BIN, or the repository's release then debug build."""
    candidates = [os.environ.get("COPROSIM_BIN")] + [
        str(REPO / "target" / p / "coprosim") for p in ("release", "debug")
    ]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    pytest.fail("no coprosim binary: run `cargo build --release` first, or set COPROSIM_BIN")


@pytest.fixture
def run_cli(cli):
    def go(*args, cwd=None):
        done = subprocess.run([str(cli), "--quiet", *map(str, args)], cwd=cwd, capture_output=True, text=True)
        return done

    return go
