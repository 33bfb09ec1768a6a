"""robot.probe's pure half: from what the pages showed to a verdict (no browser)."""

from __future__ import annotations

import json

import pytest

from adapter_helpers import SELECTORS
from robot.probe import (
    AMBIGUOUS,
    FOUND,
    INVALID,
    MISSING,
    NEEDS_ACTION,
    NOT_CHECKED,
    UNREACHABLE,
    PageView,
    build_report,
    pages_to_visit,
    selector_keys,
)


def sel(broker: str) -> dict:
    return json.loads(SELECTORS[broker].read_text(encoding="utf-8"))


def healthy_views(s: dict, **overrides: int) -> dict[str, PageView]:
    """Every page logged in, every selector matching once (toasts and buttons none), every
    configured header present. ``overrides``: selector key -> count."""
    keys = selector_keys(s)
    counts = dict.fromkeys(keys.values(), 1)
    for key in ("toast_success", "toast_error", "cancel_btn", "login_error"):
        if key in keys:
            counts[keys[key]] = 0
    if "pin_pad.container" in keys:  # the PIN was entered: the pad is gone
        for k in ("pin_pad.container", "pin_pad.key", "pin_pad.submit"):
            counts[keys[k]] = 0
    for key, n in overrides.items():
        counts[keys[key]] = n
    headers = {}
    for table, sel_key in (
        ("open_orders", "open_orders_table"),
        ("history", "order_history_table"),
        ("portfolio", "portfolio_table"),
    ):
        headers[s[sel_key]] = list(s["columns"][table].values()) + ["Action"]
    return {
        page: PageView(
            page, f"http://x/{page}", "in", dict(counts), dict(headers), dict.fromkeys(headers, 0)
        )
        for page in pages_to_visit(s)
    }


def by_key(report) -> dict:
    return {c.key: c for c in report.checks}


def test_every_selector_key_is_planned():
    keys = selector_keys(sel("ajaib"))
    assert {
        "login_check",
        "login_form.username",
        "order_form.tp_input",
        "confirm_dialog.lot",
        "auto_order_toggle",
        "toast_success",
        "cancel_btn",
        "quote_price",
    } <= set(keys)
    assert "pin_pad.container" not in keys  # null in ajaib.json
    assert pages_to_visit(sel("ajaib")) == ["order", "open_orders", "history", "portfolio", "quote"]


def test_a_healthy_page_set_is_ok():
    s = sel("stockbit")
    report = build_report(s, healthy_views(s), "A1", "stockbit", "x.json")
    assert report.ok and report.logged_in
    checks = by_key(report)
    assert checks["quote_price"].status == FOUND
    assert checks["toast_success"].status == NEEDS_ACTION
    assert checks["login_form.username"].status == NOT_CHECKED
    assert "result: OK" in report.render_text()


@pytest.mark.parametrize(
    "key, count, status",
    [
        ("quote_price", 0, MISSING),
        ("order_form.lot_input", 2, AMBIGUOUS),
        ("open_orders_table", -1, INVALID),
    ],
)
def test_problems_fail_the_probe(key, count, status):
    s = sel("stockbit")
    report = build_report(s, healthy_views(s, **{key: count}), "A1", "stockbit", "x.json")
    assert by_key(report)[key].status == status
    assert [c.key for c in report.problems] == [key]
    assert report.ok is False
    assert status.upper() in report.render_text()
    assert report.to_json()["ok"] is False


def test_toasts_and_cancel_buttons_are_never_missing():
    s = sel("stockbit")
    report = build_report(s, healthy_views(s, cancel_btn=3, toast_error=1), "A1", "sb", "x")
    checks = by_key(report)
    assert (checks["cancel_btn"].status, checks["cancel_btn"].count) == ("counted", 3)
    assert checks["toast_success"].status == NEEDS_ACTION
    assert "not checkable without an action" in checks["toast_success"].note
    assert report.ok


def test_missing_column_headers():
    s = sel("ipot")
    views = healthy_views(s)
    table = s["order_history_table"]
    views["history"].headers[table] = [h for h in views["history"].headers[table] if h != "Done"]
    report = build_report(s, views, "I1", "ipot", "x.json")
    (bad,) = report.missing_headers
    assert (bad.table, bad.missing) == ("history", {"filled": "Done"})
    assert not report.ok and "MISSING column headers: filled ('Done')" in report.render_text()


def test_pin_pad_shown_hides_the_form():
    s = sel("ipot")
    views = healthy_views(
        s,
        **{
            "pin_pad.container": 1,
            "pin_pad.key": 10,
            "pin_pad.submit": 1,
            "order_form.stock_input": 0,
            "order_form.price_input": 0,
        },
    )
    report = build_report(s, views, "I1", "ipot", "x.json")
    checks = by_key(report)
    assert checks["pin_pad.key"].status == FOUND and checks["pin_pad.key"].count == 10
    assert checks["order_form.stock_input"].status == NOT_CHECKED
    assert report.ok and any("PIN pad" in n for n in report.notes)


def test_no_pad_and_no_form_is_missing():
    s = sel("ipot")
    report = build_report(s, healthy_views(s, **{"order_form.stock_input": 0}), "I1", "ipot", "x")
    checks = by_key(report)
    assert checks["order_form.stock_input"].status == MISSING
    assert checks["pin_pad.container"].status == MISSING


def test_dialog_built_only_by_the_click_needs_an_action():
    s = sel("ajaib")
    report = build_report(s, healthy_views(s, **{"confirm_dialog.dialog": 0}), "J1", "ajaib", "x")
    assert by_key(report)["confirm_dialog.dialog"].status == NEEDS_ACTION
    assert report.ok


def test_logged_out():
    s = sel("stockbit")
    keys = selector_keys(s)
    login_counts = {
        keys["login_form.username"]: 1,
        keys["login_form.password"]: 1,
        keys["login_form.submit"]: 1,
        keys["login_error"]: 0,
    }
    views = {
        "order": PageView("order", "http://x/login", "out", login_counts),
        "login": PageView("login", "http://x/login", "out", login_counts),
    }
    report = build_report(s, views, "A1", "stockbit", "x.json")
    checks = by_key(report)
    assert not report.logged_in and not report.ok
    assert checks["login_form.submit"].status == FOUND
    assert checks["login_error"].status == NEEDS_ACTION
    assert checks["quote_price"].status == NOT_CHECKED
    assert "NOT logged in" in report.render_text()


def test_an_error_page_is_unreachable():
    s = sel("stockbit")
    views = healthy_views(s)
    views["history"] = PageView("history", "http://x/history", "unknown", title="500")
    report = build_report(s, views, "A1", "stockbit", "x.json")
    assert by_key(report)["order_history_table"].status == UNREACHABLE
    assert report.logged_in and not report.ok
