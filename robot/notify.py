"""Alerts to a person (Telegram, a generic JSON webhook), delivered from the events outbox.

Every event is already in the ``events`` table, written in the transaction of the change it
describes, by the supervisor and by the workers alike. Each configured channel keeps its own
cursor in ``notify_channels`` and walks the table in ``seq`` order from its own thread, with its
own Store connection, so a channel that is down or hangs never delays trading, heartbeats or the
task-server outbox. For each event the channel's level decides: ``off`` moves the cursor past it,
``on`` / ``silent`` sends it, and the cursor moves only once the channel has answered, in the same
transaction as the ``notifications`` row recording it: at least once, in order, across crashes.

Answers:
- delivered (2xx, Telegram ``ok: true``): recorded ``sent``.
- a network error, a timeout, a 5xx, a malformed answer, a 429 (after its ``retry_after``):
  retried, with capped exponential backoff, the same event, so nothing is reordered.
- a 4xx about this message (Telegram 400 "message is too long", a webhook's 400/422): recorded
  ``refused`` with the answer, logged once, and delivery goes on with the next event.
- a 4xx about the channel itself (Telegram 401/404 wrong token, 403 bot blocked, 400 chat not
  found; a webhook's 401/403/404/405/410, a redirect): every later message would fail the same
  way, so the channel stops for this run, logged once as an ERROR with what to fix, and its
  cursor stays: the next run tries again and delivers what was missed.

Telegram messages are paced (one a second to a person, one every three seconds to a group, or
``min_interval_s``) so a burst of alerts does not end in a 429 storm.

A channel seen for the first time starts at the first event of the run's trading day: today's
alerts still need a person, the history before them is in the reports. An event older than
STALE_AFTER_S when its turn comes (a channel broken for days) is recorded ``stale``, not sent.

The Telegram token is part of the Bot API URL, so neither the URL nor an exception's text (which
quotes it) is ever logged or stored: errors are described by their type and the API's answer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import requests

from . import logs
from .alerts import text_of
from .config import NotificationSettings, TelegramSettings, WebhookSettings
from .events import OFF, SILENT
from .outbox import wire_form
from .store import Store

log = logging.getLogger("robot.notify")
BATCH = 100
CONNECT_TIMEOUT_S = 3.05
POLL_S = 1.0  # how often an idle channel looks for new events
BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 60.0
STALE_AFTER_S = 24 * 3600  # older events are recorded as stale, not sent
DETAIL_MAX = 300
JOIN_GRACE_S = 1.0  # close(): how long past the deadline to wait for a thread


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent | retry | refused | broken
    detail: str = ""  # safe to log and store: never a token or the Bot API URL
    retry_after: float | None = None


class Channel(Protocol):
    name: str
    min_interval_s: float

    def level(self, type_: str) -> str: ...

    def problem(self) -> str | None: ...

    def send(self, row: dict, level: str) -> Outcome: ...


def _answer(resp: requests.Response) -> dict | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _redirect(resp: requests.Response) -> bool:
    return 300 <= resp.status_code < 400


class TelegramChannel:
    """sendMessage to one chat through the Bot API, plain text."""

    name = "telegram"

    def __init__(self, settings: TelegramSettings):
        self.settings = settings
        self.min_interval_s = settings.pace_s
        self.token = settings.token()
        logs.register_secret(self.token)
        self.session = requests.Session()

    def level(self, type_: str) -> str:
        return self.settings.level(type_)

    def problem(self) -> str | None:
        if not self.token:
            return f"the bot token variable ${self.settings.token_env} is not set"
        return None

    def _safe(self, text: str) -> str:
        if self.token:
            text = text.replace(self.token, "***")
        return logs.redact(text)[:DETAIL_MAX]

    def send(self, row: dict, level: str) -> Outcome:
        chat = self.settings.chat_id
        body = {
            "chat_id": int(chat) if chat.lstrip("-").isdigit() else chat,
            "text": text_of(row),
            "disable_notification": level == SILENT,
            "link_preview_options": {"is_disabled": True},
        }
        url = f"{self.settings.api_url.rstrip('/')}/bot{self.token}/sendMessage"
        try:
            resp = self.session.post(
                url,
                json=body,
                allow_redirects=False,
                timeout=(CONNECT_TIMEOUT_S, self.settings.timeout_s),
            )
        except requests.RequestException as exc:
            # the exception's text quotes the URL, and with it the token: only its type
            return Outcome("retry", f"Bot API unreachable ({type(exc).__name__})")
        return self._judge(resp)

    def _judge(self, resp: requests.Response) -> Outcome:
        status, answer = resp.status_code, _answer(resp)
        said = self._safe(str((answer or {}).get("description") or resp.reason or ""))
        what = f"HTTP {status}: {said}"
        if status == 200 and answer is not None and answer.get("ok") is True:
            return Outcome("sent")
        if status == 429:
            after = ((answer or {}).get("parameters") or {}).get("retry_after")
            if isinstance(after, (int, float)) and not isinstance(after, bool) and after >= 0:
                return Outcome("retry", what, float(after))
            return Outcome("retry", what, None)
        if status in (401, 404) or _redirect(resp):
            return Outcome(
                "broken",
                f"{what}: the bot token in ${self.settings.token_env} is not "
                "accepted; check it with @BotFather",
            )
        if status == 403:
            return Outcome(
                "broken",
                f"{what}: the bot cannot write to chat "
                f"{self.settings.chat_id}; unblock it or add it to the chat",
            )
        if status == 400 and "chat" in said.lower():
            moved = ((answer or {}).get("parameters") or {}).get("migrate_to_chat_id")
            fix = (
                f'the group became a supergroup: set chat_id: "{moved}"'
                if moved
                else f"check chat_id {self.settings.chat_id} and that the chat has talked to the "
                "bot"
            )
            return Outcome("broken", f"{what}: {fix}")
        if 400 <= status < 500:
            return Outcome("refused", what)
        return Outcome(
            "retry",
            what if answer is not None or status != 200 else f"malformed HTTP {status} answer",
        )


class WebhookChannel:
    """POST of the event's wire form (docs/PROTOCOL.md) as JSON, keyed for idempotency."""

    name = "webhook"
    min_interval_s = 0.0

    def __init__(self, settings: WebhookSettings):
        self.settings = settings
        self.url = settings.target()
        if settings.url_env:
            logs.register_secret(self.url)  # a URL kept in a variable is a secret
        self.headers = settings.headers()
        for value in self.headers.values():
            logs.register_secret(value)
        self.session = requests.Session()

    def level(self, type_: str) -> str:
        return self.settings.level(type_)

    def problem(self) -> str | None:
        if not self.url:
            return f"the webhook URL variable ${self.settings.url_env} is not set"
        unset = [
            f"{name} (${var})" for name, var in self.settings.header_env if name not in self.headers
        ]
        return f"header variable(s) not set: {', '.join(unset)}" if unset else None

    def send(self, row: dict, level: str) -> Outcome:
        if not self.url:  # problem() says so: nothing is sent to a channel with a problem
            return Outcome("broken", self.problem() or "no webhook URL")
        headers = {
            **self.headers,
            "Content-Type": "application/json",
            "Idempotency-Key": row["id"],
            "User-Agent": "robot-notify",
        }
        try:
            resp = self.session.post(
                self.url,
                data=json.dumps(wire_form(row), default=str),
                headers=headers,
                allow_redirects=False,
                timeout=(CONNECT_TIMEOUT_S, self.settings.timeout_s),
            )
        except requests.RequestException as exc:
            return Outcome("retry", f"webhook unreachable ({type(exc).__name__})")
        status = resp.status_code
        what = f"HTTP {status}: {logs.redact(resp.text[:DETAIL_MAX])}"
        if 200 <= status < 300:
            return Outcome("sent")
        if status in (408, 425, 429) or status >= 500:
            return Outcome("retry", what, _retry_after(resp.headers.get("Retry-After")))
        if status in (401, 403, 404, 405, 410) or _redirect(resp):
            return Outcome(
                "broken", f"{what}: the webhook refuses every event; check its url and header_env"
            )
        return Outcome("refused", what)


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
    return seconds if seconds is not None and 0 <= seconds <= 3600 else None


# ------------------------------------------------------------------------------------- delivery
class ChannelRunner:
    """One channel's delivery loop in its own thread, with its own Store connection."""

    def __init__(
        self,
        channel: Channel,
        db_path: Path,
        clock,
        day: date,
        poll_s: float = POLL_S,
        backoff_initial_s: float = BACKOFF_INITIAL_S,
        backoff_max_s: float = BACKOFF_MAX_S,
        stale_after_s: float = STALE_AFTER_S,
    ):
        self.channel, self.db_path, self.clock, self.day = channel, Path(db_path), clock, day
        self.poll_s, self.stale_after_s = poll_s, stale_after_s
        self.backoff = (backoff_initial_s, backoff_max_s)
        self.thread = threading.Thread(
            target=self._run, name=f"notify-{channel.name}", daemon=True
        )  # never keeps a dying supervisor alive
        self._poke = threading.Event()
        self._stop = threading.Event()
        self._deadline: float | None = None  # monotonic, once close() asked to finish
        self.cursor = 0
        self.failures = 0
        self.caught_up = False
        self.stopped: str | None = None  # why the channel gave up for this run
        self._last_send = float("-inf")
        self._stale = 0

    @property
    def name(self) -> str:
        return self.channel.name

    def start(self) -> None:
        self.thread.start()

    def wake(self) -> None:
        self._poke.set()

    def finish_by(self, deadline: float) -> None:
        """Deliver what is pending until ``deadline`` (monotonic), then end."""
        self._deadline = deadline
        self._poke.set()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()

    # -------------------------------------------------------------------------------- the loop
    def _run(self) -> None:
        try:
            store = Store(self.db_path)
        except Exception as exc:  # noqa: BLE001 - say why alerts are off, never crash the day
            log.error(
                "notifications to %s are off: state.db cannot be opened (%s)",
                self.name,
                type(exc).__name__,
            )
            return
        crashes = 0
        try:
            while True:
                try:
                    self._loop(store)
                    return
                except Exception:  # noqa: BLE001 - a busy database, a bug: retry, loudly
                    crashes += 1
                    delay = min(BACKOFF_MAX_S, 2.0**crashes)
                    if crashes in (1, 5) or crashes % 20 == 0:
                        log.error(
                            "notifications to %s: unexpected error (%d so far), again in "
                            "%.0f s:\n%s",
                            self.name,
                            crashes,
                            delay,
                            logs.redact(traceback.format_exc()),
                        )
                    self._pause(delay, False)
                    if self._stop.is_set() or self._past_deadline():
                        return
        finally:
            store.close()

    def _loop(self, store: Store) -> None:
        row = store.notify_channel(self.name, self.day.isoformat(), self.clock.now())
        self.cursor = row["cursor"]
        problem = self.channel.problem()
        if problem:
            self._give_up(store, problem)
            return
        if row["last_error"]:
            log.info(
                "notifications to %s: resuming after event %d (last error: %s)",
                self.name,
                row["cursor"],
                row["last_error"],
            )
        while not self._stop.is_set():
            pause, wakeable = self._step(store)
            if self.stopped or self._finished():
                break
            self._pause(pause, wakeable)
        if self._stale:
            log.warning(
                "notifications to %s: skipped %d event(s) older than %.0f h",
                self.name,
                self._stale,
                self.stale_after_s / 3600,
            )

    def _finished(self) -> bool:
        return self._deadline is not None and (self.caught_up or self._past_deadline())

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _pause(self, seconds: float, wakeable: bool) -> None:
        """Wait ``seconds``; a wake() ends only an idle wait, never a backoff or retry_after."""
        end = time.monotonic() + seconds
        while not self._stop.is_set():
            limit = end if self._deadline is None else min(end, self._deadline)
            left = limit - time.monotonic()
            if left <= 0:
                return
            if self._poke.wait(left):
                self._poke.clear()
                if wakeable or self._finished():
                    return

    def _step(self, store: Store) -> tuple[float, bool]:
        """Handle the next event due; returns (how long to pause, whether wake() may end it)."""
        rows = store.events_after(self.cursor, BATCH)
        self.caught_up = not rows
        if not rows:
            return self.poll_s, True
        head = next((r for r in rows if self.channel.level(r["type"]) != OFF), None)
        if head is None or head is not rows[0]:
            # events this channel does not send: pass them in one write
            upto = rows[-1]["seq"] if head is None else head["seq"] - 1
            store.notify_advance(self.name, upto, self.clock.now())
            self.cursor = upto
            return 0, False
        return self._deliver(store, head)

    def _deliver(self, store: Store, row: dict) -> tuple[float, bool]:
        level = self.channel.level(row["type"])
        age = self._age_s(row)
        if age is not None and age > self.stale_after_s:
            self._settle(store, row, level, "stale", f"{age / 3600:.0f} h old when its turn came")
            self._stale += 1
            return 0, False
        wait = self._last_send + self.channel.min_interval_s - time.monotonic()
        if wait > 0:  # Telegram allows about one message a second per chat: pace
            return wait, False
        outcome = self.channel.send(row, level)
        self._last_send = time.monotonic()
        if outcome.kind == "sent":
            if self.failures:
                log.info(
                    "notifications to %s delivered again after %d failed attempt(s)",
                    self.name,
                    self.failures,
                )
            self._settle(store, row, level, "sent", None)
        elif outcome.kind == "refused":
            log.error(
                "notification of event %s (%s) refused by %s, not retried: %s",
                row["id"],
                row["type"],
                self.name,
                outcome.detail,
            )
            self._settle(store, row, level, "refused", outcome.detail)
        elif outcome.kind == "broken":
            self._give_up(store, outcome.detail)
        else:
            return self._retry_later(store, outcome), False
        return 0, False

    def _settle(
        self, store: Store, row: dict, level: str, outcome: str, detail: str | None
    ) -> None:
        store.notify_settle(
            self.name, row, level, outcome, self.failures + 1, detail, self.clock.now()
        )
        self.cursor = row["seq"]
        self.failures = 0

    def _retry_later(self, store: Store, outcome: Outcome) -> float:
        self.failures += 1
        first, cap = self.backoff
        delay = min(cap, first * 2 ** min(self.failures - 1, 16))
        if outcome.retry_after is not None:
            delay = outcome.retry_after  # the server said when: exactly that, not sooner
        store.notify_failed(self.name, "retrying", outcome.detail, self.clock.now())
        if self.failures in (1, 5) or self.failures % 20 == 0:
            log.warning(
                "notifications to %s failing (%s); attempt %d, next in %.1f s",
                self.name,
                outcome.detail,
                self.failures,
                delay,
            )
        return delay

    def _give_up(self, store: Store, why: str) -> None:
        self.stopped = why
        store.notify_failed(self.name, "stopped", why, self.clock.now())
        log.error(
            "notifications to %s STOPPED for this run: %s. Undelivered events stay queued "
            "and the next run tries again.",
            self.name,
            why,
        )

    def _age_s(self, row: dict) -> float | None:
        try:
            return (self.clock.now() - datetime.fromisoformat(row["created"])).total_seconds()
        except (TypeError, ValueError):
            return None


class Notifier:
    """Every configured channel, each in its own thread."""

    def __init__(
        self, settings: NotificationSettings, db_path: Path, clock, day: date, **tuning: float
    ):
        channels: list[Channel] = []
        if settings.telegram is not None:
            channels.append(TelegramChannel(settings.telegram))
        if settings.webhook is not None:
            channels.append(WebhookChannel(settings.webhook))
        self.runners = [ChannelRunner(c, db_path, clock, day, **tuning) for c in channels]
        self._deadline: float | None = None

    def start(self) -> Notifier:
        for r in self.runners:
            r.start()
            log.info("notifications to %s on (%s)", r.name, describe(r.channel))
        return self

    def wake(self) -> None:
        for r in self.runners:
            r.wake()

    def finish_within(self, budget_s: float) -> float:
        """Deliver what is pending for at most ``budget_s`` more, then end (the first call
        sets the deadline); the deadline (monotonic)."""
        if self._deadline is None:
            self._deadline = time.monotonic() + budget_s
            for r in self.runners:
                r.finish_by(self._deadline)
        return self._deadline

    def close(self, budget_s: float = 10.0) -> None:
        """Wait for the channels to finish (``finish_within``), bounded: an HTTP call still under
        way is abandoned, which is safe, since only an answer moves a cursor. What is left stays
        queued in state.db for the next run."""
        deadline = self.finish_within(budget_s)
        for r in self.runners:
            r.thread.join(max(0.0, deadline - time.monotonic()) + JOIN_GRACE_S)
            if r.thread.is_alive():
                r.stop()
                log.warning(
                    "notifications to %s: not finished in time; the rest stays queued "
                    "for the next run",
                    r.name,
                )


def describe(channel: Channel) -> str:
    """Where a channel sends, without any secret."""
    if isinstance(channel, TelegramChannel):
        return f"chat {channel.settings.chat_id} via {urlsplit(channel.settings.api_url).hostname}"
    if isinstance(channel, WebhookChannel):
        if channel.settings.url:  # the host only: a webhook's path can be its secret
            return f"POST to {urlsplit(channel.settings.url).hostname}"
        return f"POST to the URL in ${channel.settings.url_env}"
    return channel.name


def start_notifier(
    settings: NotificationSettings, db_path: Path, clock, day: date
) -> Notifier | None:
    """The supervisor's notifier, or None when no channel is configured."""
    if settings.telegram is None and settings.webhook is None:
        return None
    return Notifier(settings, db_path, clock, day).start()
