"""The robot's layers: `robot` (the domain and the process model) reaches a browser only through
the adapter interface.

robot/ may import the adapters' factory (``adapters``: create_adapter) and their interface
(``adapters.base``: BrokerAdapter, its errors and value types), never Selenium, undetected-
chromedriver, urllib3 or an adapter's own module (adapters.browser, adapters.generic, ...). And
supervisor.py is the process model only: the command that starts a day (robot/run.py) and the
demo (robot/demo.py) import it, never the other way round.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROBOT_FILES = sorted([*(ROOT / "robot").glob("*.py"), *(ROOT / "robot" / "store").glob("*.py")])
BROWSER_PACKAGES = ("selenium", "undetected_chromedriver", "urllib3")
ALLOWED_ADAPTERS = ("adapters", "adapters.base")
ADAPTER_MODULES = {p.stem for p in (ROOT / "adapters").glob("*.py")} - {"__init__"}


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every absolute module an import statement anywhere in ``tree`` loads (function-level
    imports too), with its line. ``from adapters import generic`` loads adapters.generic."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
            if node.module == "adapters":
                out += [
                    (node.lineno, f"adapters.{alias.name}")
                    for alias in node.names
                    if alias.name in ADAPTER_MODULES
                ]
    return out


def forbidden(module: str) -> bool:
    top = module.split(".")[0]
    if top in BROWSER_PACKAGES:
        return True
    return top == "adapters" and module not in ALLOWED_ADAPTERS


def test_the_check_sees_what_it_must_refuse():
    """The walker itself: each kind of forbidden import is found, the allowed ones pass."""
    source = (
        "import selenium.webdriver\nfrom urllib3.exceptions import HTTPError\n"
        "def f():\n    import undetected_chromedriver as uc\n"
        "    from adapters.browser import Browser\n    from adapters import generic\n"
        "from adapters import create_adapter\nfrom adapters.base import AdapterError\n"
    )
    found = [m for _, m in imported_modules(ast.parse(source)) if forbidden(m)]
    assert found == [
        "selenium.webdriver",
        "urllib3.exceptions",
        "undetected_chromedriver",
        "adapters.browser",
        "adapters.generic",
    ]


def test_no_robot_module_imports_the_browser_layer():
    assert len(ROBOT_FILES) > 30  # the glob found the package
    offenders = []
    for path in ROBOT_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        offenders += [
            f"{path.relative_to(ROOT)}:{line}: imports {module}"
            for line, module in imported_modules(tree)
            if forbidden(module)
        ]
    assert offenders == [], (
        "robot/ must reach the browser only through adapters (create_adapter)"
        " and adapters.base:\n" + "\n".join(offenders)
    )


def test_importing_the_robot_loads_no_selenium():
    """In a fresh interpreter: the worker, supervisor, engine and every other robot module import
    without Selenium or undetected-chromedriver (they come with an adapter, at run time)."""
    modules = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in ROBOT_FILES
        if p.name != "__main__.py"
    ]
    assert {"robot.worker", "robot.supervisor", "robot.engine"} <= set(modules)
    # one interpreter, the modules in turn: each is charged with what its own import brought in
    code = (
        "import importlib, json, sys\n"
        "brought = {}\n"
        "for name in sys.argv[1:]:\n"
        "    before = set(sys.modules)\n"
        "    importlib.import_module(name)\n"
        "    brought[name] = sorted({m.split('.')[0] for m in set(sys.modules) - before}\n"
        "                           & {'selenium', 'undetected_chromedriver'})\n"
        "print(json.dumps(brought))\n"
    )
    first = ["robot.worker", "robot.supervisor", "robot.engine"]
    proc = subprocess.run(
        [sys.executable, "-c", code, *first, *[m for m in modules if m not in first]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    brought = json.loads(proc.stdout)
    assert set(brought) == set(modules)
    assert {name: mods for name, mods in brought.items() if mods} == {}


def test_the_supervisor_is_the_process_model_only():
    """supervisor.py imports neither the command (robot.run, click) nor the demo; its only tie
    to the command is the `python -m robot.supervisor` block at its end."""
    tree = ast.parse((ROOT / "robot" / "supervisor.py").read_text(encoding="utf-8"))
    body = [
        node
        for node in tree.body
        if not (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__"
        )
    ]
    relative = []  # `from .run import x` and `from . import run` alike
    for node in ast.walk(ast.Module(body, [])):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            relative += [node.module] if node.module else [a.name for a in node.names]
    absolute = [m for _, m in imported_modules(ast.Module(body, []))]
    assert "worker" in relative  # the walk sees the supervisor's imports
    assert [m for m in relative if m in ("run", "demo", "cli")] == []
    assert [
        m
        for m in absolute
        if m.split(".")[0] == "click" or m in ("robot.run", "robot.demo", "robot.cli")
    ] == []
    demo = ast.parse((ROOT / "robot" / "demo.py").read_text(encoding="utf-8"))
    assert any(
        isinstance(n, ast.ImportFrom) and n.level == 1 and n.module == "supervisor"
        for n in ast.walk(demo)
    )
