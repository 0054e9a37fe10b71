"""Where the shipped data lives (RTT matrices, scenarios, measurements).

The data directory sits beside the package in the repository (``<repo>/data``).  Set the
environment variable ``FOLLOWERLAB_DATA`` to point elsewhere.

>>> data_path("regions", "azure-rtt-p50-2025-06.csv").name
'azure-rtt-p50-2025-06.csv'
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_path", "repo_root"]


def repo_root() -> Path:
    """The repository root (the folder holding ``followerlab/`` and ``data/``)."""
    return Path(__file__).resolve().parent.parent


def data_path(*parts: str) -> Path:
    """Path of a shipped data file; raises FileNotFoundError naming the path if it is absent."""
    base = Path(os.environ.get("FOLLOWERLAB_DATA", repo_root() / "data"))
    path = base.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"followerlab data file not found: {path} (set FOLLOWERLAB_DATA?)")
    return path
