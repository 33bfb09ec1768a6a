"""SVG charts drawn by the server: no chart library, nothing fetched, the page works offline.

Both take the report's per-account figures and return SVG markup (escaped where it holds text
from the state), sized by the number of accounts.
"""

from __future__ import annotations

from markupsafe import Markup, escape

# (report key, label, colour): the outcomes a task of the day can end in
OUTCOMES = (
    ("tp_hit", "TP hit", "#2e7d32"),
    ("cl_hit", "CL hit", "#ef6c00"),
    ("expired_unmatched", "expired", "#9e9e9e"),
    ("failed", "failed", "#c62828"),
    ("holding", "holding", "#1565c0"),
    ("other", "other", "#ce93d8"),
)
ROW_H, LABEL_W, BAR_W, PAD = 26, 150, 460, 8


def outcomes_chart(per_account: dict[str, dict]) -> Markup:
    """Stacked bars, one per account: how its tasks of the day ended."""
    rows = list(per_account.items())
    most = max([pa.get("tasks", 0) for _, pa in rows] + [1])
    height = PAD * 2 + ROW_H * len(rows) + 30
    width = LABEL_W + BAR_W + 60
    parts = [_svg_open(width, height, "tasks of the day per account, by outcome")]
    for i, (account, pa) in enumerate(rows):
        y = PAD + i * ROW_H
        parts.append(_label(account, y))
        x = float(LABEL_W)
        counts = _outcome_counts(pa)
        for key, label, colour in OUTCOMES:
            n = counts[key]
            if not n:
                continue
            w = BAR_W * n / most
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW_H - 8}" '
                f'fill="{colour}"><title>{escape(account)}: {n} {label}</title></rect>'
            )
            if w >= 14:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + ROW_H / 2 + 4}" text-anchor="middle" '
                    f'class="in-bar">{n}</text>'
                )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + ROW_H / 2 + 4}">{pa.get("tasks", 0)}</text>')
    parts.append(_legend(PAD + len(rows) * ROW_H + 8))
    parts.append("</svg>")
    return Markup("".join(parts))


def results_chart(results: dict[str, dict]) -> Markup:
    """Bars around zero, one per account: the realised rupiah result of its TP/CL exits."""
    rows = [(a, r["result_rp"]) for a, r in results.items() if r["priced"]]
    if not rows:
        return Markup("")
    most = max(abs(v) for _, v in rows) or 1
    half = BAR_W / 2
    zero = LABEL_W + half
    height = PAD * 2 + ROW_H * len(rows)
    parts = [_svg_open(LABEL_W + BAR_W + 130, height, "realised result of TP/CL exits")]
    parts.append(
        f'<line x1="{zero}" y1="0" x2="{zero}" y2="{height}" stroke="#555" stroke-width="1"/>'
    )
    for i, (account, value) in enumerate(rows):
        y = PAD + i * ROW_H
        parts.append(_label(account, y))
        w = half * abs(value) / most
        x = zero if value >= 0 else zero - w
        colour = "#2e7d32" if value >= 0 else "#c62828"
        text = f"{value:+,} Rp"
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 4}" width="{max(w, 1):.1f}" height="{ROW_H - 8}" '
            f'fill="{colour}"><title>{escape(account)}: {text}</title></rect>'
        )
        tx = zero + w + 6 if value >= 0 else zero + 6
        parts.append(f'<text x="{tx:.1f}" y="{y + ROW_H / 2 + 4}">{text}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _outcome_counts(pa: dict) -> dict[str, int]:
    counts = {key: int(pa.get(key) or 0) for key, _, _ in OUTCOMES if key != "other"}
    counts["other"] = max(0, int(pa.get("tasks") or 0) - sum(counts.values()))
    return counts


def _svg_open(width: float, height: float, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
    )


def _label(account: str, y: float) -> str:
    return (
        f'<text x="{LABEL_W - 8}" y="{y + ROW_H / 2 + 4}" text-anchor="end">'
        f"{escape(account)}</text>"
    )


def _legend(y: float) -> str:
    parts, x = [], float(LABEL_W)
    for _, label, colour in OUTCOMES:
        parts.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y + 11}">{label}</text>'
        )
        x += 24 + 8 * len(label)
    return "".join(parts)
