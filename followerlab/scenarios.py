"""Typed scenario files: which notebooks to run with which parameters, validated.

A notebook's ``parameters`` cell *is* its schema.  Each line follows the convention of
CONTRIBUTING.md::

    refresh_period_s: float = 120.0   # [30, 1800] s; metadata refresh period of each query head
    routing_mode: str = "random"      # {random, by_database, by_query, by_session}; weak routing
    prefetch: bool = False            # auto-prefetch on the follower
    periods_s: list = [60.0, 120.0]   # [30, 1800] s; a vectorized sweep (range of the elements)

:func:`notebook_parameters` reads those lines (name, type, default, range or choices, unit,
meaning); :func:`parameter_model` turns them into a :mod:`pydantic` model that refuses an
unknown key, a wrong type or an out-of-range value.  :func:`load_scenarios` reads scenario
files (YAML, format in ``data/scenarios/README.md``), validates every value against the schema
of each notebook that declares it, expands ``grid:`` sweeps to their Cartesian product and
returns one :class:`Run` per scenario point × notebook.  Every problem in a file is reported
at once, each line naming the file, the scenario and the field (:class:`ScenarioError`, a
:class:`ValueError`).

Why not only :func:`papermill.inspect_notebook`: papermill skips a line with two ``=`` signs,
which the convention's own example has (``# ...; "" = don't write``), and does not parse the
range comment.  The parser here uses :mod:`ast` and :mod:`tokenize` and agrees with papermill
on every line papermill can read (``tests/test_scenarios.py`` checks that).

>>> src = '''
... period_s: float = 120.0   # [30, 1800] s; refresh period
... mode: str = "random"      # {random, by_database}; routing
... '''
>>> specs = parse_parameters(src)
>>> [(s.name, s.type, s.default, s.lower, s.upper, s.unit) for s in specs][0]
('period_s', 'float', 120.0, 30.0, 1800.0, 's')
>>> specs[1].choices
('random', 'by_database')
>>> Model = parameter_model(specs, name="demo")
>>> Model(period_s=60).period_s
60.0
>>> Model(period_s=5)
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for demo
period_s
  Input should be greater than or equal to 30 ...
"""

from __future__ import annotations

import ast
import difflib
import io
import itertools
import json
import math
import re
import tokenize
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

__all__ = [
    "ParameterSpec",
    "Run",
    "ScenarioError",
    "RESERVED_PARAMETERS",
    "parse_parameters",
    "notebook_parameters",
    "parameter_model",
    "load_scenarios",
    "scenario_files",
    "default_notebook_dir",
]

#: Parameters the batch runner sets itself; a scenario may not set them.
RESERVED_PARAMETERS = ("output_dir",)

_TYPES = ("float", "int", "bool", "str", "list")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_INTERVAL_RE = re.compile(r"^\s*([\[(])\s*([^,\])]+?)\s*,\s*([^\])]+?)\s*([\])])\s*(.*)$")
_CHOICES_RE = re.compile(r"^\s*\{([^}]*)\}\s*(.*)$")


class ScenarioError(ValueError):
    """A scenario file is invalid; ``problems`` lists every problem found (one line each)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class ParameterSpec:
    """One notebook parameter as its annotated ``parameters`` cell line declares it.

    Attributes
    ----------
    name, type : str
        The variable and its type, one of ``float, int, bool, str, list``.
    default : object
        The literal default (``None`` when the default is an expression, see ``default_literal``).
    lower, upper : float or None
        Interval bounds from ``[lo, hi]`` / ``(lo, hi]`` / ``[lo, inf)``; ``None`` = unbounded.
    lower_open, upper_open : bool
        Whether a bound is excluded (``(`` / ``)``).
    choices : tuple of str or None
        Allowed values from ``{a, b}``.
    unit, help : str
        The unit (text before ``;`` after the range) and the meaning.
    element_type : str or None
        For ``list``: the type of the elements (from ``list[float]`` or the default's elements).
    """

    name: str
    type: str
    default: Any = None
    lower: float | None = None
    upper: float | None = None
    lower_open: bool = False
    upper_open: bool = False
    choices: tuple[str, ...] | None = None
    unit: str = ""
    help: str = ""
    element_type: str | None = None
    default_literal: bool = True

    def describe(self) -> str:
        """The allowed values in the notebook's notation, e.g. ``'[30, 1800] s'``."""
        if self.choices is not None:
            return "{" + ", ".join(self.choices) + "}"
        if self.lower is None and self.upper is None:
            return self.type
        lo = "-inf" if self.lower is None else f"{self.lower:g}"
        hi = "inf" if self.upper is None else f"{self.upper:g}"
        left = "(" if self.lower_open or self.lower is None else "["
        right = ")" if self.upper_open or self.upper is None else "]"
        return f"{left}{lo}, {hi}{right}" + (f" {self.unit}" if self.unit else "")


# ----------------------------------------------------------------------------- parsing


def _bound(text: str, name: str) -> float | None:
    text = text.strip()
    if text in ("inf", "+inf", "-inf", "∞", "-∞"):
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"parameter {name}: range bound {text!r} is not a number") from None


def _parse_comment(comment: str, name: str) -> dict:
    """Range/choices, unit and meaning from a parameter's comment (without the ``#``)."""
    out: dict[str, Any] = {}
    m = _INTERVAL_RE.match(comment)
    if m:
        left, lo, hi, right, rest = m.groups()
        out["lower"], out["upper"] = _bound(lo, name), _bound(hi, name)
        out["lower_open"], out["upper_open"] = left == "(", right == ")"
        unit, _, meaning = rest.partition(";")
        if not _:  # no ';': "[1, 9] voters" -> unit only
            unit, meaning = rest, ""
        out["unit"], out["help"] = unit.strip(), meaning.strip()
        return out
    m = _CHOICES_RE.match(comment)
    if m:
        out["choices"] = tuple(c.strip().strip("'\"") for c in m.group(1).split(",") if c.strip())
        out["help"] = m.group(2).lstrip(";").strip()
        return out
    out["help"] = comment.strip()
    return out


def _type_of(annotation: ast.expr | None, default: Any, name: str) -> tuple[str, str | None]:
    """(type, element type) from an annotation such as ``float`` or ``list[float]``."""
    elem = None
    if annotation is not None:
        text = ast.unparse(annotation).replace("typing.", "").replace("List", "list")
        m = re.fullmatch(r"list\[(\w+)\]", text)
        if m:
            text, elem = "list", m.group(1)
        if text not in _TYPES or (elem is not None and elem not in _TYPES[:4]):
            raise ValueError(f"parameter {name}: type {ast.unparse(annotation)!r} is not one of {', '.join(_TYPES)}")
    else:
        kinds = {bool: "bool", int: "int", float: "float", str: "str", list: "list", tuple: "list"}
        text = kinds.get(type(default))
        if text is None:
            raise ValueError(f"parameter {name}: no type annotation and default {default!r} has no known type")
    if text == "list" and elem is None and isinstance(default, (list, tuple)) and default:
        kinds = {type(v) for v in default}
        elem = "float" if kinds <= {int, float} and float in kinds else {bool: "bool", int: "int", float: "float", str: "str"}.get(next(iter(kinds)))
    return text, elem


def parse_parameters(source: str) -> list[ParameterSpec]:
    """Parse a ``parameters`` cell's source into :class:`ParameterSpec` objects.

    Each top-level assignment is one parameter; its comment is the first ``#`` comment on the
    statement's lines.  Non-assignment statements (imports) are ignored.

    Raises
    ------
    ValueError
        If the cell is not valid Python, a type is unknown, or a range bound is not a number.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"parameters cell is not valid Python: {exc}") from None
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments.setdefault(tok.start[0], tok.string[1:].strip())
    specs = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, annotation, value = node.target.id, node.annotation, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, annotation, value = node.targets[0].id, None, node.value
        else:
            continue
        try:
            default, literal = ast.literal_eval(value), True
        except ValueError:
            default, literal = None, False
        if isinstance(default, tuple):
            default = list(default)
        typ, elem = _type_of(annotation, default, name)
        comment = next((comments[i] for i in range(node.lineno, node.end_lineno + 1) if i in comments), "")
        specs.append(ParameterSpec(name=name, type=typ, default=default, element_type=elem,
                                   default_literal=literal, **_parse_comment(comment, name)))
    return specs


def _parameters_cell(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return cell.source
    raise ValueError("no cell tagged 'parameters'")


@lru_cache(maxsize=64)
def _notebook_parameters_cached(path: str, mtime_ns: int) -> tuple[ParameterSpec, ...]:
    import nbformat  # imported here: the batch process first trims jsonschema's imports (see batch)

    nb = nbformat.read(path, as_version=4)
    try:
        return tuple(parse_parameters(_parameters_cell(nb)))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def notebook_parameters(path: str | Path) -> list[ParameterSpec]:
    """The parameters a notebook declares (its cell tagged ``parameters``), parsed.

    Raises
    ------
    ValueError
        If the notebook has no ``parameters`` cell or the cell cannot be parsed (names the path).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"notebook not found: {path}")
    return list(_notebook_parameters_cached(str(path.resolve()), path.stat().st_mtime_ns))


# ----------------------------------------------------------------------------- pydantic models


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number; got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"must be finite; got {value!r}")
    return value


def _integer(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
        isinstance(value, float) and not value.is_integer()
    ):
        raise ValueError(f"must be a whole number; got {value!r}")
    return int(value)


def _boolean(value):
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false; got {value!r}")
    return value


def _string(value):
    if not isinstance(value, str):
        raise ValueError(f"must be a string; got {value!r}")
    return value


def _scalar_type(typ: str, spec: ParameterSpec):
    """An Annotated pydantic type for one scalar of type ``typ`` with the spec's range/choices."""
    if spec.choices is not None and typ == "str":
        return Annotated[Literal[spec.choices], BeforeValidator(_string)]  # type: ignore[valid-type]
    if typ in ("float", "int"):
        bounds = {}
        if spec.lower is not None:
            bounds["gt" if spec.lower_open else "ge"] = spec.lower
        if spec.upper is not None:
            bounds["lt" if spec.upper_open else "le"] = spec.upper
        if typ == "int":
            return Annotated[int, BeforeValidator(_integer), Field(**bounds)]
        return Annotated[float, BeforeValidator(_number), Field(**bounds)]
    if typ == "bool":
        return Annotated[bool, BeforeValidator(_boolean)]
    return Annotated[str, BeforeValidator(_string)]


def parameter_model(specs: list[ParameterSpec], *, name: str = "parameters") -> type[BaseModel]:
    """A pydantic model with one optional field per parameter (``None`` = the notebook's default).

    Unknown keys are refused (``extra='forbid'``); numbers must be finite numbers (``"1e3"``,
    which YAML 1.1 reads as a string, is refused, as are ``true``, ``.nan`` and ``.inf``);
    ranges and choices come from the comments.  Reserved parameters (``output_dir``) are left out: the batch runner sets them.
    """
    fields: dict[str, Any] = {}
    for spec in specs:
        if spec.name in RESERVED_PARAMETERS:
            continue
        if spec.type == "list":
            if spec.element_type is None:  # empty default, no list[...] annotation: infer from the comment
                numeric = spec.lower is not None or spec.upper is not None
                elem = _scalar_type("float", spec) if numeric else (
                    _scalar_type("str", spec) if spec.choices is not None else Any)
            else:
                elem = _scalar_type(spec.element_type, spec) if spec.element_type != "list" else Any
            typ = list[elem]  # type: ignore[valid-type]
        else:
            typ = _scalar_type(spec.type, spec)
        fields[spec.name] = (Optional[typ], Field(default=None, description=spec.help))
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


# ----------------------------------------------------------------------------- scenario files


class _ScenarioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    label: str = ""
    description: str = ""
    notebooks: list[str] = Field(min_length=1)
    parameters: dict[str, Any] = {}
    grid: dict[str, list[Any]] = {}
    objectives: Any = None  # checked by followerlab.constraints.parse_policy
    constraints: Any = None
    configuration_axes: Any = None


class _ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = ""
    defaults: dict[str, Any] = {}
    scenarios: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Run:
    """One notebook execution: a scenario point (after grid expansion) on one notebook.

    ``parameters`` are the values the scenario sets (validated, as papermill will pass them);
    ``effective`` adds the notebook's defaults for the rest (what the run computes with).
    """

    scenario: str
    base_scenario: str
    notebook: Path
    parameters: dict
    effective: dict
    source: Path
    description: str = ""
    grid_point: dict = field(default_factory=dict)
    label: str = ""

    @property
    def notebook_name(self) -> str:
        return self.notebook.stem

    @property
    def run_id(self) -> str:
        """A folder-safe unique id: ``<scenario>--<notebook>``."""
        return re.sub(r"[^A-Za-z0-9._=,@+\-]", "_", f"{self.scenario}--{self.notebook_name}")


def default_notebook_dir() -> Path:
    """``<repo>/notebooks``, where scenario files name notebooks by their stem."""
    from ._data import repo_root

    return repo_root() / "notebooks"


def scenario_files(paths) -> list[Path]:
    """Expand folders to their ``*.yaml`` / ``*.yml`` files (sorted); refuse missing paths."""
    out: list[Path] = []
    for p in [paths] if isinstance(paths, (str, Path)) else paths:
        p = Path(p)
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml") and q.is_file())
        elif p.is_file():
            out.append(p)
        else:
            raise ValueError(f"scenario path not found: {p}")
    if not out:
        raise ValueError(f"no scenario files (*.yaml) in {[str(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]}")
    return out


def _resolve_notebook(ref: str, source: Path, notebook_dir: Path) -> Path:
    """A stem like ``01-follower-lag`` is looked up in ``notebook_dir``; a path (with ``/`` or
    ``.ipynb``) is taken relative to the scenario file's folder."""
    if "/" in ref or ref.endswith(".ipynb"):
        path = (source.parent / ref).resolve()
    else:
        path = (notebook_dir / f"{ref}.ipynb").resolve()
    return path


def _fmt_value(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return f"{v:g}"
    if isinstance(v, (list, dict)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _pydantic_problems(exc: ValidationError, where: str, prefix: str) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        got = "" if "got" in msg else f"; got {err.get('input')!r}"
        out.append(f"{where}: {prefix}{loc}: {msg}{got}")
    return out


def _load_file(path: Path, notebook_dir: Path) -> tuple[list[Run], list[str]]:
    problems: list[str] = []
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return [], [f"{path}: not valid YAML: {exc}"]
    if isinstance(doc, dict) and "scenarios" not in doc and "name" in doc:
        doc = {"scenarios": [doc]}  # one scenario per file
    if doc is None:  # an empty file, or only comments
        return [], [f"{path}: the file is empty; expected 'scenarios:' (a list) or one scenario with 'name:'"]
    if not isinstance(doc, dict):
        return [], [f"{path}: expected a mapping with 'scenarios:' (or one scenario with 'name:'); got {type(doc).__name__}"]
    try:
        top = _ScenarioFile(**doc)
    except ValidationError as exc:
        return [], _pydantic_problems(exc, str(path), "")
    runs: list[Run] = []
    names: set[str] = set()
    for i, raw in enumerate(top.scenarios):
        merged = {**{k: v for k, v in top.defaults.items() if k not in ("parameters",)}, **raw}
        merged["parameters"] = {**top.defaults.get("parameters", {}), **raw.get("parameters", {})}
        label = repr(raw.get("name", f"#{i + 1}"))
        where = f"{path}: scenario {label}"
        try:
            sc = _ScenarioSpec(**merged)
        except ValidationError as exc:
            problems += _pydantic_problems(exc, where, "")
            continue
        if not _NAME_RE.match(sc.name):
            problems.append(f"{where}: name: use letters, digits, '_', '-', '.' only; got {sc.name!r}")
            continue
        if sc.name in names:
            problems.append(f"{where}: name: duplicate scenario name {sc.name!r} in this file")
            continue
        names.add(sc.name)
        from .constraints import parse_policy  # objectives, constraints, configuration_axes

        problems += parse_policy(merged, where, list(sc.grid))[1]
        # schemas of the notebooks this scenario runs
        schemas: dict[Path, dict[str, ParameterSpec]] = {}
        for ref in sc.notebooks:
            nb = _resolve_notebook(ref, path, notebook_dir)
            try:
                schemas[nb] = {s.name: s for s in notebook_parameters(nb)}
            except ValueError as exc:
                problems.append(f"{where}: notebooks: {ref!r}: {exc}")
        if len(schemas) != len(sc.notebooks):
            continue
        known = sorted({k for s in schemas.values() for k in s} - set(RESERVED_PARAMETERS))
        bad = False
        overlap = set(sc.parameters) & set(sc.grid)
        for key in sorted(overlap):
            problems.append(f"{where}: grid.{key}: also set in parameters; set it in one place")
            bad = True
        for section, keys in (("parameters", sc.parameters), ("grid", sc.grid)):
            for key in keys:
                if key in RESERVED_PARAMETERS:
                    problems.append(f"{where}: {section}.{key}: reserved, the batch runner sets it")
                    bad = True
                elif key not in known:
                    nbs = ", ".join(p.stem for p in schemas)
                    problems.append(f"{where}: {section}.{key}: unknown parameter (not declared by {nbs})"
                                    f"{_suggest(key, known)}")
                    bad = True
        for key, values in sc.grid.items():
            if not values:
                problems.append(f"{where}: grid.{key}: needs at least one value")
                bad = True
        # validate each known value against every notebook that declares it (even when some
        # keys above were wrong, so that one pass reports every problem)
        for nb, schema in schemas.items():
            model = parameter_model(list(schema.values()), name=nb.stem)
            mine = {k: v for k, v in sc.parameters.items() if k in schema and k not in RESERVED_PARAMETERS}
            try:
                model(**mine)
            except ValidationError as exc:
                problems += _pydantic_problems(exc, where, f"parameters ({nb.stem}): ")
                bad = True
            for key, values in sc.grid.items():
                if key not in schema or key in RESERVED_PARAMETERS:
                    continue
                for j, v in enumerate(values):
                    try:
                        model(**{key: v})
                    except ValidationError as exc:
                        problems += [p.replace(f": {key}:", f": {key}[{j}]:", 1)
                                     for p in _pydantic_problems(exc, where, f"grid ({nb.stem}): ")]
                        bad = True
        if sc.label:
            probe = {k: (v[0] if k in sc.grid else v) for k, v in {**sc.parameters, **sc.grid}.items()}
            for schema in schemas.values():
                probe.update({n: s.default for n, s in schema.items() if n not in probe})
            try:
                sc.label.format(**probe)
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(f"{where}: label: {sc.label!r} cannot be filled from the parameters "
                                f"({type(exc).__name__}: {exc})")
                bad = True
        if bad:
            continue
        keys = list(sc.grid)
        for combo in itertools.product(*(sc.grid[k] for k in keys)) if keys else [()]:
            point = dict(zip(keys, combo))
            scen = sc.name + ("@" + ",".join(f"{k}={_fmt_value(v)}" for k, v in point.items()) if point else "")
            values = {k: v for schema in schemas.values() for k, v in ((n, s.default) for n, s in schema.items())}
            values.update({**sc.parameters, **point})
            label = sc.label.format(**{k: _fmt_value(v) if isinstance(v, float) else v for k, v in values.items()}) \
                if sc.label else scen
            for nb, schema in schemas.items():
                model = parameter_model(list(schema.values()), name=nb.stem)
                given = {k: v for k, v in {**sc.parameters, **point}.items() if k in schema}
                validated = model(**given).model_dump()
                params = {k: validated[k] for k in given}
                effective = {s.name: s.default for s in schema.values() if s.name not in RESERVED_PARAMETERS}
                effective.update(params)
                runs.append(Run(scenario=scen, base_scenario=sc.name, notebook=nb, parameters=params,
                                effective=effective, source=path, description=sc.description,
                                grid_point=point, label=label))
    return runs, problems


def load_scenarios(paths, *, notebook_dir: str | Path | None = None, notebooks=None) -> list[Run]:
    """Read, validate and expand scenario files into runs.

    Parameters
    ----------
    paths : path or sequence of paths
        Scenario files or folders (every ``*.yaml`` in them).
    notebook_dir : path, optional
        Where notebook stems are looked up; default ``<repo>/notebooks``.
    notebooks : sequence of str, optional
        Keep only runs of these notebooks (stems or file names).

    Returns
    -------
    list of Run
        One per scenario point × notebook, in file order; ``run_id`` values are unique.

    Raises
    ------
    ScenarioError
        Listing every problem in every file (file, scenario, field, what is wrong).
    ValueError
        If ``notebooks`` names a notebook no scenario runs.
    """
    notebook_dir = Path(notebook_dir) if notebook_dir is not None else default_notebook_dir()
    runs: list[Run] = []
    problems: list[str] = []
    for path in scenario_files(paths):
        r, p = _load_file(path, notebook_dir)
        runs += r
        problems += p
    seen: dict[str, Run] = {}
    for run in runs:
        if run.run_id in seen:
            problems.append(f"{run.source}: scenario {run.base_scenario!r}: run {run.run_id!r} also comes from "
                            f"{seen[run.run_id].source}; scenario names must be unique across files")
        seen.setdefault(run.run_id, run)
    if problems:
        raise ScenarioError(problems)
    if notebooks:
        wanted = {Path(n).stem for n in notebooks}
        unknown = sorted(wanted - {r.notebook_name for r in runs})
        if unknown:
            have = sorted({r.notebook_name for r in runs})
            raise ValueError(f"notebooks: no scenario runs {unknown}; the scenarios run {have}")
        runs = [r for r in runs if r.notebook_name in wanted]
    return runs

