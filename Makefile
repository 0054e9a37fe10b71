# followerlab: every target bootstraps the local virtual environment (.venv) when it is missing.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.followerlab-installed

.PHONY: report test bench bench-smoke accuracy docs venv clean

# The main job: the default batch report on the shipped scenarios -> reports/index.html
report: $(STAMP)
	$(PY) -m followerlab batch data/scenarios --out reports

# Every test: unit, property, simulation cross-checks, doctests, notebooks (nbval-lax),
# benchmark smoke runs, the batch end to end, the docs build, lint, etcd and browser checks
# where their system packages are installed.
test: $(STAMP)
	$(PY) -m pytest --nbval-lax --nbval-current-env followerlab tests notebooks

# Benchmarks at full size (run by hand; prints figures and ratios).
bench: $(STAMP)
	$(PY) benchmarks/run.py

bench-smoke: $(STAMP)
	$(PY) benchmarks/run.py --smoke

# The accuracy table: every formula against long simulations and exact laws -> docs/accuracy.md
# (long: reference simulations are cached in benchmarks/.cache/).
accuracy: $(STAMP)
	$(PY) benchmarks/accuracy.py

# The API reference and guide (Sphinx, the docs extra) -> docs/_build/html/index.html; a warning is an error
docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,docs]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (followerlab)"
	touch $(STAMP)

clean:
	rm -rf $(VENV) reports .pytest_cache docs/_build
