"""One account's worker process: its own browser, its own lifecycle, nothing shared with the parent.

The worker talks to the supervisor through SQLite and two one-way pipes: stop requests come in,
heartbeats go out. It resumes at the right lifecycle stage for the current time, so a worker
restarted at 10:30 goes straight through SETUP and CHECK_SESSION back to TRADING.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from . import calendar as idx, logs, proctree
from .clock import Clock, clock_from_spec, sleep_until
from .config import Account, Config, load_config
from .launchslots import beating, launch_slot, slot_count
from .lifecycle import DaySchedule, WorkerState, check_move
from .store import Store

if TYPE_CHECKING:
    from adapters.base import BrokerAdapter

    from .engine import Engine

log = logging.getLogger("robot.worker")

S = WorkerState
LOGIN_POLL_S = 30.0  # simulated seconds between session checks while WAIT_LOGIN
AUTO_LOGIN_MAX = 3  # automatic logins per worker process


PHASE_WAKE_MARGIN_S = 0.5  # poll this long after a phase that opens order entry has started


def next_poll_at(
    now: datetime, interval_s: float, eod: datetime, calendar: idx.Calendar | None = None
) -> datetime:
    """When the next poll starts: one poll interval from now, or just after the start of a phase
    that opens order entry (09:00, 13:30) if that comes sooner, so tasks waiting for it go out at
    once rather than up to a poll interval later (bench/burst.py). Never after ``eod``."""
    cal = calendar or idx.Calendar()
    wake = min(eod, now + timedelta(seconds=interval_s))
    change = idx.next_change(now)
    if (
        change is not None
        and change > now
        and not idx.can_submit(cal.phase_at(now))
        and idx.can_submit(cal.phase_at(change))
    ):
        wake = min(wake, change + timedelta(seconds=PHASE_WAKE_MARGIN_S))
    return wake


REQUESTS_EVERY_S = 1.5  # wall seconds between looks for a person's requests after the close


class StopRequested(Exception):
    """The supervisor asked this worker to stop."""


class NodeUnavailable(Exception):
    """Selenium Grid gave no session for this account (its node is down) within the bounds."""


@dataclass(frozen=True)
class WorkerArgs:
    """Everything a spawned worker needs; plain values only (it is pickled for spawn)."""

    account_id: str
    config_path: str
    clock_spec: str
    day: str  # ISO date of the trading day
    run_id: int
    dry_run_all: bool = False


def run_worker(args: WorkerArgs, ctl: Connection, hb: Connection) -> None:
    """Entry point of the worker process."""
    # Ctrl+C reaches the whole process group; the supervisor decides, and tells us via the pipe,
    # so the browser action in progress is finished rather than torn.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "setpgrp"):
        # Our own process group: if we are SIGKILLed, the supervisor ends the chromedriver and
        # Chromium we started by group, even after they were re-parented away from us.
        os.setpgrp()
    cfg = load_config(args.config_path)
    account = cfg.account(args.account_id)
    clock = clock_from_spec(args.clock_spec)
    logs.setup(cfg.settings.log_dir, account.id, clock=clock)
    logs.register_secret_env(account.pin_env)
    if cfg.settings.task_server:
        logs.register_secret_env(cfg.settings.task_server.token_env)
    worker = Worker(
        cfg, account, clock, date.fromisoformat(args.day), args.run_id, ctl, hb, args.dry_run_all
    )
    worker.run()


class Worker:
    def __init__(
        self,
        cfg: Config,
        account: Account,
        clock: Clock,
        day: date,
        run_id: int,
        ctl: Connection,
        hb: Connection,
        dry_run_all: bool = False,
    ):
        self.cfg, self.account, self.clock, self.day = cfg, account, clock, day
        self.settings = cfg.settings
        self.run_id, self.ctl, self.hb = run_id, ctl, hb
        self.dry_run = dry_run_all or account.dry_run
        self.schedule = DaySchedule.for_day(
            day, self.settings.start, self.settings.eod_report_time, self.settings.end
        )
        self.store = Store(self.settings.state_db)
        self.state: WorkerState | None = None
        self.stop = threading.Event()
        self.stop_reason: str | None = None
        # the supervisor that spawned us (as it recorded itself, should it already be gone):
        # when it is gone, we must not act (may_act)
        parent = multiprocessing.parent_process()
        self.supervisor_pid = parent.pid if parent is not None else os.getppid()
        self.adapter: BrokerAdapter | None = None  # the browser, from SETUP on
        self.engine: Engine | None = None  # from PULL_TASKS on
        self._logged_in = False
        self._crashes = 0
        self._login_attempts = 0
        self._login_refused = False
        self._last_beat = 0.0
        self._last_db_beat = 0.0
        self._hb_lock = threading.Lock()  # the main loop and the launch's beat thread share hb
        threading.Thread(target=self._listen, name="ctl", daemon=True).start()

    # --------------------------------------------------------------------------- plumbing
    def _listen(self) -> None:
        try:
            while True:
                msg = self.ctl.recv()
                if msg == "stop":
                    log.info("stop requested by the supervisor")
                    self._stop_for("the supervisor asked this worker to stop")
                    return
        except (EOFError, OSError):
            # the supervisor is gone (SIGKILL): stop cleanly rather than trade unsupervised
            log.warning("control channel closed: the supervisor is gone; stopping")
            self._stop_for("the control channel closed: the supervisor is gone")

    def _stop_for(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stop.set()

    def _supervisor_gone(self) -> str | None:
        """Why our supervisor is known to be gone, or None. Asked directly rather than waiting
        for the listener thread to see the pipe's end: re-parenting (POSIX) and the parent's
        sentinel (every OS, spawn) say so at once."""
        if os.getppid() != self.supervisor_pid:
            return f"the supervisor (pid {self.supervisor_pid}) is gone"
        parent = multiprocessing.parent_process()
        if parent is not None and not parent.is_alive():
            return f"the supervisor (pid {parent.pid}) is gone"
        return None

    def may_act(self) -> str | None:
        """Why this worker must not click now, or None when it may. The engine asks right
        before every submit click: an order placed by a worker nobody supervises (its supervisor
        SIGKILLed) or that was told to stop is an order nobody follows up."""
        gone = self._supervisor_gone()
        if gone is not None:
            self._stop_for(gone)
            return gone
        if self.stop.is_set():
            return self.stop_reason or "this worker is stopping"
        return None

    def beat(self, force: bool = False) -> None:
        """Tell the supervisor we are alive; only the main loop beats, so a hang shows."""
        now = time.monotonic()
        if not force and now - self._last_beat < min(1.0, self.settings.heartbeat_interval_s):
            return
        self._last_beat = now
        self._send_beat()
        if force or now - self._last_db_beat >= self.settings.heartbeat_interval_s:
            self._last_db_beat = now
            self.store.beat(self.account.id, self.clock.now())

    def _send_beat(self) -> None:
        """The heartbeat itself (pipe only: safe from the launch's beat thread, which must not
        touch the main thread's SQLite connection)."""
        try:
            with self._hb_lock:
                self.hb.send(("hb", self.state.value if self.state else None))
        except (BrokenPipeError, OSError):
            self._stop_for("the heartbeat channel closed: the supervisor is gone")

    def check_stop(self) -> None:
        gone = self._supervisor_gone()
        if gone is not None and not self.stop.is_set():
            log.warning("%s; stopping", gone)
            self._stop_for(gone)
        if self.stop.is_set():
            raise StopRequested()

    def enter(self, state: WorkerState, reason: str) -> None:
        """Move to a lifecycle state; a move the lifecycle does not list is a bug, refused
        (IllegalMove) before anything is recorded."""
        check_move(self.account.id, self.state, state)
        self.store.set_worker_state(
            self.account.id,
            self.account.broker,
            state.value,
            self.clock.now(),
            reason,
            os.getpid(),
            self.run_id,
        )
        if state == S.INIT:
            import psutil

            self.store.note_worker_process(
                self.account.id,
                psutil.Process().create_time(),
                self.account.node if self.remote else None,
            )
        log.info("state %s -> %s: %s", self.state.value if self.state else "-", state.value, reason)
        self.state = state
        self.beat(force=True)

    def wait_until(self, when: datetime, step_s: float = 1.0) -> None:
        """Wait on the clock until ``when``, beating and honouring stop requests."""
        while self.clock.now() < when:
            self.check_stop()
            self.beat()
            target = min(when, self.clock.now() + timedelta(seconds=step_s * self.clock.speed))
            if not sleep_until(self.clock, target, self.stop):
                raise StopRequested()
        self.beat()

    def pause(self, sim_seconds: float) -> None:
        self.wait_until(self.clock.now() + timedelta(seconds=sim_seconds))

    def wait_real(self, seconds: float) -> None:
        """Wait in real seconds (a Grid node comes back in real time, whatever the clock's
        speed), beating and honouring stop requests."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.check_stop()
            self.beat()
            if self.stop.wait(min(0.5, left)):
                raise StopRequested()

    @property
    def remote(self) -> bool:
        """The browser runs on a Selenium Grid node (settings.browser.remote_url)."""
        return bool(self.settings.browser.remote_url)

    # -------------------------------------------------------------------------- lifecycle
    def run(self) -> None:
        self.enter(S.INIT, f"worker process {os.getpid()} started")
        try:
            self._run_day()
        except StopRequested:
            pass
        except Exception as exc:
            log.exception("worker failed: %s", exc)
            self.store.note_worker_error(self.account.id, f"{type(exc).__name__}: {exc}")
            self._close_browser()
            raise
        self._close_browser()
        self.enter(S.STOPPED, self.stop_reason or "stopped by the supervisor")

    def _run_day(self) -> None:
        if self.schedule.stage(self.clock.now()) == "before":
            self.enter(S.IDLE, f"waiting for {self.schedule.start:%H:%M} WIB")
            self.wait_until(self.schedule.start)
        # after the close too: a worker restarted late still settles its day (the supervisor
        # waits a bounded grace for it)
        if (
            self.schedule.stage(self.clock.now()) in ("trading", "eod", "after")
            and not self._eod_done()
        ):
            if self._setup():
                self._check_session()
                if self.schedule.stage(self.clock.now()) == "trading":
                    self._pull_tasks()
                    self._trade()
            self._eod_report()
        if self.state != S.IDLE:
            self.enter(S.IDLE, "day done; waiting for the supervisor to stop us")
        while True:
            self._requests_after_close()
            self.pause(REQUESTS_EVERY_S * self.clock.speed)

    def _setup(self) -> bool:
        """Start the browser; False when none could be started before the end of the day (its
        Grid node stayed down), and the day is settled from the state store."""
        self.enter(
            S.SETUP,
            "starting the browser" + (f" on Grid node {self.account.node}" if self.remote else ""),
        )
        self._clean_profile()
        until = self.schedule.eod if self.clock.now() < self.schedule.eod else self.schedule.end
        try:
            self._start_browser(until)
        except NodeUnavailable as exc:
            if self.clock.now() < self.schedule.eod:
                raise
            log.error("%s; settling the day from the state store", exc)
            return False
        return True

    def _clean_profile(self) -> None:
        hub_url = self.settings.browser.remote_url
        if hub_url:  # (self.remote)
            # The profile lives on the Grid node. What a killed predecessor left there is its
            # session, which keeps the account's only slot busy until the node's session
            # timeout: end it through the hub (the node then closes that browser).
            from .grid import end_account_sessions

            ended = end_account_sessions(hub_url, self.account.id)
            if ended:
                log.warning(
                    "asked the hub to end %d stale Grid session(s) of %s: %s",
                    len(ended),
                    self.account.id,
                    ", ".join(ended),
                )
            return
        profile = self.account.profile_path
        profile.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(profile, 0o700)  # the profile holds the broker session: private to the user
        killed = proctree.kill_profile_processes(profile)
        if killed:
            log.warning("killed %d stale process(es) holding profile %s", killed, profile)
        if proctree.remove_stale_singleton_lock(profile):
            log.warning("removed a stale SingletonLock from %s", profile)

    def _start_browser(self, until: datetime | None = None) -> None:
        """Start the account's browser. On Selenium Grid, a node that is down (a refused or failed
        session request) is asked again with capped exponential backoff, in real time, until
        ``until`` on the clock or settings.grid.relaunch_window_s, then NodeUnavailable."""
        if not self.remote:
            self._launch_browser()
            return
        from adapters.base import AdapterError

        r, window = self.settings.restart, self.settings.grid.relaunch_window_s
        delay, attempt = r.backoff_initial_s, 0
        started = time.monotonic()
        while True:
            attempt += 1
            try:
                self._launch_browser()
            except AdapterError as exc:
                self._close_browser()
                waited = time.monotonic() - started
                if waited + delay > window or (until is not None and self.clock.now() >= until):
                    raise NodeUnavailable(
                        f"no browser session on Grid node {self.account.node} after {attempt} "
                        f"attempt(s) in {waited:.0f} s: {exc}"
                    ) from exc
                log.warning(
                    "no browser session on Grid node %s (%s); asking again in %.1f s",
                    self.account.node,
                    exc,
                    delay,
                )
                self._note_error(exc)
                self.wait_real(delay)
                delay = min(delay * 2, r.backoff_max_s)
                continue
            if attempt > 1:
                log.info(
                    "browser session on Grid node %s after %d attempts", self.account.node, attempt
                )
            return

    def _launch_browser(self) -> None:
        from adapters import create_adapter

        broker = self.cfg.broker_of(self.account)
        self.adapter = adapter = create_adapter(self.account, broker, self.settings, self.clock)
        adapter.progress = self.beat
        b = self.settings.browser
        if self.remote:
            with self._launch_beats():
                adapter.start()  # the browser starts on its Grid node, not here
        else:
            with (
                launch_slot(
                    Path(self.settings.state_db).parent / ".launch-slots",
                    slot_count(b.max_parallel_launches),
                    self._waiting_for_slot,
                ),
                self._launch_beats(),
            ):
                adapter.start()
        self.beat(force=True)
        self.store.note_worker_children(self.account.id, adapter.process_ids())

    def _launch_beats(self):
        """Heartbeats while the browser starts (one blocking call), up to launch_timeout_s."""
        every = min(1.0, self.settings.heartbeat_interval_s)
        return beating(self._send_beat, every, self.settings.browser.launch_timeout_s)

    def _waiting_for_slot(self) -> None:
        if not getattr(self, "_slot_wait_logged", False):
            self._slot_wait_logged = True
            log.info("waiting for a browser launch slot (other accounts are starting theirs)")
        self.check_stop()
        self.beat()

    def _close_browser(self) -> None:
        if self.adapter is not None:
            try:
                self.adapter.close()
            except Exception as exc:  # noqa: BLE001 - closing must never mask the real outcome
                log.warning("closing the browser failed: %s", exc)
            self.adapter = None

    def _session_valid(self) -> bool | None:
        """Whether the broker shows a logged-in page; None when its site did not answer until
        the end of the day. A site that is down (at 08:45, say) is asked again every
        LOGIN_POLL_S: it is not a crash of this worker, and not a reason to log in."""
        from adapters.base import BrokerUnreachable

        while True:
            try:
                return self.browser.is_session_valid()
            except BrokerUnreachable as exc:
                self._note_error(exc)
                if self.clock.now() >= self.schedule.eod:
                    return None
                self.pause(LOGIN_POLL_S)

    def _check_session(self) -> None:
        self.enter(S.CHECK_SESSION, "checking the broker session")
        self._logged_in = False
        valid = self._session_valid()
        if valid is None:
            log.error("the broker did not answer before the end of the day")
            return
        if valid or self._auto_login():
            self._logged_in = True
            self.enter(S.READY, "logged in")
            return
        self.enter(S.WAIT_LOGIN, f"not logged in: run `robot login {self.account.id}`")
        self._emit_once(
            "LOGIN_REQUIRED",
            {"broker": self.account.broker, "action": f"robot login {self.account.id}"},
        )
        while self.clock.now() < self.schedule.eod:
            self.pause(LOGIN_POLL_S)
            if self._session_valid() or self._auto_login():
                self._logged_in = True
                self.enter(S.READY, "logged in")
                return
        self.check_stop()

    def _auto_login(self) -> bool:
        """Log in with the configured password, a few times a day at most (brokers lock accounts
        after repeated failures, so a refused password stops the attempts for the day)."""
        from adapters.base import AdapterError, BrokerRejected

        name = self.account.password_env
        password = os.environ.get(name) if name else None
        if not password or self._login_attempts >= AUTO_LOGIN_MAX or self._login_refused:
            return False
        logs.register_secret(password)
        self._login_attempts += 1
        try:
            self.browser.login(self.account.username or self.account.id, password)
        except BrokerRejected as exc:
            self._login_refused = True
            log.error("automatic login refused (%s); waiting for a manual login", exc)
            return False
        except AdapterError as exc:
            log.warning("automatic login failed: %s", exc)
            return False
        log.info("logged in automatically (attempt %d today)", self._login_attempts)
        return self.browser.is_session_valid()

    def _emit_once(self, type_: str, payload: dict) -> None:
        """One event of this type per account per day (WAIT_LOGIN polls, it must not spam)."""
        self.store.add_event_once_a_day(type_, self.account.id, payload, self.clock.now(), self.day)

    def _pull_tasks(self) -> None:
        if self.state != S.READY:
            return
        self.enter(S.PULL_TASKS, "loading today's tasks")
        n = self.store.count_tasks(self.day, self.account.id)
        from .engine import Engine

        self.engine = Engine(
            self.store,
            self.browser,
            self.account,
            self.settings,
            self.clock,
            self.day,
            self.dry_run,
            may_act=self.may_act,
        )
        self.enter(S.TRADING, f"{n} task(s) known so far; reconciling before anything new")

    def _trade(self) -> None:
        if self.state != S.TRADING:
            return
        interval = self.settings.poll_interval_ms / 1000
        while self.clock.now() < self.schedule.eod:
            self.check_stop()
            self.trading_step()
            self.beat()
            self.wait_until(
                next_poll_at(self.clock.now(), interval, self.schedule.eod, self.settings.calendar),
                step_s=interval,
            )

    def trading_step(self) -> None:
        """One poll of the order engine, with the browser's failures handled in place."""
        from adapters.base import ActionTimeout, AdapterError, BrowserCrashed, SessionExpired

        if self.state != S.TRADING:
            self._session_lost()  # a session check a crash interrupted: finish it first
            return
        try:
            self._apply_requests()
            self.trading_engine.step()
            self._crashes = 0
        except SessionExpired:
            log.warning("broker session expired")
            self._session_lost()
        except BrowserCrashed as exc:
            self._browser_lost(exc)
        except ActionTimeout as exc:
            log.warning("broker UI timed out: %s; next poll will re-read", exc)
        except AdapterError as exc:
            self._note_error(exc)

    def _apply_requests(self, after_close: bool = False) -> None:
        """A person's resolve requests for this account, between two engine steps (each is
        checked against the broker's lists read then; robot/resolve.py)."""
        from .resolve import apply_resolves

        for decided in apply_resolves(self.trading_engine, after_close=after_close):
            log.info("request #%d %s: %s", decided.request_id, decided.status, decided.message)

    def _requests_after_close(self) -> None:
        """After the day's settling the browser is still open and the broker's history still
        lists the day's orders: a person's request for a task of today is still checked and
        applied (a retry is refused: no order can be placed any more)."""
        if self.engine is None or not self.state_allows_browser() or self.stop.is_set():
            return
        if not self.store.pending_requests("resolve", self.account.id):
            return
        try:
            self._apply_requests(after_close=True)
        except Exception as exc:  # noqa: BLE001 - the request stays pending; the day is done
            log.warning("a person's request could not be checked at the broker: %s", exc)
            self._note_error(exc)

    def _session_lost(self) -> None:
        """Check the session (logging in again if the robot may) before trading on. A browser
        that dies during the check is relaunched like any crash, and the check runs again on
        the next poll."""
        from adapters.base import BrowserCrashed

        try:
            self._check_session()
        except BrowserCrashed as exc:
            self._browser_lost(exc)
            return
        if self.state == S.READY:
            self.enter(S.PULL_TASKS, "logged in again")
            self.trading_engine.reconciled = False
            self.enter(S.TRADING, "trading again; reconciling first")

    def _browser_lost(self, exc: Exception) -> None:
        try:
            self._relaunch(exc)
        except NodeUnavailable as unavailable:
            if self.clock.now() < self.schedule.eod:
                raise
            # the end of the day came before the node: settle from the state store
            log.error("%s; the end of the day came first", unavailable)
            self._logged_in = False

    def _relaunch(self, exc: Exception) -> None:
        """The browser died: start a new one on the same profile and reconcile before trading."""
        self._crashes = getattr(self, "_crashes", 0) + 1
        log.error("browser crashed (%s); relaunching (%d in a row)", exc, self._crashes)
        self._note_error(exc)
        if self._crashes > 3:
            raise RuntimeError(f"the browser crashed {self._crashes} times in a row: {exc}")
        self._close_browser()
        self._clean_profile()
        until = self.schedule.eod if self.clock.now() < self.schedule.eod else self.schedule.end
        self._start_browser(until)
        engine = self.trading_engine
        engine.adapter = self.adapter
        engine.reconciled = False

    def _note_error(self, exc: Exception) -> None:
        log.error("%s: %s", type(exc).__name__, exc)
        self.store.note_worker_error(self.account.id, f"{type(exc).__name__}: {exc}")

    def _eod_done(self) -> bool:
        return self.store.eod_settled(self.account.id, self.day)

    def _eod_report(self) -> None:
        """Refresh the broker's history once more and give every task of the day its outcome."""
        from .engine import Engine

        self.enter(S.EOD_REPORT, "end of day: settling tasks")
        if self.engine is None and self.adapter is not None:
            self.engine = Engine(
                self.store,
                self.adapter,
                self.account,
                self.settings,
                self.clock,
                self.day,
                self.dry_run,
                may_act=self.may_act,
            )
        settled = False
        if self.engine is not None and self.state_allows_browser():
            for _ in range(3):
                try:
                    self.engine.settle_eod()
                    settled = True
                    break
                except Exception as exc:  # noqa: BLE001 - the report must come whatever happens
                    log.error("EOD read of the broker failed: %s", exc)
                    self._note_error(exc)
                    try:
                        self._relaunch(exc)
                    except Exception as again:  # noqa: BLE001 - as above: on to the report
                        log.error("cannot relaunch the browser for EOD: %s", again)
                        break
        if not settled:
            Engine(
                self.store, None, self.account, self.settings, self.clock, self.day, self.dry_run
            ).settle_from_store()
        self.enter(
            S.IDLE, "end-of-day settling done" + ("" if settled else " (from the state store only)")
        )

    @property
    def browser(self) -> BrokerAdapter:
        """The account's adapter, which every state from CHECK_SESSION on has."""
        if self.adapter is None:
            raise RuntimeError("no browser: the worker has not been through SETUP")
        return self.adapter

    @property
    def trading_engine(self) -> Engine:
        """The order engine, which TRADING and every state after PULL_TASKS have."""
        if self.engine is None:
            raise RuntimeError("no order engine: the worker has not been through PULL_TASKS")
        return self.engine

    def state_allows_browser(self) -> bool:
        return self.adapter is not None and self._logged_in
