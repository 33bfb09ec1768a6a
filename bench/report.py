"""The Markdown tables of BENCHMARKS.md from the benchmarks' results."""

from __future__ import annotations

GOALS = {
    "scale": "20 accounts through the day, no missed deadline",
    "memory": "<= 200 MB per account",
    "poll": "poll >= 10x cheaper than per-cell reading",
    "latency": "robot overhead per order p95 <= 250 ms",
    "burst": "opening burst >= 8x faster than the sequential bot (N = 10)",
    "recovery": "recovery <= 5 s median",
    "steady": "<= 3 % of a core per account, 20 accounts TRADING at real time",
}


def _g(d, *keys, default=None):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


def _fmt(x, unit=""):
    if x is None:
        return "-"
    if isinstance(x, float):
        x = f"{x:.3g}" if abs(x) < 10 else f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}"
    return f"{x}{unit}"


def _x(ratio) -> str:
    return "-" if ratio is None else f"{_fmt(ratio)}x"


def _load(r) -> str:
    b, a = r.get("load_before") or [], r.get("load_after") or []
    return f"{_fmt(b[0] if b else None)} → {_fmt(a[0] if a else None)}"


def _split(r) -> tuple[int, int]:
    """(tasks never placed at the broker, tasks whose TP/CL was reached after the fill but not
    hit) from scale.py's missed list."""
    missed = r.get("missed_tp_cl") or []
    tp = sum(1 for m in missed if m.get("why", "").startswith("price reached"))
    return len(missed) - tp, tp


def goals(res: dict) -> list[tuple[str, str, str]]:
    out = []
    scale = res.get("scale") or {}
    runs = {r["accounts"]: r for r in scale.get("runs", []) if "accounts" in r}
    if 20 in runs:
        r = runs[20]
        ok = r["deadlines_met"] and r["exit_code"] == 0
        never, tp = _split(r)
        out.append(
            (
                GOALS["scale"],
                f"N = 20 at {_fmt(r['speed'])}x: {r['rejected_market_closed']} "
                f"rejected for a closed market, {r['accepted_outside_submit_phase']} accepted "
                f"outside a submit phase, {never} of {r['tasks']} tasks never placed, {tp} "
                f"missed TP/CL, {len(r['filled_after_move'])} filled only after their price "
                f"move (placed late)",
                "met" if ok else "not met",
            )
        )
    else:
        out.append((GOALS["scale"], "N = 20 not run (quick mode or error)", "not measured"))
    if runs:
        n = max(runs)
        r = runs[n]
        peak = _g(r, "pss_per_account_mib", "peak", "median")
        mean = _g(r, "pss_per_account_mib", "mean", "median")
        out.append(
            (
                GOALS["memory"],
                f"N = {n}: PSS per account (worker + chromedriver + "
                f"Chromium) peak {_fmt(peak)} MiB, mean {_fmt(mean)} MiB (medians over "
                f"accounts)",
                "met" if peak is not None and peak * 1.048576 <= 200 else "not met",
            )
        )
    poll = res.get("poll") or {}
    if "read" in poll:
        rc = poll["read"]["ratio_cpu_median"]
        pc = poll["poll"]["ratio_cpu_median"]
        out.append(
            (
                GOALS["poll"],
                f"table read: {_fmt(rc)}x less CPU, "
                f"{_fmt(poll['read']['ratio_wall_median'])}x less wall time; whole poll "
                f"(navigation + read): {_fmt(pc)}x less CPU",
                "met" if rc >= 10 else "not met",
            )
        )
    lat = _g(res, "latency", "by_latency") or {}
    if "0" in lat:
        p95 = lat["0"]["wall_ms"]["p95"]
        out.append(
            (
                GOALS["latency"],
                f"p95 {_fmt(p95)} ms at UI latency 0 (p50 "
                f"{_fmt(lat['0']['wall_ms']['median'])} ms; robot CPU per order p50 "
                f"{_fmt(lat['0']['robot_cpu_ms']['median'])} ms)",
                "met" if p95 <= 250 else "not met",
            )
        )
    burst = res.get("burst") or {}
    if burst.get("runs") and burst.get("ratio") is None:
        out.append((GOALS["burst"], "no run completed (see the burst table)", "not measured"))
    if burst.get("ratio") is not None:
        n = burst.get("accounts")
        # the same measure for both: the last success toast (the broker's confirmation); the
        # robot's own read-back afterwards, which the bot does not do, is shown beside it
        ratio = burst.get("ratio_toasts") or burst["ratio"]
        toasts = (
            f"robot {_fmt(burst['robot_toasts_s'])} s to the last toast, "
            if burst.get("ratio_toasts")
            else f"robot {_fmt(burst['robot_s'])} s, "
        )
        out.append(
            (
                GOALS["burst"],
                f"N = {n}: {toasts}sequential {_fmt(burst['baseline_s'])} s: "
                f"{_fmt(ratio)}x"
                + (
                    f"; to the robot's read-back confirmation "
                    f"{_fmt(burst['robot_s'])} s: {_fmt(burst['ratio'])}x"
                    if burst.get("ratio_toasts")
                    else ""
                ),
                ("met" if ratio >= 8 else "not met") if n == 10 else "not measured at N = 10",
            )
        )
    rec = res.get("recovery") or {}
    if _g(rec, "recovered_s", "median") is not None:
        m = rec["recovered_s"]["median"]
        out.append(
            (
                GOALS["recovery"],
                f"median {_fmt(m)} s over {rec['kills']} kills",
                "met" if m <= 5 else "not met",
            )
        )
    out += steady_goal(res)
    return out


def steady_goal(res: dict) -> list[tuple[str, str, str]]:
    """Listed only once the steady benchmark has run (its results or its error)."""
    st = res.get("steady")
    if not isinstance(st, dict):
        return []
    med = _g(st, "cpu_pct_per_account", "median")
    if med is None:
        return [(GOALS["steady"], "no run completed (see Errors)", "not measured")]
    full = st["accounts"] >= 20 and st["minutes"] >= 10
    return [
        (
            GOALS["steady"],
            f"N = {st['accounts']} for {_fmt(st['minutes'])} min: worker tree CPU per account "
            f"median {_fmt(med)} %, max {_fmt(st['cpu_pct_per_account']['max'])} % of a core "
            f"(supervisor {_fmt(st['supervisor_cpu_pct'])} %)",
            ("met" if med <= 3 else "not met") if full else "not measured at N = 20, 10 min",
        )
    ]


def render(info: dict, res: dict) -> str:
    """BENCHMARKS.md's generated part: the machine, the goals, then one table per benchmark
    (each section is empty when its benchmark did not run)."""
    sections = (
        machine_section(info),
        goals_section(res),
        scale_section(res),
        cold_start_section(res),
        poll_section(res),
        latency_section(res),
        burst_section(res),
        recovery_section(res),
        steady_section(res),
        errors_section(res),
    )
    return "\n".join(line for section in sections for line in section)


def machine_section(info: dict) -> list[str]:
    return [
        f"Generated by `bench/run.py` ({info['mode']} mode, robot driver "
        f"{info['driver']}); raw results in `bench/out/`.\n",
        "| machine | |\n|---|---|",
        f"| date | {info['date']} |",
        f"| cores | {info['host_cores_logical']} logical ({info['host_cores_physical']} "
        f"physical) |",
        f"| memory | {info['memory_gib']} GiB |",
        f"| Chromium / chromedriver | {info['chromium']} / {info['chromedriver']} |",
        f"| Python / Selenium / psutil | {info['python']} / {info['selenium']} / "
        f"{info['psutil']} |",
        f"| OS | {info['os']} |",
        f"| load average (1, 5, 15 min) at start → end | {info['loadavg']} → "
        f"{info.get('loadavg_end')} |",
        f"| total run time | {info.get('total_s')} s |",
        "",
    ]


def goals_section(res: dict) -> list[str]:
    L = ["### Goals\n", "| goal | measured | |\n|---|---|---|"]
    L += [f"| {g} | {m} | **{ok}** |" for g, m, ok in goals(res)]
    L.append("")
    return L


def scale_section(res: dict) -> list[str]:
    scale = res.get("scale") or {}
    if not scale.get("runs"):
        return []
    L = [
        f"### 1. Scale (clock {_fmt(scale['speed'])}x, UI latency "
        f"{scale['ui_latency_s']} s; {scale['window']})\n"
    ]
    L.append(
        "| N | tasks | deadlines met | rejected: market closed | accepted outside a "
        "submit phase | never placed | missed TP/CL | filled only after the move | placement delay "
        "median / max (sim min) | outcomes | supervisor CPU (% of a core) | worker tree "
        "CPU per account (% of a core, median) | PSS per account peak / mean (MiB, "
        "median) | PSS total peak (MiB) | system used memory increase peak / mean (MiB) "
        "| run wall (s) | load |"
    )
    L.append("|" + "---|" * 17)
    for r in scale["runs"]:
        if "error" in r or "accounts" not in r:
            L.append(f"| error: {r.get('error')} |" + " |" * 16)
            continue
        d = r["placement_delay_sim_min"]
        L.append(
            f"| {r['accounts']} | {r['tasks']} | {'yes' if r['deadlines_met'] else 'NO'} | "
            f"{r['rejected_market_closed']} | {r['accepted_outside_submit_phase']} | "
            f"{_split(r)[0]} | {_split(r)[1]} | {len(r['filled_after_move'])} | "
            f"{_fmt(d.get('median'))} / {_fmt(d.get('max'))} | "
            f"{', '.join(f'{k} {v}' for k, v in sorted(r['outcomes'].items()))} | "
            f"{_fmt(r['supervisor_cpu_pct_of_core'])} | "
            f"{_fmt(r['worker_tree_cpu_pct_of_core_per_account'].get('median'))} | "
            f"{_fmt(_g(r, 'pss_per_account_mib', 'peak', 'median'))} / "
            f"{_fmt(_g(r, 'pss_per_account_mib', 'mean', 'median'))} | "
            f"{_fmt(r['pss_total_mib']['peak'])} | "
            f"{_fmt(r['system_used_increase_mib']['peak'])} / "
            f"{_fmt(r['system_used_increase_mib']['mean'])} | {_fmt(r['wall_s'])} | "
            f"{_load(r)} |"
        )
    L.append("")
    return L


def cold_start_section(res: dict) -> list[str]:
    """Measured by the scale benchmark's runs (numbered 6 in BENCHMARKS.md's notes)."""
    scale = res.get("scale") or {}
    if not scale.get("runs"):
        return []
    L = [
        "### 6. Cold start (supervisor start → READY, wall seconds)\n",
        "| N | median | p95 | all N READY | last account TRADING at (sim) | worker "
        "crashes |\n|---|---|---|---|---|---|",
    ]
    for r in scale["runs"]:
        if "accounts" not in r:
            continue
        c = r["cold_start_to_ready_s"]
        L.append(
            f"| {r['accounts']} | {_fmt(c.get('median'))} | {_fmt(c.get('p95'))} | "
            f"{_fmt(r['all_ready_s'])} | {r['trading_by_sim'] or '-'} | "
            f"{r['worker_crashes']} |"
        )
    L.append("")
    return L


def poll_section(res: dict) -> list[str]:
    poll = res.get("poll") or {}
    if "read" not in poll:
        return []
    L = [
        f"### 2. Poll cost (open orders, {poll['rows']} rows, {poll['cells']} cells; "
        f"{poll['blocks']} alternating blocks of {poll['calls_per_block']} calls; "
        f"load {_load(poll)})\n",
        "| what | reader | ms per call median | p95 | CPU ms per call (median of "
        "blocks) | per-cell / project (CPU, wall) |\n|---|---|---|---|---|---|",
    ]
    for variant, label in (
        ("read", "table read (page loaded)"),
        ("poll", "whole poll (navigate + read)"),
    ):
        v = poll[variant]
        for who in ("project", "per_cell"):
            ratio = (
                f"{v['ratio_cpu_median']}x, {v['ratio_wall_median']}x" if who == "per_cell" else ""
            )
            L.append(
                f"| {label} | {who.replace('_', '-')} | "
                f"{_fmt(v[who]['ms_per_poll']['median'])} | "
                f"{_fmt(v[who]['ms_per_poll']['p95'])} | "
                f"{_fmt(v[who]['cpu_ms_per_poll']['median'])} | {ratio} |"
            )
    L.append("")
    return L


def latency_section(res: dict) -> list[str]:
    lat = res.get("latency") or {}
    if not lat.get("by_latency"):
        return []
    L = [
        f"### 3. Order latency (task PENDING → order confirmed by read-back, one engine "
        f"step; real-time clock; load {_load(lat)})\n",
        "| UI latency (s) | orders | wall p50 (ms) | p95 | overhead p50 / p95 (wall − "
        "latency × requests) | broker requests | WebDriver commands | "
        "robot CPU per order p50 (ms) | "
        "simulator CPU p50 (ms) | submit_order p50 | open-orders reads p50 | engine "
        "+ SQLite p50 |\n|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for k, v in lat["by_latency"].items():
        L.append(
            f"| {k} | {v['orders']} | {_fmt(v['wall_ms']['median'])} | "
            f"{_fmt(v['wall_ms']['p95'])} | {_fmt(v['overhead_ms']['median'])} / "
            f"{_fmt(v['overhead_ms']['p95'])} | {_fmt(v['requests']['median'])} | "
            f"{_fmt(_g(v, 'webdriver_commands', 'median'))} | "
            f"{_fmt(v['robot_cpu_ms']['median'])} | "
            f"{_fmt(v['simulator_cpu_ms']['median'])} | "
            f"{_fmt(v['submit_order_ms']['median'])} | "
            f"{_fmt(v['read_open_orders_ms']['median'])} | "
            f"{_fmt(v['engine_sqlite_ms']['median'])} |"
        )
    L.append("")
    return L


def burst_section(res: dict) -> list[str]:
    burst = res.get("burst") or {}
    if not burst.get("runs"):
        return []
    L = [
        f"### 4. Opening burst (N = {burst['accounts']}, UI latency "
        f"{burst['ui_latency_s']} s, from 09:00:00)\n",
        "| run | all TRADING before 09:00 | robot: all toasts (s) | robot: all "
        "confirmed by read-back (s) | robot: all at broker (s) | sequential bot: all "
        "toasts (s) | sequential: all at broker (s) | ratio, toasts | ratio, robot "
        "read-back | ratio at broker | sequential without launches (s) | ratio without "
        "launches | bot per account: launch / login / order (s, median) | load |",
        "|" + "---|" * 14,
    ]
    for i, r in enumerate(burst["runs"], 1):
        if "error" in r or "robot_all_confirmed_s" not in r:
            L.append(f"| {i} | error: {r.get('error')} |" + " |" * 12)
            continue
        L.append(
            f"| {i} | {'yes' if r['all_trading_before_open'] else 'NO'} | "
            f"{_fmt(r.get('robot_all_toasts_s'))} | "
            f"{_fmt(r['robot_all_confirmed_s'])} | {_fmt(r['robot_all_at_broker_s'])} | "
            f"{_fmt(r['baseline_all_toasts_s'])} | "
            f"{_fmt(r['baseline_all_at_broker_s'])} | {_x(r.get('ratio_toasts'))} | "
            f"{_fmt(r['ratio'])}x | "
            f"{_fmt(r['ratio_at_broker'])}x | {_fmt(r['baseline_without_launch_s'])} | "
            f"{_fmt(r['ratio_without_launch'])}x | "
            f"{_fmt(r['baseline_launch_s']['median'])} / "
            f"{_fmt(r['baseline_login_s']['median'])} / "
            f"{_fmt(r['baseline_order_s']['median'])} | {_load(r)} |"
        )
    L.append(
        f"| median | | {_fmt(burst.get('robot_toasts_s'))} | {_fmt(burst['robot_s'])} | | "
        f"{_fmt(burst['baseline_s'])} | | {_x(burst.get('ratio_toasts'))} | "
        f"{_fmt(burst['ratio'])}x | {_fmt(burst['ratio_at_broker'])}x | | "
        f"{_fmt(burst['ratio_without_launch'])}x | | |"
    )
    L.append("")
    return L


RECOVERY_ROWS = (
    ("noticed_s", "supervisor records the crash (WORKER_CRASHED)"),
    ("init_s", "new worker process running (INIT)"),
    ("ready_s", "browser up, session checked (READY)"),
    ("trading_s", "TRADING"),
    ("recovered_s", "first step read open orders + history: reconciled"),
)


def recovery_section(res: dict) -> list[str]:
    rec = res.get("recovery") or {}
    if not rec.get("samples"):
        return []
    L = [
        f"### 5. Recovery after SIGKILL of a TRADING worker ({rec['kills']} kills, UI "
        f"latency {rec['ui_latency_s']} s; load {_load(rec)})\n",
        "| seconds after the kill | median | p95 | max |\n|---|---|---|---|",
    ]
    for key, label in RECOVERY_ROWS:
        s = rec.get(key) or {}
        L.append(
            f"| {label} | {_fmt(s.get('median'))} | {_fmt(s.get('p95'))} | {_fmt(s.get('max'))} |"
        )
    L.append(
        f"\nExactly one order at the broker after every kill: "
        f"{'yes' if rec['exactly_one_order'] else 'NO'}; the task stayed OPEN: "
        f"{'yes' if rec['task_open_throughout'] else 'NO'}.\n"
    )
    return L


def steady_section(res: dict) -> list[str]:
    st = res.get("steady") or {}
    if _g(st, "cpu_pct_per_account", "median") is None:
        return []
    cpu, parts = st["cpu_pct_per_account"], st["cpu_pct_by_part"]
    L = [
        f"### 7. Steady state (N = {st['accounts']} TRADING at clock 1x, each with a held "
        f"position and an open order; measured for {_fmt(st['minutes'])} min after a "
        f"{st['warmup_s']:g} s warm-up; UI latency {st['ui_latency_s']} s)\n",
        "| N | window (s) | worker tree CPU per account median / max (% of a core) | "
        "worker / chromedriver / Chromium (median, % of a core) | supervisor CPU (% of a "
        "core) | simulator + sampler (% of a core) | machine busy (% of all cores) | PSS per "
        "account median / max (MiB) | supervisor PSS (MiB) | broker requests per account per "
        "minute | all in place after (s) | stayed TRADING | load at window start → end |",
        "|" + "---|" * 13,
        f"| {st['accounts']} | {_fmt(st['window_s'])} | {_fmt(cpu['median'])} / "
        f"{_fmt(cpu['max'])} | "
        + " / ".join(_fmt(parts[k].get("median")) for k in ("worker", "chromedriver", "chromium"))
        + f" | {_fmt(st['supervisor_cpu_pct'])} | {_fmt(st['bench_process_cpu_pct'])} | "
        f"{_fmt(st['machine_busy_pct_of_all_cores'])} | "
        f"{_fmt(_g(st, 'pss_per_account_mib', 'median'))} / "
        f"{_fmt(_g(st, 'pss_per_account_mib', 'max'))} | {_fmt(st['supervisor_pss_mib'])} | "
        f"{_fmt(st['requests_per_account_min'])} | {_fmt(st['in_place_s'])} | "
        f"{'yes' if st['stayed_trading'] else 'NO'} | "
        f"{_load({'load_before': st['load_at_window_start'], 'load_after': st['load_after']})} |",
        "",
    ]
    return L


def errors_section(res: dict) -> list[str]:
    errors = [(n, r["error"]) for n, r in res.items() if isinstance(r, dict) and "error" in r]
    if not errors:
        return []
    return ["### Errors\n", *(f"- {n}: {e}" for n, e in errors), ""]
