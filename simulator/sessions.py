"""Broker login sessions: opaque cookie tokens mapped to (skin, account) on the server.

State lives in the server object, so a session survives a browser restart (the cookie is
persistent) and a server stop/start (the object is kept). Scenario session expiries and the
test control ``expire_session`` invalidate tokens, after which every page redirects to login.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from robot.clock import WIB

from .faults import Faults

COOKIE_MAX_AGE = 30 * 24 * 3600  # seconds: long enough to outlive any test or demo


@dataclass
class Session:
    token: str
    skin: str
    account: str
    created: datetime  # simulated time
    pin_unlocked: bool = False  # ipot: the trading PIN was entered in this session
    toasts: list[tuple[str, str]] = field(default_factory=list)  # (success|error, text)

    def toast(self, ok: bool, text: str) -> None:
        self.toasts.append(("success" if ok else "error", text))

    def pop_toasts(self) -> list[tuple[str, str]]:
        out, self.toasts = self.toasts, []
        return out


class SessionStore:
    """Guarded by the server's lock."""

    def __init__(self) -> None:
        self._by_token: dict[str, Session] = {}

    def create(self, skin: str, account: str, now: datetime) -> Session:
        session = Session(secrets.token_urlsafe(24), skin, account, now)
        self._by_token[session.token] = session
        return session

    def get(self, skin: str, token: str | None, now: datetime, faults: Faults) -> Session | None:
        session = self._by_token.get(token or "")
        if session is None or session.skin != skin:
            return None
        if self._expired_by_scenario(session, now, faults):
            self.drop(session.token)
            return None
        return session

    @staticmethod
    def _expired_by_scenario(session: Session, now: datetime, faults: Faults) -> bool:
        """A session_expiry at HH:MM kills sessions created before that moment, on any day."""
        for f in faults.session_expiries(session.skin, session.account):
            if f.start is None:
                continue
            day = now.date()
            for d in (day, day - timedelta(days=1)):
                at = datetime.combine(d, f.start, WIB)
                if (f.day in (None, d)) and session.created < at <= now:
                    return True
        return False

    def drop(self, token: str) -> None:
        self._by_token.pop(token, None)

    def expire(self, skin: str | None, account: str | None) -> int:
        """Invalidate the sessions of (skin, account); None matches any. Returns how many."""
        doomed = [
            t
            for t, s in self._by_token.items()
            if skin in (None, s.skin) and account in (None, s.account)
        ]
        for t in doomed:
            self.drop(t)
        return len(doomed)
