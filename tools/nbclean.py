"""Keep notebooks reviewable in git: strip outputs except the cells nbval checks.

The convention (see CONTRIBUTING.md): a committed notebook has no outputs, execution counts
or widget state, except cells containing ``# NBVAL_CHECK_OUTPUT`` — their outputs are the
reference values ``pytest --nbval-lax`` compares against. The ``parameters`` cell stays tagged.
The kernelspec is always ``python3``.

    python tools/nbclean.py notebooks/*.ipynb            # strip in place
    python tools/nbclean.py --execute notebooks/01-*.ipynb  # run, then keep only checked outputs
    python tools/nbclean.py --check notebooks/*.ipynb    # exit 1 if a notebook is not clean
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

CHECK = "NBVAL_CHECK_OUTPUT"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and CHECK in cell.source


def clean(nb) -> "nbformat.NotebookNode":
    """Return the notebook stripped per the convention (modifies and returns ``nb``)."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        for key in ("execution", "papermill", "collapsed", "scrolled", "ExecuteTime"):
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        if is_checked(cell):
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "display_data"
                            or "image/png" not in o.get("data", {})]
        else:
            cell.outputs = []
            cell.execution_count = None
    return nb


def problems(nb) -> list[str]:
    """Why a notebook is not clean (empty list when it is)."""
    out = []
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        out.append("kernelspec is not python3")
    if not any("parameters" in c.metadata.get("tags", []) for c in nb.cells):
        out.append("no cell tagged 'parameters'")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not is_checked(cell) and (cell.outputs or cell.execution_count):
            out.append(f"cell {i} has outputs but is not an {CHECK} cell")
    if "widgets" in nb.metadata:
        out.append("widget state saved in metadata")
    return out


def execute(path: Path) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(clean(nb), path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only report; exit 1 if any notebook is not clean")
    mode.add_argument("--execute", action="store_true", help="execute first, keep outputs of checked cells")
    args = parser.parse_args(argv)
    bad = 0
    for path in args.notebooks:
        if args.execute:
            execute(path)
            continue
        nb = nbformat.read(path, as_version=4)
        if args.check:
            for p in problems(nb):
                print(f"{path}: {p}")
                bad += 1
        else:
            nbformat.write(clean(nb), path)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
