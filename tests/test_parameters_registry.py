"""The parameter registry and everything that reads it agree (issue 12, part 2).

``followerlab/parameters.py`` declares each notebook parameter once.  This test compares it
with every other place a parameter shows up, each by its own means:

* the notebooks' ``parameters`` cells, parsed with :func:`followerlab.scenarios.parse_parameters`
  (the text itself, not the registry's rendering of it): name, order, type, default, unit,
  range or choices, meaning;
* the scenario validation: the pydantic model a scenario's values go through, probed at and
  just beyond each bound and with each choice;
* the explorer: its widgets' kinds, slider bounds, dropdown choices and starting values, and
  the checks of :func:`followerlab.explore.dashboard`, probed the same way;
* the lists in the code a choice must match (routing modes, read paths, placements, RTT data
  sets, regions, CockroachDB releases, metric names, RTT files) and the model defaults of
  :mod:`followerlab.configuration`.

Each comparison is a function returning the differences; the last tests feed them a
deliberately mutated range -- in a copy of a notebook, and in a copy of a registry entry --
and check that every comparison reports it.  No kernel is started: the file runs in seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from pydantic import ValidationError

from followerlab import configuration, consistency, explore, raft
from followerlab import metrics as M
from followerlab import parameters as registry
from followerlab.cli import main
from followerlab.scenarios import notebook_parameters, parameter_domain, parameter_model, parse_parameters

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _cell(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", []))


def _range(spec_or_param):
    """(lower, upper, lower_open, upper_open, choices), unbounded ends counted as open."""
    if isinstance(spec_or_param, registry.Parameter):
        d = spec_or_param.domain
        if isinstance(d, registry.Choices):
            return (None, None, True, True, d.values)
        if d is None:
            return (None, None, True, True, None)
        lo = None if d.lower is None else float(d.lower)
        hi = None if d.upper is None else float(d.upper)
        return (lo, hi, d.lower_open or lo is None, d.upper_open or hi is None, None)
    s = spec_or_param
    return (s.lower, s.upper, s.lower_open or s.lower is None, s.upper_open or s.upper is None, s.choices)


# --------------------------------------------------------------------------- the comparisons


def cell_differences(source: str, params) -> list[str]:
    """Where a parameters cell's text and registry entries disagree (name, order, type, default, unit, range)."""
    cell = parse_parameters(source)
    out = []
    if [s.name for s in cell] != [p.name for p in params]:
        out.append(f"names/order: cell {[s.name for s in cell]} vs registry {[p.name for p in params]}")
    reg = {p.name: p for p in params}
    for s in cell:
        p = reg.get(s.name)
        if p is None:
            continue
        if s.type != p.type:
            out.append(f"{s.name}: type {s.type} vs {p.type}")
        if s.default != p.default or type(s.default) is not type(p.default):
            out.append(f"{s.name}: default {s.default!r} vs {p.default!r}")
        if s.unit != p.unit:
            out.append(f"{s.name}: unit {s.unit!r} vs {p.unit!r}")
        if _range(s) != _range(p):
            out.append(f"{s.name}: range {_range(s)} vs {_range(p)}")
        if s.help != p.help:
            out.append(f"{s.name}: meaning {s.help!r} vs {p.help!r}")
        if s.element_type is not None and s.element_type != p.element_type:
            out.append(f"{s.name}: element type {s.element_type} vs {p.element_type}")
    return out


def _probes(p: registry.Parameter):
    """Values at and just beyond each bound (or each choice and a wrong one), and a wrong type."""
    d = p.domain
    whole = p.type == "int" or p.element_type == "int"
    if isinstance(d, registry.Interval):
        for bound in (d.lower, d.upper):
            if bound is not None:
                step = 1 if whole else max(abs(float(bound)) * 1e-6, 1e-6)
                yield from (bound - step, bound, bound + step)
        if not whole:
            yield 0.5 * (float(d.lower if d.lower is not None else -1) + float(d.upper if d.upper is not None else 1e6))
        yield "12"
        if whole:
            yield 1.5
    elif isinstance(d, registry.Choices):
        yield from d.values
        yield "not-" + d.values[0]
        yield 3
    elif p.type == "bool" or p.element_type == "bool":
        yield from (True, False, "yes")


def _expected(p: registry.Parameter, v) -> bool:
    typ = p.element_type if p.type == "list" else p.type
    if typ in ("float", "int"):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        if typ == "int" and not float(v).is_integer():
            return False
    elif typ == "str" and not isinstance(v, str):
        return False
    elif typ == "bool" and not isinstance(v, bool):
        return False
    return p.domain is None or p.domain.contains(v)


def scenario_differences(notebook: str, params) -> list[str]:
    """Where the scenario validation of ``notebook`` accepts what the registry refuses, or back."""
    specs = {s.name: s for s in notebook_parameters(NOTEBOOKS / f"{notebook}.ipynb")}
    model = parameter_model(list(specs.values()), name=notebook)
    out = []
    for p in params:
        s = specs.get(p.name)
        if s is not None and (s.type, s.default, s.unit, _range(s)) != (p.type, p.default, p.unit, _range(p)):
            out.append(f"{p.name}: schema {(s.type, s.default, s.unit, _range(s))} vs registry "
                       f"{(p.type, p.default, p.unit, _range(p))}")
        if p.name in registry.RESERVED:
            if p.name in model.model_fields:
                out.append(f"{p.name}: reserved, yet a scenario may set it")
            continue
        if p.name not in model.model_fields:
            out.append(f"{p.name}: not in the scenario schema")
            continue
        for v in _probes(p):
            try:
                model(**{p.name: [v] if p.type == "list" else v})
                accepted = True
            except ValidationError:
                accepted = False
            if accepted != _expected(p, v):
                out.append(f"{p.name}={v!r}: scenario {'accepts' if accepted else 'refuses'}, registry "
                           f"{'allows' if _expected(p, v) else 'forbids'} ({p.describe()})")
    return out


def explorer_differences(explorer, params) -> list[str]:
    """Where the explorer's widgets or checks disagree with notebook 00's registry entries."""
    import ipywidgets as w

    out = []
    controls = {p.name: p for p in params if p.name not in registry.RESERVED}
    if set(explorer.controls) != set(controls):
        out.append(f"controls {sorted(explorer.controls)} vs registry {sorted(controls)}")
    for name, p in controls.items():
        widget = explorer.controls.get(name)
        if widget is None:
            continue
        kind = {"float": w.FloatSlider, "int": w.IntSlider, "bool": w.Checkbox, "str": w.Dropdown}[p.type]
        if not isinstance(widget, kind):
            out.append(f"{name}: widget {type(widget).__name__} for a {p.type}")
        if isinstance(widget, (w.FloatSlider, w.IntSlider)) and (widget.min, widget.max) != (p.domain.lower, p.domain.upper):
            out.append(f"{name}: slider [{widget.min}, {widget.max}] vs domain {p.domain}")
        if isinstance(widget, w.Dropdown) and name != "leaseholder_region":
            keys = [o[1] if isinstance(o, tuple) else o for o in widget.options]
            if tuple(keys) != p.domain.values:
                out.append(f"{name}: dropdown {keys} vs choices {p.domain.values}")
        if explore.DEFAULTS.get(name) != p.default:
            out.append(f"{name}: explorer default {explore.DEFAULTS.get(name)!r} vs {p.default!r}")
        if name == "leaseholder_region":
            continue  # choices depend on rtt_data: checked against the data sets below
        for v in _probes(p):
            # a data set is probed with a leaseholder in it (the pair is checked together)
            extra = {"leaseholder_region": raft.load_rtt(explore.RTT_DATASETS[v][1]).index[0]} if (
                name == "rtt_data" and v in explore.RTT_DATASETS) else {}
            try:
                explore._params(**{name: v}, **extra)
                accepted = True
            except ValueError:
                accepted = False
            if accepted != _expected(p, v):
                out.append(f"{name}={v!r}: explorer {'accepts' if accepted else 'refuses'}, registry "
                           f"{'allows' if _expected(p, v) else 'forbids'} ({p.describe()})")
    return out


@pytest.fixture(scope="module")
def explorer():
    return explore.Explorer()


# --------------------------------------------------------------------------- the real files agree


def test_every_notebook_with_a_parameters_cell_is_registered():
    with_cell = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")
                       if any("parameters" in c.metadata.get("tags", []) for c in nbformat.read(p, as_version=4).cells))
    assert with_cell == sorted(registry.notebook_names())


@pytest.mark.parametrize("notebook", registry.notebook_names())
def test_parameters_cell_is_the_registry(notebook):
    source = _cell(NOTEBOOKS / f"{notebook}.ipynb")
    assert cell_differences(source, registry.parameters_of(notebook)) == []
    assert registry.check_cell_source(notebook, source) == []        # what `params --check` runs
    assert source == registry.render_cell(notebook)                  # generated, not hand-edited


@pytest.mark.parametrize("notebook", registry.notebook_names())
def test_scenario_validation_is_the_registry(notebook):
    assert scenario_differences(notebook, registry.parameters_of(notebook)) == []
    specs = notebook_parameters(NOTEBOOKS / f"{notebook}.ipynb")
    assert [(s.name, s.type, s.default, s.unit) for s in specs] == [
        (p.name, p.type, p.default, p.unit) for p in registry.parameters_of(notebook)]


def test_explorer_controls_and_checks_are_the_registry(explorer):
    assert explorer_differences(explorer, registry.parameters_of("00-explore")) == []
    assert explore.DEFAULTS == registry.defaults("00-explore", reserved=False)


def test_followerlab_schema_prints_the_registry(capsys):
    assert main(["schema", "02-admin-node-load"]) == 0
    by_stem = capsys.readouterr().out
    assert main(["schema", str(NOTEBOOKS / "02-admin-node-load.ipynb")]) == 0
    by_path = capsys.readouterr().out
    assert by_stem.splitlines()[1:] == by_path.splitlines()[1:]
    p = registry.get("02-admin-node-load", "refresh_period_s")
    line = next(x for x in by_path.splitlines() if x.split()[:1] == ["refresh_period_s"])
    assert "[30, 1800] s" in line and p.help in line and "output_dir" not in by_path


def test_choices_are_the_codes_own_lists():
    assert registry.domain("00-explore", "routing_mode").values == consistency.ROUTING_MODES
    assert registry.domain("00-explore", "read_path").values == tuple(raft.READ_PATHS)
    assert registry.domain("00-explore", "placement").values == tuple(explore.PLACEMENTS)
    assert registry.domain("00-explore", "rtt_data").values == tuple(explore.RTT_DATASETS)
    regions = {r for _, f in explore.RTT_DATASETS.values() for r in raft.load_rtt(f).index}
    assert set(registry.domain("00-explore", "leaseholder_region").values) == regions
    files = sorted(p.name for p in (ROOT / "data" / "regions").glob("*.csv"))
    assert sorted(registry.domain("03-raft-write-latency", "rtt_file").values) == files
    for version in registry.domain("03-raft-write-latency", "crdb_version").values:
        assert raft.follower_read_timestamp_lag_s(version) > 0
    for axis in ("x_metric", "y_metric"):
        assert set(registry.domain("04-compare-configurations", axis).values) <= set(M.REGISTRY)


def test_model_defaults_are_the_notebooks_defaults():
    for defaults, notebook in ((configuration.FOLLOWER_DEFAULTS, "01-follower-lag"),
                               (configuration.WEAK_DEFAULTS, "02-admin-node-load"),
                               (configuration.RAFT_DEFAULTS, "03-raft-write-latency")):
        assert defaults == {k: registry.get(notebook, k).default for k in defaults}
    a = explore.assumptions().set_index("name")
    for name in explore.MODEL_INPUTS:
        p = registry.get(explore._INPUT_NOTEBOOK[name], name)
        assert (a.loc[name, "unit"], a.loc[name, "meaning"]) == (p.unit, p.meaning)
        assert (a.loc[name, "source"] == "assumed") == p.assumed


def test_sensitivity_ranges_lie_in_the_notebooks_domains():
    """The sensitivity sections' plausible ranges are other facts, but must stay inside the domains."""
    from followerlab import sensitivity

    for ranges, notebook in ((sensitivity.FOLLOWER_LAG_RANGES, "01-follower-lag"),
                             (sensitivity.ADMIN_LOAD_RANGES, "02-admin-node-load")):
        for name, (low, high, *_) in ranges.items():
            scale, reg = (1e3, name[:-2] + "_ms") if name.endswith("_s") and name[:-2] + "_ms" in {
                p.name for p in registry.parameters_of(notebook)} else (1.0, name)
            d = registry.domain(notebook, reg)
            assert d.contains(low * scale) and d.contains(high * scale), (name, low, high, str(d))


# --------------------------------------------------------------------------- a mutated range is caught


def _mutated_copy(tmp_path: Path, notebook: str, *edits: tuple[str, str]) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir(exist_ok=True)
    path = folder / f"{notebook}.ipynb"
    shutil.copy(NOTEBOOKS / f"{notebook}.ipynb", path)
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for old, new in edits:
        assert cell.source.count(old) == 1, old
        cell.source = cell.source.replace(old, new)
    nbformat.write(nb, path)
    return path


def test_a_range_changed_in_a_copy_of_a_cell_is_caught(tmp_path, capsys):
    copy = _mutated_copy(tmp_path, "02-admin-node-load", ("# [30, 1800] s;", "# [30, 3600] s;"))
    problems = cell_differences(_cell(copy), registry.parameters_of("02-admin-node-load"))
    assert problems == ["refresh_period_s: range (30.0, 3600.0, False, False, None) vs (30.0, 1800.0, False, False, None)"]
    assert main(["params", "--check", "--notebook-dir", str(copy.parent), "02-admin-node-load"]) == 1
    printed = capsys.readouterr().out
    assert "refresh_period_s: range [30, 1800] s in the registry, [30, 3600] s in the parameters cell" in printed
    # --write puts the registry's cell back (and only that cell changes)
    assert main(["params", "--write", "--notebook-dir", str(copy.parent), "02-admin-node-load"]) == 0
    assert _cell(copy) == _cell(NOTEBOOKS / "02-admin-node-load.ipynb")
    assert main(["params", "--check", "--notebook-dir", str(copy.parent), "02-admin-node-load"]) == 0
    # an open end and a default changed are caught too
    copy = _mutated_copy(tmp_path, "01-follower-lag", ("period_s: float = 60.0 ", "period_s: float = 90.0 "),
                         ("# (0, 3600] s; follower sync", "# [0, 3600] s; follower sync"))
    problems = cell_differences(_cell(copy), registry.parameters_of("01-follower-lag"))
    assert problems == ["period_s: default 90.0 vs 60.0",
                        "period_s: range (0.0, 3600.0, False, False, None) vs (0.0, 3600.0, True, False, None)"]


def test_a_range_changed_in_a_copy_of_the_registry_is_caught(explorer):
    """A registry entry edited alone (cell, validation and explorer not following) fails every comparison."""
    params = registry.parameters_of("00-explore")
    mutated = [p.but(domain=registry.closed(10, 600)) if p.name == "sync_period_s" else p for p in params]
    assert [d for d in cell_differences(_cell(NOTEBOOKS / "00-explore.ipynb"), mutated)] == [
        "sync_period_s: range (10.0, 900.0, False, False, None) vs (10.0, 600.0, False, False, None)"]
    found = scenario_differences("00-explore", mutated)
    assert "sync_period_s=600.0006: scenario accepts, registry forbids ([10, 600] s)" in found
    assert found[0].startswith("sync_period_s: schema ('float', 60.0, 's', (10.0, 900.0, False, False, None)) vs")
    found = explorer_differences(explorer, mutated)
    assert "sync_period_s: slider [10.0, 900.0] vs domain [10, 600]" in found
    assert any(d.startswith("sync_period_s=600.0006: explorer accepts") for d in found)
    # the same for a choice: a read path the registry does not list
    mutated = [p.but(domain=registry.choices("leaseholder", "follower", "bounded")) if p.name == "read_path" else p
               for p in params]
    assert any(d.startswith("read_path: dropdown") for d in explorer_differences(explorer, mutated))
    assert any(d.startswith("read_path: schema") for d in scenario_differences("00-explore", mutated))


# --------------------------------------------------------------------------- the registry's own rules


def test_collect_takes_the_registered_names_and_checks_the_values():
    ns = {**registry.defaults("03-raft-write-latency"), "rtt": object(), "np": None}
    got = registry.collect("03-raft-write-latency", ns)
    assert list(got) == [p.name for p in registry.parameters_of("03-raft-write-latency")
                         if p.name not in ("output_dir", "sweep")]   # both set by the batch (RESERVED)
    with pytest.raises(ValueError, match=r"fsync_ms must be in \[0, 100\] ms; got 101"):
        registry.collect("03-raft-write-latency", {**ns, "fsync_ms": 101})
    with pytest.raises(ValueError, match=r"parameters \['seed'\] are registered but not defined"):
        registry.collect("03-raft-write-latency", {k: v for k, v in ns.items() if k != "seed"})
    with pytest.raises(ValueError, match="crdb_version must be one of .* got 'v23.9'"):
        registry.collect("03-raft-write-latency", {**ns, "crdb_version": "v23.9"})
    assert registry.collect("04-compare-configurations", registry.defaults("04-compare-configurations"),
                            results_path="/x/results.csv")["results_path"] == "/x/results.csv"


def test_domains_for_sweeps():
    d = parameter_domain("02-admin-node-load", "admin_ceiling")      # (0, 1]
    assert (d.contains(0.0), d.contains(1e-9), d.contains(1.0), d.contains(1.0 + 1e-9)) == (False, True, True, False)
    assert parameter_domain("01-follower-lag", "periods_s") == registry.left_open(0, 3600)   # a list: its elements
    assert parameter_domain("03-raft-write-latency", "home_region") is None               # checked by the notebook
    fx = ROOT / "tests" / "fixtures" / "notebooks" / "fx-queue.ipynb"                  # not registered: its cell
    assert str(parameter_domain(fx, "weak_fraction")) == "[0, 1]"
    with pytest.raises(ValueError, match="no parameter 'refresh_period'.*did you mean 'refresh_period_s'"):
        parameter_domain("02-admin-node-load", "refresh_period")


def test_bad_declarations_are_refused():
    with pytest.raises(ValueError, match="outside its domain"):
        registry.Parameter("x_s", "float", 5.0, "s", registry.closed(10, 20))
    with pytest.raises(ValueError, match="not of type float"):
        registry.Parameter("x_s", "float", 5, "s", registry.closed(0, 20))
    with pytest.raises(ValueError, match="a unit needs an interval domain"):
        registry.Parameter("mode", "str", "a", "s", registry.choices("a", "b"))
    with pytest.raises(ValueError, match="lower 2 > upper 1"):
        registry.closed(2, 1)
    with pytest.raises(ValueError, match="has no parameters in the registry.*did you mean '02-admin-node-load'"):
        registry.parameters_of("02-admin-node-loads")
