"""The ``followerlab`` command (console script and ``python -m followerlab``).

    followerlab batch data/scenarios --out reports [--jobs N | --scheduler ADDRESS] [--force] [--yes]
    followerlab schema notebooks/01-follower-lag.ipynb   # the parameters a scenario may set
    followerlab params [--check | --write] [NOTEBOOK ...]  # parameters cells from the registry

Exit status of ``batch`` (also in ``followerlab batch --help`` and the README):

=====  =========================================================================================
0      every run succeeded or was reused (unchanged since its last success)
1-100  that many runs failed (capped at 100); the others finished and were gathered
101    usage error, nothing ran: bad command line or scenario file, ``--out`` in use by another
       batch, more runs than ``--max-runs`` not confirmed
102    disk full (ENOSPC/EDQUOT) under ``--out``; finished runs kept, nothing half-written kept
103    ``--out`` unusable: not a directory, not writable, read-only file system
130    interrupted (Ctrl-C): queued runs cancelled, finished runs gathered into results.csv
=====  =========================================================================================
"""

from __future__ import annotations

import argparse
import math
import sys

__all__ = ["main", "USAGE_ERROR", "EXIT_STATUSES"]

#: Exit status for an invalid command line or scenario file (outside 0..100, the failure counts).
USAGE_ERROR = 101

EXIT_STATUSES = """\
exit status:
  0      every run succeeded or was reused (unchanged since its last success)
  1-100  that many runs failed (capped at 100); the others finished and were gathered
  101    usage error, nothing ran: bad command line or scenario file, --out in use
         by another batch, more runs than --max-runs and not confirmed
  102    disk full under --out (finished runs are kept; nothing half-written is kept)
  103    --out is not a directory, not writable, or on a read-only file system
  130    interrupted (Ctrl-C): queued runs cancelled, finished runs gathered;
         a second Ctrl-C exits at once
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would exit 2, which reads as "2 runs failed"
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _positive_int(text: str, name: str = "--jobs") -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name} must be a whole number >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{name} must be >= 1; got {value}")
    return value


def _max_runs(text: str) -> int:
    return _positive_int(text, "--max-runs")


def _seconds(text: str) -> float:
    """A positive finite number of seconds (``0``, negatives, ``nan`` and ``inf`` refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--timeout must be a number of seconds; got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"--timeout must be a positive finite number of seconds; got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="followerlab", description="Compare reading from followers in replicated databases.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    b = sub.add_parser("batch", help="run scenario files through the notebooks; gather results; write a report",
                       description="Run every scenario x notebook with papermill, gather results.csv/parquet,\n"
                                   "write index.html. One batch at a time per --out (a lock file). A run whose\n"
                                   "notebook, parameters, followerlab version and code, and data files are\n"
                                   "unchanged since its last success is reused (--force reruns it).",
                       epilog=EXIT_STATUSES, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("scenarios", nargs="+", help="scenario files (*.yaml) or folders of them")
    b.add_argument("--out", default="reports", help="output folder (default: reports)")
    b.add_argument("--notebooks", nargs="+", metavar="NAME", help="only run these notebooks (stems)")
    b.add_argument("--notebook-dir", help="where notebook stems resolve (default: <repo>/notebooks)")
    where = b.add_mutually_exclusive_group()
    where.add_argument("--jobs", "-j", type=_positive_int, default=1, help="parallel kernels on this machine")
    where.add_argument("--scheduler", metavar="ADDRESS", help="Dask distributed scheduler, e.g. tcp://host:8786")
    b.add_argument("--force", action="store_true",
                   help="re-run runs whose inputs are unchanged since their last success")
    b.add_argument("--max-runs", type=_max_runs, default=1000, metavar="N",
                   help="more planned runs than N need confirmation: a [y/N] question when stdin is a "
                        "terminal, else --yes (default 1000)")
    b.add_argument("--yes", "-y", action="store_true", help="run however many runs are planned, without asking")
    b.add_argument("--no-report", action="store_true", help="skip index.html and figures")
    b.add_argument("--no-compare", action="store_true",
                   help="do not run notebooks/04-compare-configurations on the gathered table")
    b.add_argument("--timeout", type=_seconds, default=600.0,
                   help="per-cell timeout in seconds, a positive number (default 600)")
    bar = b.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always show the progress bar (default: a bar on a terminal, else a line per run)")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="no progress output")
    s = sub.add_parser("schema", help="print the parameters a notebook declares (what a scenario may set)")
    s.add_argument("notebooks", nargs="+", help="notebook files, or stems of the registered notebooks")
    p = sub.add_parser("params", help="the notebooks' parameters cells, generated from followerlab/parameters.py",
                       description="Print, check or rewrite the cell tagged 'parameters' of each registered\n"
                                   "notebook from the registry (followerlab/parameters.py). Exit status 1 when\n"
                                   "--check finds a cell that differs.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="stems (default: every registered notebook)")
    act = p.add_mutually_exclusive_group()
    act.add_argument("--check", action="store_true", help="report cells that differ from the registry")
    act.add_argument("--write", action="store_true", help="rewrite the cells from the registry")
    p.add_argument("--notebook-dir", help="where the notebooks are (default: <repo>/notebooks)")
    return parser


def _params_command(args) -> int:
    """``followerlab params``: print, check (exit 1 on a difference) or write the parameters cells."""
    from pathlib import Path

    from . import parameters as registry
    from .scenarios import default_notebook_dir

    stems = [registry._stem(n) for n in args.notebooks] or registry.notebook_names()
    for stem in stems:
        registry.parameters_of(stem)  # ValueError for an unregistered notebook
    if not (args.check or args.write):
        for stem in stems:
            print(f"# {stem}\n{registry.render_cell(stem)}\n")
        return 0
    import nbformat

    folder = Path(args.notebook_dir) if args.notebook_dir else default_notebook_dir()
    differ = 0
    for stem in stems:
        path = folder / f"{stem}.ipynb"
        if not path.is_file():
            raise ValueError(f"notebook not found: {path}")
        nb = nbformat.read(path, as_version=4)
        cell = next((c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])), None)
        if cell is None:
            raise ValueError(f"{path}: no cell tagged 'parameters'")
        problems = registry.check_cell_source(stem, cell.source)
        if not problems:
            continue
        if args.write:
            cell.source = registry.render_cell(stem)
            nbformat.write(nb, path)
            print(f"rewrote the parameters cell of {path}")
        else:
            differ += 1
            for problem in problems:
                print(problem)
    if args.check:
        print(f"{len(stems) - differ} of {len(stems)} parameters cells agree with the registry")
    return 1 if differ else 0


def _ask(n_runs: int) -> bool:
    """``N runs; continue? [y/N]`` on the terminal (only when stdin is one)."""
    if not sys.stdin.isatty():
        return False
    try:
        print(f"{n_runs} runs; continue? [y/N] ", end="", file=sys.stderr, flush=True)
        return sys.stdin.readline().strip().lower() in ("y", "yes")
    except (EOFError, OSError):
        return False


def main(argv=None) -> int:
    """Entry point; returns the exit status."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C before the runs started (planning, the [y/N] question)
        print("\nfollowerlab: interrupted before any run started", file=sys.stderr)
        return 130


def _main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from .batch import (  # first: it trims a slow optional import of jsonschema
        OutputStorageError,
        run_batch,
    )
    from .scenarios import ScenarioError

    if args.command == "params":
        try:
            return _params_command(args)
        except ValueError as exc:
            print(f"followerlab: {exc}", file=sys.stderr)
            return USAGE_ERROR
    if args.command == "schema":
        from . import parameters as registry
        from .scenarios import RESERVED_PARAMETERS, notebook_parameters, spec_of

        try:
            for nb in args.notebooks:
                print(nb)
                registered = not nb.endswith(".ipynb") and nb in registry.NOTEBOOKS
                specs = [spec_of(p) for p in registry.parameters_of(nb)] if registered else notebook_parameters(nb)
                for s in specs:
                    if s.name in RESERVED_PARAMETERS:
                        continue
                    print(f"  {s.name:<28} {s.type:<6} default {s.default!r:<14} {s.describe():<24} {s.help}")
        except ValueError as exc:
            print(f"followerlab: {exc}", file=sys.stderr)
            return USAGE_ERROR
        return 0

    try:
        result = run_batch(args.scenarios, args.out, notebooks=args.notebooks, notebook_dir=args.notebook_dir,
                           jobs=args.jobs, scheduler=args.scheduler, force=args.force, progress=args.progress,
                           report=not args.no_report, compare=False if args.no_compare else None,
                           timeout_s=args.timeout, max_runs=None if args.yes else args.max_runs, confirm=_ask)
    except ScenarioError as exc:
        print("followerlab: invalid scenario file(s):", file=sys.stderr)
        for p in exc.problems:
            print(f"  {p}", file=sys.stderr)
        return USAGE_ERROR
    except OutputStorageError as exc:
        print(f"followerlab: {exc}", file=sys.stderr)
        return exc.exit_status
    except ValueError as exc:  # also OutputLockedError, TooManyRunsError
        print(f"followerlab: {exc}", file=sys.stderr)
        return USAGE_ERROR
    if result.interrupted:
        print(f"followerlab: interrupted: {result.n_ok + result.n_failed} runs finished ({result.n_failed} failed), "
              f"{result.n_skipped} reused, {result.n_planned - len(result.runs)} cancelled; "
              f"finished runs gathered in {result.out}/results.csv", file=sys.stderr)
        return result.exit_status
    print(f"{result.n_ok} ran, {result.n_skipped} skipped (unchanged), {result.n_failed} failed "
          f"in {result.elapsed_s:.1f} s -> {result.index or result.out}")
    for _, row in result.runs[result.runs["status"] == "failed"].iterrows():
        print(f"  FAILED {row['run_id']}: {row['error']}")
    return result.exit_status


if __name__ == "__main__":
    sys.exit(main())
