"""Typed scenario files: which notebooks to run with which parameters, validated.

A notebook's parameters are declared once, in the registry :mod:`followerlab.parameters`
(name, type, unit, domain, default, meaning); its ``parameters`` cell is generated from
there (``python -m followerlab params --write``).  :func:`notebook_parameters` gives a
notebook's parameters as :class:`ParameterSpec` objects -- from the registry for the
notebooks it declares, otherwise (a notebook of your own, the test fixtures) parsed from
the cell tagged ``parameters``, whose lines follow the convention of CONTRIBUTING.md::

    refresh_period_s: float = 120.0   # [30, 1800] s; metadata refresh period of each query head
    routing_mode: str = "random"      # {random, by_database, by_query, by_session}; weak routing
    prefetch: bool = False            # auto-prefetch on the follower
    periods_s: list = [60.0, 120.0]   # [30, 1800] s; a vectorized sweep (range of the elements)

:func:`parse_parameters` reads those lines (name, type, default, range or choices, unit,
meaning); :func:`parameter_model` turns specs into a :mod:`pydantic` model that refuses an
unknown key, a wrong type or an out-of-range value; :func:`parameter_domain` gives one
parameter's range or choices.  :func:`load_scenarios` reads scenario
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

from . import parameters as _registry
from .constraints import parse_policy  # objectives, constraints, configuration_axes of a scenario

__all__ = [
    "ParameterSpec",
    "Run",
    "ScenarioError",
    "RESERVED_PARAMETERS",
    "parse_parameters",
    "notebook_parameters",
    "parameter_domain",
    "spec_of",
    "parameter_model",
    "load_scenarios",
    "plan_scenarios",
    "ScenarioPlan",
    "MAX_YAML_VALUES",
    "scenario_files",
    "default_notebook_dir",
]

#: Parameters the batch runner sets itself; a scenario may not set them (the registry's list:
#: ``output_dir``, and ``sweep``, the JSON of a scenario's ``sweep:``, see :mod:`followerlab.sweep`).
RESERVED_PARAMETERS = _registry.RESERVED

_TYPES = _registry.TYPES
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


def spec_of(parameter: _registry.Parameter) -> ParameterSpec:
    """A registry :class:`~followerlab.parameters.Parameter` as a :class:`ParameterSpec`.

    The same spec :func:`parse_parameters` reads from the line
    :meth:`~followerlab.parameters.Parameter.line` generates (the agreement test checks it).
    """
    d = parameter.domain
    rng = {}
    if isinstance(d, _registry.Interval):
        rng = dict(lower=None if d.lower is None else float(d.lower), upper=None if d.upper is None else float(d.upper),
                   lower_open=d.lower_open or d.lower is None, upper_open=d.upper_open or d.upper is None)
    elif isinstance(d, _registry.Choices):
        rng = dict(choices=d.values)
    default = list(parameter.default) if parameter.type == "list" else parameter.default
    return ParameterSpec(name=parameter.name, type=parameter.type, default=default, unit=parameter.unit,
                         help=parameter.help, element_type=parameter.element_type, **rng)


def notebook_parameters(path: str | Path) -> list[ParameterSpec]:
    """The parameters a notebook declares.

    From the registry (:mod:`followerlab.parameters`) when it declares the notebook's stem
    (the shipped notebooks), else parsed from the notebook's cell tagged ``parameters``.

    Raises
    ------
    ValueError
        If the notebook file does not exist, or (not in the registry) it has no
        ``parameters`` cell or the cell cannot be parsed (names the path).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"notebook not found: {path}")
    if path.stem in _registry.NOTEBOOKS:
        return [spec_of(p) for p in _registry.parameters_of(path.stem)]
    return list(_notebook_parameters_cached(str(path.resolve()), path.stat().st_mtime_ns))


def parameter_domain(notebook: str | Path, name: str):
    """The allowed values of parameter ``name`` of ``notebook`` (a registered stem or a path).

    Returns a :class:`followerlab.parameters.Interval` (numbers; for a ``list``, of each
    element), a :class:`followerlab.parameters.Choices`, or ``None`` (any value of its type).
    A sweep checks its axis endpoints with ``domain.contains(value)``.

    >>> parameter_domain("02-admin-node-load", "refresh_period_s")
    Interval(lower=30, upper=1800, lower_open=False, upper_open=False)

    Raises
    ------
    ValueError
        If the notebook is unknown or does not declare ``name``.
    """
    stem = Path(str(notebook)).stem if str(notebook).endswith(".ipynb") else str(notebook)
    if stem in _registry.NOTEBOOKS:
        return _registry.domain(stem, name)
    specs = {s.name: s for s in notebook_parameters(notebook)}
    if name not in specs:
        raise ValueError(f"{notebook}: no parameter {name!r}{_suggest(name, sorted(specs))}")
    s = specs[name]
    if s.choices is not None:
        return _registry.Choices(s.choices)
    if s.lower is None and s.upper is None:
        return None
    return _registry.Interval(s.lower, s.upper, s.lower_open, s.upper_open)


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
    ranges and choices come from the specs (the registry, or a cell's comments).  Reserved parameters (``output_dir``) are left out: the batch runner sets them.
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
    sweep: Any = None        # checked by followerlab.sweep.parse_spec / validate_axes
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


def _short(value, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters (a huge value must not flood the message)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 5] + " ...>"


def _pydantic_problems(exc: ValidationError, where: str, prefix: str) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if len(msg) > 200:
            msg = msg[:195] + " ..."
        got = "" if "got" in msg else f"; got {_short(err.get('input'))}"
        out.append(f"{where}: {prefix}{loc}: {msg}{got}")
    return out


# ----------------------------------------------------------------------------- YAML reading

#: A scenario file may expand (aliases counted at every use) to at most this many YAML values.
MAX_YAML_VALUES = 100_000


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that refuses a key given twice in one mapping (YAML 1.2 forbids it;
    PyYAML would silently keep the last value)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # '<<: *base' entries may be overridden, that is their point
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # an unhashable key: SafeLoader reports it below
                    continue
                if first is not key_node:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"found duplicate key {_short(key)} (first on line {first.start_mark.line + 1})",
                        key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root) -> int:
    """The number of YAML values ``root`` stands for once every alias is expanded.

    Raises ValueError beyond :data:`MAX_YAML_VALUES` or for a recursive alias.  Linear in the
    number of distinct nodes (sizes are memoized per node), so an alias bomb is refused at once.
    """
    size: dict[int, int] = {}
    active: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else \
                node.value if isinstance(node, yaml.SequenceNode) else []
            total = 1 + sum(size[id(c)] for c in children)
            if total > MAX_YAML_VALUES:
                raise ValueError(f"aliases expand to more than {MAX_YAML_VALUES} values (an alias bomb?); "
                                 f"a scenario file needs far fewer (line {node.start_mark.line + 1})")
            size[key] = total
            continue
        if key in size:
            continue
        if key in active:
            raise ValueError(f"a recursive alias (an anchor used inside itself, line {node.start_mark.line + 1})")
        active.add(key)
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            stack += [(c, False) for pair in node.value for c in pair if id(c) not in size]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(c, False) for c in node.value if id(c) not in size]
    return size[id(root)]


def _read_yaml(text: str):
    """Parse one YAML document with :class:`_StrictLoader`, after bounding its alias expansion.

    Raises yaml.YAMLError (syntax, duplicate key) or ValueError (alias bomb, recursive alias).
    """
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


# ----------------------------------------------------------------------------- expansion


@dataclass
class _Expansion:
    """One validated scenario, expanded lazily into runs (grid points × notebooks)."""

    sc: Any
    source: Path
    schemas: dict            # notebook path -> {name: ParameterSpec}
    params: dict             # notebook path -> validated scenario parameters it declares
    grid: dict               # notebook path -> {key: [validated values]} for the keys it declares
    wanted: frozenset | None = None
    sweep: str = ""          # the JSON of a validated sweep spec: one run per notebook receives it

    def notebooks(self) -> list[Path]:
        return [nb for nb in self.schemas if self.wanted is None or nb.stem in self.wanted]

    @property
    def count(self) -> int:
        if self.sweep:
            return len(self.notebooks())
        return math.prod(len(v) for v in self.sc.grid.values()) * len(self.notebooks())

    def __iter__(self):
        sc, keys = self.sc, list(self.sc.grid)
        nbs = self.notebooks()
        if not nbs:
            return
        base = {k: v for schema in self.schemas.values() for k, v in ((n, s.default) for n, s in schema.items())}
        base.update(sc.parameters)
        defaults = {nb: {s.name: s.default for s in schema.values() if s.name not in RESERVED_PARAMETERS}
                    for nb, schema in self.schemas.items()}
        if self.sweep:
            for nb in nbs:
                params = {**self.params[nb], "sweep": self.sweep}
                yield Run(scenario=sc.name, base_scenario=sc.name, notebook=nb, parameters=params,
                          effective={**defaults[nb], **params}, source=self.source, description=sc.description,
                          grid_point={}, label=sc.label.format(**{k: _fmt_value(v) if isinstance(v, float) else v
                                                                  for k, v in base.items()}) if sc.label else sc.name)
            return
        for combo in itertools.product(*(range(len(sc.grid[k])) for k in keys)):
            point = {k: sc.grid[k][i] for k, i in zip(keys, combo)}
            scen = sc.name + ("@" + ",".join(f"{k}={_fmt_value(v)}" for k, v in point.items()) if point else "")
            if sc.label:
                values = {**base, **point}
                label = sc.label.format(**{k: _fmt_value(v) if isinstance(v, float) else v for k, v in values.items()})
            else:
                label = scen
            for nb in nbs:
                grid = self.grid[nb]
                params = dict(self.params[nb])
                params.update({k: grid[k][i] for k, i in zip(keys, combo) if k in grid})
                yield Run(scenario=scen, base_scenario=sc.name, notebook=nb, parameters=params,
                          effective={**defaults[nb], **params}, source=self.source, description=sc.description,
                          grid_point=point, label=label)


def _load_file(path: Path, notebook_dir: Path) -> tuple[list[_Expansion], list[str]]:
    problems: list[str] = []
    try:
        doc = _read_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, ValueError) as exc:
        return [], [f"{path}: not valid YAML: {exc}"]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}: cannot read: {exc}"]
    if isinstance(doc, dict) and "scenarios" not in doc and "name" in doc:
        doc = {"scenarios": [doc]}  # one scenario per file
    if doc is None:  # an empty file, or only comments
        return [], [f"{path}: the file is empty; expected 'scenarios:' (a list) or one scenario with 'name:'"]
    if not isinstance(doc, dict):
        return [], [f"{path}: expected a mapping with 'scenarios:' (or one scenario with 'name:'); got {type(doc).__name__}"]
    try:
        top = _ScenarioFile.model_validate(doc)
    except ValidationError as exc:
        return [], _pydantic_problems(exc, str(path), "")
    default_params = top.defaults.get("parameters", {})
    if not isinstance(default_params, dict):
        return [], [f"{path}: defaults.parameters: expected a mapping (name: value); "
                    f"got {type(default_params).__name__} {_short(default_params)}"]
    expansions: list[_Expansion] = []
    names: set[str] = set()
    for i, raw in enumerate(top.scenarios):
        label = _short(raw["name"]) if isinstance(raw.get("name"), str) else f"#{i + 1}"
        where = f"{path}: scenario {label}"
        own_params = raw.get("parameters", {})
        if not isinstance(own_params, dict):
            problems.append(f"{where}: parameters: expected a mapping (name: value); "
                            f"got {type(own_params).__name__} {_short(own_params)}")
            continue
        merged = {**{k: v for k, v in top.defaults.items() if k not in ("parameters",)}, **raw}
        merged["parameters"] = {**default_params, **own_params}
        try:
            sc = _ScenarioSpec.model_validate(merged)
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
            if len(set(sc.notebooks)) != len(sc.notebooks):
                problems.append(f"{where}: notebooks: a notebook is listed twice")
            continue
        stems = [nb.stem for nb in schemas]
        if len(set(stems)) != len(stems):
            problems.append(f"{where}: notebooks: two notebooks named {sorted({s for s in stems if stems.count(s) > 1})} "
                            "would give the same run names; rename one")
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
            names_of = [re.sub(r"[^A-Za-z0-9._=,@+\-]", "_", _fmt_value(v)) for v in values]
            dups = sorted({n for n in names_of if names_of.count(n) > 1}) if len(set(names_of)) < len(names_of) else []
            if dups:
                problems.append(f"{where}: grid.{key}: values {dups} appear twice (or name the same run)")
                bad = True
        # validate each known value against every notebook that declares it (even when some
        # keys above were wrong, so that one pass reports every problem)
        validated: dict[Path, dict] = {}
        validated_grid: dict[Path, dict] = {}
        for nb, schema in schemas.items():
            model = parameter_model(list(schema.values()), name=nb.stem)
            mine = {k: v for k, v in sc.parameters.items() if k in schema and k not in RESERVED_PARAMETERS}
            try:
                dumped = model(**mine).model_dump()
                validated[nb] = {k: dumped[k] for k in mine}
            except ValidationError as exc:
                problems += _pydantic_problems(exc, where, f"parameters ({nb.stem}): ")
                bad = True
            validated_grid[nb] = {}
            for key, values in sc.grid.items():
                if key not in schema or key in RESERVED_PARAMETERS:
                    continue
                validated_grid[nb][key] = []
                for j, v in enumerate(values):
                    try:
                        validated_grid[nb][key].append(model(**{key: v}).model_dump()[key])
                    except ValidationError as exc:
                        problems += [p.replace(f": {key}:", f": {key}[{j}]:", 1)
                                     for p in _pydantic_problems(exc, where, f"grid ({nb.stem}): ")]
                        bad = True
        if sc.label:
            probe = {k: (v[0] if k in sc.grid and v else v) for k, v in {**sc.parameters, **sc.grid}.items()}
            for schema in schemas.values():
                probe.update({n: s.default for n, s in schema.items() if n not in probe})
            try:
                sc.label.format(**probe)
            except Exception as exc:  # KeyError, IndexError, ValueError, AttributeError ('{a.b}')
                problems.append(f"{where}: label: {sc.label!r} cannot be filled from the parameters "
                                f"({type(exc).__name__}: {exc})")
                bad = True
        sweep_json = ""
        if sc.sweep is not None:
            sweep_problems = _check_sweep(sc, schemas, where)
            problems += sweep_problems
            bad = bad or bool(sweep_problems)
            if not sweep_problems:
                from . import sweep as _sweep

                sweep_json = json.dumps(_sweep.parse_spec(sc.sweep), separators=(",", ":"))  # axis order kept
        if bad:
            continue
        expansions.append(_Expansion(sc=sc, source=path, schemas=schemas, params=validated, grid=validated_grid,
                                     sweep=sweep_json))
    return expansions, problems


def _check_sweep(sc, schemas: dict, where: str) -> list[str]:
    """Problems with a scenario's ``sweep:``: its structure (:func:`followerlab.sweep.parse_spec`),
    then each axis against each notebook's sweep model and parameter domains."""
    from . import sweep as _sweep

    if sc.grid:
        return [f"{where}: sweep: a scenario has grid: (one run per point) or sweep: (one run), not both"]
    try:
        spec = _sweep.parse_spec(sc.sweep, where=where)
    except _sweep.SweepSpecError as exc:
        return exc.problems
    problems = [f"{where}: sweep.axes.{k}: also set in parameters; set it in one place"
                for k in spec["axes"] if k in sc.parameters]
    for nb, schema in schemas.items():
        model = parameter_model(list(schema.values()), name=nb.stem)

        def check(name, value, model=model):
            try:
                model(**{name: value})
            except ValidationError as exc:
                err = exc.errors()[0]
                raise ValueError(f"{err['msg'].removeprefix('Value error, ')}; got {_short(value)}") from None

        problems += _sweep.validate_axes(spec, nb.stem, schema, check, where)
    return problems


class ScenarioPlan:
    """Validated scenario files, expanded lazily: ``len(plan)`` runs, iterate for the :class:`Run` objects.

    Built by :func:`plan_scenarios`; everything is validated before it returns, so iterating
    never raises.  Expansion is streaming: a 10^5-point grid is counted at once and yields its
    runs one by one instead of holding them all.
    """

    def __init__(self, expansions: list[_Expansion]):
        self._expansions = expansions

    def __len__(self) -> int:
        return sum(e.count for e in self._expansions)

    def __iter__(self):
        for e in self._expansions:
            yield from e


def plan_scenarios(paths, *, notebook_dir: str | Path | None = None, notebooks=None) -> ScenarioPlan:
    """Read and validate scenario files; return a lazily expanded :class:`ScenarioPlan`.

    Same checks and errors as :func:`load_scenarios` (which is ``list(plan_scenarios(...))``),
    without building every run first.
    """
    notebook_dir = Path(notebook_dir) if notebook_dir is not None else default_notebook_dir()
    expansions: list[_Expansion] = []
    problems: list[str] = []
    owner: dict[str, Path] = {}
    for path in scenario_files(paths):
        e, p = _load_file(path, notebook_dir)
        problems += p
        for exp in e:
            name = exp.sc.name
            if name in owner:
                problems.append(f"{path}: scenario {name!r}: name: also used in {owner[name]}; "
                                "scenario names must be unique across files")
                continue
            owner[name] = path
            expansions.append(exp)
    if problems:
        raise ScenarioError(problems)
    if notebooks:
        wanted = frozenset(Path(n).stem for n in notebooks)
        have = sorted({nb.stem for e in expansions for nb in e.schemas})
        unknown = sorted(wanted - set(have))
        if unknown:
            raise ValueError(f"notebooks: no scenario runs {unknown}; the scenarios run {have}")
        for e in expansions:
            e.wanted = wanted
    return ScenarioPlan(expansions)


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
        Listing every problem in every file (file, scenario, field, what is wrong): wrong
        structure or types, unknown keys, a key given twice in one mapping, aliases that expand
        beyond :data:`MAX_YAML_VALUES` values, out-of-range values.
    ValueError
        If ``notebooks`` names a notebook no scenario runs.
    """
    return list(plan_scenarios(paths, notebook_dir=notebook_dir, notebooks=notebooks))
