"""The import rules of docs/architecture.rst hold for every module of followerlab.

Every ``import`` and ``from ... import`` in ``followerlab/**/*.py`` is read with :mod:`ast`,
including imports inside functions (a lazy import still couples two modules), relative imports
resolved to absolute module names. The rules checked:

* the models (toolkits queueing, latency, staleness, _wars and the mechanisms follower,
  consistency, raft, with any subpackage they grow) never import plotting, notebook, batch or
  UI code, nor the simulations that check them;
* a simulation in ``followerlab.sim`` never imports the model it is the independent check of;
* only the plotting package, the explorer and the report import matplotlib or
  ``followerlab.plots`` (notebooks do too, but they are not in the package);
* inside the ``followerlab.raft`` subpackage imports go one way, down the layers of
  ``RAFT_LAYERS`` (topology first, the write-load queue last), and no submodule imports the
  package itself (``followerlab/raft/__init__.py`` only re-exports).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "followerlab"


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, root: Path = ROOT, lazy: bool = True) -> set[str]:
    """Absolute names of every module (and ``from``-imported name) that ``path`` imports
    (``lazy=False``: only the imports at module level, those that run when it is imported)."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in (ast.walk(tree) if lazy else tree.body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


MODULES = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _is(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


MODELS = ["followerlab." + m for m in ("queueing", "latency", "staleness", "_wars", "follower", "consistency", "raft")]
NOT_FOR_MODELS = [
    "matplotlib", "papermill", "nbformat", "nbclient", "nbconvert", "ipywidgets", "IPython", "ipykernel",
    "dask", "distributed",
    "followerlab.plots", "followerlab.explore", "followerlab.batch", "followerlab.report", "followerlab.cli",
    "followerlab.scenarios", "followerlab.validation", "followerlab.sim",
]
# each simulation and the models it must not lean on
SIM_CHECKS = {
    "followerlab.sim.queue": ["followerlab.queueing"],
    "followerlab.sim.follower": ["followerlab.follower", "followerlab.staleness"],
    "followerlab.sim.consistency": ["followerlab.consistency"],
    "followerlab.sim.raft": ["followerlab.raft"],
}
MAY_PLOT = ["followerlab.plots", "followerlab.explore", "followerlab.report"]
# the modules of followerlab.raft, lowest layer first: each may import only the ones before it
RAFT_LAYERS = ["topology", "placements", "staleness", "write", "paths", "reads", "failure", "ranking", "load",
               "greedy", "readindex"]
# the one sanctioned exception: queueing.ggc falls back to the G/G/c simulator where no exact law
# or measured approximation is within 5 % (its result then says method == "simulated")
SIM_FALLBACK = {"followerlab.queueing": ["followerlab.sim.queue"]}


def test_the_package_is_read():
    assert {"followerlab.raft", "followerlab.sim.raft", "followerlab.plots"} <= set(MODULES)
    assert {"followerlab.consistency", "followerlab.consistency.admin"} <= set(MODULES)  # subpackages too
    assert "followerlab.queueing" in MODULES["followerlab.consistency.admin"]  # relative imports resolved


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    pkg = tmp_path / "followerlab" / "sub"
    pkg.mkdir(parents=True)
    src = pkg / "mod.py"
    src.write_text("def f():\n    import matplotlib.pyplot as plt\n    from .. import plots\n    from .x import y\n")
    assert _imports(src, tmp_path) >= {"matplotlib.pyplot", "followerlab.plots", "followerlab.sub.x.y"}


def _module_edges(path: Path, root: Path = ROOT, lazy: bool = True) -> set[str]:
    """Modules of followerlab that ``path`` imports (``from . import x`` counts as importing ``x``)."""
    modules = {_module_name(p, root) for p in (root / "followerlab").rglob("*.py")}
    names = _imports(path, root, lazy)
    # a from-import lists its base and base.name: keep the most specific one that is a module
    found = {name for name in names if name in modules
             and not any(other in modules and other.startswith(name + ".") for other in names)}
    return found - {_module_name(path, root)}


EDGES = {_module_name(p): _module_edges(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, stack)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node, [])):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle_through_a_subpackage(tmp_path):
    pkg = tmp_path / "followerlab" / "sub"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import f\n")
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("from .a import f\n")
    graph = {_module_name(p, tmp_path): _module_edges(p, tmp_path) for p in pkg.rglob("*.py")}
    assert graph["followerlab.sub"] == {"followerlab.sub.a"}
    assert _cycle(graph) in (["followerlab.sub.a", "followerlab.sub.b", "followerlab.sub.a"],
                             ["followerlab.sub.b", "followerlab.sub.a", "followerlab.sub.b"])


def test_models_import_one_way():
    """No import cycle among the models (lazy imports included), and a model subpackage's modules
    import their siblings, never the package ``__init__`` that re-exports them."""
    models = {m: {n for n in EDGES[m] if _is(n, MODELS)} for m in EDGES if _is(m, MODELS)}
    assert not (cycle := _cycle(models)), f"import cycle among the models: {' -> '.join(cycle)}"
    for module, imported in models.items():
        package = module.rpartition(".")[0]
        if package in MODULES and package != "followerlab":
            assert package not in imported, f"{module} imports its package {package}: import the sibling module"


def test_the_package_has_no_import_cycle_at_module_level():
    """Module-level imports (those that run at import time): no module waits on itself.  A lazy
    import inside a function is how a needed cycle is broken (scenarios <-> constraints)."""
    graph = {_module_name(p): _module_edges(p, lazy=False) for p in sorted(PACKAGE.rglob("*.py"))}
    assert not (cycle := _cycle(graph)), f"import cycle at module level: {' -> '.join(cycle)}"


@pytest.mark.parametrize("module", [m for m in MODULES if _is(m, MODELS)])
def test_models_import_no_plotting_notebook_batch_or_ui_code(module):
    bad = sorted(name for name in MODULES[module]
                 if _is(name, NOT_FOR_MODELS) and not _is(name, SIM_FALLBACK.get(module, [])))
    assert not bad, f"{module} imports {bad}: models stay free of plots, notebooks, batch, UI and simulations"


@pytest.mark.parametrize("module", sorted(SIM_CHECKS))
def test_simulations_do_not_import_the_model_they_check(module):
    sims = [m for m in MODULES if _is(m, [module])]
    assert sims, f"{module} not found"
    for sim in sims:
        bad = sorted(name for name in MODULES[sim] if _is(name, SIM_CHECKS[module]))
        assert not bad, f"{sim} imports {bad}: an independent check must not reuse the model's code"


@pytest.mark.parametrize("module", [m for m in MODULES if not _is(m, MAY_PLOT)])
def test_only_plots_explorer_and_report_draw(module):
    bad = sorted(name for name in MODULES[module] if _is(name, ["matplotlib", "followerlab.plots"]))
    assert not bad, f"{module} imports {bad}: figures belong in followerlab.plots"


def test_raft_subpackage_has_exactly_the_declared_modules():
    found = {m.rpartition(".")[2] for m in MODULES if m.startswith("followerlab.raft.")}
    assert found == set(RAFT_LAYERS), f"followerlab.raft holds {sorted(found)}; declare new modules in RAFT_LAYERS"


def _raft_layer_violations(layer: str, imports: set[str]) -> list[str]:
    """The imports of ``followerlab.raft.<layer>`` that break the one-way rule of RAFT_LAYERS.

    A name of the package's ``__init__`` (``from . import load_rtt``) or a module of a higher
    layer breaks it.  The bare package name is not judged: ``from . import topology`` records it
    as the base of a legitimate import.
    """
    below = RAFT_LAYERS[: RAFT_LAYERS.index(layer)]
    bad = []
    for name in sorted(imports):
        if not _is(name, ["followerlab.raft"]) or name == "followerlab.raft":
            continue
        parts = name.split(".")
        if parts[2] not in below:  # a higher layer, or a name re-exported by the package's __init__
            bad.append(name)
    return bad


@pytest.mark.parametrize("layer", RAFT_LAYERS)
def test_raft_modules_import_one_way(layer):
    bad = _raft_layer_violations(layer, MODULES[f"followerlab.raft.{layer}"])
    assert not bad, (f"followerlab.raft.{layer} imports {bad}: allowed are the layers below it, "
                     f"{RAFT_LAYERS[: RAFT_LAYERS.index(layer)]}, never the package itself")


def test_the_raft_layer_check_can_fail(tmp_path):
    pkg = tmp_path / "followerlab" / "raft"
    pkg.mkdir(parents=True)
    src = pkg / "write.py"
    src.write_text("from .reads import read_latency\nfrom . import load_rtt, staleness\nfrom .topology import Placement\n")
    found = _imports(src, tmp_path)
    assert _raft_layer_violations("write", found) == [
        "followerlab.raft.load_rtt", "followerlab.raft.reads", "followerlab.raft.reads.read_latency"]
