"""Scenario schema from notebook parameter comments; scenario files validated and expanded."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import nbformat
import pytest
from pydantic import ValidationError

from followerlab.scenarios import (
    ScenarioError,
    load_scenarios,
    notebook_parameters,
    parameter_model,
    parse_parameters,
    scenario_files,
)

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
QUEUE = FIX / "notebooks" / "fx-queue.ipynb"
LAG = FIX / "notebooks" / "fx-refresh-lag.ipynb"

CELL = textwrap.dedent('''\
    import math
    refresh_period_s: float = 120.0   # [30, 1800] s; metadata refresh period of each query head
    routing_mode: str = "random"      # {random, by_database, by_query, by_session}; weak routing
    prefetch: bool = False            # auto-prefetch on the follower
    output_dir: str = ""              # where results.csv/results.json go; "" = don't write
    rate_per_s: float = 1.0           # (0, inf) 1/s; arrival rate
    voters: int = 3                   # [1, 9] voters
    periods_s: list = [60.0,
                       120.0]         # [30, 1800] s; vectorized sweep
    ids: list[int] = []               # [0, 10]; ids
    label = "x"                       # free text
    names: list = []                  # notebooks to include; element type unknown
    modes: list = []                  # {a, b}; chosen modes
    pi_like: float = math.pi          # an expression default
    ''')


def spec_map(src=CELL):
    return {s.name: s for s in parse_parameters(src)}


def test_parse_intervals_choices_units_and_help():
    s = spec_map()
    p = s["refresh_period_s"]
    assert (p.type, p.default, p.lower, p.upper, p.lower_open, p.upper_open) == ("float", 120.0, 30.0, 1800.0, False, False)
    assert (p.unit, p.help) == ("s", "metadata refresh period of each query head")
    assert s["routing_mode"].choices == ("random", "by_database", "by_query", "by_session")
    assert s["routing_mode"].help == "weak routing"
    assert s["prefetch"].type == "bool" and s["prefetch"].help == "auto-prefetch on the follower"
    r = s["rate_per_s"]
    assert (r.lower, r.upper, r.lower_open, r.unit) == (0.0, None, True, "1/s")
    assert (s["voters"].type, s["voters"].unit, s["voters"].help) == ("int", "voters", "")
    assert s["periods_s"].default == [60.0, 120.0] and s["periods_s"].element_type == "float"
    assert s["periods_s"].upper == 1800.0  # comment on the last line of a multi-line value
    assert s["ids"].element_type == "int" and s["ids"].lower == 0.0
    assert s["label"].type == "str" and s["label"].help == "free text"
    assert s["pi_like"].default_literal is False and s["pi_like"].type == "float"
    # the line with two '=' (papermill skips it) is read, its comment kept whole
    assert s["output_dir"].help.endswith('"" = don\'t write')
    assert "math" not in s  # imports are not parameters


def test_parser_agrees_with_papermill_where_papermill_can_read():
    from papermill.translators import PythonTranslator

    nb = nbformat.v4.new_code_cell(CELL)
    theirs = {p.name: p for p in PythonTranslator.inspect(nb)}
    mine = spec_map()
    assert "output_dir" not in theirs  # the reason for our own parser
    assert set(theirs) <= set(mine) and len(theirs) >= 8
    for name, p in theirs.items():
        if p.inferred_type_name != "None":
            assert p.inferred_type_name.startswith(mine[name].type), name
        if mine[name].default_literal:
            assert eval(p.default, {"math": math}) == mine[name].default, name


@pytest.mark.parametrize("src, match", [
    ("x: dict = {}  # bad type", "type 'dict'"),
    ("x: float = 1.0  # [a, 2] s; bad bound", "range bound 'a'"),
    ("x: float = (  # unterminated", "not valid Python"),
])
def test_parse_errors_name_the_parameter(src, match):
    with pytest.raises(ValueError, match=match):
        parse_parameters(src)


def test_parameter_model_refuses_wrong_values():
    M = parameter_model(parse_parameters(CELL), name="nb")
    assert M(names=["01-x", "02-y"]).names == ["01-x", "02-y"] and M(modes=["a"]).modes == ["a"]
    ok = M(refresh_period_s=30, routing_mode="by_query", prefetch=True, voters=5.0, periods_s=[30, 1800],
           rate_per_s=1e-9)
    assert ok.refresh_period_s == 30.0 and ok.voters == 5 and ok.periods_s == [30.0, 1800.0]
    bad = [
        dict(refresh_period_s=29.9), dict(refresh_period_s=1800.1), dict(refresh_period_s="120"),
        dict(refresh_period_s=True), dict(refresh_period_s=float("nan")), dict(routing_mode="randm"),
        dict(prefetch="yes"), dict(prefetch=1), dict(voters=2.5), dict(voters=10), dict(rate_per_s=0.0),
        dict(rate_per_s=float("inf")), dict(periods_s=[60.0, 10.0]), dict(periods_s=60.0), dict(ids=[11]),
        dict(output_dir="/tmp/x"), dict(nonsense=1), dict(label=3), dict(modes=["c"]), dict(names="x"),
    ]
    for kwargs in bad:
        with pytest.raises(ValidationError):
            M(**kwargs)


def test_notebook_parameters_reads_the_tagged_cell(tmp_path):
    names = [s.name for s in notebook_parameters(QUEUE)]
    assert names == ["arrival_rates_per_s", "service_rate_per_s", "consistency", "weak_fraction", "output_dir"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, tmp_path / "untagged.ipynb")
    with pytest.raises(ValueError, match="untagged.ipynb: no cell tagged 'parameters'"):
        notebook_parameters(tmp_path / "untagged.ipynb")
    with pytest.raises(ValueError, match="notebook not found"):
        notebook_parameters(tmp_path / "absent.ipynb")


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def nb_refs():
    return f"[{LAG}, {QUEUE}]"


def test_load_expands_grid_to_the_product_and_fills_defaults(tmp_path):
    path = write(tmp_path, "s.yaml", f"""
        scenarios:
          - name: sweep
            notebooks: {nb_refs()}
            parameters: {{hot: false}}
            grid:
              refresh_period_s: [30, 60, 120]
              consistency: [strong, weak]
        """)
    runs = load_scenarios(path)
    assert len(runs) == 3 * 2 * 2  # product of the grid × two notebooks
    assert len({r.run_id for r in runs}) == len(runs)
    first = runs[0]
    assert first.scenario == "sweep@refresh_period_s=30,consistency=strong"
    assert first.notebook_name == "fx-refresh-lag"
    # each notebook gets only the keys it declares; effective values include its defaults
    assert first.parameters == {"hot": False, "refresh_period_s": 30.0}
    assert first.effective == {"refresh_period_s": 30.0, "refresh_duration_s": 2.0, "hot": False, "fail": False}
    queue = runs[1]
    assert queue.parameters == {"consistency": "strong"} and queue.effective["arrival_rates_per_s"] == [5.0]
    assert load_scenarios(path, notebooks=["fx-queue"])[0].notebook_name == "fx-queue"
    with pytest.raises(ValueError, match=r"notebooks: no scenario runs \['fx-qeue'\]"):
        load_scenarios(path, notebooks=["fx-qeue"])


def test_single_scenario_file_and_defaults_section(tmp_path):
    one = write(tmp_path, "one.yaml", f"name: solo\nnotebooks: [{QUEUE}]\nparameters: {{weak_fraction: 0.5}}\n")
    assert [r.run_id for r in load_scenarios(one)] == ["solo--fx-queue"]
    d = write(tmp_path, "d.yaml", f"""
        defaults:
          notebooks: [{QUEUE}]
          parameters: {{service_rate_per_s: 50}}
        scenarios:
          - {{name: a}}
          - {{name: b, parameters: {{service_rate_per_s: 10, consistency: weak}}}}
        """)
    a, b = load_scenarios(d)
    assert a.parameters == {"service_rate_per_s": 50.0}
    assert b.parameters == {"service_rate_per_s": 10.0, "consistency": "weak"}


def test_every_problem_is_reported_with_file_scenario_and_field(tmp_path):
    path = write(tmp_path, "bad.yaml", f"""
        scenarios:
          - name: typo
            notebooks: {nb_refs()}
            parameters: {{refresh_perod_s: 60, hot: 3}}
          - name: range
            notebooks: {nb_refs()}
            parameters: {{refresh_period_s: 5000, consistency: eventual}}
          - name: types
            notebooks: {nb_refs()}
            parameters: {{hot: "no", service_rate_per_s: 1e3}}
            grid: {{weak_fraction: [0.5, 1.5]}}
          - name: reserved
            notebooks: {nb_refs()}
            parameters: {{output_dir: /tmp}}
          - name: extra
            notebooks: {nb_refs()}
            paramters: {{}}
          - name: missing
            notebooks: [nowhere]
        """)
    with pytest.raises(ScenarioError) as info:
        load_scenarios(path)
    problems = info.value.problems
    text = str(info.value)
    assert all(p.startswith(f"{path}: scenario ") for p in problems), problems
    assert "scenario 'typo': parameters.refresh_perod_s: unknown parameter" in text
    assert "did you mean 'refresh_period_s'?" in text
    assert "scenario 'typo': parameters (fx-refresh-lag): hot: must be true or false; got 3" in text  # same pass
    assert "scenario 'range': parameters (fx-refresh-lag): refresh_period_s: Input should be less than or equal to 3600" in text
    assert "scenario 'range': parameters (fx-queue): consistency: Input should be 'strong' or 'weak'" in text
    assert "scenario 'types': parameters (fx-refresh-lag): hot: must be true or false; got 'no'" in text
    assert "service_rate_per_s: must be a number; got '1e3'" in text  # YAML 1.1 reads 1e3 as a string
    assert "scenario 'types': grid (fx-queue): weak_fraction[1]: Input should be less than or equal to 1" in text
    assert "scenario 'reserved': parameters.output_dir: reserved" in text
    assert "scenario 'extra': paramters: Extra inputs are not permitted" in text
    assert "scenario 'missing': notebooks: 'nowhere': notebook not found" in text
    assert len(problems) == 10


@pytest.mark.parametrize("text, match", [
    ("scenarios: [", "not valid YAML"),
    ("- just a list", "expected a mapping"),
    ("# only a comment\n", "the file is empty"),
    ("scenarioz: []", "scenarioz: Extra inputs are not permitted"),
    ("scenarios: []", "scenarios: List should have at least 1 item"),
    ("scenarios:\n  - {name: 'bad name', notebooks: [x.ipynb]}", "name: use letters"),
    ("scenarios:\n  - {name: a, notebooks: []}", "notebooks: List should have at least 1 item"),
])
def test_file_level_errors(tmp_path, text, match):
    path = write(tmp_path, "f.yaml", text)
    with pytest.raises(ScenarioError, match=match) as info:
        load_scenarios(path)
    assert str(path) in str(info.value)


def test_duplicate_names_within_and_across_files(tmp_path):
    body = f"name: same\nnotebooks: [{QUEUE}]\n"
    write(tmp_path, "a.yaml", body)
    write(tmp_path, "b.yaml", body)
    with pytest.raises(ScenarioError, match="scenario names must be unique across files"):
        load_scenarios(tmp_path)
    dup = write(tmp_path / "..", "dup.yaml", f"scenarios:\n  - {{name: x, notebooks: [{QUEUE}]}}\n"
                                              f"  - {{name: x, notebooks: [{QUEUE}]}}\n")
    with pytest.raises(ScenarioError, match="duplicate scenario name 'x'"):
        load_scenarios(dup)


def test_grid_and_parameters_may_not_overlap_and_grid_values_not_empty(tmp_path):
    path = write(tmp_path, "g.yaml", f"name: g\nnotebooks: [{QUEUE}]\nparameters: {{weak_fraction: 0.2}}\n"
                                     "grid: {weak_fraction: [0.1], consistency: []}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenarios(path)
    assert "grid.weak_fraction: also set in parameters" in str(info.value)
    assert "grid.consistency: needs at least one value" in str(info.value)


def test_scenario_files_lists_yaml_and_refuses_missing(tmp_path):
    with pytest.raises(ValueError, match="no scenario files"):
        scenario_files(tmp_path)
    with pytest.raises(ValueError, match="scenario path not found"):
        scenario_files(tmp_path / "nope.yaml")
    assert [p.name for p in scenario_files(FIX / "scenarios")] == ["broken-run.yaml", "tiny.yaml"]


def test_shipped_scenarios_validate_against_the_notebooks():
    """The default set (data/scenarios) must validate against the real notebooks' parameters."""
    shipped = sorted((ROOT / "data" / "scenarios").glob("*.yaml"))
    if not shipped:
        pytest.skip("no shipped scenario files yet")
    runs = load_scenarios(ROOT / "data" / "scenarios")
    assert runs and len({r.run_id for r in runs}) == len(runs)


# ----------------------------------------------------------------------------- structure (issue 14)

_WRONG = [5, 1.5, True, None, "text", [1, 2], ["a", "b"], {"a": 1}, {"parameters": 5}, [{"x": 1}], {1: 2}]


def _paths(doc, prefix=()):
    """Every place in a nested doc (mapping keys and list items), depth first."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _replaced(doc, path, value):
    import copy

    if not path:
        return value
    doc = copy.deepcopy(doc)
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return doc


def test_every_structural_mistake_is_a_scenario_error_naming_the_file(tmp_path):
    """Replace every value of a valid file by values of other types: each load either succeeds or
    raises ScenarioError whose lines start with the file name -- never a TypeError from inside."""
    import yaml

    valid = {"description": "d",
             "defaults": {"notebooks": [str(QUEUE)], "parameters": {"service_rate_per_s": 50}},
             "scenarios": [{"name": "a", "label": "A {consistency}", "parameters": {"consistency": "weak"},
                            "grid": {"weak_fraction": [0.1, 0.5]}},
                           {"name": "b", "notebooks": [str(LAG), str(QUEUE)], "parameters": {"hot": True}}]}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(valid))
    assert len(load_scenarios(path)) == 4
    tried = refused = 0
    for where in list(_paths(valid)):
        for value in _WRONG:
            path.write_text(yaml.safe_dump(_replaced(valid, where, value)))
            tried += 1
            try:
                load_scenarios(path)
            except ScenarioError as exc:
                refused += 1
                assert exc.problems and all(p.startswith(f"{path}: ") for p in exc.problems), (where, value, exc)
                assert all(len(p) < 600 for p in exc.problems), (where, value)
    assert tried > 250 and refused > tried / 2, (tried, refused)


@pytest.mark.parametrize("text, match", [
    ("name: x\nnotebooks: [{q}]\nparameters: [a, b]\n", r"scenario 'x': parameters: expected a mapping"),
    ("defaults: {{parameters: 5}}\nscenarios: [{{name: x, notebooks: [{q}]}}]\n",
     r"defaults.parameters: expected a mapping"),
    ("scenarios: [5]\n", r"scenarios.0: Input should be a valid dictionary"),
    ("name: x\nnotebooks: {q}\n", r"scenario 'x': notebooks: Input should be a valid list"),
    ("name: x\nnotebooks: [{q}]\ngrid: {{weak_fraction: 0.5}}\n", r"grid.weak_fraction: Input should be a valid list"),
    ("name: x\nnotebooks: [{q}]\ngrid: {{weak_fraction: [0.5, 0.5]}}\n", r"grid.weak_fraction: values \['0.5'\] appear twice"),
    ("{{1: 2, name: x, notebooks: [{q}]}}\n", r"scenarios.0.1.\[key\]: Input should be a valid string"),
    ("name: x\nnotebooks: [{q}]\nlabel: '{{consistency.real}}'\n", r"label: .* cannot be filled"),
    ("name: x\nnotebooks: [{q}, {q}]\n", r"notebooks: a notebook is listed twice"),
])
def test_structural_mistakes_name_the_field(tmp_path, text, match):
    path = write(tmp_path, "s.yaml", text.format(q=QUEUE))
    with pytest.raises(ScenarioError, match=match) as info:
        load_scenarios(path)
    assert str(info.value).startswith(f"{path}: ")


def test_duplicate_keys_are_refused_merge_keys_are_not(tmp_path):
    path = write(tmp_path, "d.yaml", f"name: x\nnotebooks: [{QUEUE}]\nparameters:\n  weak_fraction: 0.1\n"
                                     "  weak_fraction: 0.9\n")
    with pytest.raises(ScenarioError, match=r"found duplicate key 'weak_fraction' \(first on line 4\)") as info:
        load_scenarios(path)
    assert "line 5" in str(info.value)
    top = write(tmp_path, "t.yaml", f"name: x\nnotebooks: [{QUEUE}]\nname: y\n")
    with pytest.raises(ScenarioError, match="found duplicate key 'name'"):
        load_scenarios(top)
    merged = write(tmp_path, "m.yaml", f"""
        defaults:
          notebooks: [{QUEUE}]
          parameters: &base {{service_rate_per_s: 30, consistency: weak}}
        scenarios:
          - name: x
            parameters: {{<<: *base, consistency: strong}}
        """)
    (run,) = load_scenarios(merged)
    assert run.parameters == {"service_rate_per_s": 30.0, "consistency": "strong"}


def test_alias_bombs_and_recursive_aliases_are_refused_quickly(tmp_path):
    import time

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    bomb = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\nname: x\nnotebooks: [*a9]\n")
    assert bomb.stat().st_size < 1200  # 10^10 values once expanded
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError, match=r"aliases expand to more than 100000 values") as info:
        load_scenarios(bomb)
    assert time.perf_counter() - t0 < 2.0 and len(str(info.value)) < 500
    rec = write(tmp_path, "rec.yaml", f"name: x\nnotebooks: [{QUEUE}]\nparameters: &p {{a: *p}}\n")
    with pytest.raises(ScenarioError, match="recursive alias"):
        load_scenarios(rec)
    ok = write(tmp_path, "ok.yaml", f"defaults: {{notebooks: &nb [{QUEUE}]}}\nscenarios:\n"
                                    "  - {name: a, notebooks: *nb}\n  - {name: b, notebooks: *nb}\n")
    assert len(load_scenarios(ok)) == 2  # ordinary aliases still work


def test_a_huge_grid_is_counted_and_planned_lazily(tmp_path):
    """10^5 points: the plan knows its size at once and streams its runs (issue 14)."""
    import itertools
    import time
    import tracemalloc

    from followerlab.scenarios import plan_scenarios

    values = ", ".join(str(round(0.001 * i, 3)) for i in range(1, 1001))
    path = write(tmp_path, "big.yaml", f"name: big\nnotebooks: [{QUEUE}]\n"
                                       f"grid: {{weak_fraction: [{values}], service_rate_per_s: "
                                       f"[{', '.join(str(10 + i) for i in range(100))}]}}\n")
    t0 = time.perf_counter()
    plan = plan_scenarios(path)
    assert len(plan) == 100_000
    n, last = 0, None
    for run in plan:
        n, last = n + 1, run
    elapsed = time.perf_counter() - t0
    assert n == 100_000 and last.parameters == {"weak_fraction": 1.0, "service_rate_per_s": 109.0}
    assert last.run_id == "big@weak_fraction=1,service_rate_per_s=109--fx-queue"
    tracemalloc.start()  # streaming: memory does not grow with the runs (measured: 0.8 MB; a list of them: 38 MB)
    kept = sum(1 for _ in itertools.islice(plan_scenarios(path), 20_000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert kept == 20_000 and peak < 10e6, peak
    assert elapsed < 30, elapsed  # measured 2-3 s on the 2-core project machine
