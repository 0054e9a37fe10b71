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

from . import metrics as M
from .compare import KEY_METRICS, assess, merge_identical
from .constraints import default_policy, derive_metrics, policies_from_records
from .results_io import atomic_write_text

__all__ = ["render_notebook_html", "write_report", "sensitivity_section", "leading_rows", "KEY_FIGURES", "SHORT"]

#: (file stem, x metric, y metric) of the trade-off scatter plots in the report.
KEY_FIGURES = [
    ("staleness-vs-read-latency", "staleness_mean_s", "read_latency_p50_ms", "Read latency vs staleness"),
    ("staleness-vs-admin-load", "staleness_mean_s", "admin_utilization",
     "Load on the node that sees everything vs staleness"),
    ("write-vs-read-latency", "read_latency_p50_ms", "write_latency_p50_ms", "Write vs read latency"),
]

#: Compact column headers of the comparison table (from :mod:`followerlab.metrics`).
SHORT = {name: M.short_label(name) for name in M.REGISTRY}

_TOGGLE = """
<style>
body.fl-hide-code .jp-CodeCell .jp-Cell-inputWrapper,
body.fl-hide-code .jp-CodeCell.jp-mod-noOutputs { display: none; }
/* wide tables scroll inside the page instead of pushing it past the window */
.jp-RenderedHTMLCommon table { display: block; max-width: 100%; overflow-x: auto; }
/* a wide text table keeps its columns (scrolls) rather than wrapping each row onto two lines */
.jp-OutputArea-output.jp-RenderedText pre, .jp-RenderedText pre { white-space: pre; overflow-x: auto; word-break: normal; }
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
tr.front td { background: #eef8f1; } tr.wlstart td { border-top: 2px solid #bbb; } tr.inf td { color: #8a1f1f; } tr.nc td { color: #777; }
td.wl { background: #fafafa !important; color: #333 !important; font-size: 12px; max-width: 220px; border-right: 1px solid #e3e3e3; }
td.wl.again { color: #aaa !important; }
td.why { font-size: 11.5px; max-width: 300px; } th.m { max-width: 80px; white-space: normal; }
td.na { color: #aaa; font-size: 11px; white-space: normal; }
.v { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11.5px; font-weight: 600; }
.v.front, .v.best { background: #dff3e4; color: #17692f; } .v.inf, .v.infeasible { background: #fbe0e0; color: #9b1c1c; }
.v.nc { background: #eef1f5; color: #556; } .v.dominated { color: #666; }
h3 { font-size: 15px; margin: 18px 0 6px; } table.cmp, table.judge { max-width: 1380px; }
.figs { display: flex; flex-wrap: wrap; gap: 18px; } .figs figure { margin: 0; max-width: 720px; flex: 1 1 560px; }
.figs img { width: 100%; border: 1px solid #eee; } figcaption { color: #555; font-size: 12.5px; }
pre { background: #fafafa; border: 1px solid #eee; padding: 8px; overflow-x: auto; font-size: 12px; max-height: 320px; }
.params { color: #555; font-size: 11.5px; font-family: ui-monospace, monospace; }
details summary { cursor: pointer; color: #555; }
table.sens td.lead { font-weight: 600; } .ci { color: #777; font-size: 11.5px; }
"""


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        if v == float("inf"):
            return "∞"
        return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"
    return html.escape(str(v))


def _param_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_param_text(x) for x in v) + "]"
    if v is None:
        return "(notebook default)"
    return str(v)


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
            legend = getattr(fig, "_fl_legend_text", "")
            plt.close(fig)
            made.append((f"figures/{stem}.png", f"{M.axis_label(y)} against {M.axis_label(x)}, one point per "
                         f"configuration{legend}. Lower is better on both axes; points are compared only within "
                         "their workload (table below); sweeps are shown and judged in their own section."))
    return made


_VERDICT = {"best": "best", "dominated": "dominated", "infeasible": "infeasible", "not compared": "not compared"}


def _judging(assessed: pd.DataFrame, policies: dict) -> list[str]:
    """The section saying which objectives and constraints each scenario was judged on."""
    base_col = "base_scenario" if "base_scenario" in assessed.columns else "scenario"
    parts = ["<h2>How configurations are judged</h2><p class='sub'>A configuration is <b>infeasible</b> when it "
             "is saturated (a utilization at or above 1, an infinite latency) or breaks a constraint its scenario "
             "states; it is never marked best. The others are compared only with configurations of the <b>same "
             "workload</b> (same scenario, notebook, workload grid values and query rate) on the objectives the "
             "scenario names; <b>best</b> means no feasible configuration of that workload is at least as good on "
             "every objective and better on one.</p>",
             "<table class='judge'><tr><th>scenario</th><th>objectives</th><th>constraints</th>"
             "<th>grid axes that are choices</th><th>grid axes that are the workload</th></tr>"]
    for base in dict.fromkeys(assessed[base_col].astype(str)):
        p = policies.get(base) or default_policy(base)
        parts.append(f"<tr><td class='nw'>{html.escape(base)}</td><td>{html.escape(p.describe_objectives())}</td>"
                     f"<td>{html.escape(p.describe_constraints())}</td>"
                     f"<td>{html.escape(', '.join(p.configuration_axes) or 'none')}</td>"
                     f"<td>{html.escape(', '.join(p.workload_axes()) or ('none' if p.grid_axes or p.stated_objectives else 'each grid point'))}</td></tr>")
    parts.append("</table>")
    return parts


def _comparison(assessed: pd.DataFrame, policies: dict) -> list[str]:
    """One table per notebook: the metrics that notebook reports, a verdict and its reason per row."""
    parts = ["<h2>Comparison</h2><p class='sub'>One row per configuration, grouped by workload. "
             "<span class='v best'>best</span> <span class='v infeasible'>infeasible</span> "
             "<span class='v nc'>not compared</span>: the reason is in the row. † derived by "
             "followerlab.constraints from the run's parameters (the notebook does not write it): region "
             "survival, and the write latency that comes with a read path (no jitter, median over clients in "
             "the deployment's regions; a placement's own write latency is for a client in the leaseholder's "
             "region, with jitter).</p>"]
    objectives = {m for p in policies.values() for m in p.objectives} | set(M.DEFAULT_OBJECTIVES)
    constrained = {c.metric for p in policies.values() for c in p.constraints}
    for nb, group in assessed.groupby("notebook", sort=False):
        present = [m for m in list(KEY_METRICS) + sorted((objectives | constrained) - set(KEY_METRICS))
                   if m in group.columns and group[m].notna().any()]
        parts.append(f"<h3>{html.escape(str(nb))}</h3><table class='cmp'><tr><th>workload</th><th>configuration</th>"
                     "<th>verdict</th><th class='why'>why</th>"
                     + "".join(f"<th class='m' title='{html.escape(M.REGISTRY[m].meaning if m in M.REGISTRY else m)}'>"
                               f"{html.escape(M.short_label(m))}</th>" for m in present) + "</tr>")
        group = group.assign(_order=group["status"].map({"best": 0, "dominated": 1, "infeasible": 2, "not compared": 3}))
        for _, wl in group.groupby("workload_key", sort=False):
            wl = merge_identical(wl.sort_values("_order", kind="stable"), present)
            for k, (_, row) in enumerate(wl.iterrows()):
                status = str(row["status"])
                cls = {"best": "front", "infeasible": "inf", "not compared": "nc"}.get(status, "")
                derived = {d.strip() for d in str(row.get("derived") or "").split(",") if d.strip()}
                cells = []
                for m in present:
                    v = row[m]
                    if pd.isna(v):
                        cells.append("<td class='num na'>not applicable</td>")
                    else:
                        cells.append(f"<td class='num'>{html.escape(M.format_value(m, float(v)))}"
                                     f"{'†' if m in derived else ''}</td>")
                wcls = "wl" if k == 0 else "wl again"  # repeated in every row (lighter), so each row states it
                parts.append(f"<tr class='{cls}{' wlstart' if k == 0 else ''}'><td class='{wcls}'>{html.escape(str(row['workload']))}</td>"
                             f"<td>{html.escape(str(row['shown_configuration']))}</td>"
                             f"<td class='nw'><span class='v {cls or status}'>{_VERDICT.get(status, status)}</span></td>"
                             f"<td class='why'>{html.escape(str(row['reason']))}</td>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    parts.append("<p class='sub'>The full long table, with every notebook-specific metric and every parameter: "
                 "<a href='results.csv'>results.csv</a>, <a href='results.parquet'>results.parquet</a>. "
                 "Metric names, units and directions: followerlab.metrics.</p>")
    return parts


def _sweeps(out: Path, records: list[dict]) -> list[str]:
    """One section per sweep run: its summary (sizes, extremes, the front, capped) and density figure."""
    from .sweep import summary_html

    parts = []
    for r in records:
        run = out / "runs" / r["run_id"]
        if r.get("status") not in ("ok", "skipped") or not (run / "sweep.json").exists():
            continue
        try:
            s = json.loads((run / "sweep.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not parts:
            parts.append("<h2>Sweeps</h2><p class='sub'>Each sweep is one run; every configuration is a row of "
                         "<code>sweeps.parquet</code> (and of the run's <code>results.parquet</code>). The front's "
                         "first configurations are also in the comparison below.</p>")
        link = f"runs/{r['run_id']}/notebook.html"
        parts.append(f"<h3><a href='{html.escape(link)}'>{html.escape(r['run_id'])}</a></h3>")
        parts.append(summary_html(s, link=f"runs/{r['run_id']}/results.parquet"))
        if (run / "sweep.png").exists():
            parts.append(f"<div class='figs'><figure><img src='runs/{html.escape(r['run_id'])}/sweep.png' "
                         f"alt='density of the sweep'><figcaption>{html.escape(r['run_id'])}: every configuration "
                         "(density) and the Pareto front</figcaption></figure></div>")
    return parts


def write_report(out: str | Path, records: list[dict], table: pd.DataFrame, *, figures: bool = True,
                 title: str = "followerlab batch report", comparison: dict | None = None,
                 policies: dict | None = None, sensitivity: pd.DataFrame | None = None) -> Path:
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
    policies : dict, optional
        ``{base scenario: followerlab.constraints.Policy}``; default: read from the records'
        scenario files (:func:`followerlab.constraints.policies_from_records`).
    sensitivity : DataFrame, optional
        The gathered Sobol' tables of the runs (:func:`followerlab.batch.gather_sensitivity`);
        shown as "Which assumption matters?" (:func:`sensitivity_section`).

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
            parts.append("<p>The verdicts and trade-offs in full, with the best configurations of each workload: "
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

    policies = policies_from_records(records) if policies is None else policies
    if len(table):
        assessed = assess(derive_metrics(table), policies)
    else:
        assessed = pd.DataFrame(columns=["scenario", "notebook", "configuration", "status"])
    # A sweep is judged in its own section below: its front on the sweep's objectives within its
    # workload axes.  Its front rows in results.csv carry no such policy (judged here, each would be
    # "best" in a workload of its own), and in the figures they would bury the grid runs' points
    # under long labels; so the trade-offs, the judging table and the comparison leave them out.
    sweep_runs = {r["run_id"] for r in records if (out / "runs" / r["run_id"] / "sweep.json").exists()}
    if sweep_runs and "run_id" in assessed.columns:
        assessed = assessed[~assessed["run_id"].isin(sweep_runs)]
    if figures and len(assessed):
        made = _figures(out, assessed)
        if made:
            parts.append("<h2>Trade-offs</h2><div class='figs'>")
            for src, caption in made:
                parts.append(f"<figure><img src='{src}' alt='{html.escape(caption)}'>"
                             f"<figcaption>{html.escape(caption)}</figcaption></figure>")
            parts.append("</div>")
    if len(assessed):
        parts += _judging(assessed, policies)
        parts += _comparison(assessed, policies)
    if sensitivity is not None:
        parts += sensitivity_section(sensitivity)
    parts += _sweeps(out, records)
    parts.append("<h2>Runs</h2><table><tr><th>run</th><th>status</th><th>time (s)</th><th>parameters set by the scenario</th></tr>")
    for r in records:
        link = f"runs/{r['run_id']}/notebook.html"
        name = (f"<a href='{html.escape(link)}'>{html.escape(r['run_id'])}</a>" if (out / link).exists()
                else html.escape(r["run_id"]))
        params = ", ".join(f"{k} = {_param_text(v)}" for k, v in (r.get("parameters") or {}).items()) or "notebook defaults"
        dur = r.get("duration_s")
        shown = "reused" if r.get("reused") else str(r.get("status"))  # unchanged since its last success
        since = f" title='results of the run finished {html.escape(str(r.get('reused_from')))}'" if r.get("reused") else ""
        parts.append(f"<tr><td>{name}</td><td><span class='{r.get('status')}'{since}>{html.escape(shown)}"
                     f"</span></td><td class='num'>{_fmt(dur) if dur else ''}</td>"
                     f"<td class='params'>{html.escape(params)}</td></tr>")
    parts.append("</table></body></html>")
    return atomic_write_text(out / "index.html", "\n".join(parts))


def leading_rows(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """Per run, scope and metric, the row of the parameter with the largest total index S_T
    (the rule of :func:`followerlab.sensitivity.leading_assumptions`, over ``run_id, scope, metric``).

    ``sensitivity`` is the gathered table of :func:`followerlab.batch.gather_sensitivity`; rows
    whose S_T is NaN (a saturated metric) are left out, ties keep the first parameter.

    >>> t = pd.DataFrame({"run_id": ["r"] * 3, "scope": [""] * 3, "metric": ["m", "m", "n"],
    ...                   "parameter": ["a", "b", "a"], "ST": [0.2, 0.7, float("nan")]})
    >>> leading_rows(t)[["metric", "parameter"]].to_dict("records")
    [{'metric': 'm', 'parameter': 'b'}]
    """
    from .sensitivity import _leading_rows as _leading

    return _leading(sensitivity, ["run_id", "scope", "metric"])


_PARAM_UNITS = (("_per_s", "/s"), ("_ms", " ms"), ("_s", " s"), ("_bytes", " bytes"))


def _range_text(row) -> str:
    """``0.1 ms to 20 ms (log scale)``: the unit from the parameter's name suffix."""
    name = str(row.get("parameter", ""))
    unit = next((u for suffix, u in _PARAM_UNITS if name.endswith(suffix)), "")
    scale = " (log scale)" if str(row.get("scale")) == "log" else ""
    return f"{_num(row['low'])}{unit} to {_num(row['high'])}{unit}{scale}"


def _num(v) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return html.escape(str(v))
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.3g}"


def sensitivity_section(sensitivity: pd.DataFrame) -> list[str]:
    """HTML of "Which assumption matters?": per run and headline metric, the leading assumption.

    One row per (run, scope, metric): the parameter with the largest total Sobol' index, its
    range, S1 and S_T with their bootstrap intervals, and how far the metric moves while that
    parameter alone sweeps its range (the run's tornado bar), with a link to the run's tornado
    chart.  Nothing when no run wrote a sensitivity table.
    """
    lead = leading_rows(sensitivity)
    if not len(lead):
        return []
    parts = ["<h2 id='sensitivity'>Which assumption matters?</h2>",
             "<p class='sub'>Each notebook varies its <i>assumed</i> parameters together over the library's "
             "documented plausible ranges (Sobol' indices). Per run and headline metric: the assumption with the "
             "largest total index S<sub>T</sub> (its share of the metric's variance, interactions included; S1 alone), "
             "with bootstrap intervals, and the spread it causes when swept alone over its range with the others at "
             "the run's values. The indices are relative to the ranges, not to this run's values.</p>",
             "<table class='sens'><tr><th>run</th><th>of</th><th>metric</th><th>leading assumption</th>"
             "<th>its range</th><th>S1</th><th>S<sub>T</sub></th><th>metric over that range</th>"
             "<th>chart</th></tr>"]
    previous = None
    for _, row in lead.iterrows():
        metric = str(row["metric"])
        run = str(row["run_id"])
        scope = str(row.get("scope") or "")
        first = (run, scope) != previous               # a run's rows together: name it once
        previous = (run, scope)
        unit = M.REGISTRY[metric].unit if metric in M.REGISTRY else ""
        name = M.label(metric) if metric in M.REGISTRY else metric
        lo, hi = row["oat_min"], row["oat_max"]
        spread = (f"{html.escape(M.format_with_unit(metric, lo))} to {html.escape(M.format_with_unit(metric, hi))}"
                  f" <span class='ci'>(spread {html.escape(M.format_value(metric, hi - lo))}"
                  f"{'' if unit in ('1', '') else ' ' + html.escape(unit)})</span>")
        figure = str(row.get("figure") or "")
        chart = f"<a href='{html.escape(figure)}'>tornado</a>" if figure else ""
        run_cell = f"<a href='runs/{html.escape(run)}/notebook.html'>{html.escape(run)}</a>" if first else ""
        parts.append(
            f"<tr{' class=wlstart' if first else ''}><td class='nw'>{run_cell}</td>"
            f"<td>{html.escape(scope) if first else ''}</td><td>{html.escape(name)}</td>"
            f"<td class='lead'>{html.escape(str(row['parameter']))}</td><td class='nw'>{_range_text(row)}</td>"
            f"<td class='num'>{_num(row['S1'])} <span class='ci'>[{_num(row['S1_low'])}, {_num(row['S1_high'])}]</span></td>"
            f"<td class='num'>{_num(row['ST'])} <span class='ci'>[{_num(row['ST_low'])}, {_num(row['ST_high'])}]</span></td>"
            f"<td>{spread}</td><td>{chart}</td></tr>")
    parts.append("</table>")
    return parts
