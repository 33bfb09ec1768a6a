"""Error types and the exit codes every command uses."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_BAD_INPUT = 2
EXIT_PENDING = 3  # `robot resolve` / `robot restart`: asked, not applied yet (robot/resolve.py)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows."""

    source: str  # file name, or e.g. "task T-001"
    key: str  # dotted path of the offending key, "" for the whole input
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class BadInput(Exception):
    """Input that cannot be used (config, selectors, tasks, CLI). Maps to exit code 2."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("input", "", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        return "\n".join([head] + [f"  - {p}" for p in self.problems])


class ConfigError(BadInput):
    """accounts.yaml (or a file it names) is invalid."""


class IllegalMove(Exception):
    """A state change that is not in its lifecycle's table of moves (a task's, an order row's or
    a worker's): a bug in the caller, refused before anything is written."""
