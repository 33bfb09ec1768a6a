"""The daily job's command: `python -m robot.supervisor` and `robot run` (the same options).

It parses and checks the options, loads and validates the configuration (bad input: exit 2 with
every problem named, nothing started), decides whether today trades, and then hands the day to
the Supervisor (robot/supervisor.py, the process model). ``--demo`` runs the built-in simulated
day instead (robot/demo.py), which drives a Supervisor of its own.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import click

from . import logs
from .clock import RealClock, clock_from_spec, make_clock
from .config import HHMM_RE, load_config, unset_env
from .errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_RUNTIME, BadInput, ConfigError
from .supervisor import AlreadyRunning, Supervisor, install_signal_handlers

log = logging.getLogger("robot.supervisor")  # the day's own lines, as they always were


@dataclass
class RunOptions:
    config_path: str = "accounts.yaml"
    day: date | None = None
    clock_speed: float | None = None
    clock_start: str | None = None
    dry_run: bool = False
    tasks_file: str | None = None
    demo: bool = False
    extra: dict = field(default_factory=dict)


def run_day(opts: RunOptions) -> int:
    """Load, validate, decide whether today trades, then supervise the day. Returns an exit code."""
    if opts.demo:
        from .demo import run_demo

        return run_demo(
            Path(opts.extra["demo_dir"]), opts.clock_speed, opts.extra.get("driver"), opts.day
        )
    cfg = load_config(opts.config_path)
    missing, unneeded = unset_env(cfg)
    if missing:
        raise ConfigError(missing)  # nothing started: exit 2 with every variable named
    task_files: tuple[tuple[str, list], ...] = ()
    if opts.tasks_file:
        from .tasks import load_task_file

        task_files = ((opts.tasks_file, load_task_file(opts.tasks_file)),)  # bad file: exit 2 now
    logs.setup(cfg.settings.log_dir, "supervisor", to_stderr=True)
    log.info(
        "secrets: %s",
        f"env file {cfg.env_file}" if cfg.env_file else "the environment only (no env file)",
    )
    for problem in unneeded:
        log.warning("%s", problem)
    day = opts.day or RealClock().now().date()
    calendar = cfg.settings.calendar
    if calendar.year(day.year).provisional:
        log.warning(
            "%s; drop the exchange's list into settings.calendar_file when IDX publishes "
            "it (docs/CALENDAR.md)",
            calendar.year(day.year).describe(),
        )
    reason = calendar.closure_reason(day)
    if reason:
        log.info("%s is not an IDX trading day (%s); nothing to do", day.isoformat(), reason)
        return EXIT_OK
    if not cfg.enabled_accounts:
        log.info("no enabled accounts in %s; nothing to do", cfg.path)
        return EXIT_OK
    if opts.extra.get("clock_spec"):
        clock = clock_from_spec(opts.extra["clock_spec"])
    else:
        clock = make_clock(day, opts.clock_speed, opts.clock_start)
    logs.setup(cfg.settings.log_dir, "supervisor", to_stderr=True, clock=clock)
    sup = Supervisor(cfg, clock, day, dry_run=opts.dry_run, task_files=task_files)
    install_signal_handlers(sup)
    try:
        return sup.run()
    except AlreadyRunning as exc:
        log.error("%s", exc)
        return EXIT_RUNTIME


def run_options(fn):
    """The supervisor's options, shared by `python -m robot.supervisor` and `robot run`."""
    decorators = [
        click.option(
            "--config",
            "config_path",
            default="accounts.yaml",
            show_default=True,
            type=click.Path(dir_okay=False),
            help="accounts.yaml to use",
        ),
        click.option(
            "--date",
            "day",
            default=None,
            metavar="YYYY-MM-DD",
            help="trading day to run (default: today in WIB)",
        ),
        click.option(
            "--clock-speed",
            type=click.FloatRange(min=0.001),
            default=None,
            help="accelerated clock: N simulated seconds per second",
        ),
        click.option(
            "--clock-start",
            default=None,
            metavar="HH:MM",
            help="accelerated clock: the WIB time it starts at",
        ),
        click.option("--dry-run", is_flag=True, help="fill every form but never click submit"),
        click.option(
            "--tasks",
            "tasks_file",
            default=None,
            type=click.Path(dir_okay=False),
            help="also take tasks from this YAML or JSON file",
        ),
        # the exact clock of another process: `robot sim` prints it for a rehearsal
        click.option(
            "--clock-spec",
            default=None,
            metavar="SPEC",
            help="follow another process's accelerated clock (printed by `robot sim`)",
        ),
        click.option(
            "--demo",
            is_flag=True,
            help="run a whole simulated day on the built-in simulator (see README)",
        ),
        click.option(
            "--demo-dir",
            default="demo",
            show_default=True,
            type=click.Path(file_okay=False),
            help="where the demo keeps its state",
        ),
        click.option(
            "--driver",
            type=click.Choice(["uc", "selenium"]),
            default=None,
            help="demo only: the browser driver (default uc)",
        ),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


def parse_run_options(
    config_path: str,
    day: str | None,
    clock_speed: float | None,
    clock_start: str | None,
    dry_run: bool,
    tasks_file: str | None = None,
    clock_spec: str | None = None,
    demo: bool = False,
    demo_dir: str = "demo",
    driver: str | None = None,
) -> RunOptions:
    parsed_day = None
    if day is not None:
        try:
            parsed_day = date.fromisoformat(day)
        except ValueError:
            raise BadInput(f"--date: {day!r} is not a date YYYY-MM-DD") from None
    if clock_start is not None and not HHMM_RE.match(clock_start):
        raise BadInput(f"--clock-start: {clock_start!r} is not a time HH:MM")
    if clock_spec is not None:
        try:
            clock_from_spec(clock_spec)
        except ValueError as exc:
            raise BadInput(f"--clock-spec: {exc}") from None
    extra: dict[str, str | None] = {"clock_spec": clock_spec} if clock_spec else {}
    if demo:
        extra.update(demo_dir=demo_dir, driver=driver)
    return RunOptions(
        config_path,
        parsed_day,
        clock_speed,
        clock_start,
        dry_run,
        tasks_file,
        demo=demo,
        extra=extra,
    )


@click.command("run")
@run_options
def main(**kwargs) -> None:
    """Run one trading day for every enabled account, then exit."""
    try:
        code = run_day(parse_run_options(**kwargs))
    except BadInput as exc:
        click.echo(f"error: {exc}", err=True)
        code = EXIT_BAD_INPUT
    sys.exit(code)
