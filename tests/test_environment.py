"""environment.yml (conda-forge) and pyproject.toml must list the same packages."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    name = re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0]
    return name.lower().replace("_", "-")


def _pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {_name(r) for r in reqs}


def _environment_packages() -> tuple[set[str], list]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    pip = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    return conda - {"python", "pip"}, pip


def _pip_packages(pip: list) -> set[str]:
    """Packages environment.yml installs from PyPI (its pip: section), without ``-e .``."""
    return {_name(r) for section in pip for r in section if not r.strip().startswith("-")}


def test_environment_lists_the_same_packages_as_pyproject():
    conda, pip = _environment_packages()
    from_pypi = _pip_packages(pip)
    assert conda & from_pypi == set(), f"listed twice in environment.yml: {sorted(conda & from_pypi)}"
    env = conda | from_pypi
    py = _pyproject_packages()
    assert env - py == set(), f"only in environment.yml: {sorted(env - py)}"
    assert py - env == set(), f"only in pyproject.toml: {sorted(py - env)}"


def test_environment_installs_the_package_itself_with_pip():
    _, pip = _environment_packages()
    assert pip and "-e ." in pip[0]


def test_environment_uses_conda_forge():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]


def test_pip_section_names_exclude_the_editable_install():
    assert _pip_packages([["sphinx-mathjax-offline>=0.0.2", "-e ."]]) == {"sphinx-mathjax-offline"}


def test_name_parsing():
    assert _name("pytest-timeout>=2.2") == "pytest-timeout"
    assert _name("dask[distributed]>=2024.1") == "dask"
