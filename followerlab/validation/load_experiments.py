"""Issue 15's measurements: load curves, the per-hop fit, learners; the full run and the CI check.

:func:`run_full` measures everything notebook 06 shows and saves it under
``data/measurements/`` (each saved run records the date, the core count and the machine load
before and after, and every load point its own 1-minute load average).  :func:`ci_check` is
the short version: two 3-member layouts, a few rates light enough for the model's regime,
calibrate ``raft.greedy_write_load`` on one and check the other's p50/p99 against the 15 % band -- or,
when the machine is busy, say at which load it skipped the comparison.

Run the full measurement (about 20 minutes; quiet machine)::

    PYTHONPATH=. python -m followerlab.validation.load_experiments --full --save

or one part of it: ``--reads`` (:func:`run_read_curves`, linearizable reads, 8 minutes) or
``--saturation load-sym-3,load-asym-3`` (:func:`run_saturation`, repeated curves past
saturation, about 11 minutes per layout).

>>> [lay.name for lay in LOAD_LAYOUTS][:2]
['load-sym-3', 'load-asym-3']
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pandas as pd

from .._validate import as_float_array
from .cluster import etcd_available
from .experiments import LAYOUTS, machine_info, run_latency_experiment, save_run
from .learners import run_learner_experiment
from .load import driver_overhead, load_meta, run_load_curve
from .loadfit import (closed_curve_table, curve_table, fit_write_load, median_of_repeats, predict_closed_curve,
                      predict_curve)
from .predict import Layout
from .readfit import fit_read_rounds, predict_read_curve, read_curve_table

__all__ = ["LOAD_LAYOUTS", "LOAD_CALIBRATION", "FULL_RATES", "CLOSED_CLIENTS", "CI_LAYOUTS_LOAD", "CI_RATES",
           "LOAD_WORKERS", "SATURATION_RATES", "READ_RATES", "READ_LAYOUTS", "machine_load", "run_full",
           "run_saturation", "run_read_curves", "read_comparison", "ci_check", "curve_comparison", "closed_comparison"]

#: Load-curve layouts (puts to the leader, member 0).  The first is the calibration layout.
LOAD_LAYOUTS = (
    Layout("load-sym-3", (5.0, 5.0, 5.0)),
    Layout("load-asym-3", (5.0, 10.0, 20.0)),
    Layout("load-wan-3", (20.0, 30.0, 40.0)),
    Layout("load-sym-5", (5.0,) * 5),
    Layout("load-asym-5", (2.0, 5.0, 10.0, 20.0, 30.0)),
)
LOAD_CALIBRATION = "load-sym-3"

#: Offered rates of the full run (writes/s), light load to past saturation.
FULL_RATES = (100.0, 200.0, 400.0, 600.0, 800.0, 1000.0, 1200.0, 1500.0, 1800.0, 2200.0, 2600.0, 3000.0)
#: Offered rates of a run past saturation (:func:`run_saturation`; run 2026-12-03T0704Z).
SATURATION_RATES = FULL_RATES + (3500.0, 4000.0, 4500.0, 5000.0, 5500.0, 6000.0)
#: Offered rates (reads/s) of the linearizable-read curves (:func:`run_read_curves`): from
#: about one read per ReadIndex round of the quickest layout to many.
READ_RATES = (10.0, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0)
#: Layouts of the read curves: the 3-member load layouts (the first calibrates).
READ_LAYOUTS = LOAD_LAYOUTS[:3]
#: Closed-loop client counts of the full run.
CLOSED_CLIENTS = (1.0, 4.0, 16.0, 64.0)
#: Threads of the open-loop driver in the full run (:func:`run_full`); saved runs from before the
#: ``workers`` column (2026-12-02T1615Z) were measured with it.
LOAD_WORKERS = 128

#: The CI check: calibrate on the first, predict the second (same size: the per-follower
#: time cannot be told from the per-append time with one cluster size).
CI_LAYOUTS_LOAD = (LOAD_LAYOUTS[0], Layout("load-wan-3", (20.0, 30.0, 40.0)))
CI_RATES = (100.0, 250.0, 400.0)


def machine_load() -> dict:
    """1-minute load average per core now (and the raw numbers)."""
    m = load_meta()
    return m | {"load_per_core": m["loadavg_1m"] / max(1, m["cpus"] or 1)}


def curve_comparison(summary: pd.DataFrame, layouts=LOAD_LAYOUTS, calibration: str = LOAD_CALIBRATION, *,
                     model: str = "greedy", batches=(1, 2, 4, 8), per_follower_ms: float | None = None,
                     driver_workers=None, stalls: str = "none"):
    """Fit the leader queue (``model``: ``greedy_write_load`` or ``write_load``, see
    :func:`~followerlab.validation.loadfit.fit_write_load`) on the calibration layout's
    open-loop curve, predict every layout.

    Returns ``(fit, table)``: the :class:`~followerlab.validation.loadfit.WriteLoadFit` and
    :func:`~followerlab.validation.loadfit.predict_curve`'s rows for every open-loop point,
    with ``calibration`` True on the calibration layout's rows.  ``driver_workers`` (or the
    summary's ``workers`` column) adds the open-loop driver's own completion limit and the
    system saturation (see ``predict_curve``); ``stalls`` (``"constant"`` or ``"rate"``) also fits
    the greedy queue's append stalls (``fit_write_load(..., stalls=...)``, 15--60 s on this
    machine for a curve to 3000/s).
    """
    curves = curve_table(summary, layouts)
    cal = curves[curves.layout == calibration]
    if cal.empty:
        raise ValueError(f"calibration layout {calibration!r} has no open-loop rows")
    fit = fit_write_load(cal, model=model, batches=batches, per_follower_ms=per_follower_ms, stalls=stalls)
    table = predict_curve(fit, curves, driver_workers=driver_workers)
    table["calibration"] = table.layout == calibration
    return fit, table


def closed_comparison(fit, summary: pd.DataFrame, layouts=LOAD_LAYOUTS, calibration: str = LOAD_CALIBRATION,
                      open_table: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """The closed-loop points of ``summary`` predicted with the open-loop ``fit``
    (:func:`~followerlab.validation.loadfit.predict_closed_curve`), the band's range taken from
    ``open_table``'s measured saturations; None when there are no closed-loop points."""
    closed = closed_curve_table(summary, layouts)
    if closed.empty:
        return None
    sat = {} if open_table is None else open_table.groupby("layout").measured_saturation_per_s.first().to_dict()
    out = predict_closed_curve(fit, closed, sat)
    out["calibration"] = out.layout == calibration
    return out


def read_comparison(summary: pd.DataFrame, layouts=READ_LAYOUTS, calibration: str | None = None, *,
                    band: float = 0.15):
    """Fit the ReadIndex rounds (:func:`~followerlab.validation.readfit.fit_read_rounds`) on the
    calibration layout's read curve (default: the first of ``layouts``), predict every layout.

    Repeats of a point (column ``rep``) enter by their median p50, p99 and throughput.  Returns
    ``(fit, table)``: the :class:`~followerlab.validation.readfit.ReadRoundFit` and
    :func:`~followerlab.validation.readfit.predict_read_curve`'s rows, with ``calibration``
    True on the calibration layout's rows and ``repeats`` the number of repeats per point.
    """
    calibration = calibration or tuple(layouts)[0].name
    curves = read_curve_table(median_of_repeats(summary), layouts)
    cal = curves[curves.layout == calibration]
    if cal.empty:
        raise ValueError(f"calibration layout {calibration!r} has no open-loop read rows")
    fit = fit_read_rounds(cal)
    table = predict_read_curve(fit, curves, band=band)
    table["calibration"] = table.layout == calibration
    return fit, table


def ci_check(*, max_load_per_core: float = 0.75, rates=CI_RATES, seconds: float = 4.0, band: float = 0.15,
             layouts=CI_LAYOUTS_LOAD) -> dict:
    """The short CI run (under ~60 s): a verdict on the 15 % band, or a stated skip.

    The comparison is skipped (not passed) when the 1-minute load average per core, read
    *before* the run, exceeds ``max_load_per_core``: on a machine that other work keeps busy,
    etcd, the proxies and the driver are preempted at random and a queueing model of one
    leader has nothing to predict.  The curves are still measured and returned.  The greedy
    queue is fitted without stalls: a few light rates cannot tell a rare stall from the append
    time (``curve_comparison(..., stalls="constant")`` is for full curves).

    Returns
    -------
    dict
        ``verdict`` ('pass', 'fail' or 'skipped'), ``reason`` (a sentence with the load),
        ``load_before``, ``load_after`` (:func:`machine_load`), ``summary`` (load points),
        ``fit`` and ``table`` (None when the fit was impossible).
    """
    limit = float(as_float_array("max_load_per_core", max_load_per_core, minimum=0.0, strict_minimum=True))
    before = machine_load()
    summary = run_load_curve(layouts, points=rates, seconds=seconds, max_time_s=80.0)
    after = machine_load()
    out = {"load_before": before, "load_after": after, "summary": summary, "fit": None, "table": None}
    try:
        fit, table = curve_comparison(summary, layouts, layouts[0].name, model="greedy", per_follower_ms=0.0)
        out["fit"], out["table"] = fit, table
    except ValueError as exc:
        table = None
        out["reason_fit"] = str(exc)
    if before["load_per_core"] > limit:
        out["verdict"] = "skipped"
        out["reason"] = (f"comparison skipped: load average {before['loadavg_1m']:.2f} on {before['cpus']} cores "
                         f"= {before['load_per_core']:.2f} per core before the run, above {limit:.2f} "
                         "(other work preempts etcd, the proxies and the driver at random)")
        return out
    if table is None:
        out["verdict"] = "fail"
        out["reason"] = f"no fit: {out.get('reason_fit')}"
        return out
    rows = table[~table.calibration & table.below_80pct_sat]
    ok = bool(len(rows)) and bool(((rows.error_p50.abs() <= band) & (rows.error_p99.abs() <= band)).all())
    out["verdict"] = "pass" if ok else "fail"
    out["reason"] = (f"{int(((rows.error_p50.abs() <= band) & (rows.error_p99.abs() <= band)).sum())} of {len(rows)} "
                     f"predicted points within {band:.0%} (p50 and p99), load {before['load_per_core']:.2f} per core")
    return out


PARTS = ("driver", "latency", "load", "reads", "learners")


def run_full(*, save: bool = False, rates=FULL_RATES, clients=CLOSED_CLIENTS, seconds: float = 4.0,
             max_count: int = 5000, latency_count: int = 200, learner_writes: int = 300, parts=PARTS,
             progress=print, directory=None, note: str = "") -> dict:
    """Everything notebook 06 shows, measured now (~20 min); optionally saved.

    1. the drivers on the stub (their own limits);
    2. notebook 05's latency layouts (:data:`~followerlab.validation.experiments.LAYOUTS`,
       ``latency_count`` requests per operation), the input of the per-hop fit;
    3. open-loop curves at ``rates`` and closed-loop points at ``clients`` for every
       :data:`LOAD_LAYOUTS` layout, ``seconds`` and at most ``max_count`` requests per point;
    4. linearizable-read curves (:func:`run_read_curves`, about 8 minutes);
    5. the learner experiment.

    Saved runs: ``etcd-load-driver``, ``etcd-latency``, ``etcd-load``, ``etcd-read-load``,
    ``etcd-learner-staleness`` and ``etcd-learner-latency`` (each with machine info, load before/after, date, ``note``);
    ``parts`` picks a subset of :data:`PARTS`.
    """
    bad = set(parts) - set(PARTS)
    if bad:
        raise ValueError(f"parts must be among {PARTS}; got {sorted(bad)!r}")
    out = {}
    say = progress or (lambda s: None)

    def stamp(name, frame, what, before):
        after = machine_load()
        meta = {"experiment": what, "load_before": before, "load_after": after, "note": note}
        if save:
            paths = save_run(name, frame, meta, directory=directory)
            say(f"saved {paths[1]}")
        out[name] = (frame, meta)

    b = machine_load()
    say(f"start {b}")
    if "driver" in parts:
        stamp("etcd-load-driver", driver_overhead(rates=(500.0, 1000.0, 2000.0, 3000.0, 4000.0), seconds=3.0,
                                                  workers=128, clients=(1, 8, 32, 64)),
              "driver_overhead on the stub", b)
    if "latency" in parts:
        b = machine_load()
        stamp("etcd-latency", run_latency_experiment(LAYOUTS, count=latency_count, rounds=5, max_time_s=900.0,
                                                     progress=say),
              f"run_latency_experiment(LAYOUTS, count={latency_count}, rounds=5)", b)
    if "load" in parts:
        b = machine_load()
        open_ = run_load_curve(LOAD_LAYOUTS, points=rates, seconds=seconds, max_count=max_count, workers=LOAD_WORKERS,
                               max_time_s=max(1200.0, 3.0 * seconds * len(rates) * len(LOAD_LAYOUTS)), progress=say)
        closed = run_load_curve(LOAD_LAYOUTS, mode="closed", points=clients, seconds=seconds, max_count=max_count,
                                max_time_s=max(600.0, 3.0 * seconds * len(clients) * len(LOAD_LAYOUTS)), progress=say)
        stamp("etcd-load", pd.concat([open_, closed], ignore_index=True),
              f"run_load_curve(LOAD_LAYOUTS, open {list(rates)}, closed {list(clients)}, {seconds} s and at most "
              f"{max_count} requests per point, {LOAD_WORKERS} open-loop workers)", b)
    if "reads" in parts:
        b = machine_load()
        stamp("etcd-read-load", run_read_curves(progress=say),
              "run_read_curves(READ_LAYOUTS, READ_RATES, 6 s per point, 3 repeats, 256 workers)", b)
    if "learners" in parts:
        b = machine_load()
        r = run_learner_experiment(writes=learner_writes, reads=200, max_time_s=240.0)
        what = f"run_learner_experiment(writes={learner_writes}, reads=200)"
        stamp("etcd-learner-staleness", r["staleness"], what, b)
        stamp("etcd-learner-latency", r["latency"], what, b)
    say(f"done {machine_load()}")
    return out


def run_saturation(layouts, *, rates=SATURATION_RATES, seconds: float = 12.0, repeats: int = 3,
                   save: bool = False, name: str = "etcd-load-saturation", directory=None, note: str = "",
                   progress=print) -> pd.DataFrame:
    """Open-loop curves past saturation, repeated, a fresh cluster for every layout and repeat.

    Each of ``repeats`` rounds runs :func:`~followerlab.validation.load.run_load_curve` on
    ``layouts`` with ``fresh_cluster=True``, ``seconds`` per point (at most ``rates[-1] *
    seconds`` requests), :data:`LOAD_WORKERS` driver threads and ``seed`` = the round, which the
    ``rep`` column records.  Run 2026-12-03T0704Z (``LOAD_LAYOUTS[:2]``) is this function's
    default; ``len(layouts) * repeats * len(rates) * seconds`` is the time it takes, about 22
    minutes for two layouts.  Saved as ``<name>-<UTC date>`` with the load before and after.
    """
    return _repeated_curves(layouts, rates, seconds, repeats, "put", LOAD_WORKERS, 1200.0, save, name, directory,
                            note, progress, "run_saturation")


def run_read_curves(layouts=READ_LAYOUTS, *, rates=READ_RATES, seconds: float = 6.0, repeats: int = 3,
                    workers: int = 256, save: bool = False, name: str = "etcd-read-load", directory=None,
                    note: str = "", progress=print) -> pd.DataFrame:
    """Open-loop linearizable reads at the leader: latency vs read rate, per layout (issue 15).

    ``repeats`` rounds of :func:`~followerlab.validation.load.run_load_curve` with ``op="read"``,
    a fresh cluster per layout and round (``seed`` = the round, column ``rep``), ``seconds`` per
    point and ``workers`` driver threads (reads in flight reach λ × 2 rounds).  About
    ``len(layouts) * repeats * len(rates) * seconds`` plus 10 s per cluster: 8 minutes by
    default.  Saved as ``<name>-<UTC date>`` with the load before and after.
    """
    return _repeated_curves(layouts, rates, seconds, repeats, "read", workers, 600.0, save, name, directory, note,
                            progress, "run_read_curves")


def _repeated_curves(layouts, rates, seconds, repeats, op, workers, min_time_s, save, name, directory, note,
                     progress, caller) -> pd.DataFrame:
    """``repeats`` rounds of open-loop ``op`` curves on fresh clusters (column ``rep``, the
    seed); saved with the load before and after when ``save``."""
    reps = int(as_float_array("repeats", repeats, minimum=1.0))
    if reps != repeats:
        raise ValueError(f"repeats must be a whole number >= 1; got {repeats!r}")
    pts = tuple(float(r) for r in as_float_array("rates", rates, minimum=0.0, strict_minimum=True).ravel())
    layouts = tuple(layouts)
    if not layouts:
        raise ValueError("layouts must name at least one layout; got none")
    max_count = int(pts[-1] * seconds) + (op == "read")     # the 0704Z protocol: exactly rate x seconds
    before = machine_load()
    frames = []
    for rep in range(reps):
        f = run_load_curve(layouts, points=pts, seconds=seconds, max_count=max_count, workers=workers, seed=rep,
                           fresh_cluster=True, op=op,
                           max_time_s=max(min_time_s, 3.0 * seconds * len(pts) * len(layouts)), progress=progress)
        frames.append(f.assign(rep=rep)[["rep", *f.columns]])
    out = pd.concat(frames, ignore_index=True)
    if save:
        what = (f"{seconds} s and at most {max_count} requests per point" if op == "put"
                else f"{seconds} s per point")
        meta = {"experiment": f"run_load_curve([{', '.join(lay.name for lay in layouts)}], "
                              + ("" if op == "put" else f"op={op!r}, ") + f"open {list(pts)}, {what}, "
                              f"{workers} open-loop workers, seed=rep), {reps} times (column rep), "
                              f"a fresh cluster for every layout and repeat ({caller})",
                "load_before": before, "load_after": machine_load(), "note": note}
        paths = save_run(name, out, meta, directory=directory)
        if progress is not None:
            progress(f"saved {paths[1]}")
    return out


def main(argv=None) -> int:  # pragma: no cover - a command for the full measurement
    ap = argparse.ArgumentParser(prog="python -m followerlab.validation.load_experiments")
    ap.add_argument("--full", action="store_true", help="run the full measurement (~20 min)")
    ap.add_argument("--ci", action="store_true", help="run the short CI check (< 90 s)")
    ap.add_argument("--saturation", metavar="LAYOUTS",
                    help="comma-separated LOAD_LAYOUTS names: repeated curves past saturation (run_saturation)")
    ap.add_argument("--reads", action="store_true", help="linearizable-read curves (run_read_curves, ~8 min)")
    ap.add_argument("--name", default=None, help="saved name of the --saturation or --reads run")
    ap.add_argument("--note", default="", help="a note saved with the run")
    ap.add_argument("--save", action="store_true", help="save under data/measurements/")
    args = ap.parse_args(argv)
    if not etcd_available():
        print("etcd is not installed (apt-get install etcd-server etcd-client)", file=sys.stderr)
        return 2
    print(machine_info())
    t0 = time.monotonic()
    if args.full:
        run_full(save=args.save)
    if args.saturation:
        byname = {lay.name: lay for lay in LOAD_LAYOUTS}
        names = [x.strip() for x in args.saturation.split(",") if x.strip()]
        bad = [x for x in names if x not in byname]
        if bad:
            print(f"--saturation: unknown layouts {bad}; known: {sorted(byname)}", file=sys.stderr)
            return 2
        run_saturation([byname[x] for x in names], save=args.save, name=args.name or "etcd-load-saturation",
                       note=args.note)
    if args.reads:
        run_read_curves(save=args.save, name=args.name or "etcd-read-load", note=args.note)
    if args.ci:
        res = ci_check()
        print(res["verdict"], "-", res["reason"])
        if res["table"] is not None:
            print(res["table"][["layout", "offered", "throughput_per_s", "p50_ms", "predicted_p50_ms", "p99_ms",
                                "predicted_p99_ms", "error_p50", "error_p99"]].round(3).to_string())
    print(f"took {time.monotonic() - t0:.0f} s; pid {os.getpid()}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
