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
