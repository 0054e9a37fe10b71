# followerlab: every target bootstraps the local virtual environment (.venv) when it is missing.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.followerlab-installed
DOCS_STAMP = $(VENV)/.followerlab-docs-installed

.PHONY: report test bench bench-smoke docs venv clean

# The main job: the default batch report on the shipped scenarios -> reports/index.html
report: $(STAMP)
	$(PY) -m followerlab batch data/scenarios --out reports

# Every test: unit, property, simulation cross-checks, doctests, notebooks (nbval-lax),
# benchmark smoke runs, the batch end to end, etcd and browser checks where installed.
test: $(STAMP)
	$(PY) -m pytest --nbval-lax --nbval-current-env followerlab tests notebooks

# Benchmarks at full size (run by hand; prints figures and ratios).
bench: $(STAMP)
	$(PY) benchmarks/run.py

bench-smoke: $(STAMP)
	$(PY) benchmarks/run.py --smoke

# The API reference and guide (Sphinx, the docs extra) -> docs/_build/html/index.html
docs: $(DOCS_STAMP)
	$(VENV)/bin/sphinx-build -b html docs docs/_build/html

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (followerlab)"
	touch $(STAMP)

# A separate stamp: the docs extra is installed on top, without touching $(STAMP).
$(DOCS_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

clean:
	rm -rf $(VENV) reports .pytest_cache docs/_build
