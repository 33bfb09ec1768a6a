"""The order engine of one account: exactly-once submission, fills, TP/CL, retries, EOD settling.

The anchor is "a resend is how one intention becomes two orders". Every order attempt is a row in
``orders`` committed *before* the submit click (INTENT), marked CLICKED right before the click,
and CONFIRMED only when read back from the broker's own lists. After any crash, restart or
timeout, every unconfirmed row is reconciled against the broker before anything new is sent:
found -> adopted; not found and never clicked -> a new attempt may go; not found although the
click may have happened -> OUTCOME_UNKNOWN, an alert, and no resend (unless the user opted in).
Each task state change and its event are written in one SQLite transaction; every read and
write goes through a named method of the Store (robot/store/), which checks each task and order
move against robot/orders.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from adapters.base import (
    ActionTimeout,
    AdapterError,
    BrokerAdapter,
    BrokerOrder,
    BrokerRejected,
    BrowserCrashed,
    OrderRequest,
    OrderStatus,
    SelectorMissing,
    SessionExpired,
    Side,
)

from . import calendar as idx, rules
from .clock import Clock
from .config import Account, Settings
from .faults import fault_point
from .orders import (
    ORDER_AT_BROKER,
    ORDER_LIVE,
    ORDER_UNCONFIRMED,
    OrderState as O,
    TaskState as T,
    entry_state,
)
from .store import Store

log = logging.getLogger("robot.engine")

TIME_SLACK_S = 60.0  # broker clocks and second-granular tables: match this far back
HISTORY_EVERY = 3  # polls between history reads while a native exit is awaited
RETRY_BASE_S = 5.0  # simulated seconds, doubled per attempt
IDLE_READ_S = 30.0  # simulated seconds between reads while nothing of ours is live
NATIVE_PRICE_EVERY_S = 60.0  # simulated seconds between price reads of a stock whose native
# TP/CL is watched (each read is a page load)


class ClickWithheld(AdapterError):
    """Checked right before the submit click: the click must not happen. Nothing was clicked, so
    the intent is settled as never sent and the task waits, PENDING, for a later attempt."""


class PhaseClosed(ClickWithheld):
    """Order entry closed between the decision to submit and the click: nothing was clicked."""


class MayNotAct(ClickWithheld):
    """The worker may no longer act (its supervisor is gone, or it was asked to stop)."""


#: Says why the worker must not click now, or None when it may (Worker.may_act).
ActGuard = Callable[[], str | None]


@dataclass
class Crossing:
    """The last price seen at a task's TP or CL while no native exit order is listed."""

    purpose: str  # tp | cl
    level: int  # the task's TP or CL price
    last: int  # the price seen there
    seen_at: datetime


@dataclass
class BrokerView:
    """What the broker's lists showed on this poll, by broker order id."""

    orders: dict[str, BrokerOrder] = field(default_factory=dict)
    history_read: bool = False

    def add(self, rows: list[BrokerOrder]) -> None:
        for row in rows:
            self.orders[row.order_id] = row


class Engine:
    def __init__(
        self,
        store: Store,
        adapter: BrokerAdapter | None,  # None: settle_from_store only
        account: Account,
        settings: Settings,
        clock: Clock,
        day: date,
        dry_run: bool = False,
        may_act: ActGuard | None = None,
    ):
        self.store, self.adapter, self.account = store, adapter, account
        self.settings, self.clock, self.day = settings, clock, day
        self.dry_run = dry_run
        self.may_act: ActGuard = may_act or (lambda: None)
        self.native = bool(adapter is not None and adapter.native_tp_cl)
        self.reconciled = False
        self.last_read: datetime | None = None
        self.polls = 0
        self.retry_at: dict[str, datetime] = {}
        self.first_miss: dict[int, datetime] = {}
        # Which of the broker's orders were listed before an intent was written (they cannot be
        # its order): reads counts the list reads completed, first_read is the read that first
        # listed each broker order id, reads_at_intent the count when each intent was written.
        # In memory: after a restart this guard is gone and the other rules of match() remain.
        self.reads = 0
        self.first_read: dict[str, int] = {}
        self.reads_at_intent: dict[int, int] = {}
        self.unsure: dict[int, str] = {}  # intent row id -> why look-alikes were not taken
        # native TP/CL watch (watch_native_exits)
        self.crossed: dict[str, Crossing] = {}
        self.price_read_at: dict[str, datetime] = {}
        self.exit_alerted: set[str] = set()
        self.price_watch_off: str | None = None

    # ------------------------------------------------------------------------- store helpers
    def tasks(self, *states: T) -> list[dict]:
        """This account's tasks of the day in these states, oldest first."""
        return self.store.tasks_of(self.account.id, self.day, *states)

    def move(
        self, task_id: str, to: T, event: str | None, payload: dict | None = None, **cols
    ) -> None:
        """Change a task's state (checked against the lifecycle) with its event, atomically."""
        now = self.clock.now()
        with self.store.transaction():
            before = self.store.move_task(task_id, to, now, **cols)
            frm = T(before["state"])
            if event:
                # every task event names its stock: an alert on a phone must say what it is about
                self.store.add_event(
                    event,
                    self.account.id,
                    {
                        "state": to.value,
                        "from": frm.value,
                        "emiten": before["emiten"],
                        **(payload or {}),
                    },
                    now,
                    task_id=task_id,
                )
        if frm != to:
            log.info(
                "task %s: %s -> %s %s",
                task_id,
                frm.value,
                to.value,
                json.dumps(payload or {}, default=str),
            )

    # ----------------------------------------------------------------------------- the poll
    def step(self) -> None:
        """One poll: reconcile (first), read the broker, track, exits, cancels, submissions.

        While nothing of ours is at the broker or being settled, the lists are read only every
        IDLE_READ_S (that read also notices an expired session): a poll is a page load, the
        largest cost of an idle account, and a task that becomes due is sent without first
        waiting for a read that could not concern it (BENCHMARKS.md, opening burst)."""
        now = self.clock.now()
        phase = self.settings.calendar.phase_at(now)
        self.polls += 1
        if (
            self.reconciled
            and self.last_read is not None
            and not self._watching()
            and now - self.last_read < timedelta(seconds=IDLE_READ_S)
        ):
            self.submit_pending(phase)
            return
        view = self.read_broker(history=not self.reconciled or self._needs_history())
        self.last_read = now
        if not self.reconciled:
            self.reconcile(view, final=False)
            self.reconciled = True
        self.track(view)
        self.reconcile(view, final=False)
        self.handle_cancels(view, phase)
        self.handle_exits(view, phase)
        self.submit_pending(phase)
        self.watch_native_exits(view, phase)  # last: a failed price read delays nothing

    def _watching(self) -> bool:
        """Whether anything of ours is at the broker or unsettled: then every poll reads."""
        if self.store.has_orders(self.account.id, *ORDER_LIVE):
            return True
        return bool(self.tasks(T.SUBMITTING, T.OPEN, T.PARTIAL, T.FILLED, T.OUTCOME_UNKNOWN))

    def _needs_history(self) -> bool:
        if self.native and self.tasks(T.FILLED) and self.polls % HISTORY_EVERY == 0:
            return True
        if self._grace_over(self.clock.now()):
            return True  # a crossing is judged on a read of the history (watch_native_exits)
        return self.store.has_orders(self.account.id, O.CLICKED, O.UNKNOWN)

    def read_broker(self, history: bool) -> BrokerView:
        view = BrokerView()
        view.add(self._open_orders())
        live_ids = self.store.ids_at_broker(self.account.id)
        if history or (live_ids - set(view.orders)):
            view.add(self._history())
            view.history_read = True
        return view

    def _open_orders(self) -> list[BrokerOrder]:
        return self._listed(self.broker.get_open_orders())

    def _history(self) -> list[BrokerOrder]:
        return self._listed(self.broker.get_order_history())

    def _listed(self, rows: list[BrokerOrder]) -> list[BrokerOrder]:
        """Note a completed read of a broker list (see reads_at_intent)."""
        self.reads += 1
        for o in rows:
            self.first_read.setdefault(o.order_id, self.reads)
        return rows

    # ------------------------------------------------------------------------------ tracking
    def track(self, view: BrokerView) -> None:
        """Bring every confirmed order and its task up to date with the broker's rows."""
        for row in self.store.orders_at_broker(self.account.id):
            seen = view.orders.get(row["broker_order_id"])
            if seen is None:
                continue
            if seen.status.value != row["status"] or seen.filled != row["lots_filled"]:
                self.store.record_seen(row["id"], seen, self.clock.now())
            if row["purpose"] == "entry":
                self._entry_progress(row, seen)
            else:
                self._exit_progress(row, seen)
        if self.native:
            self._detect_native_exits(view)

    def _entry_progress(self, row: dict, seen: BrokerOrder) -> None:
        task = self._task(row["task_id"])
        state = T(task["state"])
        if state in (T.FILLED, T.TP_HIT, T.CL_HIT) or state.terminal:
            return
        target = entry_state(seen.status, seen.filled, row["lot"])
        fill = {"lots_filled": seen.filled, "avg_fill_price": row["price"] if seen.filled else None}
        if target == T.FILLED and state != T.FILLED:
            self.move(
                task["task_id"],
                T.FILLED,
                "FILLED",
                {"lots": seen.filled, "price": row["price"], "order_id": seen.order_id},
                **fill,
            )
        elif target == T.PARTIAL and (state != T.PARTIAL or seen.filled != task["lots_filled"]):
            self.move(
                task["task_id"],
                T.PARTIAL,
                "PARTIAL_FILL",
                {"lots_filled": seen.filled, "lot": row["lot"], "order_id": seen.order_id},
                **fill,
            )
        elif target == T.OPEN and state in (T.SUBMITTING, T.OUTCOME_UNKNOWN):
            self.move(task["task_id"], T.OPEN, None)
        elif target == T.FAILED:
            error = seen.raw.get("message")
            self.move(
                task["task_id"],
                T.FAILED,
                "TASK_FAILED",
                {"reason": "rejected by the broker", **({"error": error} if error else {})},
                reason="rejected by the broker",
                last_error=error,
            )
        elif seen.status == OrderStatus.WITHDRAWN and task["cancel_requested"]:
            self.move(
                task["task_id"], T.CANCELLED, "CANCELLED", {"lots_filled": seen.filled}, **fill
            )
        elif seen.status in (OrderStatus.EXPIRED, OrderStatus.WITHDRAWN):
            why = (
                "expired unmatched at the close"
                if seen.status == OrderStatus.EXPIRED
                else "withdrawn at the broker (not by the robot)"
            )
            self.move(
                task["task_id"],
                T.EXPIRED_UNMATCHED,
                "EXPIRED",
                {"lots_filled": seen.filled, "lot": row["lot"], "reason": why},
                reason=why,
                **fill,
            )

    def _exit_progress(self, row: dict, seen: BrokerOrder) -> None:
        task = self._task(row["task_id"])
        if T(task["state"]) != T.FILLED:
            return
        if seen.status == OrderStatus.MATCHED:
            to = T.TP_HIT if row["purpose"] == "tp" else T.CL_HIT
            self.move(
                task["task_id"],
                to,
                to.value,
                {"exit_price": row["price"], "lots": seen.filled, "order_id": seen.order_id},
                exit_price=row["price"],
                exit_lots=seen.filled,
                exit_order_id=seen.order_id,
            )

    def _detect_native_exits(self, view: BrokerView) -> None:
        """Broker-native TP/CL: the broker places the exit sell itself; find and adopt it."""
        if not view.history_read:
            return
        claimed = self._claimed()
        for task in self.tasks(T.FILLED):
            entry = next(
                (
                    o
                    for o in self.store.orders_of(task["task_id"])
                    if o["purpose"] == "entry" and o["broker_order_id"]
                ),
                None,
            )
            if entry is None:
                continue
            for seen in view.orders.values():
                if (
                    seen.side != Side.SELL
                    or seen.emiten != task["emiten"]
                    or seen.order_id in claimed
                ):
                    continue
                parent = str(seen.raw.get("parent") or "")
                if parent and parent != entry["broker_order_id"]:
                    continue
                if not parent and seen.lot != task["lots_filled"]:
                    continue
                purpose = "tp" if task["tp"] is not None and seen.price >= task["tp"] else "cl"
                self._record_native_exit(task, seen, purpose)
                if seen.status == OrderStatus.MATCHED:
                    to = T.TP_HIT if purpose == "tp" else T.CL_HIT
                    self.move(
                        task["task_id"],
                        to,
                        to.value,
                        {
                            "exit_price": seen.price,
                            "lots": seen.filled,
                            "order_id": seen.order_id,
                            "native": True,
                        },
                        exit_price=seen.price,
                        exit_lots=seen.filled,
                        exit_order_id=seen.order_id,
                    )
                break

    def _record_native_exit(self, task: dict, seen: BrokerOrder, purpose: str) -> None:
        self.store.record_native_exit(
            task["task_id"], self.account.id, purpose, seen, self.clock.now()
        )

    def _claimed(self) -> set[str]:
        return self.store.claimed_broker_ids(self.account.id)

    # ---------------------------------------------------------------- native TP/CL, watched
    def watch_native_exits(self, view: BrokerView, phase: idx.Phase) -> None:
        """Native TP/CL is trusted only while it is seen to work.

        For a FILLED task on a broker that places the exit itself, the last price is read now
        and then (NATIVE_PRICE_EVERY_S per stock, in the trading sessions only: a page load
        each). When it is at or beyond the TP or CL and no exit order of the broker's is listed
        native_exit_grace_s of trading time later (breaks left out; judged on a read of the
        history), NATIVE_EXIT_NOT_SEEN tells a person, once per task. The robot does not sell
        by itself then: the broker's order may exist where the robot cannot see it, or be
        placed late, and a robot sell beside it could sell the position twice (docs/BROKERS.md).
        """
        if not self.native:
            return
        now = self.clock.now()
        watched = {
            t["task_id"]: t
            for t in self.tasks(T.FILLED)
            if (t["tp"] is not None or t["cl"] is not None)
            and t["task_id"] not in self.exit_alerted
        }
        for task_id in list(self.crossed):
            if task_id not in watched or self._has_exit(task_id):
                del self.crossed[task_id]  # the exit appeared, or the task moved on
        for task_id, task in watched.items():
            crossing = self.crossed.get(task_id)
            if crossing is not None:
                if view.history_read and self._waited_out(crossing, now):
                    self._exit_not_seen(task, crossing, now)
                continue
            if not phase.is_continuous or self._has_exit(task_id):
                continue  # no trading, no exit to expect
            last = self._watched_price(task["emiten"], now)
            if last is None:
                continue  # not read this time
            hit = _level_crossed(task, last)
            if hit is not None:
                self.crossed[task_id] = Crossing(hit[0], hit[1], last, now)
                log.info(
                    "task %s: last price %d is at its %s %d; waiting %.0f s of trading "
                    "for the broker's exit order",
                    task_id,
                    last,
                    hit[0].upper(),
                    hit[1],
                    self.settings.native_exit_grace_s,
                )

    def _waited_out(self, crossing: Crossing, now: datetime) -> bool:
        """The grace counts trading time only: the broker cannot act in a break."""
        return idx.trading_seconds(crossing.seen_at, now) >= self.settings.native_exit_grace_s

    def _grace_over(self, now: datetime) -> bool:
        return any(self._waited_out(c, now) for c in self.crossed.values())

    @property
    def broker(self) -> BrokerAdapter:
        """The adapter: everything but settle_from_store reads or acts on the broker."""
        if self.adapter is None:
            raise RuntimeError("an engine without a browser can only settle from the store")
        return self.adapter

    def _task(self, task_id: str) -> dict:
        """A task this engine works on (an order row or a move names it): always in the store."""
        task = self.store.task(task_id)
        if task is None:
            raise LookupError(f"no task {task_id!r} in the store")
        return task

    def _order(self, order_id: int) -> dict:
        """An order row this engine wrote: always in the store."""
        row = self.store.order(order_id)
        if row is None:
            raise LookupError(f"no order {order_id} in the store")
        return row

    def _has_exit(self, task_id: str) -> bool:
        return any(o["purpose"] in ("tp", "cl") for o in self.store.orders_of(task_id))

    def _watched_price(self, emiten: str, now: datetime) -> int | None:
        """The last price, read at most every NATIVE_PRICE_EVERY_S per stock; None when not
        read this time. A failed read is logged and tried again later (never stops a poll); a
        broker without a quote page switches the watch off with one warning."""
        if self.price_watch_off:
            return None
        at = self.price_read_at.get(emiten)
        if at is not None and now - at < timedelta(seconds=NATIVE_PRICE_EVERY_S):
            return None
        self.price_read_at[emiten] = now
        try:
            return self.broker.last_price(emiten)
        except (SessionExpired, BrowserCrashed):
            raise
        except AdapterError as exc:
            if type(exc) is AdapterError:  # no quote page: nothing to try again
                self.price_watch_off = str(exc)
                log.warning("native TP/CL cannot be watched on this broker: %s", exc)
            else:
                log.warning("price of %s for the native TP/CL watch not read: %s", emiten, exc)
            return None

    def _exit_not_seen(self, task: dict, crossing: Crossing, now: datetime) -> None:
        task_id = task["task_id"]
        self.exit_alerted.add(task_id)
        del self.crossed[task_id]
        waited = idx.trading_seconds(crossing.seen_at, now)
        word = "take-profit" if crossing.purpose == "tp" else "cut-loss"
        # one per task, also across a restart of the worker (the id is the task's)
        self.store.add_event(
            "NATIVE_EXIT_NOT_SEEN",
            self.account.id,
            {
                "emiten": task["emiten"],
                "purpose": crossing.purpose,
                "level": crossing.level,
                "last_price": crossing.last,
                "seen_at": crossing.seen_at.isoformat(),
                "waited_s": round(waited),
                "lots": task["lots_filled"],
                "action": f"check at the broker that the {word} order exists or sell by hand; the "
                f"robot does not sell by itself on a broker with native TP/CL",
            },
            now,
            task_id=task_id,
            event_id=f"native-exit-not-seen-{task_id}",
            once=True,
        )
        log.error(
            "task %s: the price reached its %s %d (last %d at %s) and no exit order of "
            "the broker's appeared in %.0f s of trading: reported (NATIVE_EXIT_NOT_SEEN)",
            task_id,
            word,
            crossing.level,
            crossing.last,
            crossing.seen_at.strftime("%H:%M:%S"),
            waited,
        )

    # ------------------------------------------------------------------------ reconciliation
    def match(self, row: dict, view: BrokerView, claimed: set[str]) -> BrokerOrder | None:
        """The broker's order for this intent, or None: not listed yet, or not told apart.

        The success toast's order id, when it names one, decides: that order and no other (an
        id not listed yet is waited for, never replaced by a look-alike). Without it, an order
        of the same emiten, side, price and lot, claimed by no other intent, not already in a
        list the robot read before the intent was written, and not entered before the intent
        (less TIME_SLACK_S) where the broker shows a time: someone else's older order (a manual
        one) is never ours. With times, the earliest such order; without, only a sole one that
        no other unsettled intent of the same fields could own, since identical orders without a
        time cannot be told apart (docs/BROKERS.md). Why an intent was not matched although
        orders like it are listed is kept in ``self.unsure`` for the OUTCOME_UNKNOWN it may
        end in, which then never resends."""
        self.unsure.pop(row["id"], None)
        toast_id = self.broker.toast_order_id(row.get("toast"))
        if toast_id:
            return self._match_toast_id(row, view, claimed, toast_id)
        intent_at = datetime.fromisoformat(row["intent_at"])
        since = intent_at - timedelta(seconds=TIME_SLACK_S)
        known_before = self.reads_at_intent.get(row["id"])
        candidates = [
            o
            for o in view.orders.values()
            if o.order_id not in claimed
            and _same_order(o, row)
            and (o.time is None or o.time >= since)
            and not (
                known_before is not None
                and self.first_read.get(o.order_id, known_before + 1) <= known_before
            )
        ]
        if not candidates:
            return None
        if all(o.time is not None for o in candidates):
            return min(candidates, key=lambda o: (o.time, o.order_id))
        rivals = [
            r
            for r in self.store.unconfirmed_orders(self.account.id)
            if r["id"] != row["id"]
            and r["status"] != O.INTENT  # never clicked: owns none
            and _same_fields(r, row)
        ]
        if len(candidates) == 1 and not rivals:
            return candidates[0]
        self.unsure[row["id"]] = (
            f"{len(candidates)} order(s) at the broker look like it "
            f"({', '.join(sorted(o.order_id for o in candidates))})"
            + (
                f" and {len(rivals)} other unsettled order(s) of the robot are the same"
                if rivals
                else ""
            )
            + ": the toast named no order id and the broker shows no time to tell them apart"
        )
        return None

    def _match_toast_id(
        self, row: dict, view: BrokerView, claimed: set[str], toast_id: str
    ) -> BrokerOrder | None:
        found = view.orders.get(toast_id)
        if found is None:
            return None
        if found.order_id in claimed or not _same_order(found, row):
            self.unsure[row["id"]] = (
                f"the toast named order {toast_id}, but the broker lists it "
                + (
                    "as another intent's"
                    if found.order_id in claimed
                    else f"with other fields ({found.emiten} {found.side.value} "
                    f"{found.lot} lot @ {found.price})"
                )
            )
            return None
        return found

    def reconcile(self, view: BrokerView, final: bool) -> None:
        """Settle every unconfirmed intent against the broker's lists (see the module doc)."""
        rows = self.store.unconfirmed_orders(self.account.id)
        if not rows:
            return
        if not view.history_read:
            view.add(self._history())
            view.history_read = True
        claimed = self._claimed()
        now = self.clock.now()
        for row in rows:
            found = self.match(row, view, claimed)
            if found is not None:
                claimed.add(found.order_id)
                self._adopt(row, found)
            elif row["status"] == O.INTENT:
                self._never_sent(row, "the worker stopped before the submit click")
            elif row["status"] == O.CLICKED:
                first = self.first_miss.setdefault(row["id"], now)
                grace = timedelta(seconds=self.settings.reconcile_grace_s)
                if final or now - first >= grace:
                    unsure = self.unsure.get(row["id"])
                    if unsure:  # an order like it is listed: a resend could double it
                        self._unknown(
                            row,
                            why=f"clicked, not told apart at the broker: {unsure}",
                            may_resend=False,
                        )
                    else:
                        self._unknown(row)

    def _adopt(self, row: dict, found: BrokerOrder) -> None:
        for memo in (self.first_miss, self.unsure, self.reads_at_intent):
            memo.pop(row["id"], None)
        with self.store.transaction():
            self.store.adopt_order(row["id"], found, self.clock.now())
            task = self._task(row["task_id"])
            if row["purpose"] == "entry" and T(task["state"]) in (T.SUBMITTING, T.OUTCOME_UNKNOWN):
                if found.status == OrderStatus.REJECTED:
                    self.move(
                        row["task_id"],
                        T.FAILED,
                        "TASK_FAILED",
                        {"reason": "rejected by the broker"},
                        reason="rejected by the broker",
                    )
                else:
                    self.move(
                        row["task_id"],
                        T.OPEN,
                        "ORDER_SUBMITTED",
                        {
                            "order_id": found.order_id,
                            "emiten": row["emiten"],
                            "price": row["price"],
                            "lot": row["lot"],
                            "attempt": row["attempt"],
                            "adopted": row["status"] != O.CLICKED or row["toast"] is None,
                        },
                    )
        log.info(
            "order %s of task %s confirmed by read-back (%s)",
            found.order_id,
            row["task_id"],
            found.status.value,
        )
        self._entry_or_exit(row, found)

    def _entry_or_exit(self, row: dict, found: BrokerOrder) -> None:
        fresh = self._order(row["id"])
        if row["purpose"] == "entry":
            self._entry_progress(fresh, found)
        else:
            self._exit_progress(fresh, found)

    def _never_sent(self, row: dict, why: str) -> None:
        with self.store.transaction():
            self.store.mark_never_sent(row["id"], why)
            task = self._task(row["task_id"])
            if row["purpose"] == "entry" and T(task["state"]) == T.SUBMITTING:
                self.move(row["task_id"], T.PENDING, None)
        log.info("intent %s of task %s was never clicked: %s", row["id"], row["task_id"], why)

    def _unknown(
        self,
        row: dict,
        why: str = "clicked, but not found at the broker after a second read",
        may_resend: bool = True,
    ) -> None:
        if row["status"] == O.UNKNOWN and may_resend:
            return  # already reported; the close (may_resend False) still settles it
        resend = self.settings.resubmit_unknown and may_resend
        with self.store.transaction():
            self.store.mark_unknown(row["id"], why)
            task = self._task(row["task_id"])
            if row["purpose"] == "entry" and T(task["state"]) == T.SUBMITTING:
                self.move(
                    row["task_id"],
                    T.OUTCOME_UNKNOWN,
                    "OUTCOME_UNKNOWN",
                    {
                        "purpose": "entry",
                        "price": row["price"],
                        "lot": row["lot"],
                        "action": "check the broker by hand; the robot will not resend"
                        if not resend
                        else "resubmit_unknown is on: the robot will resend",
                    },
                    reason="order outcome unknown",
                    last_error=row["error"] or row["toast"] or why,
                )
            else:
                self.store.add_event(
                    "OUTCOME_UNKNOWN",
                    self.account.id,
                    {
                        "purpose": row["purpose"],
                        "emiten": row["emiten"],
                        "price": row["price"],
                        "lot": row["lot"],
                        "action": "check the broker by hand; the robot will not resend",
                    },
                    self.clock.now(),
                    task_id=row["task_id"],
                )
        log.error("task %s: order outcome unknown (%s)", row["task_id"], why)
        if resend and row["purpose"] == "entry":
            with self.store.transaction():
                self.store.mark_never_sent(
                    row["id"], "outcome unknown; resubmitted (resubmit_unknown: true)"
                )
                self.move(row["task_id"], T.PENDING, None)

    # ---------------------------------------------------------------------------- submitting
    def submit_pending(self, phase: idx.Phase) -> None:
        if not idx.can_submit(phase):
            return
        now = self.clock.now()
        for task in self.tasks(T.PENDING):
            if task["cancel_requested"]:
                self.move(
                    task["task_id"],
                    T.CANCELLED,
                    "CANCELLED",
                    {"before": "submission", "lots_filled": 0},
                )
                continue
            if self.retry_at.get(task["task_id"], now) > now:
                continue
            if self._has_unsettled_order(task["task_id"]):
                continue  # belt and braces: never a second order while one is unsettled
            if self.adopt_late_order(task):
                continue  # the first attempt's order showed up after all: no second one
            self.place(
                task,
                "entry",
                Side.BUY,
                task["price"],
                task["lot"],
                tp=task["tp"] if self.native else None,
                cl=task["cl"] if self.native else None,
            )

    def _has_unsettled_order(self, task_id: str) -> bool:
        return self.store.has_unsettled_entry(task_id)

    def adopt_late_order(self, task: dict) -> bool:
        """A task back in PENDING after a click whose order was never found (a person's
        `robot resolve --not-placed --retry`, or resubmit_unknown) or whose click the broker
        answered with a retryable error toast: that order may yet show up at the broker (or be
        there already: a broker can say "try again" for an order it placed). Before another is
        placed, both lists are read; an order like the earlier one, claimed by no row and not
        entered before it (less TIME_SLACK_S), is adopted as this attempt, with no click. True
        when it was."""
        earlier = self.store.released_entries(task["task_id"])
        if not earlier:
            return False
        fault_point("before_late_check")
        view = BrokerView()
        view.add(self._open_orders())
        view.add(self._history())
        view.history_read = True
        claimed = self._claimed()
        since = datetime.fromisoformat(earlier[0]["intent_at"]) - timedelta(seconds=TIME_SLACK_S)
        like = [
            o
            for o in view.orders.values()
            if o.order_id not in claimed
            and any(_may_be(o, row) for row in earlier)
            and (o.time is None or o.time >= since)
        ]
        if not like:
            return False
        found = min(like, key=lambda o: (o.time is None, o.time or since, o.order_id))
        row = earlier[-1]
        with self.store.transaction():
            order_id, _ = self.store.insert_intent(
                task["task_id"],
                self.account.id,
                "entry",
                row["side"],
                row["emiten"],
                row["price"],
                row["lot"],
                row["tp"],
                row["cl"],
                self.clock.now(),
                self.dry_run,
            )
            self.store.note_order_error(
                order_id, "not placed: an earlier attempt's order showed up at the broker"
            )
            self.move(task["task_id"], T.SUBMITTING, None)
            self._adopt(self._order(order_id), found)
        log.warning(
            "task %s: order %s like its earlier attempt showed up at the broker late; adopted "
            "instead of placing another",
            task["task_id"],
            found.order_id,
        )
        return True

    # ---------------------------------------------------------------- a person's requests
    def adopt(self, row: dict, found: BrokerOrder) -> None:
        """Adopt the broker's order for an unconfirmed row (a person found it: robot/resolve.py)
        and track it from now on, as if read back."""
        self._adopt(row, found)

    def hold_retry(self, task_id: str) -> None:
        """A task a person sent back to PENDING: its next attempt waits reconcile_grace_s, the
        time an order clicked is given to show up, for the first attempt's order to show."""
        self.retry_at[task_id] = self.clock.now() + timedelta(
            seconds=self.settings.reconcile_grace_s
        )

    def place(
        self,
        task: dict,
        purpose: str,
        side: Side,
        price: int,
        lot: int,
        tp: int | None = None,
        cl: int | None = None,
    ) -> None:
        """Place one order for a task, exactly once (intent, click, toast, read-back)."""
        task_id = task["task_id"]
        now = self.clock.now()
        if self.may_act() is not None:
            return  # an orphaned or stopping worker starts nothing new
        fault_point("before_intent")
        with self.store.transaction():  # committed before anything is clicked
            order_id, attempt = self.store.insert_intent(
                task_id,
                self.account.id,
                purpose,
                side.value,
                task["emiten"],
                price,
                lot,
                tp,
                cl,
                now,
                self.dry_run,
            )
            if purpose == "entry":
                # attempts counts entry submissions only: it bounds max_retry of the entry, and
                # a TP/CL sell of the same task is no retry of it (docs/STATE.md)
                self.store.count_entry_attempt(task_id)
                self.move(task_id, T.SUBMITTING, None)
        self.reads_at_intent[order_id] = self.reads
        log.info(
            "intent %d: %s %s %d lot @ %d for task %s (%s, attempt %d)",
            order_id,
            side.value,
            task["emiten"],
            lot,
            price,
            task_id,
            purpose,
            attempt,
        )
        fault_point("after_intent")

        def before_click() -> None:
            # Filling the form takes seconds (more on a loaded machine or a slow broker): the
            # phase that allowed the order may have closed since the step began. Then nothing is
            # clicked, the intent is marked never sent, and the task waits for the next phase
            # that allows orders, rather than being rejected by the broker as "market closed".
            now = self.clock.now()
            phase_now = self.settings.calendar.phase_at(now)
            if not idx.can_submit(phase_now):
                raise PhaseClosed(f"order entry closed ({phase_now.value}) before the click")
            # Likewise a worker whose supervisor died (or that was asked to stop) while the
            # form was filled: nobody would supervise the order it is about to place.
            why = self.may_act()
            if why is not None:
                raise MayNotAct(f"not clicking: {why}")
            self.store.mark_clicked(order_id, now)

        request = OrderRequest(task["emiten"], side, price, lot, tp, cl)
        try:
            result = self.broker.submit_order(
                request,
                before_click,
                dry_run=self.dry_run,
                after_click=lambda: fault_point("after_click"),
            )
        except BrokerRejected as exc:
            self._rejected(task, order_id, purpose, exc)
            return
        except ClickWithheld as exc:
            self._never_sent(self._order(order_id), str(exc))
            return
        except (SessionExpired, BrowserCrashed):
            raise  # the worker handles these; reconciliation settles the intent afterwards
        except (ActionTimeout, SelectorMissing, AdapterError) as exc:
            self._uncertain(task, order_id, purpose, exc)
            return
        if result.dry_run:
            self.store.mark_dry_run(order_id, result.message)
            if purpose == "entry":
                self.move(
                    task_id,
                    T.DRY_RUN,
                    "DRY_RUN",
                    {
                        "emiten": task["emiten"],
                        "price": price,
                        "lot": lot,
                        "tp": tp,
                        "cl": cl,
                        "note": "form filled, submit not clicked",
                    },
                )
            return
        self.store.note_toast(order_id, result.message, self.clock.now())
        fault_point("after_toast")
        row = self._order(order_id)
        view = self.read_broker(history=False)
        found = self.match(row, view, self._claimed())
        if found is None:
            view.add(self._history())
            view.history_read = True
            found = self.match(row, view, self._claimed())
        if found is not None:
            self._adopt(row, found)
            fault_point("after_readback")
        else:
            log.warning(
                "order of task %s not visible yet after the success toast; will re-read", task_id
            )

    def _rejected(self, task: dict, order_id: int, purpose: str, exc: BrokerRejected) -> None:
        task_id = task["task_id"]
        self.store.mark_rejected(order_id, exc.text, self.clock.now())
        attempts = self._task(task_id)["attempts"]
        if purpose != "entry":
            self.store.add_event(
                "EXIT_REJECTED",
                self.account.id,
                {"purpose": purpose, "error": exc.text},
                self.clock.now(),
                task_id=task_id,
            )
            return
        # A rejection that arrives once order entry has closed (clicked at 08:57:59, reached the
        # broker at 08:58) placed nothing: retried like a retryable one, by the next phase that
        # allows orders, rather than failing the task for the day.
        closed = not idx.can_submit(self.settings.calendar.phase_at(self.clock.now()))
        if (exc.retryable or closed) and attempts <= self.settings.max_retry:
            self._retry_later(task_id, attempts, exc.text)
            return
        self.move(
            task_id,
            T.FAILED,
            "TASK_FAILED",
            {"reason": "rejected by the broker", "error": exc.text, "attempts": attempts},
            reason="rejected by the broker",
            last_error=exc.text,
        )

    def _uncertain(self, task: dict, order_id: int, purpose: str, exc: Exception) -> None:
        """The UI did not say: never retry blindly; re-read the broker's lists first."""
        task_id = task["task_id"]
        row = self._order(order_id)
        self.store.note_order_error(order_id, f"{type(exc).__name__}: {exc}")
        log.warning("submit of task %s uncertain: %s; re-reading the broker", task_id, exc)
        if row["status"] == O.INTENT:
            # the click was never reached (the error came while filling the form)
            self._never_sent(row, f"{type(exc).__name__}: {exc}")
            attempts = self._task(task_id)["attempts"]
            if purpose == "entry":
                if attempts > self.settings.max_retry:
                    self.move(
                        task_id,
                        T.FAILED,
                        "TASK_FAILED",
                        {
                            "reason": "gave up after retries",
                            "error": str(exc),
                            "attempts": attempts,
                        },
                        reason=f"gave up after {attempts} attempts",
                        last_error=str(exc),
                    )
                else:
                    self._retry_later(task_id, attempts, str(exc))
            return
        view = self.read_broker(history=True)
        self.reconcile(view, final=False)

    def _retry_later(self, task_id: str, attempts: int, why: str) -> None:
        delay = RETRY_BASE_S * 2 ** max(0, attempts - 1)
        self.retry_at[task_id] = self.clock.now() + timedelta(seconds=delay)
        with self.store.transaction():
            self.store.note_task_error(task_id, why)
            task = self._task(task_id)
            if T(task["state"]) == T.SUBMITTING:
                self.move(task_id, T.PENDING, None)
        log.info("task %s: retry %d in %.0f s (%s)", task_id, attempts, delay, why)

    # ------------------------------------------------------------------------- exits, cancels
    def handle_exits(self, view: BrokerView, phase: idx.Phase) -> None:
        """Emulated TP/CL for brokers without native support: sell when the price gets there."""
        if self.native or not idx.can_submit(phase):
            return
        for task in self.tasks(T.FILLED):
            if task["tp"] is None and task["cl"] is None:
                continue
            exits = [
                o for o in self.store.orders_of(task["task_id"]) if o["purpose"] in ("tp", "cl")
            ]
            live = [o for o in exits if o["status"] in ORDER_LIVE]
            if any(o["status"] in ORDER_UNCONFIRMED for o in live):
                continue  # an exit is being settled: never a second one
            last = self.broker.last_price(task["emiten"])
            if live:
                self._maybe_reprice_cl(task, live[0], last)
                continue
            lots = task["lots_filled"]
            if task["tp"] is not None and last >= task["tp"]:
                self.place(task, "tp", Side.SELL, task["tp"], lots)
            elif task["cl"] is not None and last <= task["cl"]:
                # sell at the market's level: a limit at the CL price would sit above a gap
                self.place(task, "cl", Side.SELL, rules.snap_down(min(last, task["cl"])), lots)

    def _maybe_reprice_cl(self, task: dict, order: dict, last: int) -> None:
        if order["purpose"] != "cl" or not order["broker_order_id"] or last >= order["price"]:
            return
        age = (self.clock.now() - datetime.fromisoformat(order["intent_at"])).total_seconds()
        if age < self.settings.cut_loss_reprice_s:
            return
        log.info(
            "cut-loss sell %s unfilled for %.0f s; re-pricing to %d",
            order["broker_order_id"],
            age,
            last,
        )
        if self._cancel_confirmed(order):
            self.place(task, "cl", Side.SELL, rules.snap_down(last), task["lots_filled"])

    def _cancel_confirmed(self, order: dict) -> bool:
        """Withdraw and make sure it is withdrawn (a cancel that timed out may have worked)."""
        try:
            self.broker.cancel_order(order["broker_order_id"])
        except ActionTimeout as exc:
            log.warning("cancel of %s timed out (%s); confirming", order["broker_order_id"], exc)
        except BrokerRejected as exc:
            log.warning("cancel of %s refused: %s", order["broker_order_id"], exc.text)
        view = BrokerView()
        view.add(self._open_orders())
        if order["broker_order_id"] in view.orders:
            return False
        view.add(self._history())
        seen = view.orders.get(order["broker_order_id"])
        if seen is not None:
            self.store.record_seen(order["id"], seen)
        return seen is None or not seen.status.is_live

    def handle_cancels(self, view: BrokerView, phase: idx.Phase) -> None:
        for task in self.tasks(T.OPEN, T.PARTIAL):
            if not task["cancel_requested"] or not idx.can_withdraw(phase):
                continue
            entry = next(
                (
                    o
                    for o in self.store.orders_of(task["task_id"])
                    if o["purpose"] == "entry" and o["status"] in ORDER_AT_BROKER
                ),
                None,
            )
            if entry is None:
                continue
            if self._cancel_confirmed(entry):
                self.move(
                    task["task_id"], T.CANCELLED, "CANCELLED", {"lots_filled": task["lots_filled"]}
                )

    # ---------------------------------------------------------------------------------- EOD
    def settle_eod(self) -> None:
        """At the EOD time: one more full read, then every task of the day gets its outcome."""
        view = BrokerView()
        view.add(self._open_orders())
        view.add(self._history())
        view.history_read = True
        self.track(view)
        self.reconcile(view, final=True)
        self.settle_from_store(view)
        from .eod import save_snapshot

        save_snapshot(
            self.store, self.account.id, self.day, list(view.orders.values()), self.clock.now()
        )

    def settle_from_store(self, view: BrokerView | None = None) -> None:
        """What needs no browser: tasks never sent, orders still open at the close.

        ``view`` is None when the broker could not be read at the close (browser or Grid node
        down): then only what the store proves is claimed. An intent never clicked was never
        sent; a click never confirmed is an outcome nobody knows, said so for a human to check."""
        for task in self.tasks(T.SUBMITTING):
            self._settle_unconfirmed(task)
        for task in self.tasks(T.PENDING):
            if task["cancel_requested"]:
                self.move(
                    task["task_id"],
                    T.CANCELLED,
                    "CANCELLED",
                    {"before": "submission", "lots_filled": 0},
                )
                continue
            why = task["last_error"] or "no phase allowed the order before the close"
            self.move(
                task["task_id"],
                T.FAILED,
                "TASK_FAILED",
                {"reason": "not submitted", "error": why},
                reason="not submitted before the close",
                last_error=why,
            )
        for task in self.tasks(T.OPEN, T.PARTIAL):
            why = "unmatched at the close (day order)"
            if view is None:
                why = (
                    "day order still open at the last read; the broker could not be read at "
                    "the close, so a late fill is not ruled out"
                )
            self.move(
                task["task_id"],
                T.EXPIRED_UNMATCHED,
                "EXPIRED",
                {"lots_filled": task["lots_filled"], "lot": task["lot"], "reason": why},
                reason=why,
            )

    def _settle_unconfirmed(self, task: dict) -> None:
        """A task left SUBMITTING at the close with no broker to read (see settle_from_store):
        its one unsettled entry order (never two, see _has_unsettled_order) decides."""
        row = next(
            (
                o
                for o in reversed(self.store.orders_of(task["task_id"]))
                if o["purpose"] == "entry" and o["status"] in ORDER_UNCONFIRMED
            ),
            None,
        )
        if row is None or row["status"] == O.INTENT:
            if row is not None:
                self._never_sent(row, "the worker stopped before the submit click")
            if T(self._task(task["task_id"])["state"]) == T.SUBMITTING:
                self.move(task["task_id"], T.PENDING, None)
            return  # PENDING: failed as "not submitted" next
        self._unknown(
            row,
            why="clicked, but the broker could not be read before the close to confirm it",
            may_resend=False,
        )  # the market is closed: nothing to resend


def _level_crossed(task: dict, last: int) -> tuple[str, int] | None:
    """("tp", level) or ("cl", level) when ``last`` is at or beyond it, else None."""
    if task["tp"] is not None and last >= task["tp"]:
        return "tp", task["tp"]
    if task["cl"] is not None and last <= task["cl"]:
        return "cl", task["cl"]
    return None


def _same_order(o: BrokerOrder, row: dict) -> bool:
    return (o.emiten, o.side.value, o.price, o.lot) == (
        row["emiten"],
        row["side"],
        row["price"],
        row["lot"],
    )


def _may_be(found: BrokerOrder, row: dict) -> bool:
    """Whether the broker's ``found`` may be the earlier attempt ``row``. After an error toast
    (the row REJECTED) the broker's own rejected order of the same fields is that rejection, not
    an order placed after all."""
    if row["status"] == O.REJECTED.value and found.status == OrderStatus.REJECTED:
        return False
    return _same_order(found, row)


def _same_fields(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] for k in ("emiten", "side", "price", "lot"))
