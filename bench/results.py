"""The bench's figures: a row per figure next to its baseline, as bench/results.json and a Markdown table.

A row measured several times (the HTTP rows) carries its runs; its value and
baseline are their medians, its ratio median / median, and the table shows the
spread (min–max) of both and of the ratios of runs made side by side.
"""

from __future__ import annotations

import re
import statistics

HEADERS = ("figure", "value", "unit", "baseline", "ratio", "goal", "met")
RUNS = "runs: value; baseline; paired ratios (min–max)"


def _round(x: float) -> float:
    return round(x, 3 if x < 10 else 1)


def spread(values: list[float]) -> str:
    return f"{_round(min(values)):,}–{_round(max(values)):,}"


def row(
    figure: str,
    value: float | list[float],
    unit: str,
    baseline: float | list[float],
    goal: float,
    higher_is_better: bool,
) -> dict:
    """A figure; given lists of runs, the value and baseline are their medians (the ratio median / median)."""
    runs = value if isinstance(value, list) else None
    base_runs = baseline if isinstance(baseline, list) else None
    value = statistics.median(runs) if runs else value
    baseline = statistics.median(base_runs) if base_runs else baseline
    ratio = value / baseline if baseline else float("inf")
    met = ratio >= goal if higher_is_better else ratio <= goal
    out = {
        "figure": figure,
        "value": _round(value),
        "unit": unit,
        "baseline": _round(baseline),
        "ratio": round(ratio, 3),
        "goal": ("≥ " if higher_is_better else "≤ ") + f"{goal}",
        "met": bool(met),
    }
    if runs:
        out["runs"] = [_round(x) for x in runs]
        out["spread"] = spread(runs)
    if base_runs:
        out["baseline_runs"] = [_round(x) for x in base_runs]
        out["baseline_spread"] = spread(base_runs)
    if runs and base_runs and len(runs) == len(base_runs):
        # Interleaved runs pair up: round i of the figure ran next to round i of its baseline.
        out["paired_ratios"] = [round(v / b, 3) for v, b in zip(runs, base_runs, strict=True)]
    return out


def order(r: dict) -> tuple[int, str]:
    """Rows by number, then letter: 1, 1a, 1c, 1d, 2 …"""
    number, letter = re.match(r"(\d+)([a-z]?)\.", r["figure"]).groups()
    return int(number), letter


def table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join((*HEADERS, RUNS)) + " |", "|" + "---|" * (len(HEADERS) + 1)]
    for r in sorted(rows, key=order):
        cells = [str(r[h]) if h != "met" else ("yes" if r[h] else "**no**") for h in HEADERS]
        runs = f"{len(r['runs'])}× {r['spread']}" if "runs" in r else ""
        if "baseline_runs" in r:
            runs += f"; {r['baseline_spread']}"
        if "paired_ratios" in r:
            runs += f"; paired ratios {min(r['paired_ratios'])}–{max(r['paired_ratios'])}"
        if "note" in r:  # a row that states its own spread (row 7c: quartiles of many paired passes)
            runs = r["note"]
        lines.append("| " + " | ".join([*cells, runs]) + " |")
    return "\n".join(lines)
