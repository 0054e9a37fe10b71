"""Raft read paths as objects: the registry, READ_PATHS derived from it, and who reads the list."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from followerlab import raft
from followerlab.raft import paths

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo():
    return raft.load_rtt("crdb-demo-rtt-2019.csv")


def test_read_paths_are_derived_from_the_registered_objects():
    assert raft.READ_PATHS == ("leaseholder", "follower", "bounded", "global")
    assert raft.READ_PATHS == tuple(name for name, obj in paths._REGISTRY.items() if obj.listed)
    for name in (*raft.READ_PATHS, "readindex"):
        obj = raft.read_path(name)
        assert isinstance(obj, raft.ReadPath) and obj.name == name and raft.read_path(obj) is obj
    assert [n for n in raft.READ_PATHS if raft.read_path(n).global_table] == ["global"]
    assert not raft.read_path("readindex").listed


def test_unknown_path_names_the_parameter_and_suggests(demo):
    p = raft.spread_placement(demo, "us-east1")
    with pytest.raises(ValueError, match=r"path must be one of .*got 'boundd' \(did you mean 'bounded'\?\)"):
        raft.read_latency(demo, p, "us-west1", "boundd")
    with pytest.raises(ValueError, match="path must be one of"):
        raft.read_path(3)


def test_registration_refuses_duplicates_and_non_paths():
    with pytest.raises(ValueError, match="'follower' is already registered"):
        @raft.register_read_path
        @dataclass(frozen=True)
        class Again(raft.ReadPath):
            name = "follower"
    with pytest.raises(ValueError, match="needs a ReadPath subclass with a name"):
        raft.register_read_path(object)
    assert "Again" not in {type(o).__name__ for o in paths._REGISTRY.values()}


def test_a_new_path_is_one_class(demo, monkeypatch):
    # the example of docs/architecture.rst: a stale read from the nearest *voter*
    monkeypatch.setattr(paths, "_REGISTRY", dict(paths._REGISTRY))  # undone after the test

    @raft.register_read_path
    @dataclass(frozen=True)
    class NearestVoterRead(raft.ReadPath):
        name = "nearest_voter"
        listed = False
        title_template = "nearest voter"

        def latency(self, site):
            arr = site.topology.values
            voters = [site.topology.regions.index(v) for v in site.placement.voters]
            best = min(arr[site.client, v] if v != site.client else site.intra_ms for v in voters)
            return raft.PathLatency.always(site, site.intra_ms + best)

        def staleness(self, site):
            return raft.PathStaleness(site.zero + site.closed_age.max_s, site.zero + site.closed_age.max_s)

    p = raft.spread_placement(demo, "us-east1", n_voters=2)  # voters us-east1, europe-west1; us-west1 non-voter
    r = raft.read_latency(demo, p, "us-west1", "nearest_voter", intra_region_rtt_ms=1.0)
    assert float(r.mean_ms) == 1.0 + 66.0 and r.path == "nearest_voter"  # us-east1 (66) is nearer than europe (146)
    assert float(r.staleness_max_s) == pytest.approx(3.2 + 0.033)  # target + interval + 66/2 ms from the leaseholder
    assert float(raft.read_latency(demo, p, "us-west1", "follower", intra_region_rtt_ms=1.0).mean_ms) == 2.0


def test_paths_against_their_closed_forms(demo):
    # independent of the path classes: nearest replica, leaseholder and closed-timestamp age by hand
    p = raft.spread_placement(demo, "us-east1", n_voters=2)  # us-west1 holds a non-voter
    site = raft.read_site(demo, p, "us-west1", intra_region_rtt_ms=1.0, max_staleness_s=np.array([3.0, 3.1, 9.0]))
    assert (float(site.to_nearest_ms), float(site.to_leaseholder_ms)) == (2.0, 67.0)
    a_min, width = 3.0 + 0.033, 0.2  # A ~ U(target + 66/2 ms, + interval)
    frac = np.clip((np.array([3.0, 3.1, 9.0]) - a_min) / width, 0, 1)
    local, remote, p_local = raft.read_path("bounded").latency(site)
    assert np.allclose(p_local, frac) and float(local) == 2.0 and float(remote) == 2.0 + 67.0 - 1.0
    mean_s, max_s = raft.read_path("bounded").staleness(site)
    upper = np.minimum([3.0, 3.1, 9.0], a_min + width)
    expected = frac * (a_min + upper) / 2 + (1 - frac) * np.array([3.0, 3.1, 9.0])
    assert np.allclose(mean_s, expected) and np.allclose(max_s, upper)
    local, remote, p_local = raft.read_path("follower").latency(site)
    assert (float(local), float(remote)) == (2.0, 67.0) and np.all(p_local == 1.0)  # 4.2 s > max age 3.233
    assert raft.read_path("follower").eligible(4.2, "v23.1") and not raft.read_path("follower").eligible(4.1)
    assert raft.read_path("follower").title(version="v22.2") == "follower, exact (v22.2)"


def _parameter_choices(notebook: str, name: str) -> tuple:
    cells = json.loads((ROOT / "notebooks" / notebook).read_text())["cells"]
    source = "".join(next(c for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))["source"])
    line = next(x for x in source.splitlines() if x.startswith(f"{name}:"))
    return tuple(s.strip() for s in re.search(r"#\s*\{([^}]*)\}", line).group(1).split(","))


def test_notebook_00_offers_exactly_the_read_paths():
    # the parameters cell is the scenario schema and cannot import READ_PATHS: checked here instead
    assert _parameter_choices("00-explore.ipynb", "read_path") == raft.READ_PATHS


def test_no_module_hard_codes_the_list_of_read_paths():
    # paths.py defines them; the parameter registry is plain data that imports no model (its copy
    # is checked against READ_PATHS by tests/test_parameters_registry.py and the test above)
    literal = re.compile(r"""["']leaseholder["'],\s*["']follower["'],\s*["']bounded["']""")
    allowed = {"followerlab/raft/paths.py", "followerlab/parameters.py"}
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "followerlab").rglob("*.py")
                 if literal.search(p.read_text()) and str(p.relative_to(ROOT)) not in allowed]
    assert not offenders, f"derive the read paths from followerlab.raft.READ_PATHS in {offenders}"


def test_message_costs_reach_the_paths(demo):
    # ReadIndex: each ack of the heartbeat round pays two messages of per_hop_ms; every path pays
    # client_overhead_ms once (closed forms on the demo matrix: 66 ms to the leader, 64 ms round)
    p = raft.spread_placement(demo, "us-east1")
    r = raft.read_latency(demo, p, "us-west1", "readindex", per_hop_ms=[0.0, 0.5], client_overhead_ms=2.0)
    assert r.mean_ms.tolist() == [66.0 + 64.0 + 2.0, 66.0 + 64.0 + 1.0 + 2.0]
    for path in raft.READ_PATHS:
        base = raft.read_latency(demo, p, "europe-west1", path, max_staleness_s=3.1)
        more = raft.read_latency(demo, p, "europe-west1", path, max_staleness_s=3.1, client_overhead_ms=1.5)
        assert np.allclose(more.local_ms - base.local_ms, 1.5) and np.allclose(more.remote_ms - base.remote_ms, 1.5)
        assert float(more.p_local) == float(base.p_local)
    with pytest.raises(ValueError, match="per_hop_ms must be >= 0"):
        raft.read_latency(demo, p, "us-west1", "readindex", per_hop_ms=-1.0)
