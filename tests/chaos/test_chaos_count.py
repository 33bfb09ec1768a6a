"""The bad-input suite really holds at least 40 malformed inputs, in every area.

The counts come from the very tables the parametrized tests run over, so dropping cases (or a
table) makes this fail. docs/RELIABILITY.md quotes the figures.
"""

from __future__ import annotations

import test_chaos_bad_cli as cli
import test_chaos_bad_config as config
import test_chaos_bad_tasks as tasks

MINIMUM = 40


def case_tables() -> dict[str, dict]:
    return {
        "accounts.yaml": config.CONFIG_CASES,
        "config paths": config.PATH_CASES,
        "selectors files": config.SELECTORS_CASES,
        "task payloads": tasks.TASK_CASES,
        "unstorable tasks": tasks.UNSTORABLE_CASES,
        "--tasks files": tasks.TASK_FILE_CASES,
        "CLI arguments": cli.CLI_CASES,
        "CLI arguments (real program)": cli.SUBPROCESS_CASES,
    }


def test_at_least_40_malformed_inputs():
    tables = case_tables()
    counts = {area: len(table) for area, table in tables.items()}
    print(f"\nmalformed inputs: {counts}, total {sum(counts.values())}")
    assert sum(counts.values()) >= MINIMUM, counts
    # every area the brief names is covered by more than a token case or two
    assert counts["accounts.yaml"] + counts["config paths"] >= 20
    assert counts["selectors files"] >= 7
    assert counts["task payloads"] + counts["unstorable tasks"] >= 20
    assert counts["--tasks files"] >= 4
    assert counts["CLI arguments"] >= 15 and counts["CLI arguments (real program)"] >= 3


def test_the_tables_are_what_the_tests_run_over():
    """Each table feeds a parametrized test (a table no test uses would inflate the count)."""
    uses = {
        "accounts.yaml": config.test_broken_accounts_yaml_is_named_and_exits_2,
        "config paths": config.test_config_path_that_is_no_readable_file,
        "selectors files": config.test_broken_selectors_file_through_robot_check,
        "task payloads": tasks.test_listed_malformed_task_is_stored_failed_with_its_reasons,
        "unstorable tasks": tasks.test_task_that_cannot_be_stored_is_reported_and_dropped,
        "--tasks files": tasks.test_malformed_tasks_file_exits_2_before_anything_starts,
        "CLI arguments": cli.test_bad_arguments_exit_2_with_a_message,
    }
    tables = case_tables()
    for area, test in uses.items():
        (mark,) = [m for m in test.pytestmark if m.name == "parametrize"]
        assert list(mark.args[1]) == list(tables[area]), area
    assert "SUBPROCESS_CASES" in cli.test_bad_arguments_real_exit_codes.__code__.co_names
