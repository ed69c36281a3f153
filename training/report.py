"""The evaluation report: ``report.json`` (machine-readable) and ``report.html`` (self-contained).

The HTML has no external assets: plots are inline SVG, and every piece of user text (inputs,
references, model outputs) is escaped. :func:`compare_runs` lines several runs up in one table.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from curation.errors import NotFoundError
from curation.files import atomic_write_json, atomic_write_text

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
_SCALE = {"chrf": 100.0}  # chrF is 0-100; the other bar-chart metrics are 0-1
_BAR_METRICS = ("json_valid_schema", "json_valid", "exact_match", "rouge_l", "chrf")


def _num(value: Any) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.4f}"
    return html.escape(str(value))


def _bar_chart(base: dict[str, Any], tuned: dict[str, Any]) -> str:
    """Grouped horizontal bars (base grey, tuned blue) for the 0-1 metrics, as inline SVG."""
    names = [m for m in _BAR_METRICS if m in base and m in tuned]
    row_h, width, label_w = 34, 560, 150
    height = row_h * len(names) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for i, name in enumerate(names):
        y = 10 + i * row_h
        parts.append(f'<text x="0" y="{y + 16}" font-size="12">{html.escape(name)}</text>')
        for j, (which, colour) in enumerate((("base", "#9e9e9e"), ("tuned", "#1e88e5"))):
            value = float((base if which == "base" else tuned)[name]) / _SCALE.get(name, 1.0)
            w = max(0.0, min(1.0, value)) * (width - label_w - 60)
            parts.append(
                f'<rect x="{label_w}" y="{y + j * 13}" width="{w:.1f}" height="12" fill="{colour}">'
                f"<title>{which}: {value:.3f}</title></rect>"
                f'<text x="{label_w + w + 4:.1f}" y="{y + j * 13 + 10}" font-size="10">{value:.2f}</text>'
            )
    parts.append(
        f'<text x="{label_w}" y="{height - 4}" font-size="11" fill="#9e9e9e">■ base</text>'
        f'<text x="{label_w + 60}" y="{height - 4}" font-size="11" fill="#1e88e5">■ tuned</text></svg>'
    )
    return "".join(parts)


def _loss_curve(log_path: Path) -> str:
    """Training and validation loss by step, from train_log.jsonl, as an inline SVG line chart."""
    if not log_path.exists():
        return ""
    series: dict[str, list[tuple[float, float]]] = {"loss": [], "eval_loss": []}
    for line in log_path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        for key in series:
            if isinstance(entry.get(key), int | float):
                series[key].append((float(entry["step"]), float(entry[key])))
    points = [p for s in series.values() for p in s]
    if len(points) < 2:
        return ""
    w, h, pad = 560, 220, 35
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)

    def xy(p: tuple[float, float]) -> str:
        x = pad + (p[0] - x0) / max(x1 - x0, 1e-9) * (w - 2 * pad)
        y = h - pad - (p[1] - y0) / max(y1 - y0, 1e-9) * (h - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">']
    for key, colour in (("loss", "#1e88e5"), ("eval_loss", "#e53935")):
        if series[key]:
            pts = " ".join(xy(p) for p in series[key])
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
    parts.append(
        f'<text x="{pad}" y="14" font-size="11">loss {y1:.2f} (top) … {y0:.2f} (bottom), steps {x0:.0f}–{x1:.0f}</text>'
        f'<text x="{w - 200}" y="14" font-size="11" fill="#1e88e5">— train</text>'
        f'<text x="{w - 140}" y="14" font-size="11" fill="#e53935">— validation</text></svg>'
    )
    return "".join(parts)


def render_html(report: dict[str, Any], log_path: Path | None = None) -> str:
    """The report as one self-contained HTML page."""
    primary = report["primary_metric"]
    base, tuned = report["base"], report["tuned"]
    metric_rows = "".join(
        f"<tr{' class=primary' if name == primary else ''}><td>{html.escape(name)}</td>"
        f"<td>{_num(base.get(name))}</td><td>{_num(tuned.get(name))}</td></tr>"
        for name in sorted(set(base) | set(tuned), key=lambda n: (n != primary, n))
    )
    ab = report.get("ab")
    ab_html = (
        f"<p>Blind A/B preference: tuned wins {ab['tuned_win_rate']:.0%} of {ab['judged']} judged pairs "
        f"(ties {ab['ties']}).</p>"
        if ab and ab.get("judged")
        else ""
    )
    primary_key = primary if primary in {*base, *tuned} else None
    record_rows = []
    for r in report["records"]:
        b = r["base_scores"].get(primary_key, "") if primary_key else ""
        t = r["tuned_scores"].get(primary_key, "") if primary_key else ""
        record_rows.append(
            "<tr>"
            + "".join(
                f"<td><pre>{html.escape(str(r[k]))}</pre></td>"
                for k in ("input", "reference", "base", "tuned")
            )
            + f"<td>{_num(b)}</td><td>{_num(t)}</td></tr>"
        )
    curve = _loss_curve(log_path) if log_path else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pairsmith evaluation</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ddd;padding:4px 8px;vertical-align:top}}
tr.primary{{font-weight:bold;background:#e3f2fd}}pre{{white-space:pre-wrap;margin:0;max-width:280px}}
</style></head><body>
<h1>Evaluation: base vs. tuned</h1>
<p>Base model <code>{html.escape(str(report.get("base_model")))}</code>, {report.get("test_examples")} test
examples. Primary metric <b>{html.escape(primary)}</b>: base {_num(base.get(primary))} → tuned
{_num(tuned.get(primary))}.</p>
{ab_html}
<h2>Metrics</h2>
<table><tr><th>metric</th><th>base</th><th>tuned</th></tr>{metric_rows}</table>
{_bar_chart(base, tuned)}
{"<h2>Training curve</h2>" + curve if curve else ""}
<h2>Side by side</h2>
<table><tr><th>input</th><th>reference</th><th>base</th><th>tuned</th>
<th>base {html.escape(primary)}</th><th>tuned {html.escape(primary)}</th></tr>
{"".join(record_rows)}</table>
</body></html>
"""


def write_report(report: dict[str, Any], eval_dir: Path | str) -> Path:
    """Write ``report.json`` and ``report.html`` into ``eval_dir`` (atomically); return the JSON path."""
    out = Path(eval_dir)
    atomic_write_text(out / REPORT_HTML, render_html(report, out.parent / "train_log.jsonl"))
    return atomic_write_json(out / REPORT_JSON, report)


def load_report(run_dir: Path | str) -> dict[str, Any]:
    path = Path(run_dir) / "eval" / REPORT_JSON
    if not path.exists():
        raise NotFoundError(f"{path} does not exist; evaluate the run first with `pairsmith eval {run_dir}`")
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return report


def compare_runs(run_dirs: list[Path | str]) -> list[dict[str, Any]]:
    """One row per run: its primary metric, base and tuned values, the gain, and the shared metrics."""
    rows = []
    for run_dir in run_dirs:
        report = load_report(run_dir)
        primary = report["primary_metric"]
        row: dict[str, Any] = {
            "run": str(run_dir),
            "primary_metric": primary,
            "base": report["base"].get(primary),
            "tuned": report["tuned"].get(primary),
        }
        row["gain"] = (row["tuned"] or 0) - (row["base"] or 0)
        for name, value in report["tuned"].items():
            row[f"tuned_{name}"] = value
        rows.append(row)
    return rows
