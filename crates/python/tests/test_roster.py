"""`coprosim.targets_from_roster`: the targets file `coprosim targets` writes, byte for byte,
from a roster file or a pandas DataFrame; a bad roster raises with every problem located."""

import coprosim
import pandas as pd
import pytest

CLUB = """name = "club"
[simulation]
years = 3
burn_in_years = 2
replications = 6
seed = 7
[population]
size = 400
[[population.groups]]
name = "a"
share = 0.5
[[population.groups]]
name = "b"
share = 0.5
[[coalitions]]
name = "one"
founders = 20
"""

ROSTER = """person,start,end,group,hours_per_week
p1,2022-01-03,2022-05-02,a,2
p2,2022-01-03,,b,6
p3,2022-01-03,2023-03-06,a,1
p4,2022-02-07,,a,3
p5,2022-04-04,2022-06-27,b,2
p1,2022-09-05,,a,2
p6,2022-10-03,2023-10-02,b,4
p7,2023-01-02,,a,1.5
p8,2023-06-05,2023-08-28,b,2
p9,2023-11-06,,a,5
"""


def test_the_same_file_as_the_command_line_from_a_file_or_a_data_frame(tmp_path, run_cli):
    (tmp_path / "club.toml").write_text(CLUB)
    (tmp_path / "roster.csv").write_text(ROSTER)
    done = run_cli(
        "targets", tmp_path / "roster.csv", "--scenario", tmp_path / "club.toml", "-o", tmp_path / "cli" / "t.toml"
    )
    assert done.returncode == 0, done.stderr
    expected = (tmp_path / "cli" / "t.toml").read_text()
    text = coprosim.targets_from_roster(tmp_path / "roster.csv", tmp_path / "club.toml", out=tmp_path / "py" / "t.toml")
    assert text == expected
    assert (tmp_path / "py" / "t.toml").read_text() == expected
    frame = pd.read_csv(tmp_path / "roster.csv")
    again = coprosim.targets_from_roster(frame, tmp_path / "club.toml", out=tmp_path / "df" / "t.toml")
    assert again == expected
    # The file is one `calibrate` takes.
    assert isinstance(coprosim.check(tmp_path / "py" / "t.toml"), coprosim.Targets)
    with pytest.raises(FileExistsError):
        coprosim.targets_from_roster(frame, tmp_path / "club.toml", out=tmp_path / "df" / "t.toml")


def test_a_bad_roster_raises_with_every_problem_located(tmp_path):
    (tmp_path / "club.toml").write_text(CLUB)
    frame = pd.DataFrame(
        {"person": ["x", "y"], "start": ["2022-02-30", "2022-01-03"], "end": [None, "2021-01-01"], "group": ["a", "c"]}
    )
    with pytest.raises(coprosim.ScenarioError) as caught:
        coprosim.targets_from_roster(frame, tmp_path / "club.toml")
    where = [(p.line, p.column, p.path) for p in caught.value.problems]
    # Located as in a table: by row (line 1 is the column names) and column position.
    assert where == [(2, 2, "start"), (3, 3, "end"), (3, 4, "group")], caught.value.problems


def test_a_parquet_roster_and_datetime_columns_give_the_same_file(tmp_path, run_cli):
    pytest.importorskip("pyarrow")
    (tmp_path / "club.toml").write_text(CLUB)
    (tmp_path / "roster.csv").write_text(ROSTER)
    # As pandas keeps a roster read with its dates parsed, and writes it to Parquet:
    # nanosecond timestamps, with nulls for spells still running.
    frame = pd.read_csv(tmp_path / "roster.csv", parse_dates=["start", "end"])
    assert pd.api.types.is_datetime64_any_dtype(frame["end"])
    frame.to_parquet(tmp_path / "roster.parquet")
    done = run_cli(
        "targets", tmp_path / "roster.parquet", "--scenario", tmp_path / "club.toml", "-o", tmp_path / "cli" / "t.toml"
    )
    assert done.returncode == 0, done.stderr
    expected = (tmp_path / "cli" / "t.toml").read_text()
    assert "roster.parquet: " in expected
    text = coprosim.targets_from_roster(
        tmp_path / "roster.parquet", tmp_path / "club.toml", out=tmp_path / "py" / "t.toml"
    )
    assert text == expected
    # The CSV roster gives the same statistics: only the source's name differs.
    from_csv = coprosim.targets_from_roster(
        tmp_path / "roster.csv", tmp_path / "club.toml", out=tmp_path / "csv" / "t.toml"
    )
    assert text.replace("roster.parquet", "roster.csv") == from_csv
    # A data frame with datetime columns is read as its dates.
    assert coprosim.targets_from_roster(frame, tmp_path / "club.toml", out=tmp_path / "df" / "t.toml") == from_csv
