"""The `robot` command (also `python -m robot`): one click group, small subcommands.

Exit codes: 0 success, 2 bad configuration or bad input, 1 runtime failure.
"""
from __future__ import annotations

import functools
import sys
from datetime import date
from typing import Callable

import click

from . import calendar as idx
from .config import DEFAULT_CONFIG, load_config, summary
from .errors import EXIT_BAD_INPUT, EXIT_RUNTIME, BadInput
from .supervisor import run_options

config_option = click.option("--config", "config_path", default=DEFAULT_CONFIG, show_default=True,
                             type=click.Path(dir_okay=False), help="accounts.yaml to use")


def exits_cleanly(fn: Callable) -> Callable:
    """Bad input -> its problems and exit 2; any other failure -> one line and exit 1."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BadInput as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the top of the program: report, don't dump
            click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(EXIT_RUNTIME)
    return wrapper


class RobotGroup(click.Group):
    """Click's own usage errors (unknown option, bad value) exit 2 already; keep it that way."""


@click.group(cls=RobotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="robot")
def main() -> None:
    """Places and watches IDX stock orders on brokers' web UIs for many accounts at once."""


@main.command()
@config_option
@exits_cleanly
def check(config_path: str) -> None:
    """Validate accounts.yaml and summarise the enabled accounts per broker."""
    cfg = load_config(config_path)
    click.echo(summary(cfg))


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


@main.command("calendar")
@click.option("--year", type=int, help="print the year's trading days, one ISO date a line")
@click.option("--date", "day", help="print that day's phases with their WIB times")
@exits_cleanly
def calendar_cmd(year: int | None, day: str | None) -> None:
    """The IDX trading calendar (closures shipped in robot/data/idx_calendar.yaml)."""
    if (year is None) == (day is None):
        raise BadInput("give exactly one of --year YYYY or --date YYYY-MM-DD")
    if year is not None:
        if year not in idx.known_years():
            raise BadInput(f"no IDX closure list for {year}; known years: "
                           f"{', '.join(map(str, idx.known_years()))}")
        for d in idx.trading_days(year):
            click.echo(d.isoformat())
        return
    d = _parse_date(day)
    reason = idx.closure_reason(d)
    if reason:
        click.echo(f"{d.isoformat()} ({d:%A}): no trading - {reason}")
        return
    click.echo(f"{d.isoformat()} ({d:%A}), WIB:")
    for span in idx.day_phases(d):
        flags = [name for name, ok in (("submit", idx.can_submit(span.phase)),
                                       ("withdraw", idx.can_withdraw(span.phase)),
                                       ("amend", idx.can_amend(span.phase))) if ok]
        click.echo(f"  {span.start:%H:%M:%S}-{span.end:%H:%M:%S}  {span.phase.value:<26}"
                   f" {', '.join(flags) or '-'}")


@main.command("run")
@run_options
@exits_cleanly
def run_cmd(**kwargs) -> None:
    """Run one trading day (same as `python -m robot.supervisor`)."""
    from .supervisor import parse_run_options, run_day
    sys.exit(run_day(parse_run_options(**kwargs)))


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@exits_cleanly
def status(config_path: str, as_json: bool) -> None:
    """What every account is doing: state, since, pid, restarts, open orders, heartbeat age."""
    import json as _json
    from .status import collect, render
    from .store import Store
    cfg = load_config(config_path, check_files=False)
    if not cfg.settings.state_db.exists():
        raise BadInput(f"no state database at {cfg.settings.state_db}: the robot has not run yet")
    store = Store(cfg.settings.state_db, readonly=True)
    try:
        data = collect(store)
    finally:
        store.close()
    click.echo(_json.dumps(data, indent=2, default=str) if as_json else render(data))


if __name__ == "__main__":  # pragma: no cover
    main()
