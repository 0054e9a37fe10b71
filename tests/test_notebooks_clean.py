"""Notebooks in git stay reviewable: the convention of docs/notebooks.md, enforced.

Every ``notebooks/*.ipynb`` must be a fixed point of ``tools/nbclean.py`` (outputs only in
``# NBVAL_CHECK_OUTPUT`` cells, no execution counts elsewhere, no widget state, kernelspec
``python3``), with its first code cell tagged ``parameters`` and written one annotated,
commented parameter per line (CONTRIBUTING.md). The pre-commit hooks of
``.pre-commit-config.yaml`` are run on a deliberately dirty notebook to show that they produce
exactly such a notebook.
"""

from __future__ import annotations

import copy
import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

_spec = importlib.util.spec_from_file_location("nbclean", ROOT / "tools" / "nbclean.py")
nbclean = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nbclean)

# `name: type = value  # comment` -- one parameter per line (CONTRIBUTING.md, "Notebooks").
PARAMETER_LINE = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*:\s*(?P<type>[\w\[\], .|]+?)\s*=\s*(?P<value>.+?)\s+#\s*(?P<comment>\S.*)$")


def notebook_problems(nb) -> list[str]:
    """Everything that keeps ``nb`` from following the notebooks-in-git convention."""
    out = list(nbclean.problems(nb))
    cleaned = nbclean.clean(copy.deepcopy(nb))
    if cleaned != nb:
        out.append("not a fixed point of tools/nbclean.py (run: python tools/nbclean.py <notebook>)")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or "parameters" not in code[0].metadata.get("tags", []):
        out.append("the first code cell is not the one tagged 'parameters'")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) > 1:
        out.append(f"{len(tagged)} cells tagged 'parameters' (papermill uses one)")
    if tagged:
        for line in tagged[0].source.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if not PARAMETER_LINE.match(stripped):
                out.append(f"parameter line is not `name: type = value  # range unit; meaning`: {stripped!r}")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not nbclean.is_checked(cell):
            continue
        if not cell.outputs:
            out.append(f"cell {i} is an NBVAL_CHECK_OUTPUT cell without a stored reference output")
        for o in cell.outputs:
            if o.get("output_type") == "error":
                out.append(f"cell {i} stores an error output")
            if WIDGET_MIME in o.get("data", {}):
                out.append(f"cell {i} stores a widget view in a checked output")
    return out


def _dirty_notebook():
    """A notebook as JupyterLab saves it after a session: outputs, counts, widget state."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "followerlab-dev", "display_name": "dev", "language": "python"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.metadata["papermill"] = {"duration": 1.0}
    params = nbformat.v4.new_code_cell("period_s: float = 60.0   # [1, inf) s; sync period\n")
    params.metadata["tags"] = ["parameters"]
    params.metadata["ExecuteTime"] = {"end_time": "2026-01-01"}
    params.execution_count = 1
    plain = nbformat.v4.new_code_cell("period_s * 2", execution_count=2)
    plain.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "120.0"}, execution_count=2)]
    checked = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(round(period_s / 2, 1))", execution_count=3)
    checked.outputs = [nbformat.v4.new_output("stream", name="stdout", text="30.0\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Q"), params, plain, checked]
    return nb


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert notebook_problems(nb) == [], f"{path.name}: fix with `python tools/nbclean.py {path.relative_to(ROOT)}`"


def test_checker_finds_what_a_saved_session_leaves_behind():
    problems = notebook_problems(_dirty_notebook())
    text = "\n".join(problems)
    assert "kernelspec is not python3" in text
    assert "widget state saved in metadata" in text
    assert "cell 2 has outputs" in text
    assert "not a fixed point" in text


def test_checker_accepts_the_cleaned_notebook_and_keeps_the_checked_output():
    nb = nbclean.clean(_dirty_notebook())
    assert notebook_problems(nb) == []
    assert nb.cells[3].outputs[0]["text"] == "30.0\n"
    assert nb.cells[2].outputs == [] and nb.cells[2].execution_count is None


@pytest.mark.parametrize(
    "source, expected",
    [
        ("period_s = 60.0  # [1, inf) s", "parameter line"),  # no annotation
        ("period_s: float = 60.0", "parameter line"),  # no comment
        ("import numpy as np", "parameter line"),  # code in the parameters cell
    ],
)
def test_checker_refuses_undocumented_parameters(source, expected):
    nb = nbclean.clean(_dirty_notebook())
    nb.cells[1].source = source
    assert any(expected in p for p in notebook_problems(nb))


def test_checker_refuses_parameters_cell_that_is_not_first_and_empty_checked_cells():
    nb = nbclean.clean(_dirty_notebook())
    nb.cells[1], nb.cells[2] = nb.cells[2], nb.cells[1]
    nb.cells[3].outputs = []
    text = "\n".join(notebook_problems(nb))
    assert "first code cell" in text
    assert "without a stored reference output" in text


def _hook(config: dict, hook_id: str) -> dict:
    for repo in config["repos"]:
        for hook in repo["hooks"]:
            if hook["id"] == hook_id:
                return hook
    raise AssertionError(f"hook {hook_id!r} not in .pre-commit-config.yaml")


def test_pre_commit_hooks_turn_a_dirty_notebook_into_a_clean_one(tmp_path):
    """Run the configured nbstripout and nbclean hooks, in order, as pre-commit would."""
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    strip, local = _hook(config, "nbstripout"), _hook(config, "nbclean")
    ruff = _hook(config, "ruff")
    assert "jupyter" in ruff.get("types_or", []), "ruff must lint notebooks too"
    path = tmp_path / "dirty.ipynb"
    nbformat.write(_dirty_notebook(), path)
    nbstripout = Path(sys.executable).with_name("nbstripout")
    subprocess.run([str(nbstripout), *strip.get("args", []), str(path)], check=True, timeout=60)
    entry = shlex.split(local["entry"])
    assert entry[:2] == ["python", "tools/nbclean.py"], entry
    subprocess.run([sys.executable, str(ROOT / entry[1]), *entry[2:], *local.get("args", []), str(path)],
                   check=True, timeout=60, cwd=ROOT)
    nb = nbformat.read(path, as_version=4)
    assert notebook_problems(nb) == []
    assert nb.cells[3].outputs and nb.cells[3].outputs[0]["text"] == "30.0\n", "checked output was stripped"
    assert "ExecuteTime" not in nb.cells[1].metadata
    assert [c.id for c in nb.cells] == [str(i) for i in range(len(nb.cells))], "cell ids not normalised"
