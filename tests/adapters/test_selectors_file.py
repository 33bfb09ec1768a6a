"""Selectors files are validated on load; every message names the broker, the file and the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapter_helpers import SELECTORS
from adapters.ajaib import AjaibAdapter
from adapters.generic import SelectorAdapter
from adapters.ipot import IpotAdapter
from adapters.selectors import SelectorsError, load_selectors
from robot.errors import BadInput


def write(tmp_path: Path, data, name: str = "broker.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    return path


def base(broker: str = "stockbit") -> dict:
    return json.loads(SELECTORS[broker].read_text(encoding="utf-8"))


def problems(exc: SelectorsError) -> list[str]:
    return [str(p) for p in exc.problems]


@pytest.mark.parametrize(
    "broker, steps",
    [
        ("stockbit", SelectorAdapter.STEPS),
        ("ipot", IpotAdapter.STEPS),
        ("ajaib", AjaibAdapter.STEPS),
        ("lotus", SelectorAdapter.STEPS),
        ("melati", SelectorAdapter.STEPS),
    ],
)
def test_shipped_files_are_valid(broker, steps):
    data = load_selectors(SELECTORS[broker], broker, steps)
    assert data["broker"] == broker


def test_missing_key(tmp_path):
    data = base()
    del data["open_orders_table"]
    path = write(tmp_path, data)
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "stockbit", SelectorAdapter.STEPS)
    assert isinstance(err.value, BadInput)  # the CLI maps it to exit 2
    (msg,) = problems(err.value)
    assert str(path) in msg and "broker stockbit" in msg
    assert "open_orders_table" in msg and "missing" in msg


def test_missing_nested_key(tmp_path):
    data = base()
    del data["order_form"]["lot_input"]
    path = write(tmp_path, data)
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "stockbit", SelectorAdapter.STEPS)
    (msg,) = problems(err.value)
    assert "order_form.lot_input: missing" in msg and str(path) in msg and "stockbit" in msg


def test_unknown_step(tmp_path):
    data = base()
    data["steps"] = ["fill", "pin", "submit", "toast"]  # a PIN step the generic flow lacks
    path = write(tmp_path, data)
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "mybroker", SelectorAdapter.STEPS)
    msgs = problems(err.value)
    assert any(
        "steps[1]" in m and "unknown step 'pin'" in m and str(path) in m and "broker mybroker" in m
        for m in msgs
    ), msgs
    # the same file is fine for the adapter that knows the step (given its pad)
    data["pin_pad"] = {"container": "#pad", "key": "#pad .k", "submit": "#ok"}
    load_selectors(write(tmp_path, data, "ipotlike.json"), "ipotlike", IpotAdapter.STEPS)


def test_wrong_status_map_value(tmp_path):
    data = base("lotus")
    data["status_map"]["Part Filled"] = "PARTLY"
    path = write(tmp_path, data)
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "lotus", SelectorAdapter.STEPS)
    (msg,) = problems(err.value)
    assert "status_map.Part Filled" in msg and "'PARTLY'" in msg and "PARTIAL" in msg
    assert str(path) in msg and "broker lotus" in msg


def test_wrong_side_map_value(tmp_path):
    data = base()
    data["side_map"]["Buy"] = "long"
    path = write(tmp_path, data)
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "stockbit", SelectorAdapter.STEPS)
    (msg,) = problems(err.value)
    assert "side_map.Buy" in msg and "'long'" in msg


def test_invalid_json_names_the_line(tmp_path):
    text = SELECTORS["stockbit"].read_text(encoding="utf-8")
    lines = text.splitlines()
    bad_line = next(i for i, line in enumerate(lines) if '"login_check"' in line)
    lines[bad_line] = lines[bad_line].rstrip(",")  # a missing comma
    path = write(tmp_path, "\n".join(lines))
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "stockbit", SelectorAdapter.STEPS)
    (problem,) = err.value.problems
    assert problem.line == bad_line + 2  # reported where the parser stopped
    msg = str(problem)
    assert f"{path} (broker stockbit):{bad_line + 2}:" in msg and "not valid JSON" in msg


def test_every_problem_is_reported_at_once(tmp_path):
    data = base("ajaib")
    del data["toast_error"]
    data["confirm_dialog"] = None  # "confirm" is among the steps
    data["number_format"] = "us"
    data["columns"]["history"].pop("status")
    data["urls"]["nope"] = "/x"
    path = write(tmp_path, data)
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "ajaib", AjaibAdapter.STEPS)
    keys = {p.key for p in err.value.problems}
    assert {
        "toast_error",
        "confirm_dialog",
        "number_format",
        "columns.history.status",
        "urls.nope",
    } <= keys
    assert all(p.source == f"{path} (broker ajaib)" for p in err.value.problems)
    assert f"{len(err.value.problems)} problems found" in str(err.value)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(SelectorsError, match="selectors file not found") as err:
        load_selectors(path, "nope", SelectorAdapter.STEPS)
    assert str(path) in str(err.value) and "broker nope" in str(err.value)


def test_native_tp_cl_needs_the_inputs(tmp_path):
    data = base()
    data["order_form"]["tp_input"] = None
    path = write(tmp_path, data)
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "stockbit", SelectorAdapter.STEPS)
    assert any(p.key == "order_form.tp_input" for p in err.value.problems)


# --------------------------------------------------------------- the schema: lines and steps
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "robot" / "schemas" / "selectors.schema.json"


@pytest.mark.parametrize("broker", ["stockbit", "ipot", "ajaib", "lotus", "melati"])
def test_each_shipped_file_names_the_schema_for_editors(broker):
    """`$schema` is a path relative to the file (VS Code and others follow it), and the schema
    accepts the file with the plain library, as an editor would check it."""
    import jsonschema

    data = base(broker)
    assert (SELECTORS[broker].parent / data["$schema"]).resolve() == SCHEMA_FILE
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(data))


def test_a_problem_names_the_line_of_its_key(tmp_path):
    data = base("lotus")
    data["status_map"]["Part Filled"] = "PARTLY"
    del data["order_form"]["lot_input"]
    path = write(tmp_path, data)
    lines = path.read_text(encoding="utf-8").splitlines()
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "lotus", SelectorAdapter.STEPS)
    found = {p.key: p for p in err.value.problems}
    value = next(i for i, line in enumerate(lines, 1) if '"Part Filled": "PARTLY"' in line)
    assert found["status_map.Part Filled"].line == value
    form = next(i for i, line in enumerate(lines, 1) if '"order_form"' in line)
    assert found["order_form.lot_input"].line == form  # a missing key: its object
    assert f"{path} (broker lotus):{value}:" in str(found["status_map.Part Filled"])


def test_tab_indented_json_is_located_too(tmp_path):
    data = base()
    data["side_map"]["Buy"] = "long"
    text = json.dumps(data, indent="\t")
    path = write(tmp_path, text)
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "stockbit", SelectorAdapter.STEPS)
    (problem,) = err.value.problems
    assert problem.line == next(
        i for i, line in enumerate(text.splitlines(), 1) if '"Buy": "long"' in line
    )


@pytest.mark.parametrize(
    "step, key, value",
    [
        ("confirm", "confirm_dialog", None),
        ("auto_order", "auto_order_toggle", None),
        ("pin", "pin_pad", ...),
    ],
)
def test_a_step_needs_its_section(tmp_path, step, key, value):
    data = base("ajaib")
    data["steps"] = ["fill", step, "submit", "toast"] if step != "confirm" else data["steps"]
    if value is ...:
        data.pop(key, None)
    else:
        data[key] = value
    path = write(tmp_path, data)
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "ajaib", AjaibAdapter.STEPS | IpotAdapter.STEPS)
    (problem,) = err.value.problems
    assert problem.key == key and f"the steps include '{step}'" in problem.message


def test_steps_must_include_fill_submit_and_toast(tmp_path):
    data = base()
    data["steps"] = ["fill", "toast"]
    with pytest.raises(SelectorsError) as err:
        load_selectors(write(tmp_path, data), "stockbit", SelectorAdapter.STEPS)
    assert [(p.key, p.message) for p in err.value.problems] == [("steps", "must include 'submit'")]


# --------------------------------------------------- tables that lack columns (docs/BROKERS.md)
def test_a_table_without_a_side_column_needs_a_fixed_side(tmp_path):
    data = base("melati")
    load_selectors(SELECTORS["melati"], "melati", SelectorAdapter.STEPS)  # buy-only list: fine
    del data["fixed_side"]
    path = write(tmp_path, data)
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "melati", SelectorAdapter.STEPS)
    (problem,) = err.value.problems
    assert problem.key == "columns.open_orders.side" and problem.line is not None
    assert "fixed_side.open_orders" in problem.message and "never guesses" in problem.message
    assert f"{path} (broker melati):{problem.line}:" in str(problem)


def test_a_side_column_and_a_fixed_side_for_one_table_is_an_error(tmp_path):
    data = base("melati")
    data["fixed_side"]["history"] = "sell"  # history has a side column
    path = write(tmp_path, data)
    with pytest.raises(SelectorsError) as err:
        load_selectors(path, "melati", SelectorAdapter.STEPS)
    (problem,) = err.value.problems
    assert problem.key == "columns.history.side" and "give one of them" in problem.message


def test_a_fixed_side_is_buy_or_sell(tmp_path):
    data = base("melati")
    data["fixed_side"]["open_orders"] = "long"
    with pytest.raises(SelectorsError) as err:
        load_selectors(write(tmp_path, data), "melati", SelectorAdapter.STEPS)
    assert any(
        p.key == "fixed_side.open_orders" and "'long'" in p.message for p in err.value.problems
    ), problems(err.value)


def test_optional_columns_may_be_left_out(tmp_path):
    data = base("lotus")
    for table in ("open_orders", "history"):
        del data["columns"][table]["time"]
    del data["columns"]["portfolio"]["avg_price"]
    load_selectors(write(tmp_path, data), "lotus", SelectorAdapter.STEPS)


@pytest.mark.parametrize(
    "pattern, why", [("(order", "not a valid regular expression"), ("Order \\d+", "needs a group")]
)
def test_toast_order_id_is_a_regular_expression_with_a_group(tmp_path, pattern, why):
    data = base("lotus")
    data["toast_order_id"] = pattern
    with pytest.raises(SelectorsError) as err:
        load_selectors(write(tmp_path, data), "lotus", SelectorAdapter.STEPS)
    (problem,) = err.value.problems
    assert problem.key == "toast_order_id" and why in problem.message and problem.line
    data["toast_order_id"] = "Ref (\\d+)"
    load_selectors(write(tmp_path, data, "ok.json"), "lotus", SelectorAdapter.STEPS)


def test_fill_is_keys_or_script(tmp_path):
    data = base("stockbit")
    data["fill"] = "typing"
    with pytest.raises(SelectorsError) as err:
        load_selectors(write(tmp_path, data), "stockbit", SelectorAdapter.STEPS)
    (problem,) = err.value.problems
    assert problem.key == "fill" and "'keys'" in problem.message and problem.line
    data["fill"] = "script"
    load_selectors(write(tmp_path, data, "ok.json"), "stockbit", SelectorAdapter.STEPS)


@pytest.mark.parametrize(
    "live, key",
    [
        ({"pages": ["orders"]}, "live.pages[0]"),
        ({"pages": ["open_orders"], "max_age_s": 0}, "live.max_age_s"),
        ({"pages": ["open_orders"], "last_updated": {"open_orders": ""}}, "live.last_updated"),
        ({"last_updated": {}}, "live"),
    ],
)
def test_live_pages_are_checked(tmp_path, live, key):
    data = base("stockbit")
    data["live"] = live
    with pytest.raises(SelectorsError) as err:
        load_selectors(write(tmp_path, data), "stockbit", SelectorAdapter.STEPS)
    assert any(p.key.startswith(key) for p in err.value.problems), problems(err.value)
