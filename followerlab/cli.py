"""The ``followerlab`` command (console script and ``python -m followerlab``).

    followerlab batch data/scenarios --out reports [--jobs N | --scheduler ADDRESS] [--force]
    followerlab schema notebooks/01-follower-lag.ipynb   # the parameters a scenario may set

``batch`` exits with the number of failed runs (capped at 100), 0 when all succeeded or were
skipped; an invalid scenario file or command line exits with 101 before anything runs (so it
cannot be mistaken for a count of failures).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main", "USAGE_ERROR"]

#: Exit status for an invalid command line or scenario file (outside 0..100, the failure counts).
USAGE_ERROR = 101


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would exit 2, which reads as "2 runs failed"
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--jobs must be a whole number >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--jobs must be >= 1; got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="followerlab", description="Compare reading from followers in replicated databases.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    b = sub.add_parser("batch", help="run scenario files through the notebooks; gather results; write a report",
                       description="Run every scenario x notebook with papermill, gather results.csv/parquet, "
                                   "write index.html. Exit status: number of failed runs (max 100).")
    b.add_argument("scenarios", nargs="+", help="scenario files (*.yaml) or folders of them")
    b.add_argument("--out", default="reports", help="output folder (default: reports)")
    b.add_argument("--notebooks", nargs="+", metavar="NAME", help="only run these notebooks (stems)")
    b.add_argument("--notebook-dir", help="where notebook stems resolve (default: <repo>/notebooks)")
    where = b.add_mutually_exclusive_group()
    where.add_argument("--jobs", "-j", type=_positive_int, default=1, help="parallel kernels on this machine")
    where.add_argument("--scheduler", metavar="ADDRESS", help="Dask distributed scheduler, e.g. tcp://host:8786")
    b.add_argument("--force", action="store_true", help="re-run runs whose inputs are unchanged since their last success")
    b.add_argument("--no-report", action="store_true", help="skip index.html and figures")
    b.add_argument("--no-compare", action="store_true",
                   help="do not run notebooks/04-compare-configurations on the gathered table")
    b.add_argument("--timeout", type=float, default=600.0, help="per-cell timeout in seconds (default 600)")
    bar = b.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show the progress bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show the progress bar")
    s = sub.add_parser("schema", help="print the parameters a notebook declares (what a scenario may set)")
    s.add_argument("notebooks", nargs="+")
    return parser


def main(argv=None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    from .batch import run_batch  # first: it trims a slow optional import of jsonschema
    from .scenarios import ScenarioError

    if args.command == "schema":
        from .scenarios import RESERVED_PARAMETERS, notebook_parameters

        try:
            for nb in args.notebooks:
                print(nb)
                for s in notebook_parameters(nb):
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
                           timeout_s=args.timeout)
    except ScenarioError as exc:
        print("followerlab: invalid scenario file(s):", file=sys.stderr)
        for p in exc.problems:
            print(f"  {p}", file=sys.stderr)
        return USAGE_ERROR
    except ValueError as exc:
        print(f"followerlab: {exc}", file=sys.stderr)
        return USAGE_ERROR
    print(f"{result.n_ok} ran, {result.n_skipped} skipped (unchanged), {result.n_failed} failed "
          f"in {result.elapsed_s:.1f} s -> {result.index or result.out}")
    for _, row in result.runs[result.runs["status"] == "failed"].iterrows():
        print(f"  FAILED {row['run_id']}: {row['error']}")
    return result.exit_status


if __name__ == "__main__":
    sys.exit(main())
