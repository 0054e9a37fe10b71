"""Repository-wide pytest setup: headless matplotlib for doctests and notebooks."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
