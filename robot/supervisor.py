"""The supervisor: one trading day, one OS process per enabled account, restarts, hangs, shutdown.

`python -m robot.supervisor` (also `robot run`) is the daily job. It takes an OS file lock on the
state database (so a second supervisor refuses to start, and a crash never leaves a stale lock),
cleans up what a killed predecessor left, starts the workers with the spawn method on every OS,
watches their heartbeats and exits, restarts crashed or hung workers with capped exponential
backoff, gives up on a flapping account for the day (FATAL) without disturbing the others, and at
the end of the operating hours stops everything and exits 0.

This module is the process model only; the command that parses the options, validates the
configuration and decides whether today trades is robot/run.py.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from multiprocessing.connection import Connection, wait as wait_connections
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

import filelock

from . import proctree
from .clock import Clock
from .config import Account, Config
from .errors import EXIT_OK
from .lifecycle import DaySchedule, RestartTracker, WorkerState
from .store import Store
from .worker import WorkerArgs, run_worker

if TYPE_CHECKING:
    from .notify import Notifier
    from .outbox import Outbox
    from .taskpull import TaskPuller

log = logging.getLogger("robot.supervisor")
SHUTDOWN_GRACE_S = 10.0  # workers get this long to finish their action and quit the browser
END_GRACE_S = 120.0  # wall seconds past the end of the hours for end-of-day settling


class AlreadyRunning(Exception):
    pass


@dataclass
class Handle:
    """The supervisor's view of one account's worker."""

    account: Account
    tracker: RestartTracker
    process: BaseProcess | None = None
    ctl: Connection | None = None  # stop requests go out here
    hb: Connection | None = None  # heartbeats come in here
    started_at: float = 0.0  # monotonic
    last_beat: float = 0.0  # monotonic
    state: str | None = None
    restart_at: float | None = None  # monotonic time of a scheduled restart
    fatal: str | None = None
    stopping: bool = False
    restarts: int = 0
    pending_reason: str = ""


class Supervisor:
    def __init__(
        self,
        cfg: Config,
        clock: Clock,
        day: date,
        dry_run: bool = False,
        monotonic=time.monotonic,
        task_files: tuple = (),
    ):
        self.cfg, self.clock, self.day, self.dry_run = cfg, clock, day, dry_run
        self.settings = cfg.settings
        self.schedule = DaySchedule.for_day(
            day, self.settings.start, self.settings.eod_report_time, self.settings.end
        )
        self.monotonic = monotonic
        self.ctx = mp.get_context("spawn")  # Linux behaves as Windows does
        self.handles: dict[str, Handle] = {}
        self.stop_requested = threading.Event()
        self.lock: filelock.BaseFileLock | None = None
        self._store: Store | None = None  # open() opens it
        self._run_id: int | None = None  # open() starts the run
        self.started_mono = monotonic()
        self.hooks: list[Callable[[Supervisor], None]] = []  # extra callables run each loop
        self.task_files = task_files  # [(path, [task, ...])] validated before start
        self.puller: TaskPuller | None = None
        self.outbox: Outbox | None = None
        self.notifier: Notifier | None = None  # alerts to a person (robot/notify.py), if any
        self.report: dict | None = None
        self.report_path: Path | None = None
        self.on_report: Callable[[], None] | None = None  # before the report is printed (demo)
        self._end_wait_started: float | None = None

    # ------------------------------------------------------------------------------ start
    def acquire_lock(self) -> None:
        lock_path = Path(str(self.settings.state_db) + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = filelock.FileLock(str(lock_path))
        try:
            self.lock.acquire(timeout=0)
        except filelock.Timeout:
            raise AlreadyRunning(
                f"another supervisor is already running on {self.settings.state_db}"
                f" (it holds {lock_path}); stop it first or use another state_db"
            ) from None

    @property
    def store(self) -> Store:
        """The state store, from open() on."""
        if self._store is None:
            raise RuntimeError("the supervisor is not open")
        return self._store

    @property
    def run_id(self) -> int:
        """This run's row in the state store, from open() on."""
        if self._run_id is None:
            raise RuntimeError("the supervisor is not open")
        return self._run_id

    @property
    def stop_file(self) -> Path:
        """`robot stop` creates this file; the loop sees it and stops the day cleanly (a file
        works the same on Windows, where a signal to another console's process does not)."""
        return stop_file_of(self.settings.state_db)

    def open(self) -> None:
        self.acquire_lock()
        self.stop_file.unlink(missing_ok=True)  # a request meant for an earlier run
        self._store = Store(self.settings.state_db)
        self._clean_up_predecessor()
        self._run_id = self.store.start_run(
            self.day,
            self.clock.now(),
            os.getpid(),
            socket.gethostname(),
            str(self.cfg.path),
            self.clock.spec(),
        )
        for account in self.cfg.enabled_accounts:
            r = self.settings.restart
            self.handles[account.id] = Handle(
                account,
                RestartTracker(
                    r.backoff_initial_s,
                    r.backoff_max_s,
                    r.flap_max,
                    r.flap_window_s,
                    r.min_uptime_s,
                ),
            )
        self._restore_restart_counts()
        from .outbox import Outbox

        self.outbox = Outbox(self.store, self.settings.task_server, self.clock, self.monotonic)
        from .notify import start_notifier  # own threads and connections: never blocks tick()

        self.notifier = start_notifier(
            self.settings.notifications, self.settings.state_db, self.clock, self.day
        )
        self._take_tasks()

    def _take_tasks(self) -> None:
        """Local task files first (already parsed), then the task server if one is configured."""
        from .taskpull import TaskPuller
        from .tasks import ingest

        for path, tasks in self.task_files:
            result = ingest(self.store, self.cfg, tasks, f"file:{path}", self.day, self.clock.now())
            log.info("tasks from %s: %s", path, result)
        if self.settings.task_server is not None:
            self.puller = puller = TaskPuller(
                self.cfg, self.store, self.day, self.clock, self.monotonic
            )
            puller.pull()

    def _pull_tasks_if_due(self) -> None:
        if self.puller is not None and self.puller.due() and self.clock.now() < self.schedule.eod:
            self.puller.pull()

    def _clean_up_predecessor(self) -> None:
        """A SIGKILLed supervisor leaves workers and browsers behind: end them before starting."""
        for row in self.store.workers():
            killed = proctree.kill_tree(row["pid"], row["pid_created"]) if row["pid_created"] else 0
            killed += proctree.kill_group(row["pid"])
            if row["child_pids"]:
                import json

                killed += proctree.kill_pids(json.loads(row["child_pids"]))
            if killed:
                log.warning(
                    "killed %d leftover process(es) of %s's previous worker", killed, row["account"]
                )
        for account in self.cfg.accounts:
            if self._end_browser_of(account):
                log.warning("ended a leftover browser holding %s", account.profile_path)
        self.store.interrupt_running_runs(self.clock.now())

    def _restore_restart_counts(self) -> None:
        """Restart counts are per day: a supervisor restarted mid-day keeps counting."""
        for row in self.store.workers():
            h = self.handles.get(row["account"])
            if h and row["restarts_date"] == self.day.isoformat():
                h.restarts = row["restarts"]
            if (
                h
                and row["state"] == WorkerState.FATAL.value
                and row["restarts_date"] == self.day.isoformat()
            ):
                h.fatal = row["fatal_reason"] or "FATAL earlier today"

    def spawn(self, h: Handle) -> None:
        ctl_recv, ctl_send = self.ctx.Pipe(duplex=False)
        hb_recv, hb_send = self.ctx.Pipe(duplex=False)
        args = WorkerArgs(
            h.account.id,
            str(self.cfg.path),
            self.clock.spec(),
            self.day.isoformat(),
            self.run_id,
            self.dry_run,
        )
        proc = self.ctx.Process(
            target=run_worker,
            args=(args, ctl_recv, hb_send),
            name=f"robot-worker-{h.account.id}",
            daemon=False,
        )
        proc.start()
        ctl_recv.close()
        hb_send.close()
        h.process, h.ctl, h.hb = proc, ctl_send, hb_recv
        h.started_at = h.last_beat = self.monotonic()
        h.restart_at, h.stopping = None, False
        log.info("started worker for %s (pid %s)", h.account.id, proc.pid)

    # ------------------------------------------------------------------------------- loop
    def run(self) -> int:
        self.open()
        log.info(
            "run %s: trading day %s, %d account(s), clock %s; %s",
            self.run_id,
            self.day,
            len(self.handles),
            self.clock.spec(),
            self.settings.calendar.year(self.day.year).describe(),
        )
        stagger = self.settings.browser.launch_stagger_s
        for i, h in enumerate(self.handles.values()):
            if h.fatal:
                log.warning("%s stays FATAL today: %s", h.account.id, h.fatal)
                continue
            self.spawn(h)
            if stagger and i < len(self.handles) - 1:
                self.stop_requested.wait(min(stagger, 5.0))  # Chromium start is CPU-bound
        status = "done"
        try:
            while not self.stop_requested.is_set():
                if self.clock.now() >= self.schedule.end and self._may_end():
                    log.info("operating hours over (%s WIB)", self.schedule.end.strftime("%H:%M"))
                    break
                self.tick()
            else:
                status = "interrupted"
        finally:
            self.shutdown()
            if status == "done":
                self._maybe_report(force=True)
            if self.notifier is not None:
                self.notifier.finish_within(10.0)  # alongside the task-server outbox
            self.final_delivery()
            self.close_notifier()
            self.finish(status)
        return EXIT_OK

    def tick(self, wait_s: float = 0.25) -> None:
        """One pass of the loop: heartbeats, exits, hangs, due restarts, task pulls, the report,
        event delivery and the hooks."""
        conns = [h.hb for h in self.handles.values() if h.hb is not None]
        ready = wait_connections(conns, timeout=wait_s) if conns else []
        if not conns:
            self.stop_requested.wait(wait_s)
        now = self.monotonic()
        for h in self.handles.values():
            if h.hb is not None and h.hb in ready:
                self._drain(h, now)
            self._check(h, now)
        self._apply_restart_requests()
        self._pull_tasks_if_due()
        self._maybe_report()
        if self.outbox is not None and self.outbox.due():
            self.outbox.deliver()
        for hook in self.hooks:
            hook(self)
        if self.stop_file.exists():
            log.info("stop requested by `robot stop`")
            self.stop_requested.set()

    def _drain(self, h: Handle, now: float) -> None:
        hb = h.hb
        if hb is None:
            return
        try:
            while hb.poll():
                kind, state = hb.recv()
                h.last_beat = now
                h.state = state
        except (EOFError, OSError):
            h.hb = None  # the worker is gone; _check sees its exit

    def _check(self, h: Handle, now: float) -> None:
        if h.fatal or h.stopping:
            return
        if h.process is None:
            if h.restart_at is not None and now >= h.restart_at:
                self._restart(h)
            return
        if h.process.exitcode is not None:
            self._on_exit(h, now, f"worker exited with code {h.process.exitcode}")
        elif now - h.last_beat > self.settings.hang_timeout_s:
            log.error(
                "%s: no heartbeat for %.0f s; killing its process tree",
                h.account.id,
                now - h.last_beat,
            )
            self._kill(h)
            self._on_exit(h, now, f"hung: no heartbeat for {self.settings.hang_timeout_s:.0f} s")

    def _kill(self, h: Handle) -> None:
        if h.process is not None and h.process.pid:
            proctree.kill_tree(h.process.pid)
        self._end_browser_of(h.account)
        if h.process is not None:
            h.process.join(5)

    def _on_exit(self, h: Handle, now: float, reason: str) -> None:
        """An exit nobody asked for: clean up after it, then restart with backoff or give up."""
        uptime = now - h.started_at
        code = h.process.exitcode if h.process else None
        pid = h.process.pid if h.process else None
        self._reap(h)
        self._clean_after(h, pid)
        delay = h.tracker.on_exit(now, uptime)
        account = h.account.id
        if delay is None:
            h.fatal = (
                f"{len(h.tracker.failures)} failures within "
                f"{self.settings.restart.flap_window_s:.0f} s; last: {reason}"
            )
            log.error("%s is FATAL for today: %s", account, h.fatal)
            self._record_fatal(h, h.fatal)
            return
        h.restart_at = now + delay
        h.pending_reason = reason
        log.warning("%s: %s (uptime %.1f s); restarting in %.1f s", account, reason, uptime, delay)
        with self.store.transaction():
            self.store.add_event(
                "WORKER_CRASHED",
                account,
                {
                    "reason": reason,
                    "exit_code": code,
                    "uptime_s": round(uptime, 1),
                    "restart_in_s": delay,
                },
                self.clock.now(),
            )
            self.store.note_worker_error(account, reason)

    def _reap(self, h: Handle) -> None:
        if h.process is not None:
            h.process.join(1)
            h.process.close() if h.process.exitcode is not None else None
        for conn in (h.ctl, h.hb):
            if conn is not None:
                conn.close()
        h.process, h.ctl, h.hb = None, None, None

    def _clean_after(self, h: Handle, pid: int | None = None) -> None:
        """Whatever the dead worker started (chromedriver, Chromium) must not outlive it."""
        proctree.kill_group(pid if pid is not None else (h.process.pid if h.process else None))
        row = self.store.worker(h.account.id) or {}
        if row.get("child_pids"):
            import json

            proctree.kill_pids(json.loads(row["child_pids"]))
        self._end_browser_of(h.account)

    def _end_browser_of(self, account: Account) -> int:
        """End whatever browser still holds the account's profile: a local process tree, or on
        Selenium Grid the account's session (the profile and its browser are the node's: a
        browser on this machine with that path belongs to a local node and is left to it)."""
        url = self.settings.browser.remote_url
        if url:
            from .grid import end_account_sessions

            return len(end_account_sessions(url, account.id))
        return proctree.kill_profile_processes(account.profile_path)

    def _restart(self, h: Handle) -> None:
        h.restarts += 1
        account = h.account.id
        with self.store.transaction():
            self.store.set_restarts(account, h.restarts, self.day)
            self.store.add_event(
                "WORKER_RESTARTED",
                account,
                {"restarts_today": h.restarts, "after": h.pending_reason},
                self.clock.now(),
            )
        log.info("restarting %s (restart %d today)", account, h.restarts)
        self.spawn(h)

    def _apply_restart_requests(self) -> None:
        """`robot restart ACCOUNT`: a FATAL account's worker is started again for the rest of
        the day, its backoff and flap count reset (robot/resolve.py)."""
        from .resolve import DONE, REFUSED, decide

        for req in self.store.pending_requests("restart"):
            h = self.handles.get(req["account"])
            now = self.clock.now()
            by = f"supervisor {os.getpid()}"
            if h is None or not h.fatal:
                why = (
                    f"{req['account']} is not an enabled account of this run"
                    if h is None
                    else f"{req['account']} is not FATAL in this run (its worker runs)"
                )
                decide(self.store, req, REFUSED, why, now, by)
                continue
            if self.clock.now() >= self.schedule.end:
                decide(self.store, req, REFUSED, "the operating hours are over", now, by)
                continue
            message = f"{req['account']} re-enabled (was FATAL: {h.fatal}); its worker starts"
            if not decide(self.store, req, DONE, message, now, by):
                continue
            log.warning("%s re-enabled by %s (request #%d)", req["account"], req["who"], req["id"])
            r = self.settings.restart
            h.tracker = RestartTracker(
                r.backoff_initial_s, r.backoff_max_s, r.flap_max, r.flap_window_s, r.min_uptime_s
            )
            h.fatal, h.restart_at, h.pending_reason = None, None, ""
            self.spawn(h)

    def _record_fatal(self, h: Handle, reason: str) -> None:
        with self.store.transaction():
            self.store.set_worker_state(
                h.account.id,
                h.account.broker,
                WorkerState.FATAL.value,
                self.clock.now(),
                reason,
                None,
                self.run_id,
            )
            self.store.note_fatal(h.account.id, reason, self.day)
            self.store.add_event("WORKER_FATAL", h.account.id, {"reason": reason}, self.clock.now())

    # ---------------------------------------------------------------------------- reports
    def _maybe_report(self, force: bool = False) -> None:
        """Assemble the EOD report once every worker has settled (or cannot), or at the end."""
        if self.report is not None or self.clock.now() < self.schedule.eod:
            return
        if not force and not all(self._settled(h) for h in self.handles.values()):
            return
        self.publish_report()

    def _may_end(self) -> bool:
        """At the end of the hours, give accounts still settling their day a bounded grace, so
        a slow broker (or a worker restarted late) does not lose the end-of-day read."""
        waiting = [h.account.id for h in self.handles.values() if not self._settled(h)]
        if not waiting:
            return True
        if self._end_wait_started is None:
            self._end_wait_started = self.monotonic()
            log.warning(
                "operating hours over, but %s still settling; waiting up to %.0f s",
                ", ".join(waiting),
                END_GRACE_S,
            )
        return self.monotonic() - self._end_wait_started >= END_GRACE_S

    def _settled(self, h: Handle) -> bool:
        if h.fatal or h.process is None and h.restart_at is None:
            return True
        return self.store.eod_settled(h.account.id, self.day)

    def publish_report(self) -> None:
        from .eod import build_report, publish
        from .report import render_table

        try:
            self.report = build_report(self.store, self.cfg, self.day, self.clock.now())
            self.report_path = publish(
                self.store, self.report, self.settings.report_dir, self.clock.now()
            )
        except Exception:  # never lose the day over the report; say so loudly
            log.exception("the end-of-day report could not be assembled")
            return
        if self.on_report is not None:
            self.on_report()
        print(render_table(self.report), flush=True)
        print(f"report: {self.report_path}", flush=True)

    def final_delivery(self, budget_s: float = 10.0) -> None:
        """Before exiting, give the outbox a bounded chance to deliver what is left."""
        if self.outbox is None or self.outbox.server is None:
            return
        deadline = self.monotonic() + budget_s
        while self.outbox.pending(1) and self.monotonic() < deadline:
            self.outbox.next_at = 0
            if self.outbox.deliver() == 0:
                self.stop_requested.wait(0.5)
        left = len(self.outbox.pending(10_000))
        if left:
            log.warning(
                "%d event(s) not delivered yet; they stay in the outbox for the next run", left
            )

    def close_notifier(self, budget_s: float = 10.0) -> None:
        """The alert channels' bounded final flush (what is left is delivered by the next run)."""
        if self.notifier is not None:
            self.notifier.close(budget_s)
            self.notifier = None

    # --------------------------------------------------------------------------- shutdown
    def request_stop(self, *_: object) -> None:
        if not self.stop_requested.is_set():
            log.info("stop requested")
        self.stop_requested.set()

    def shutdown(self) -> None:
        """Ask every worker to stop, wait for them, then kill whatever is left."""
        live = [(h, h.process) for h in self.handles.values() if h.process is not None]
        for h, _ in live:
            h.stopping = True
            if h.ctl is not None:  # (spawn sets it with the process)
                with contextlib.suppress(BrokenPipeError, OSError):
                    h.ctl.send("stop")
        deadline = self.monotonic() + SHUTDOWN_GRACE_S
        for _, process in live:
            process.join(max(0.1, deadline - self.monotonic()))
        for h, process in live:
            if process.exitcode is None:
                log.warning("%s did not stop in time; killing its process tree", h.account.id)
                self._kill(h)
            process.join(1)
            self._clean_after(h)
            self._reap(h)

    def finish(self, status: str) -> None:
        self.stop_file.unlink(missing_ok=True)
        with self.store.transaction():
            self.store.end_run(self.run_id, self.clock.now(), status)
            for h in self.handles.values():
                row = self.store.worker(h.account.id)
                if row and row["state"] not in (WorkerState.STOPPED.value, WorkerState.FATAL.value):
                    self.store.set_worker_state(
                        h.account.id,
                        h.account.broker,
                        WorkerState.STOPPED.value,
                        self.clock.now(),
                        f"supervisor {status}",
                        None,
                        self.run_id,
                    )
        self.store.close()
        if self.lock is not None:
            self.lock.release()


def stop_file_of(state_db: Path) -> Path:
    return Path(str(state_db) + ".stop")


# -------------------------------------------------------------------------------- signals
def install_signal_handlers(sup: Supervisor) -> None:
    signal.signal(signal.SIGINT, sup.request_stop)
    signal.signal(signal.SIGTERM, sup.request_stop)
    if hasattr(signal, "SIGBREAK"):  # Ctrl+Break on Windows
        signal.signal(signal.SIGBREAK, sup.request_stop)


if __name__ == "__main__":
    # `python -m robot.supervisor`, as cron entries, the README and the tests run it: the command
    # itself (options, validation, --demo) is robot/run.py's. In a function: robot.run imports
    # this module, and mypy can type the import cycle's names inside functions only
    def _run_command() -> None:
        from robot.run import main

        main()

    _run_command()
