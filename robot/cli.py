"""The `robot` command (also `python -m robot`): one click group, small subcommands.

Exit codes: 0 success, 2 bad configuration or bad input, 1 runtime failure (for `robot resolve`
and `robot restart`: the request was refused), 3 a request written but not applied yet.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import click

from . import calendar as idx
from .config import DEFAULT_CONFIG, load_config, summary
from .errors import EXIT_BAD_INPUT, EXIT_RUNTIME, BadInput
from .run import run_options

if TYPE_CHECKING:
    from .resolve import RequestOutcome

config_option = click.option(
    "--config",
    "config_path",
    default=DEFAULT_CONFIG,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="accounts.yaml to use",
)


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
    """Validate accounts.yaml and summarise the enabled accounts per broker.

    Also checks that every environment variable the file names is set (in the environment or
    the env file): unset ones an enabled account or the task server needs are errors (exit 2).
    Warns (exit 0) when this year's IDX calendar, or from December next year's, is provisional."""
    from .config import unset_env
    from .errors import ConfigError

    cfg = load_config(config_path)
    errors, warnings = unset_env(cfg)
    for problem in warnings:
        click.echo(f"warning: {problem}", err=True)
    if errors:
        raise ConfigError(errors)
    click.echo(summary(cfg))
    for warning in cfg.settings.calendar.warnings(_today()):
        click.echo(f"warning: {warning}", err=True)


def _today() -> date:
    """Today in WIB (the exchange's date, whatever the host's time zone)."""
    from .clock import RealClock

    return RealClock().now().date()


@main.command("login")
@click.argument("account_id")
@config_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.5),
    default=600.0,
    show_default=True,
    help="seconds to wait for the login to complete",
)
@click.option(
    "--headless", is_flag=True, help="no window (for tests: only an existing session can succeed)"
)
@exits_cleanly
def login_cmd(account_id: str, config_path: str, timeout: float, headless: bool) -> None:
    """Open the account's browser at the broker's login page and wait for you to log in.

    The session is kept in the account's profile for the robot's workers. Refuses while a robot
    worker holds the profile.
    """
    from .interactive import OperatorError, check_display, open_adapter, start, wait_for_login

    account, adapter = open_adapter(config_path, account_id, headless=headless)
    try:
        check_display(headless)
        start(adapter, account)
        who = f" as {account.username}" if account.username else ""
        click.echo(
            f"{account.id}: log in to {adapter.broker.name}{who} in the browser window "
            f"(waiting up to {timeout:g} s; closing the window gives up)"
        )
        wait_for_login(adapter, timeout)
    except OperatorError as exc:
        click.echo(f"error: {account.id}: {exc}", err=True)
        sys.exit(EXIT_RUNTIME)
    finally:
        adapter.close()
    click.echo(
        f"{account.id}: logged in to {adapter.broker.name}; the session is saved in "
        f"{account.profile_path}"
    )


@main.command()
@click.argument("account_id")
@config_option
@click.option(
    "--emiten", default="BBCA", show_default=True, help="stock whose quote page is checked"
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@exits_cleanly
def probe(account_id: str, config_path: str, emiten: str, as_json: bool) -> None:
    """Check every selector of the account's broker against its pages (exit 1 if any is missing).

    Only navigates and reads: never types, clicks, submits or cancels anything.
    """
    from .interactive import OperatorError, check_emiten, open_adapter, start
    from .probe import probe_account

    emiten = check_emiten(emiten)
    from adapters.base import BrokerUnreachable

    from .interactive import unreachable_message

    account, adapter = open_adapter(config_path, account_id, headless=True)
    try:
        start(adapter, account)
        report = probe_account(adapter, account.id, emiten)
    except BrokerUnreachable as exc:
        click.echo(f"error: {account.id}: {unreachable_message(exc, adapter.broker)}", err=True)
        sys.exit(EXIT_RUNTIME)
    except OperatorError as exc:
        click.echo(f"error: {account.id}: {exc}", err=True)
        sys.exit(EXIT_RUNTIME)
    finally:
        adapter.close()
    click.echo(report.to_json_text() if as_json else report.render_text())
    sys.exit(0 if report.ok else EXIT_RUNTIME)


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
@click.option(
    "--config",
    "config_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="accounts.yaml whose settings.extra_holidays and settings.calendar_file count "
    f"[default: {DEFAULT_CONFIG} if it exists, else the packaged lists only]",
)
@exits_cleanly
def calendar_cmd(year: int | None, day: str | None, config_path: str | None) -> None:
    """The IDX trading calendar: settings.calendar_file, else the lists shipped in
    robot/data/idx_calendar.yaml, else a provisional list from the holidays package
    (docs/CALENDAR.md). A provisional year says so: a '#' line first with --year."""
    if (year is None) == (day is None):
        raise BadInput("give exactly one of --year YYYY or --date YYYY-MM-DD")
    cal = _calendar_of(config_path)
    if year is not None:
        listed = cal.year(year)
        if listed.origin == idx.NONE:
            raise BadInput(
                f"no IDX closure list for {year}, and the holidays package has no "
                f"Indonesian holidays for it; exchange lists: "
                f"{', '.join(map(str, idx.known_years()))}"
            )
        if listed.provisional:
            click.echo(f"# {listed.describe()}")
        for trading_day in cal.trading_days(year):
            click.echo(trading_day.isoformat())
        return
    d = _parse_date(day)
    if d is None:  # not reached: exactly one of the two is given (checked above)
        raise BadInput("give exactly one of --year YYYY or --date YYYY-MM-DD")
    reason = cal.closure_reason(d)
    if reason:
        click.echo(f"{d.isoformat()} ({d:%A}): no trading - {reason}")
    else:
        click.echo(f"{d.isoformat()} ({d:%A}), WIB:")
        for span in idx.day_phases(d):
            flags = [
                name
                for name, ok in (
                    ("submit", idx.can_submit(span.phase)),
                    ("withdraw", idx.can_withdraw(span.phase)),
                    ("amend", idx.can_amend(span.phase)),
                )
                if ok
            ]
            click.echo(
                f"  {span.start:%H:%M:%S}-{span.end:%H:%M:%S}  {span.phase.value:<26}"
                f" {', '.join(flags) or '-'}"
            )
    if cal.year(d.year).provisional:
        click.echo(f"  {cal.year(d.year).describe()}")


def _calendar_of(config_path: str | None) -> idx.Calendar:
    """The calendar of the given config; without --config, of ./accounts.yaml when there is one
    (an invalid one is an error: its extra closures would silently be missing), else the
    packaged lists and the fallback."""
    from pathlib import Path

    if config_path is None:
        if not Path(DEFAULT_CONFIG).is_file():
            return idx.Calendar()
        config_path = DEFAULT_CONFIG
    return load_config(config_path, check_files=False).settings.calendar


@main.command("run")
@run_options
@exits_cleanly
def run_cmd(**kwargs) -> None:
    """Run one trading day (same as `python -m robot.supervisor`)."""
    from .run import parse_run_options, run_day

    sys.exit(run_day(parse_run_options(**kwargs)))


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@exits_cleanly
def status(config_path: str, as_json: bool) -> None:
    """What every account is doing: state, since, pid, restarts, open orders, heartbeat age.

    With settings.browser.remote_url, also each account's Grid node and the hub's view of it."""
    import json as _json

    from .status import collect, render
    from .store import Store

    cfg = load_config(config_path, check_files=False)
    if not cfg.settings.state_db.exists():
        raise BadInput(f"no state database at {cfg.settings.state_db}: the robot has not run yet")
    store = Store(cfg.settings.state_db, readonly=True)
    try:
        data = collect(store, hub_url=cfg.settings.browser.remote_url)
    finally:
        store.close()
    click.echo(_json.dumps(data, indent=2, default=str) if as_json else render(data))


@main.command("dashboard")
@config_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="address to listen on; anything but loopback needs a token (--token-env)",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="port (0: any free port)",
)
@click.option(
    "--token-env",
    default="ROBOT_DASHBOARD_TOKEN",
    show_default=True,
    help="environment variable (or env file entry) holding the token the page then requires",
)
@click.option(
    "--poll-s",
    type=click.FloatRange(min=1, max=60),
    default=3.0,
    show_default=True,
    help="seconds between the page's updates",
)
@exits_cleanly
def dashboard_cmd(config_path: str, host: str, port: int, token_env: str, poll_s: float) -> None:
    """Serve a live web page over state.db: accounts, tasks, events, outbox, reports.

    Read-only towards the trading state; the buttons (resolve a task, restart a FATAL account)
    are requests the robot's workers and supervisor act on. Works beside a running day and
    after it. Stop it with Ctrl+C."""
    import os

    from .dashboard import DashboardServer, create_app
    from .dashboard.access import is_loopback
    from .logs import register_secret

    load_config(config_path, check_files=False)  # bad config: exit 2; its env file is read
    token = os.environ.get(token_env) or None
    if not is_loopback(host) and not token:
        raise BadInput(
            f"--host {host} reaches beyond this machine: set a token in ${token_env} (in the "
            f"environment or the env file beside {config_path}); the page then requires it"
        )
    register_secret(token)
    try:
        server = DashboardServer(create_app(config_path, token, host, poll_s), host, port)
    except OSError as exc:
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo(f"robot dashboard: {server.url}")
    if token:
        click.echo(
            f"  the page requires the token: open {server.url}?token=<value of ${token_env}>"
        )
    click.echo("  Ctrl+C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.stop()


@main.command()
@config_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="seconds to wait for the day to stop (0: ask and return)",
)
@exits_cleanly
def stop(config_path: str, timeout: float) -> None:
    """Stop the running day cleanly: workers finish their action and close their browsers,
    undelivered events stay in the outbox. Works for a day started by cron or Task Scheduler."""
    import time as _time

    from .store import Store
    from .supervisor import stop_file_of

    cfg = load_config(config_path, check_files=False)
    db = cfg.settings.state_db
    if not db.exists():
        raise BadInput(f"no state database at {db}: the robot has not run yet")

    def running() -> dict | None:
        store = Store(db, readonly=True)
        try:
            return store.running_run()
        finally:
            store.close()

    run = running()
    if run is None:
        click.echo(f"no day is running on {db}")
        return
    stop_file_of(db).touch()
    click.echo(f"asked run {run['id']} (supervisor pid {run['pid']} on {run['host']}) to stop")
    deadline = _time.monotonic() + timeout
    while timeout and _time.monotonic() < deadline:
        if running() is None:
            click.echo("stopped")
            return
        _time.sleep(0.5)
    if timeout:
        click.echo(
            f"still running after {timeout:g} s (is its supervisor alive? `robot status`)", err=True
        )
        sys.exit(EXIT_RUNTIME)


def _state_store(config_path: str):
    """The config's state.db, opened for writing (a person's request is a row in it)."""
    from .store import Store

    cfg = load_config(config_path, check_files=False)
    if not cfg.settings.state_db.exists():
        raise BadInput(f"no state database at {cfg.settings.state_db}: the robot has not run yet")
    return Store(cfg.settings.state_db)


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment: still say something
        return "unknown user"


def _finish_request(result: RequestOutcome) -> None:
    """Print a request's outcome; exit 0 done, 1 refused, 3 pending (EXIT_PENDING)."""
    from .errors import EXIT_PENDING

    click.echo(f"{result.status}: {result.message}", err=result.status == "refused")
    if result.status == "refused":
        sys.exit(EXIT_RUNTIME)
    if result.status == "pending":
        sys.exit(EXIT_PENDING)


wait_option = click.option(
    "--wait",
    "wait_s",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="seconds to wait for the request to be applied (then exit 3: still pending)",
)


@main.command("resolve")
@click.argument("task_id")
@click.option("--placed", metavar="BROKER_ORDER_ID", help="the order you found at the broker")
@click.option("--not-placed", is_flag=True, help="nothing at the broker: the task fails today")
@click.option("--retry", is_flag=True, help="with --not-placed: back to PENDING instead")
@click.option(
    "--force",
    is_flag=True,
    help="with --not-placed, only while no robot runs: record it now, without the broker",
)
@wait_option
@config_option
@exits_cleanly
def resolve_cmd(
    task_id: str,
    placed: str | None,
    not_placed: bool,
    retry: bool,
    force: bool,
    wait_s: float,
    config_path: str,
) -> None:
    """Tell the robot what you found at the broker for a task in OUTCOME_UNKNOWN.

    The account's worker checks it against the broker's lists before applying it: --placed X is
    refused unless the broker shows X with the task's stock, side, price and lot; --not-placed is
    refused while the broker shows an order like the task's. Exit 0 applied, 1 refused, 2 bad
    input (nothing written), 3 written but not applied yet (no worker trades for the account
    now: it is applied, after the same checks, when one does)."""
    import filelock

    from .clock import RealClock
    from .resolve import apply_forced, request_resolve, wait_outcome

    store = _state_store(config_path)
    lock = filelock.FileLock(str(store.path) + ".lock")
    try:
        if force:
            try:  # held while applying: no supervisor may start meanwhile
                lock.acquire(timeout=0)
            except filelock.Timeout:
                raise BadInput(
                    f"robot resolve {task_id}: --force: a supervisor is running on {store.path}; "
                    f"without --force its worker checks the broker and applies the request"
                ) from None
        try:
            rid = request_resolve(
                store,
                task_id,
                placed=placed,
                not_placed=not_placed,
                retry=retry,
                who=_os_user(),
                force=force,
            )
        except ValueError as exc:
            raise BadInput(f"robot resolve {task_id}: {exc}") from None
        if force:
            result = apply_forced(store, rid, RealClock().now())
        else:
            result = wait_outcome(store, rid, wait_s)
    finally:
        if lock.is_locked:
            lock.release()
        store.close()
    _finish_request(result)


@main.command("restart")
@click.argument("account_id")
@wait_option
@config_option
@exits_cleanly
def restart_cmd(account_id: str, wait_s: float, config_path: str) -> None:
    """Re-enable a FATAL account for the rest of the day: the supervisor starts its worker again
    (backoff and flap count reset). Exit 0 done, 1 refused, 2 bad input, 3 not applied yet (no
    supervisor running: the next run applies it)."""
    from .resolve import request_restart, wait_outcome

    store = _state_store(config_path)
    try:
        try:
            rid = request_restart(store, account_id, who=_os_user())
        except ValueError as exc:
            raise BadInput(f"robot restart {account_id}: {exc}") from None
        result = wait_outcome(store, rid, wait_s)
    finally:
        store.close()
    _finish_request(result)


@main.command()
@config_option
@click.option(
    "--date",
    "day",
    default=None,
    metavar="YYYY-MM-DD",
    help="trading day (default: the latest day in state.db)",
)
@click.option("--json", "as_json", is_flag=True, help="print the JSON report")
@exits_cleanly
def report(config_path: str, day: str | None, as_json: bool) -> None:
    """Rebuild the end-of-day report from state.db at any time (nothing is sent anywhere)."""
    import json as _json
    from datetime import datetime as _dt

    from .clock import RealClock
    from .eod import build_report
    from .report import render_table
    from .store import Store

    cfg = load_config(config_path, check_files=False)
    if not cfg.settings.state_db.exists():
        raise BadInput(f"no state database at {cfg.settings.state_db}: the robot has not run yet")
    store = Store(cfg.settings.state_db, readonly=True)
    try:
        d = _parse_date(day)
        if d is None:
            latest = store.latest_task_day()
            if not latest:
                raise BadInput("state.db holds no tasks yet; give --date")
            d = date.fromisoformat(latest)
        runs = store.runs_on(d)
        if not runs and not store.count_tasks(d):
            click.echo(
                f"no run of the robot recorded for {d.isoformat()} in "
                f"{cfg.settings.state_db}: nothing to report",
                err=True,
            )
            sys.exit(EXIT_RUNTIME)
        ended = max((r["ended"] for r in runs if r["ended"]), default=None)
        now = _dt.fromisoformat(ended) if ended else RealClock().now()
        data = build_report(store, cfg, d, now)
    finally:
        store.close()
    click.echo(_json.dumps(data, indent=2, ensure_ascii=False) if as_json else render_table(data))


@main.command("schedule-entry")
@config_option
@click.option("--cron", "kind", flag_value="cron", help="print a crontab entry")
@click.option("--windows", "kind", flag_value="windows", help="print a schtasks /Create command")
@click.option(
    "--xml",
    "xml_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="with --windows: also write the Task Scheduler XML to this file",
)
@click.option(
    "--tz",
    "zone_name",
    default=None,
    help="the time zone of the machine that will run it (default: this host's)",
)
@click.option(
    "--cron-tz/--no-cron-tz", default=None, help="force or forbid CRON_TZ (default: detect cronie)"
)
@click.option(
    "--windows-dir",
    default=None,
    metavar="C:\\robot",
    help="with --windows on another OS: the folder robot is installed in on the Windows "
    "machine (holding .venv and the config)",
)
@click.option(
    "--windows-user",
    default=None,
    metavar="PC\\user",
    help="with --windows: the account the task runs as (default on Windows: you)",
)
@exits_cleanly
def schedule_entry(
    config_path: str,
    kind: str | None,
    xml_path: str | None,
    zone_name: str | None,
    cron_tz: bool | None,
    windows_dir: str | None,
    windows_user: str | None,
) -> None:
    """Print the daily start entry: 08:40 WIB on weekdays, whatever the host's time zone."""
    from pathlib import Path
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from .schedule_entry import TASK_NAME, cron_entry, schtasks_command, task_xml, windows_target

    if kind is None:
        raise BadInput("give --cron or --windows")
    zone = None
    if zone_name:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise BadInput(f"--tz: unknown time zone {zone_name!r} (e.g. Asia/Jakarta)") from None
    cfg = load_config(config_path)
    from .config import outside_env_file

    for ref in outside_env_file(cfg):
        click.echo(
            f"warning: {cfg.path}:{ref.line}: {ref.key}: {ref.name} is not in "
            f"{cfg.env_file or cfg.path.parent / '.env'}; a scheduled run has no shell "
            f"environment and starts without it ({ref.why})",
            err=True,
        )
    if kind == "cron":
        click.echo(cron_entry(cfg.path, cfg.settings.log_dir / "cron.log", zone, cron_tz=cron_tz))
        return
    target = windows_target(cfg.path, windows_dir, windows_user)
    cmd, notes = schtasks_command(target, zone)
    click.echo(cmd)
    for note in notes:
        click.echo(f"REM {note}")
    if xml_path:
        Path(xml_path).write_text(task_xml(target, zone), encoding="utf-16")
        click.echo(
            f'REM or: schtasks /Create /XML "{xml_path}" /TN "{TASK_NAME}" /RU "{target.user}" /NP'
        )


@main.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8700,
    show_default=True,
    help="port on 127.0.0.1 (0: any free port)",
)
@click.option(
    "--scenario",
    default="demo",
    show_default=True,
    help="scenario name (simulator/scenarios) or YAML file",
)
@click.option(
    "--date",
    "day",
    default=None,
    metavar="YYYY-MM-DD",
    help="simulated trading day (default: today in WIB)",
)
@click.option(
    "--clock-speed",
    type=click.FloatRange(min=0.001),
    default=None,
    help="accelerated clock: N simulated seconds per second",
)
@click.option("--clock-start", default=None, metavar="HH:MM", help="accelerated clock start (WIB)")
@click.option(
    "--token-env",
    default="ROBOT_TASK_TOKEN",
    show_default=True,
    help="environment variable holding the task server's token",
)
@click.option(
    "--ui-latency",
    type=click.FloatRange(min=0),
    default=None,
    help="seconds each broker page action takes (default: the scenario's)",
)
@config_option
@exits_cleanly
def sim(
    port: int,
    scenario: str,
    day: str | None,
    clock_speed: float | None,
    clock_start: str | None,
    token_env: str,
    ui_latency: float | None,
    config_path: str,
) -> None:
    """Serve the simulated brokers and task server on 127.0.0.1 (the embedded default).

    Reads the token from the environment or from the env file of --config (when that file
    exists), as the robot does. With an accelerated clock, prints the `robot run` line that
    follows the same clock."""
    import os
    from pathlib import Path

    from simulator.scenario import ScenarioError
    from simulator.server import serve

    from .clock import RealClock, make_clock
    from .config import HHMM_RE

    d = _parse_date(day) or RealClock().now().date()
    if clock_start is not None and not HHMM_RE.match(clock_start):
        raise BadInput(f"--clock-start: {clock_start!r} is not a time HH:MM")
    if Path(config_path).is_file():
        load_config(config_path, check_files=False)  # its env file, if it has one
    token = os.environ.get(token_env)
    if not token:
        raise BadInput(
            f"set the task server token in ${token_env} (any string; the robot reads "
            "the same variable), in the environment or in the env file beside "
            f"{config_path}"
        )
    clock = make_clock(d, clock_speed, clock_start)
    if clock.spec() != "real":
        click.echo(
            f"robot on the same clock: robot run --config {config_path} --date "
            f"{d.isoformat()} --clock-spec '{clock.spec()}'"
        )
    try:
        serve(port=port, scenario=scenario, clock=clock, token=token, ui_latency=ui_latency)
    except ScenarioError as exc:
        raise BadInput(str(exc)) from None


# ------------------------------------------------------------------------------ Selenium Grid
@main.group()
def grid() -> None:
    """Selenium Grid 4: each account's browser on the node that holds its profile (README,
    "Scaling out")."""


def _emit(text: str, out: str | None) -> None:
    from pathlib import Path

    if out is None:
        click.echo(text, nl=False)
        return
    from .grid import write_private

    write_private(Path(out), text)  # it may hold the registration secret
    click.echo(f"wrote {out}", err=True)


@grid.command("node-config")
@click.argument("node")
@config_option
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="write the TOML to this file (mode 600) instead of stdout",
)
@exits_cleanly
def grid_node_config(node: str, config_path: str, out: str | None) -> None:
    """Print NODE's TOML: one slot per account whose profile it holds (java -jar
    selenium-server.jar node --config FILE)."""
    from .grid import node_toml

    _emit(node_toml(load_config(config_path, check_files=False), node), out)


@grid.command("hub-config")
@config_option
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="write the TOML to this file (mode 600) instead of stdout",
)
@exits_cleanly
def grid_hub_config(config_path: str, out: str | None) -> None:
    """Print the hub's TOML (java -jar selenium-server.jar hub --config FILE)."""
    from .grid import hub_toml

    _emit(hub_toml(load_config(config_path, check_files=False)), out)


@grid.command("up")
@config_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=5),
    default=120.0,
    show_default=True,
    help="seconds to wait for the hub and every node to be UP",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False),
    default=None,
    help="where the generated configs and logs go (default .grid/run)",
)
@exits_cleanly
def grid_up(config_path: str, timeout: float, workdir: str | None) -> None:
    """Run a hub and the configured nodes on this machine (127.0.0.1) until Ctrl+C."""
    from pathlib import Path

    from .grid import GridError, run_grid_up

    cfg = load_config(config_path, check_files=False)
    try:
        code = run_grid_up(
            cfg, timeout, echo=lambda s: click.echo(s), workdir=Path(workdir) if workdir else None
        )
    except GridError as exc:
        click.echo(f"error: {exc}", err=True)
        code = EXIT_RUNTIME
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
