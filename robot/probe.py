"""`robot probe`: check a selectors file against the broker's real pages, without acting.

Two halves, kept apart so the reporting can be tested without a browser:

- the adapter's ``probe(emiten)`` (adapters/probe.py for selector adapters) drives its started
  browser: it only navigates and reads, one ``PageView`` per page; it never types, clicks or
  submits anything, so no order can be placed or cancelled;
- ``build_report(selectors, views)`` is a pure function from what was seen to a verdict per
  selector key: found, missing, ambiguous (several matches where exactly one is expected),
  invalid CSS, or a count for elements that may legitimately be absent (toasts and cancel buttons
  show up only after an action, so they are reported as not checkable rather than missing).

This module also says what the walk reads (``selector_keys``, ``pages_to_visit``, ``TABLES``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from adapters.base import PageView

PAGES = ("login", "order", "open_orders", "history", "portfolio", "quote")
TABLES = {  # columns section -> (selector key, page)
    "open_orders": ("open_orders_table", "open_orders"),
    "history": ("order_history_table", "history"),
    "portfolio": ("portfolio_table", "portfolio"),
}

# Result statuses. PROBLEMS make the probe fail (exit 1).
FOUND, MISSING, AMBIGUOUS, INVALID, UNREACHABLE = (
    "found",
    "missing",
    "ambiguous",
    "invalid",
    "unreachable",
)
COUNTED, NEEDS_ACTION, NOT_CHECKED = "counted", "needs action", "not checked"
PROBLEMS = (MISSING, AMBIGUOUS, INVALID, UNREACHABLE)

# Expectations.
ONE = "one"  # exactly one element
SOME = "some"  # at least one (the PIN pad's keys)
ACTION = "action"  # appears only after an action: counted, never a problem
ONE_OR_ACTION = "one or action"  # exactly one if present; may only be built by an action

ACTION_NOTES = {
    "toast_success": "appears only after an order action; not checkable without an action",
    "toast_error": "appears only after an order action; not checkable without an action",
    "login_error": "appears only after a failed login; not checkable without an action",
    "cancel_btn": "one per open order; not checkable without an open order (an action)",
}


# ------------------------------------------------------------------------------ observations
@dataclass
class Check:
    key: str  # dotted key in the selectors file
    selector: str
    page: str
    status: str
    count: int | None = None
    note: str = ""


@dataclass
class TableCheck:
    table: str  # open_orders | history | portfolio
    selector: str
    page: str
    headers: list[str] | None  # as seen; None: the table was not read
    missing: dict[str, str] = field(default_factory=dict)  # field -> configured header text
    rows: int | None = None
    note: str = ""


@dataclass
class Report:
    account: str
    broker: str
    selectors_file: str
    logged_in: bool
    checks: list[Check]
    tables: list[TableCheck]
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status in PROBLEMS]

    @property
    def missing_headers(self) -> list[TableCheck]:
        return [t for t in self.tables if t.missing]

    @property
    def ok(self) -> bool:
        return self.logged_in and not self.problems and not self.missing_headers

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "broker": self.broker,
            "selectors_file": self.selectors_file,
            "logged_in": self.logged_in,
            "ok": self.ok,
            "checks": [asdict(c) for c in self.checks],
            "tables": [asdict(t) for t in self.tables],
            "notes": list(self.notes),
        }

    def render_text(self) -> str:
        lines = [
            f"probe of account {self.account} (broker {self.broker}, "
            f"selectors {self.selectors_file})",
            "session: "
            + (
                "logged in"
                if self.logged_in
                else f"NOT logged in: run `robot login {self.account}` first"
            ),
        ]
        lines += [f"note: {n}" for n in self.notes]
        rows = [("KEY", "PAGE", "RESULT", "COUNT", "SELECTOR / NOTE")]
        for c in self.checks:
            detail = c.selector + (f"  ({c.note})" if c.note else "")
            rows.append(
                (
                    c.key,
                    c.page,
                    c.status.upper() if c.status in PROBLEMS else c.status,
                    "-" if c.count is None else str(c.count),
                    detail,
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for r in rows:
            lines.append("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
        lines.append("tables:")
        for t in self.tables:
            head = f"  {t.table} ({t.selector} on {t.page})"
            if t.headers is None:
                lines.append(f"{head}: not read ({t.note or 'table not found'})")
                continue
            lines.append(
                f"{head}: {t.rows if t.rows is not None else '?'} row(s); headers seen: "
                + (" | ".join(t.headers) or "(none)")
            )
            if t.missing:
                lines.append(
                    "    MISSING column headers: "
                    + ", ".join(f"{f} ({h!r})" for f, h in t.missing.items())
                )
            else:
                lines.append("    every configured column header found")
        n_missing = sum(1 for c in self.checks if c.status in (MISSING, UNREACHABLE))
        n_amb = sum(1 for c in self.checks if c.status == AMBIGUOUS)
        n_inv = sum(1 for c in self.checks if c.status == INVALID)
        n_cols = sum(len(t.missing) for t in self.tables)
        if self.ok:
            lines.append("result: OK - every selector and column header needed was found")
        else:
            parts = [
                f"{n} {what}"
                for n, what in (
                    (n_missing, "missing"),
                    (n_amb, "ambiguous"),
                    (n_inv, "invalid"),
                    (n_cols, "missing column header(s)"),
                )
                if n
            ]
            if not self.logged_in:
                parts.insert(0, "not logged in")
            lines.append("result: PROBLEMS - " + ", ".join(parts))
        return "\n".join(lines)

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2)


# ------------------------------------------------------------------------------- the plan
def selector_keys(sel: dict) -> dict[str, str]:
    """Every CSS selector of a selectors file, by dotted key (nulls left out), in file order."""
    out: dict[str, str] = {}
    for key in ("login_check", "login_error"):
        if isinstance(sel.get(key), str):
            out[key] = sel[key]
    for section in ("login_form", "order_form", "pin_pad", "confirm_dialog"):
        for k, v in (sel.get(section) or {}).items():
            if isinstance(v, str):
                out[f"{section}.{k}"] = v
    for key in (
        "auto_order_toggle",
        "toast_success",
        "toast_error",
        "open_orders_table",
        "cancel_btn",
        "order_history_table",
        "portfolio_table",
        "quote_price",
    ):
        if isinstance(sel.get(key), str):
            out[key] = sel[key]
    return out


def page_of(key: str) -> str:
    if key.startswith("login_form.") or key == "login_error":
        return "login"
    if key in ("open_orders_table", "cancel_btn"):
        return "open_orders"
    if key == "order_history_table":
        return "history"
    if key == "portfolio_table":
        return "portfolio"
    if key == "quote_price":
        return "quote"
    return "order"  # login_check, the order form, PIN pad, dialog, toggle, toasts


def expectation(key: str) -> str:
    if key in ACTION_NOTES:
        return ACTION
    if key == "pin_pad.key":
        return SOME
    if key.startswith("confirm_dialog."):
        return ONE_OR_ACTION
    return ONE


def pages_to_visit(sel: dict) -> list[str]:
    urls = sel.get("urls") or {}
    out = ["order", "open_orders", "history"]
    if urls.get("portfolio") and sel.get("portfolio_table"):
        out.append("portfolio")
    if urls.get("quote") and sel.get("quote_price"):
        out.append("quote")
    return out


# ------------------------------------------------------------------------------- the verdict
def _verdict(key: str, selector: str, page: str, view: PageView | None) -> Check:
    if view is None:
        return Check(key, selector, page, NOT_CHECKED, note="page not visited")
    if view.error is not None or view.state == "unknown":
        return Check(
            key,
            selector,
            page,
            UNREACHABLE,
            note=view.error
            or f"the page was neither logged in nor the login page ({view.title!r})",
        )
    n = view.counts.get(selector)
    if n is None:
        return Check(key, selector, page, NOT_CHECKED, note="not counted")
    if n < 0:
        return Check(key, selector, page, INVALID, note="not a valid CSS selector")
    expect = expectation(key)
    if expect == ACTION:
        return Check(key, selector, page, NEEDS_ACTION if n == 0 else COUNTED, n, ACTION_NOTES[key])
    if n == 0:
        if expect == ONE_OR_ACTION:
            return Check(
                key,
                selector,
                page,
                NEEDS_ACTION,
                0,
                "not in the page; it may only be built by the review click, which the "
                "probe never makes",
            )
        return Check(key, selector, page, MISSING, 0)
    if n > 1 and expect in (ONE, ONE_OR_ACTION):
        return Check(
            key,
            selector,
            page,
            AMBIGUOUS,
            n,
            "matches several elements where exactly one is expected",
        )
    note = "present (hidden until the review click; not opened)" if expect == ONE_OR_ACTION else ""
    return Check(key, selector, page, FOUND, n, note)


def is_logged_in(views: dict[str, PageView]) -> bool:
    """Some broker page showed the logged-in marker and none redirected to the login page."""
    states = [v.state for p, v in views.items() if p != "login"]
    return "in" in states and "out" not in states


def build_report(
    sel: dict,
    views: dict[str, PageView],
    account: str = "",
    broker: str = "",
    selectors_file: str = "",
) -> Report:
    """Turn what the pages showed into a verdict per selector key and per table."""
    keys = selector_keys(sel)
    logged_in = is_logged_in(views)
    notes: list[str] = []
    checks: list[Check] = []

    order_view = views.get("order")
    pad_shown = False
    if logged_in and order_view is not None and "pin_pad.container" in keys:
        pad_shown = order_view.counts.get(keys["pin_pad.container"], 0) > 0
    form_key = keys.get("order_form.stock_input")
    form_shown = bool(order_view and form_key and order_view.counts.get(form_key, 0) > 0)
    if pad_shown:
        notes.append(
            "the order page shows the PIN pad: the probe does not type the PIN, so the "
            "order form behind it is not checked (log in and enter the PIN, then probe "
            "again to check it)"
        )

    for key, selector in keys.items():
        page = page_of(key)
        if page == "login":
            if logged_in:
                checks.append(
                    Check(
                        key,
                        selector,
                        page,
                        NOT_CHECKED,
                        note="already logged in; the login page is not visited",
                    )
                )
            else:
                checks.append(_verdict(key, selector, page, views.get("login")))
            continue
        if not logged_in:
            checks.append(Check(key, selector, page, NOT_CHECKED, note="not logged in"))
            continue
        if page == "order" and key.startswith("pin_pad.") and not pad_shown and form_shown:
            checks.append(
                Check(
                    key,
                    selector,
                    page,
                    NOT_CHECKED,
                    0,
                    "the PIN was already entered in this session; pad not shown",
                )
            )
            continue
        if (
            page == "order"
            and pad_shown
            and not key.startswith("pin_pad.")
            and key not in ("login_check", "toast_success", "toast_error")
        ):
            checks.append(
                Check(
                    key,
                    selector,
                    page,
                    NOT_CHECKED,
                    order_view.counts.get(selector) if order_view else None,
                    "behind the PIN pad (the probe does not type the PIN)",
                )
            )
            continue
        checks.append(_verdict(key, selector, page, views.get(page)))

    tables: list[TableCheck] = []
    columns = sel.get("columns") or {}
    for table, (sel_key, page) in TABLES.items():
        table_css = sel.get(sel_key)
        configured = columns.get(table)
        if not table_css or not isinstance(configured, dict):
            continue
        view = views.get(page)
        if not logged_in or view is None:
            tables.append(
                TableCheck(
                    table,
                    table_css,
                    page,
                    None,
                    note="not logged in" if not logged_in else "page not visited",
                )
            )
            continue
        headers = view.headers.get(table_css)
        if headers is None:
            tables.append(
                TableCheck(
                    table,
                    table_css,
                    page,
                    None,
                    missing={f: h for f, h in configured.items() if h},
                    note="table not found",
                )
            )
            continue
        missing = {f: h for f, h in configured.items() if h and h not in headers}
        tables.append(
            TableCheck(table, table_css, page, headers, missing, view.rows.get(table_css))
        )
    if not logged_in:
        login_view = views.get("login")
        if login_view is not None and login_view.state == "in":
            notes.append("the login page shows a logged-in page")
    return Report(account, broker, selectors_file, logged_in, checks, tables, notes)


# ------------------------------------------------------------------------------- the probe
def probe_account(adapter, account_id: str, emiten: str = "BBCA") -> Report:
    """Have a started adapter read its pages, and report on its selectors file."""
    views = adapter.probe(emiten)
    return build_report(
        adapter.sel, views, account_id, adapter.broker.name, str(adapter.broker.selectors)
    )
