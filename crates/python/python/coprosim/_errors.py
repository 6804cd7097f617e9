"""The exceptions coprosim raises. The native module builds them (crates/python/src/errors.rs)."""

from __future__ import annotations

from typing import Any, List, NamedTuple, Optional, Sequence, Tuple


class Problem(NamedTuple):
    """One problem of an input: where it is and what was found and expected."""

    file: str
    """The file (or ``<dict>``, ``<string>``) as given."""
    line: Optional[int]
    """1-based line, or None when the problem has no place in a text (a value set from Python)."""
    column: Optional[int]
    """1-based column, in characters, or None like ``line``."""
    path: str
    """Key path, e.g. ``coalitions[food_bank].governance.voice``; empty for the whole input."""
    message: str
    """What was found and what was expected."""

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}:{self.column}:" if self.line is not None else f"{self.file}:"
        return f"{at} {self.path}: {self.message}" if self.path else f"{at} {self.message}"


class CoprosimError(Exception):
    """Every error coprosim raises itself."""


class ScenarioError(CoprosimError, ValueError):
    """A scenario, sweep or targets input that cannot be used: every problem found, at once.

    ``str(error)`` is what ``coprosim check`` prints: one line per problem, each with file,
    line:column, key path, what was found and what was expected.
    """

    def __init__(self, message: str, file: str, problems: Sequence[Tuple[Any, ...]]) -> None:
        super().__init__(message)
        self.file: str = file
        self.problems: List[Problem] = [Problem(*p) for p in problems]


class OutputError(CoprosimError, RuntimeError):
    """A result that cannot be written where asked (nothing already there is lost)."""
