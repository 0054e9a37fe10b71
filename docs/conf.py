"""Sphinx configuration for the followerlab API reference and guide (``make docs``).

The package is installed editable in ``.venv``, so autodoc imports it without touching
``sys.path``; project metadata comes from the installed distribution.
"""

from datetime import date
from importlib.metadata import metadata

_meta = metadata("followerlab")

project = _meta["Name"]
author = _meta.get("Author") or "followerlab developers"
release = _meta["Version"]
version = ".".join(release.split(".")[:2])
copyright = f"{date.today().year}, {author}"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax 3 served from the built site (_static/mathjax/tex-chtml.js), not from a CDN, so
    # formulas render offline. The package (docs extra) sets mathjax_path and copies MathJax's
    # files into the output when a build succeeds; tests/test_docs.py checks both.
    "sphinx-mathjax-offline",
    "numpydoc",
]

exclude_patterns = ["_build", "img", "notebooks.md"]
templates_path = []

# autodoc: source order reads like the modules do; keep signatures readable.
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "show-inheritance": False}

# autosummary only builds tables on api.rst; no generated stub pages.
autosummary_generate = False

# numpydoc: attribute/method tables for classes would need stub pages; the class docstrings
# already describe their fields.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

html_theme = "alabaster"
html_title = f"followerlab {release}"
html_static_path = []
html_theme_options = {
    "description": "What does reading from a follower cost you, and what does it buy?",
    "page_width": "1160px",
    "sidebar_width": "230px",
    "fixed_sidebar": False,
}
