"""coprosim from Python: scenarios, runs, sweeps and calibrations, with pandas tables.

The simulations are coprosim's own (the Rust core, on every core, without the GIL), and every
table is parsed from the very bytes ``coprosim`` writes to disk, so a DataFrame here and a CSV
file of the command line cannot disagree. ``write(dir)`` writes the command line's files.

    >>> import coprosim
    >>> s = coprosim.Scenario.load("scenarios/baseline.toml")
    >>> run = coprosim.run(s.with_values({"coalitions[food_bank].governance.voice": 0.3}),
    ...                    replications=20, seed=1)
    >>> run.summary.head()

See docs/PYTHON.md for the whole API and examples/python for worked examples.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _core
from ._errors import CoprosimError, OutputError, Problem, ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    import concurrent.futures

    import pandas

__version__: str = _core.__version__

__all__ = [
    "Calibration",
    "CoprosimError",
    "OutputError",
    "Problem",
    "Run",
    "Scenario",
    "ScenarioError",
    "Sweep",
    "SweepResult",
    "Targets",
    "WarmStates",
    "calibrate",
    "check",
    "run",
    "sweep",
    "targets_from_roster",
]

PathLike = Union[str, "os.PathLike[str]"]
Value = Union[bool, int, float, str]


def _frame(data: bytes, kind: str = "pandas") -> Any:
    """A CSV text of coprosim's as a table: pandas (default), polars or arrow.

    Numbers read back exactly (pandas 3 parses floats exactly; older pandas is asked to);
    only an empty field is missing, so a coalition named "NA" stays a name.
    """
    if kind == "pandas":
        import pandas as pd

        exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
        return pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""], **exact)
    if kind == "polars":
        import polars as pl

        return pl.read_csv(io.BytesIO(data))
    if kind == "arrow":
        import pyarrow.csv as pacsv

        return pacsv.read_csv(io.BytesIO(data))
    raise ValueError(f"kind: found {kind!r}, expected 'pandas', 'polars' or 'arrow'")


def _native_of(kind: type, native: Any, made_by: str) -> None:
    """Refuse to wrap anything but the native object (``Scenario("file.toml")`` is a slip)."""
    if not isinstance(native, kind):
        raise TypeError(f"{made_by}: use {made_by}.load(path) to read a file (found {type(native).__name__})")


_USE = {"scenario": "Scenario.load or run", "sweep": "Sweep.load or sweep", "targets": "Targets.load or calibrate"}


def _load(expected: str, load: Any, path: PathLike) -> Any:
    """``load(path)``; when it fails on a file of another kind, say so first."""
    try:
        return load(os.fspath(path))
    except ScenarioError as e:
        kind = _core.input_kind(os.fspath(path))
        if kind == expected:
            raise
        hint = f"this is a {kind} file, not a {expected} file: use coprosim.{_USE[kind]}"
        problems = [(e.file, None, None, "", hint)] + [tuple(p) for p in e.problems]
        raise ScenarioError(f"{e.file}: {hint}\n{e}", e.file, problems) from None


def _count(name: str, value: Optional[int], low: int, high: int = 2**64 - 1) -> Optional[int]:
    """An optional whole-number argument in [low, high], or an error that names it."""
    if value is None:
        return None
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name}: found {value!r}, expected a whole number")
    v = value.__index__()
    if not low <= v <= high:
        raise ValueError(f"{name}: found {v}, expected a whole number from {low} to {high}")
    return v


def _whole(name: str, value: int, low: int, high: int = 2**64 - 1) -> int:
    """A whole-number argument that must be given, in [low, high], or an error naming it."""
    v = _count(name, value, low, high)
    if v is None:
        raise TypeError(f"{name}: found None, expected a whole number")
    return v


class Scenario:
    """A validated scenario and where it came from. Every constructor validates and raises
    :class:`ScenarioError` with every problem at once; a ``Scenario`` is never invalid.
    Make one with :meth:`load`, :meth:`baseline`, :meth:`from_toml` or :meth:`from_dict`."""

    __slots__ = ("_native",)

    def __init__(self, native: _core.Scenario) -> None:
        _native_of(_core.Scenario, native, "Scenario")
        self._native = native

    @classmethod
    def load(cls, path: PathLike) -> "Scenario":
        """Read and validate a scenario file (as ``coprosim check FILE`` does)."""
        return cls(_load("scenario", _core.Scenario.load, path))

    @classmethod
    def baseline(cls) -> "Scenario":
        """The baseline built into coprosim (what ``coprosim run`` runs without a file)."""
        return cls(_core.Scenario.baseline())

    @classmethod
    def from_toml(cls, text: str, file: str = "<string>") -> "Scenario":
        """Parse and validate scenario TOML text; ``file`` names it in errors."""
        return cls(_core.Scenario.from_toml(text, file))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], file: str = "<dict>") -> "Scenario":
        """A scenario from a dictionary with the keys and tables of a scenario file (for
        example ``tomllib.load`` of one, or :meth:`to_dict`). Errors name the key path."""
        try:
            text = json.dumps(data, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ScenarioError(f"{file}: {e}", file, [(file, None, None, "", str(e))]) from None
        return cls(_core.Scenario.from_json(text, file))

    def with_values(self, values: Union[Mapping[str, Value], Iterable[Tuple[str, Value]]]) -> "Scenario":
        """A copy with parameters set by key path (a mapping, or (key, value) pairs applied in
        order), e.g. ``{"coalitions[food_bank].governance.voice": 0.3,
        "coalitions[food_bank].mode.planning": "shared"}``. Coalitions and groups are named
        or numbered from 0; a whole-number parameter takes only whole numbers. Every problem
        is reported at once, as :class:`ScenarioError`."""
        pairs: List[Tuple[str, Value]] = (
            list(values.items()) if isinstance(values, Mapping) else [(k, v) for k, v in values]
        )
        return Scenario(self._native.with_values(pairs))

    def check(self, threads: Optional[int] = None, replications: Optional[int] = None) -> "Scenario":
        """Refuse what ``coprosim run`` refuses before it starts: a run that would not fit in
        this machine's memory. Returns the scenario, so calls chain."""
        self._native.check(_count("threads", threads, 1), _count("replications", replications, 1, 2**32 - 1))
        return self

    def to_toml(self) -> str:
        """The resolved scenario as TOML, every default filled in (``resolved_scenario.toml``)."""
        return self._native.to_toml()

    def to_dict(self) -> Dict[str, Any]:
        """The resolved scenario as a dictionary (:meth:`from_dict` takes it back)."""
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        return tomllib.loads(self.to_toml())

    def warm(
        self, replications: Optional[int] = None, seed: Optional[int] = None, threads: Optional[int] = None
    ) -> "WarmStates":
        """Simulate the burn-in of each replication (its own count and seed unless given) and
        keep its end state, to start policies from with ``run(policy, from_state=...)``: the
        burn-in is simulated once, whatever the number of policies. The states are the bytes
        ``coprosim run --save-state`` writes."""
        reps = _count("replications", replications, 1, 2**32 - 1)
        return WarmStates(_core.warm(self._native, reps, _count("seed", seed, 0), _count("threads", threads, 1)))

    def memory_estimate(self, threads: int = 1, replications: Optional[int] = None) -> int:
        """Bytes of memory a run needs."""
        reps = _count("replications", replications, 1, 2**32 - 1) or self.replications
        return int(self._native.memory_estimate(_count("threads", threads, 1) or 1, reps))

    name = property(lambda self: self._native.name, doc="The scenario's name.")
    description = property(lambda self: self._native.description, doc="Its description.")
    file = property(lambda self: self._native.file, doc="Where it came from, as the manifest records it.")
    sha256 = property(lambda self: self._native.sha256, doc="SHA-256 of the text it was read from.")
    replications = property(lambda self: self._native.replications, doc="Its own replications.")
    seed = property(lambda self: self._native.seed, doc="Its own master seed.")
    ticks = property(lambda self: self._native.ticks, doc="Ticks recorded.")
    agents = property(lambda self: self._native.agents, doc="Agents per replication.")

    def __repr__(self) -> str:
        return f"<coprosim.Scenario {self.name!r} from {self.file}>"


class WarmStates:
    """Each replication's state at the end of its burn-in (:meth:`Scenario.warm`, or
    :meth:`load` from a ``coprosim run --save-state`` result), to start policies from with
    ``run(policy, from_state=states)``."""

    def __init__(self, native: _core.WarmStates) -> None:
        _native_of(_core.WarmStates, native, "Scenario.warm or WarmStates.load")
        self._native = native

    @classmethod
    def load(cls, path: PathLike) -> "WarmStates":
        """The states a ``coprosim run --save-state`` result directory holds, each checked
        against its manifest's SHA-256 (and against its own, and the run, when a run starts
        from it)."""
        return cls(_core.WarmStates.load_dir(os.fspath(path)))

    def state(self, replication: int) -> bytes:
        """Replication ``replication``'s state: the bytes of ``warm/replication-NNNNNN.state``."""
        return self._native.state(replication)

    def scenario_toml(self) -> str:
        """The scenario the states were saved under, resolved."""
        return self._native.scenario_toml()

    replications = property(lambda self: self._native.replications, doc="Replications with a state.")
    seed = property(lambda self: self._native.seed, doc="The master seed they were saved with.")

    def __repr__(self) -> str:
        return f"<coprosim.WarmStates: {self.replications} replications, seed {self.seed}>"


class Sweep:
    """A validated sweep file, its base scenario read beside it."""

    __slots__ = ("_native",)

    def __init__(self, native: _core.Sweep) -> None:
        _native_of(_core.Sweep, native, "Sweep")
        self._native = native

    @classmethod
    def load(cls, path: PathLike) -> "Sweep":
        """Read and validate a sweep file (as ``coprosim check FILE`` does)."""
        return cls(_load("sweep", _core.Sweep.load, path))

    name = property(lambda self: self._native.name, doc="The sweep's name.")
    file = property(lambda self: self._native.file, doc="Where it came from.")
    points = property(lambda self: self._native.points, doc="Points of its design.")
    replications = property(lambda self: self._native.replications, doc="Replications per point.")
    outputs = property(lambda self: self._native.outputs, doc="The outputs recorded per point.")

    def __repr__(self) -> str:
        return f"<coprosim.Sweep {self.name!r}: {self.points} points x {self.replications} replications>"


class Targets:
    """A validated targets file (observed statistics and priors), its base read beside it."""

    __slots__ = ("_native",)

    def __init__(self, native: _core.Targets) -> None:
        _native_of(_core.Targets, native, "Targets")
        self._native = native

    @classmethod
    def load(cls, path: PathLike) -> "Targets":
        """Read and validate a targets file (as ``coprosim check FILE`` does)."""
        return cls(_load("targets", _core.Targets.load, path))

    name = property(lambda self: self._native.name, doc="The calibration's name.")
    file = property(lambda self: self._native.file, doc="Where it came from.")
    parameters = property(lambda self: self._native.parameters, doc="Key paths of the estimated parameters.")
    statistics = property(lambda self: self._native.statistics, doc="Observed statistics: (label, value, held out).")
    budget = property(lambda self: self._native.budget, doc="The simulation budget.")

    def __repr__(self) -> str:
        return f"<coprosim.Targets {self.name!r}: {len(self.parameters)} parameters>"


class _Result:
    """What every result has: its tables, as bytes or frames, and ``write``."""

    __slots__ = ("_native",)

    def __init__(self, native: Any) -> None:
        self._native = native

    @property
    def tables(self) -> List[str]:
        """The names of its tables (each is ``<name>.csv`` on disk)."""
        return list(self._native.tables())

    def csv(self, name: str) -> bytes:
        """The bytes of ``<name>.csv``, exactly as the command line writes it."""
        return bytes(self._native.csv(name))

    def table(self, name: str, kind: str = "pandas") -> Any:
        """``<name>.csv`` as a pandas DataFrame, or a polars DataFrame (``kind="polars"``) or
        an Arrow table (``kind="arrow"``) where those are installed."""
        return _frame(self.csv(name), kind)

    def write(
        self, dir: PathLike, charts: bool = True, force: bool = False, width: int = 1600, height: int = 1000
    ) -> List[Path]:
        """Write the command line's files into ``dir``, byte for byte as it writes them (the
        manifest's wall time is this process's); with charts and reports unless ``charts`` is
        False. Files coprosim did not write are kept; a directory that holds another kind of
        result is refused (:class:`OutputError`) unless ``force``. Returns the paths written."""
        return [Path(p) for p in self._native.write(os.fspath(dir), charts, force, width, height)]

    threads = property(lambda self: self._native.threads, doc="Threads used (results do not depend on it).")
    wall_time_seconds = property(lambda self: self._native.wall_time_seconds, doc="Wall time, in seconds.")


class Run(_Result):
    """A finished run: one row per tick, metric, coalition and group in :attr:`series`, one
    per replication and headline metric in :attr:`replications`, and the headline
    :attr:`summary` with its intervals, as in ``coprosim run``'s files (docs/OUTPUTS.md)."""

    __slots__ = ()

    @property
    def series(self) -> "pandas.DataFrame":
        """``series.csv``: every recorded series, mean, sd and 5/50/95% quantiles per tick."""
        return self.table("series")

    @property
    def retention(self) -> "pandas.DataFrame":
        """``retention.csv``: Kaplan-Meier retention by tenure."""
        return self.table("retention")

    @property
    def summary(self) -> "pandas.DataFrame":
        """``summary.csv``: the headline metrics with their intervals."""
        return self.table("summary")

    @property
    def inequality(self) -> "pandas.DataFrame":
        """``inequality.csv``: Lorenz curves of contribution."""
        return self.table("inequality")

    @property
    def replications(self) -> "pandas.DataFrame":
        """``replications.csv``: every replication's headline values (tidy)."""
        return self.table("replications")

    @property
    def replication_series(self) -> "pandas.DataFrame":
        """``replication_series.csv``: every replication's series at each whole year (tidy),
        the values :attr:`series` summarises, for paired differences over time."""
        return self.table("replication_series")

    @property
    def agents(self) -> "Optional[pandas.DataFrame]":
        """``agents.csv``: every agent at each snapshot year (None unless ``agents`` were asked for)."""
        return self.table("agents") if "agents" in self.tables else None

    @property
    def events(self) -> "Optional[pandas.DataFrame]":
        """``events.csv``: every join, exit and dissolution (None unless ``events=True``)."""
        return self.table("events") if "events" in self.tables else None

    @property
    def spells(self) -> "Optional[pandas.DataFrame]":
        """``spells.csv``: membership spells for survival analysis (None unless ``events=True``)."""
        return self.table("spells") if "spells" in self.tables else None

    @property
    def scenario(self) -> Scenario:
        """The scenario as run (with the replications and seed given to :func:`run`)."""
        return Scenario(self._native.scenario)

    seed = property(lambda self: self._native.seed, doc="The master seed.")

    @property
    def warnings(self) -> List[str]:
        """What the results cannot say (the manifest's warnings)."""
        return list(self._native.warnings())

    def digest(self) -> str:
        """SHA-256 over every reported number, bit for bit: equal digests, equal results."""
        return str(self._native.digest())

    def __repr__(self) -> str:
        s = self.scenario
        return f"<coprosim.Run {s.name!r}: {s.replications} replications, seed {self.seed}>"


class SweepResult(_Result):
    """A finished sweep: one row per point in :attr:`points`, one per point, replication and
    output in :attr:`replications`, and the Sobol indices in :attr:`sensitivity` for a Sobol
    design."""

    __slots__ = ()

    @property
    def points(self) -> "pandas.DataFrame":
        """``points.csv``: each point's axis values and outputs (mean, sd, interval)."""
        return self.table("points")

    @property
    def replications(self) -> "pandas.DataFrame":
        """``replications.csv``: every point's every replication's value of every output (tidy)."""
        return self.table("replications")

    @property
    def series(self) -> "Optional[pandas.DataFrame]":
        """``series.csv``: every point's whole trajectories, one row per point, trajectory and
        year (sweeps with ``series``; None otherwise)."""
        return self.table("series") if "series" in self.tables else None

    @property
    def sensitivity(self) -> "Optional[pandas.DataFrame]":
        """``sensitivity.csv`` (Sobol designs; None otherwise)."""
        return self.table("sensitivity") if "sensitivity" in self.tables else None

    @property
    def morris(self) -> "Optional[pandas.DataFrame]":
        """``morris.csv`` (Morris designs; None otherwise)."""
        return self.table("morris") if "morris" in self.tables else None

    @property
    def info(self) -> Dict[str, Any]:
        """The sweep's description as ``sweep.json`` records it."""
        info: Dict[str, Any] = json.loads(self._native.info_json())
        return info

    def __repr__(self) -> str:
        return f"<coprosim.SweepResult {self.info['name']!r}: {self._native.points} points>"


class Calibration(_Result):
    """A finished calibration (ABC-SMC): the particles of every generation in
    :attr:`posterior`, and the posterior predictive check in :attr:`summary`."""

    __slots__ = ()

    @property
    def posterior(self) -> "pandas.DataFrame":
        """``posterior.csv``: every particle of every generation, weight and distance."""
        return self.table("posterior")

    @property
    def generations(self) -> "pandas.DataFrame":
        """``generations.csv``: tolerance, acceptance and effective sample size per generation."""
        return self.table("generations")

    @property
    def summary(self) -> "pandas.DataFrame":
        """``summary.csv``: posterior marginals and the posterior predictive check."""
        return self.table("summary")

    @property
    def predictive(self) -> "pandas.DataFrame":
        """``predictive.csv``: the posterior predictive simulations."""
        return self.table("predictive")

    @property
    def models(self) -> Optional["pandas.DataFrame"]:
        """``models.csv`` of a model comparison (a targets file with ``[[models]]``): each
        model's posterior probability in every generation, with its Monte Carlo error; None
        when one model was fitted."""
        return self.table("models") if "models" in self.tables else None

    stopped_by = property(lambda self: self._native.stopped_by, doc="Why it stopped, in words.")
    parameters = property(lambda self: self._native.parameters, doc="Key paths of the estimated parameters.")
    simulations = property(lambda self: self._native.simulations, doc="Simulations run in all generations.")

    def __repr__(self) -> str:
        return f"<coprosim.Calibration: {self._native.generations} generations, stopped because {self.stopped_by}>"


def _scenario(s: Union[Scenario, PathLike]) -> Scenario:
    return s if isinstance(s, Scenario) else Scenario.load(s)


def run(
    scenario: Union[Scenario, PathLike],
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    agents: Sequence[float] = (),
    events: bool = False,
    detail_replications: int = 1,
    from_state: Optional[Union[WarmStates, PathLike]] = None,
) -> Run:
    """Run a scenario's Monte Carlo replications (its own count and seed unless given) on
    ``threads`` threads (None: one per core). The same inputs and seed give the same results
    on any thread count, as ``coprosim run`` does. Ctrl-C stops it (``KeyboardInterrupt``).

    ``agents`` (years from founding, in the recorded period) snapshots every agent into
    :attr:`Run.agents`, and ``events`` records joins, exits and dissolutions into
    :attr:`Run.events` and :attr:`Run.spells`, for the first ``detail_replications``
    replications, as ``coprosim run --agents ... --events`` does.

    ``from_state`` (:class:`WarmStates`, or a ``coprosim run --save-state`` result directory)
    starts each replication from its state at the end of the burn-in, as ``coprosim run
    --from-state`` does: the run takes the states' seed; later policy changes and shocks act
    as in a full run (the same bytes); settings that can change during a run and differ from
    the saved scenario's take effect from the end of the burn-in; anything that would have
    changed the burn-in raises :class:`ScenarioError`."""
    s = _scenario(scenario)
    states = None
    if from_state is not None:
        states = (from_state if isinstance(from_state, WarmStates) else WarmStates.load(from_state))._native
    args = (_count("replications", replications, 1, 2**32 - 1), _count("seed", seed, 0), _count("threads", threads, 1))
    years = [float(y) for y in agents]
    detail = _count("detail_replications", detail_replications, 1, 2**32 - 1)
    if detail is None:
        raise TypeError("detail_replications: found None, expected a whole number")
    return Run(_core.run(s._native, *args, years, bool(events), detail, states))


def sweep(
    sweep: Union[Sweep, PathLike],
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
) -> SweepResult:
    """Run every point of a sweep (grid, random, Latin hypercube or Sobol design) in memory,
    with the seeds ``coprosim sweep`` uses. For long sweeps that must survive a stop and
    resume, use ``coprosim sweep`` (it saves each point as it finishes)."""
    s = sweep if isinstance(sweep, Sweep) else Sweep.load(sweep)
    args = (_count("replications", replications, 1, 2**32 - 1), _count("seed", seed, 0), _count("threads", threads, 1))
    return SweepResult(_core.sweep(s._native, *args))


def calibrate(
    targets: Union[Targets, PathLike],
    threads: Optional[int] = None,
    *,
    executor: Optional["concurrent.futures.Executor"] = None,
    tasks: int = 8,
    attempts_per_task: int = 256,
    task_threads: Optional[int] = 1,
) -> Calibration:
    """Fit a targets file's parameters to its observed statistics (ABC-SMC), as
    ``coprosim calibrate`` does with the same seeds.

    With ``executor`` (any :class:`concurrent.futures.Executor`, or anything with its
    ``submit``, such as a Dask ``Client``), each generation's simulations are spread over its
    workers: ``tasks`` futures at a time, each computing ``attempts_per_task`` attempts (a
    multiple of 64) on ``task_threads`` threads, until the generation is complete. This process
    accepts them in attempt order, as one machine would, and runs the posterior predictive
    simulations on ``threads`` threads; the result is the same, byte for byte, as without an
    executor. Workers load the targets file by its absolute path, so they must see it (and its
    base scenario) there, and run the same coprosim (docs/PYTHON.md)."""
    t = targets if isinstance(targets, Targets) else Targets.load(targets)
    threads = _count("threads", threads, 1)
    if executor is None:
        return Calibration(_core.calibrate(t._native, threads))
    tasks = _count("tasks", tasks, 1) or 1
    per_task = _count("attempts_per_task", attempts_per_task, 64) or 256
    if per_task % 64:
        raise ValueError(f"attempts_per_task: found {per_task}, expected a multiple of 64 (the sampler's batch)")
    task_threads = _count("task_threads", task_threads, 1)
    path = os.path.abspath(t.file)
    log = ""
    blocks: List[str] = []
    asked: Optional[Tuple[int, int]] = None
    while True:
        log, needed, finished = _core.calibration_merge(t._native, log, blocks, threads)
        if finished is not None:
            return Calibration(finished)
        assert needed is not None
        if needed == asked:
            raise RuntimeError(
                f"the attempts computed for generation {needed[0]} from attempt {needed[1]} were refused: "
                "the workers read another targets file at its path, or run another coprosim version"
            )
        if asked is None or needed[0] != asked[0]:
            blocks = []  # a new generation: the last one's blocks are done with
        asked = needed
        generation, first = needed
        futures = [
            executor.submit(_calibration_block, path, log, first + k * per_task, per_task, task_threads)
            for k in range(tasks)
        ]
        blocks.extend(f.result() for f in futures)


def _calibration_block(targets_file: str, log: str, first: int, count: int, threads: Optional[int]) -> str:
    """One task of :func:`calibrate` with an executor, run on a worker: a block of attempts."""
    return _core.calibration_block(_core.Targets.load(targets_file), log, first, count, threads)


def _roster_rows(roster: "pandas.DataFrame") -> List[List[str]]:
    """A roster DataFrame as the rows of text cells the reader checks, the column names first:
    datetime columns (a Parquet file's timestamps, or dates parsed by pandas) as the
    ``YYYY-MM-DD`` of their day and missing values as empty cells, as the command line reads a
    Parquet roster."""
    import pandas

    table = roster.copy()
    for column in table.columns:
        if pandas.api.types.is_datetime64_any_dtype(table[column]):
            table[column] = table[column].dt.floor("D").dt.strftime("%Y-%m-%d")
    rows = [[str(c) for c in table.columns]]
    for row in table.itertuples(index=False, name=None):
        rows.append(["" if pandas.isna(v) else str(v) for v in row])
    return rows


def targets_from_roster(
    roster: Union["pandas.DataFrame", PathLike],
    scenario: Union[Scenario, PathLike],
    out: Optional[PathLike] = None,
    *,
    coalition: Optional[str] = None,
    survival_weeks: Sequence[int] = (),
    curve_every: int = 13,
    resamples: int = 1000,
    seed: int = 1,
    start: Optional[str] = None,
    until: Optional[str] = None,
    force: bool = False,
) -> str:
    """A targets file for :func:`calibrate` from a programme's roster, as ``coprosim targets``
    writes it (the same bytes for the same files): survival, annual retention, members over
    time, joins a year, group shares, members by area and hours concentration, each with its
    bootstrap standard error, and wide priors for what an analyst usually cannot know
    (docs/CALIBRATING.md).

    ``roster`` is a pandas DataFrame with the roster's columns (``person``, ``start`` and any
    of ``end``, ``group``, ``area``, ``hours_per_week``; dates as ``YYYY-MM-DD`` text, dates or
    datetimes, or weeks) or the path of its CSV file, or of a Parquet file (a name ending in
    ``.parquet``, read with :func:`pandas.read_parquet`, which needs pyarrow). The survival
    curve is also given every ``curve_every`` weeks, held out (compared with the fit, not
    fitted; 0 for none). ``scenario`` models the programme. With ``out``, the file is
    written there (refused if it exists, unless ``force``), named after it, its ``base`` the
    scenario's path as seen from its folder. Returns the file's text. A bad roster raises
    :class:`ScenarioError` with every problem, each located by row and column."""
    if isinstance(roster, (str, os.PathLike)) and os.fspath(roster).lower().endswith(".parquet"):
        import pandas

        source = os.path.basename(os.fspath(roster))
        table: Union[str, List[List[str]]] = _roster_rows(pandas.read_parquet(roster))
    elif isinstance(roster, (str, os.PathLike)):
        source = os.path.basename(os.fspath(roster))
        with open(roster, encoding="utf-8") as f:
            table = f.read()
    else:
        source = "roster.csv"
        table = _roster_rows(roster)
    if isinstance(scenario, Scenario):
        s, scenario_path = scenario, None
    else:
        s, scenario_path = Scenario.load(scenario), os.fspath(scenario)
    if out is not None:
        out = os.fspath(out)
        if os.path.exists(out) and not force:
            raise FileExistsError(f"{out}: already exists; pass force=True to replace it")
        name = os.path.splitext(os.path.basename(out))[0]
        folder = os.path.dirname(os.path.abspath(out))
        if scenario_path is None:
            raise ValueError("out= needs the scenario as a path, for the targets file's base")
        base = os.path.relpath(os.path.abspath(scenario_path), folder)
    else:
        name = "roster"
        base = scenario_path or "baseline"
    weeks = [_whole("survival_weeks", w, 1, 2**32 - 1) for w in survival_weeks]
    resamples_n, seed_n = _whole("resamples", resamples, 2, 2**32 - 1), _whole("seed", seed, 0)
    every = _whole("curve_every", curve_every, 0, 2**32 - 1)
    toml = _core.targets_from_roster(
        table, s._native, name, base, source, coalition, weeks, every, resamples_n, seed_n, start, until
    )
    if out is not None:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            f.write(toml)
    return toml


def check(path: PathLike) -> Union[Scenario, Sweep, Targets]:
    """Validate a scenario, sweep or targets file as ``coprosim check`` does; return it, or
    raise :class:`ScenarioError` with every problem."""
    kind = _core.input_kind(os.fspath(path))
    if kind == "targets":
        return Targets.load(path)
    if kind == "sweep":
        return Sweep.load(path)
    return Scenario.load(path).check()
