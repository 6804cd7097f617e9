"""The shipped Sobol example, with an inert parameter added: the inert parameter's indices are
0, the dummy's are not, and SALib's analysis of the exported design gives the indices of
`sensitivity.csv` (the README's snippet, run as a user would)."""

import csv

from conftest import REPO
from test_docs_snippets import run_snippet, snippet
from test_examples import needs

# With random shocks switched off (rate 0, as in the baseline) the Beta's alpha is never read.
INERT = "policy.random_shocks.cut_alpha"


def test_the_shipped_sobol_example_against_its_dummy_and_salib(tmp_path, run_cli):
    needs("SALib")
    text = (REPO / "scenarios" / "sweeps" / "sobol_retention.toml").read_text()
    base = (REPO / "scenarios" / "baseline.toml").as_posix()
    assert 'base = "../baseline.toml"' in text
    text = text.replace('base = "../baseline.toml"', f'base = "{base}"')
    text += f'\n[[axes]]\nkey = "{INERT}"\nmin = 1.0\nmax = 5.0\n'
    # A quarter of the example's base samples (still a power of two): the baseline town is a
    # 16,000-resident run, and what is checked here does not depend on N.
    assert "base_samples = 32" in text
    text = text.replace("base_samples = 32", "base_samples = 8")
    sweep = tmp_path / "sobol_retention.toml"
    sweep.write_text(text)
    out = tmp_path / "output" / "sobol_retention"
    done = run_cli("sweep", sweep, "--no-charts", "-o", out)
    assert done.returncode == 0, done.stderr

    rows = list(csv.DictReader((out / "sensitivity.csv").open()))
    for output in ("annual_retention", "top10_hours_share", "final_members"):
        by = {r["parameter"]: r for r in rows if r["output"] == output}
        inert, dummy = by[INERT], by["dummy"]
        # The inert parameter's interval includes 0: it is exactly 0, as is every index of it.
        assert float(inert["total_ci95_low"]) <= 0 <= float(inert["total_ci95_high"])
        assert all(float(inert[c]) == 0 for c in ("first_order", "total_order"))
        # Replication noise is not 0: the dummy measures it.
        assert float(dummy["total_order"]) > 0 and float(dummy["replication_variance"]) > 0

    printed = run_snippet(snippet("sobol-salib"), tmp_path)
    gaps = [float(line.rsplit(" ", 1)[1]) for line in printed.splitlines()]
    assert len(gaps) == 3, printed
    # sensitivity.csv gives six decimals.
    assert max(gaps) <= 1e-6, printed


def test_salib_reads_a_morris_export_to_the_same_measures(tmp_path, run_cli):
    needs("SALib")
    sweep = tmp_path / "morris.toml"
    base = (REPO / "scenarios" / "baseline.toml").as_posix()
    sweep.write_text(
        f'name = "morris"\nbase = "{base}"\nreplications = 2\nseed = 11\n'
        'outputs = ["annual_retention", "final_members"]\n'
        '[design]\nkind = "morris"\ntrajectories = 8\n'
        '[[axes]]\nkey = "behaviour.aspiration_mean"\nmin = -0.05\nmax = 0.1\n'
        '[[axes]]\nkey = "population.size"\nmin = 12000\nmax = 20000\n'
    )
    out = tmp_path / "output" / "morris"
    done = run_cli("sweep", sweep, "--no-charts", "-o", out)
    assert done.returncode == 0, done.stderr
    printed = run_snippet(snippet("morris-salib"), tmp_path)
    gaps = [float(line.rsplit(" ", 1)[1]) for line in printed.splitlines()]
    assert len(gaps) == 2, printed
    # morris.csv gives six decimals.
    assert max(gaps) <= 1e-6, printed
