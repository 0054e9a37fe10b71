"""The batch's HTML report: each executed notebook rendered, and an index page.

:func:`render_notebook_html` renders an executed notebook with nbconvert (lab template),
code hidden by default behind a "show code" button.  :func:`write_report` writes
``index.html`` beside the runs: counts, failures with their errors (first, so they are not
missed), the key figures as PNG (``figures/``), the comparison table (one row per
configuration, key metrics, Pareto-optimal rows marked) and a link to every run.

>>> import pandas as pd, tempfile, pathlib
>>> table = pd.DataFrame({"scenario": ["a", "b"], "notebook": ["n", "n"], "configuration": ["c", "c"],
...     "metric": ["staleness_mean_s"] * 2, "value": [1.0, 2.0], "unit": ["s", "s"]})
>>> recs = [{"run_id": "a--n", "scenario": "a", "notebook": "n", "status": "ok", "effective": {}},
...         {"run_id": "b--n", "scenario": "b", "notebook": "n", "status": "failed", "effective": {},
...          "error": {"type": "ValueError", "message": "boom", "traceback": ""}}]
>>> with tempfile.TemporaryDirectory() as d:
...     html = write_report(d, recs, table, figures=False).read_text()
>>> "boom" in html and "1 failed" in html
True
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

import pandas as pd

from .compare import KEY_METRICS, METRIC_LABELS, OBJECTIVES, pareto_by_group, wide_table
from .results_io import atomic_write_text

__all__ = ["render_notebook_html", "write_report", "KEY_FIGURES", "SHORT"]

#: (file stem, x metric, y metric) of the trade-off scatter plots in the report.
KEY_FIGURES = [
    ("staleness-vs-read-latency", "staleness_mean_s", "read_latency_p50_ms", "Read latency vs staleness"),
    ("staleness-vs-admin-load", "staleness_mean_s", "admin_utilization",
     "Load on the node that sees everything vs staleness"),
    ("write-vs-read-latency", "read_latency_p50_ms", "write_latency_p50_ms", "Write vs read latency"),
]

#: Compact column headers of the comparison table.
SHORT = {
    "staleness_mean_s": "staleness mean (s)", "staleness_p99_s": "staleness p99 (s)",
    "read_latency_p50_ms": "read p50 (ms)", "read_latency_p99_ms": "read p99 (ms)",
    "write_latency_p50_ms": "write p50 (ms)", "write_latency_p99_ms": "write p99 (ms)",
    "admin_utilization": "admin / leader util.",
}

_TOGGLE = """
<style>
body.fl-hide-code .jp-CodeCell .jp-Cell-inputWrapper,
body.fl-hide-code .jp-CodeCell.jp-mod-noOutputs { display: none; }
#fl-toggle { position: fixed; top: 8px; right: 12px; z-index: 1000; padding: 4px 10px;
  font: 13px sans-serif; background: #f4f4f4; border: 1px solid #bbb; border-radius: 4px; cursor: pointer; }
</style>
"""
_BUTTON = """
<button id="fl-toggle" onclick="document.body.classList.toggle('fl-hide-code');
this.textContent = document.body.classList.contains('fl-hide-code') ? 'show code' : 'hide code';">show code</button>
<script>document.body.classList.add('fl-hide-code');</script>
"""


def render_notebook_html(notebook: str | Path, html_path: str | Path, *, title: str | None = None) -> Path:
    """Render an executed notebook to HTML with code hidden by default (button to show it).

    Uses nbconvert's ``HTMLExporter`` (lab template, images embedded).  Written atomically.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    if title:
        nb.metadata["title"] = title
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    body = body.replace("</head>", _TOGGLE + "</head>", 1)
    at = body.find(">", body.find("<body")) + 1
    body = body[:at] + _BUTTON + body[at:]
    return atomic_write_text(html_path, body)


_CSS = """
body { font: 14px/1.45 -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 24px 32px; color: #222; max-width: 1500px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.sub { color: #666; margin-top: 0; }
.counts span { display: inline-block; padding: 2px 10px; margin-right: 6px; border-radius: 10px; font-weight: 600; }
.ok { background: #dff3e4; color: #17692f; } .skipped { background: #eef1f5; color: #445; } .failed { background: #fbe0e0; color: #9b1c1c; }
table { border-collapse: collapse; font-size: 12.5px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 9px; text-align: left; vertical-align: top; }
th { background: #f6f6f6; position: sticky; top: 0; }
td.nw { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.front td:first-child { border-left: 3px solid #009E73; }
.figs { display: flex; flex-wrap: wrap; gap: 18px; } .figs figure { margin: 0; max-width: 720px; flex: 1 1 560px; }
.figs img { width: 100%; border: 1px solid #eee; } figcaption { color: #555; font-size: 12.5px; }
pre { background: #fafafa; border: 1px solid #eee; padding: 8px; overflow-x: auto; font-size: 12px; max-height: 320px; }
.params { color: #555; font-size: 11.5px; font-family: ui-monospace, monospace; }
details summary { cursor: pointer; color: #555; }
"""


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        if v == float("inf"):
            return "∞"
        return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"
    return html.escape(str(v))


def _figures(out: Path, wide: pd.DataFrame) -> list[tuple[str, str]]:
    """Write the key figures as PNG; return (relative path, caption) pairs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots._compare import tradeoff_scatter

    figdir = out / "figures"
    figdir.mkdir(exist_ok=True)
    made = []
    for stem, x, y, title in KEY_FIGURES:
        if x in wide and y in wide and wide[[x, y]].notna().all(axis=1).any():
            fig = tradeoff_scatter(wide, x, y, title=title)
            fig.savefig(figdir / f"{stem}.png", dpi=110)
            plt.close(fig)
            made.append((f"figures/{stem}.png", f"{METRIC_LABELS[y]} against {METRIC_LABELS[x]}, one point per "
                         "configuration; dashed: Pareto front (lower is better on both); ▲: saturated (∞)"))
    return made


def write_report(out: str | Path, records: list[dict], table: pd.DataFrame, *, figures: bool = True,
                 title: str = "followerlab batch report", comparison: dict | None = None) -> Path:
    """Write ``out/index.html`` (and ``out/figures/*.png``) for a batch's run records and table.

    Parameters
    ----------
    out : path
        The batch output folder; runs are expected under ``out/runs/<run_id>/``.
    records : list of dict
        The runs' ``run.json`` records (status ``ok``, ``skipped`` or ``failed``).
    table : DataFrame
        The gathered results table.
    figures : bool
        Draw the key figures (matplotlib, Agg backend).
    comparison : dict, optional
        The record of the comparison notebook's run (``out/comparison/``), linked at the top.

    Returns
    -------
    pathlib.Path
        The index file.
    """
    out = Path(out)
    counts = {s: sum(r.get("status") == s for r in records) for s in ("ok", "skipped", "failed")}
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p class='sub'>{len(records)} runs, written {time.strftime('%Y-%m-%d %H:%M %Z')}. "
             "Each run is one scenario on one notebook; its page shows the executed notebook "
             "(code hidden; a button shows it).</p>",
             "<p class='counts'>" + "".join(f"<span class='{s}'>{n} {s}</span>" for s, n in counts.items()) + "</p>"]

    if comparison is not None:
        if comparison.get("status") == "ok":
            parts.append("<p>The trade-offs in full, with Pareto fronts per notebook: "
                         "<a href='comparison/notebook.html'>comparison notebook (04)</a>.</p>")
        else:
            err = comparison.get("error") or {}
            link = "comparison/notebook.html"
            parts.append(f"<p class='failed'>The comparison notebook failed: {html.escape(str(err.get('type')))}: "
                         f"{html.escape(str(err.get('message')))}"
                         + (f" (<a href='{link}'>executed notebook</a>)" if (out / link).exists() else "") + "</p>")

    failed = [r for r in records if r.get("status") == "failed"]
    if failed:
        parts.append("<h2>Failures</h2><table><tr><th>run</th><th>error</th></tr>")
        for r in failed:
            err = r.get("error") or {}
            link = f"runs/{r['run_id']}/notebook.html"
            exists = (out / link).exists()
            name = f"<a href='{html.escape(link)}'>{html.escape(r['run_id'])}</a>" if exists else html.escape(r["run_id"])
            cell = f" (cell {err['cell']})" if err.get("cell") is not None else ""
            tb = err.get("traceback") or ""
            parts.append(f"<tr><td>{name}</td><td><b>{html.escape(str(err.get('type')))}</b>{cell}: "
                         f"{html.escape(str(err.get('message')))}"
                         + (f"<details><summary>traceback</summary><pre>{html.escape(tb)}</pre></details>" if tb else "")
                         + "</td></tr>")
        parts.append("</table>")

    wide = wide_table(table) if len(table) else pd.DataFrame(columns=["scenario", "notebook", "configuration"])
    if figures and len(wide):
        made = _figures(out, wide)
        if made:
            parts.append("<h2>Trade-offs</h2><div class='figs'>")
            for src, caption in made:
                parts.append(f"<figure><img src='{src}' alt='{html.escape(caption)}'>"
                             f"<figcaption>{html.escape(caption)}</figcaption></figure>")
            parts.append("</div>")

    if len(wide):
        metrics = [m for m in wide.columns if m not in ("scenario", "label", "notebook", "configuration")]
        shown = [m for m in KEY_METRICS if m in metrics]  # notebook-specific metrics: in results.csv
        front = pareto_by_group(wide).to_numpy()
        parts.append("<h2>Comparison</h2><p class='sub'>One row per configuration. Rows marked green are "
                     "Pareto-optimal: no other configuration of the same notebook reporting the same objectives "
                     f"(of {', '.join(o for o in OBJECTIVES if o in wide)}) is as good on all of them and better on "
                     "one (lower is better).</p>")
        parts.append("<table><tr><th>scenario</th><th>notebook</th><th>configuration</th>"
                     + "".join(f"<th title='{html.escape(METRIC_LABELS.get(m, m))}'>{html.escape(SHORT.get(m, m))}</th>"
                               for m in shown) + "</tr>")
        for i, (_, row) in enumerate(wide.iterrows()):
            shown_name = row["label"] if "label" in row and isinstance(row["label"], str) else row["scenario"]
            parts.append(f"<tr class='{'front' if front[i] else ''}'><td title='{html.escape(str(row['scenario']))}'>"
                         f"{_fmt(shown_name)}</td>"
                         f"<td class='nw'>{_fmt(row['notebook'])}</td><td>{_fmt(row['configuration'])}</td>"
                         + "".join(f"<td class='num'>{_fmt(row[m])}</td>" for m in shown) + "</tr>")
        others = sorted(set(metrics) - set(shown))
        parts.append("</table><p class='sub'>The full long table, with "
                     + (f"{len(others)} notebook-specific metrics ({html.escape(', '.join(others[:6]))}"
                        + (", ..." if len(others) > 6 else "") + ") and " if others else "")
                     + "every parameter: <a href='results.csv'>results.csv</a>, "
                     "<a href='results.parquet'>results.parquet</a>. ∞: a saturated queue.</p>")

    parts.append("<h2>Runs</h2><table><tr><th>run</th><th>status</th><th>time (s)</th><th>parameters set by the scenario</th></tr>")
    for r in records:
        link = f"runs/{r['run_id']}/notebook.html"
        name = (f"<a href='{html.escape(link)}'>{html.escape(r['run_id'])}</a>" if (out / link).exists()
                else html.escape(r["run_id"]))
        params = json.dumps(r.get("parameters", {}), default=str)
        dur = r.get("duration_s")
        shown = "reused" if r.get("reused") else str(r.get("status"))  # unchanged since its last success
        since = f" title='results of the run finished {html.escape(str(r.get('reused_from')))}'" if r.get("reused") else ""
        parts.append(f"<tr><td>{name}</td><td><span class='{r.get('status')}'{since}>{html.escape(shown)}"
                     f"</span></td><td class='num'>{_fmt(dur) if dur else ''}</td>"
                     f"<td class='params'>{html.escape(params)}</td></tr>")
    parts.append("</table></body></html>")
    return atomic_write_text(out / "index.html", "\n".join(parts))
