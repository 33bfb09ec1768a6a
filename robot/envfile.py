"""Secrets without a shell: the env file beside accounts.yaml (``.env``, or settings.env_file).

cron and Task Scheduler start the robot with an empty environment, so the variables accounts.yaml
names (``token_env``, ``pin_env``, ``password_env``, ...) would be unset and the day would run into
401s and a locked PIN pad. The robot therefore reads ``NAME=value`` lines from one file at start
(python-dotenv's parser: comments, ``export``, quotes) and adds them to its own environment, so
every process it starts sees them too. A variable already set in the environment wins, so a
shell can still override the file for one run.

The file holds secrets: it is refused unless only its owner can read it (POSIX mode 600 or
stricter, owned by the user running the robot), and its values never reach a log line.
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from dotenv.parser import parse_stream

from .errors import Problem

DEFAULT_NAME = ".env"


@dataclass(frozen=True)
class EnvFile:
    """The variables one env file defines. ``values`` is kept out of repr (never printed)."""

    path: Path
    values: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.values))


def read(path: Path) -> tuple[EnvFile | None, list[Problem]]:
    """Parse ``path``; problems name the file and line (never a value)."""
    source = str(path)
    problems = _private_problems(path)
    if problems:
        return None, problems
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(source, "", "is not UTF-8 text: save it as UTF-8")]
    except OSError as exc:
        return None, [Problem(source, "", f"cannot be read: {exc.strerror or exc}")]
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            problems.append(
                Problem(source, "", "is not a NAME=value line (comments start with #)", line)
            )
        elif binding.key is not None:
            if binding.value is None:
                problems.append(Problem(source, binding.key, "has no '=value'", line))
            else:
                values[binding.key] = binding.value
    return (None if problems else EnvFile(path, values)), problems


def _private_problems(path: Path) -> list[Problem]:
    """Only its owner may read it. Windows has ACLs instead of modes: not checked there."""
    source = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return [Problem(source, "", "not found (settings.env_file names it)")]
    except OSError as exc:
        return [Problem(source, "", f"cannot be read: {exc.strerror or exc}")]
    if not stat.S_ISREG(st.st_mode):
        return [Problem(source, "", "is not a regular file")]
    if os.name != "posix":
        return []
    out = []
    if st.st_uid != os.geteuid():
        out.append(
            Problem(
                source,
                "",
                f"is owned by uid {st.st_uid}, not by the user running the "
                f"robot (uid {os.geteuid()}): it holds secrets",
            )
        )
    if st.st_mode & 0o077:
        out.append(
            Problem(
                source,
                "",
                f"can be read or written by others (mode "
                f"{stat.S_IMODE(st.st_mode):04o}); it holds secrets: "
                f"run chmod 600 {path}",
            )
        )
    return out


def apply(env: EnvFile) -> list[str]:
    """Add the file's variables to this process's environment (those already set win); returns
    the names taken from the file."""
    taken = []
    for name, value in env.values.items():
        if name not in os.environ:
            os.environ[name] = value
            taken.append(name)
    return sorted(taken)
