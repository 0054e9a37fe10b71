"""Fixtures shared by the test files."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def fake_etcd(monkeypatch):
    """No etcd: ``validation.load``'s clusters and open-loop driver replaced by fakes that record
    what they were asked for -- the cluster sizes made (in order), and for each point the
    number of clusters made so far (the cluster it ran on), its rate and its op."""
    import followerlab.validation.load as ld

    made, points = [], []

    class FakeCluster:
        def __init__(self, n, **kw):
            made.append(n)
            self.client_ports = [1000 + i for i in range(n)]

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def set_delays(self, delays):
            pass

        def move_leader(self, leader):
            return leader

    def fake_open_loop(port, rate, *, op="put", **kw):
        points.append((len(made), rate, op))
        t = np.linspace(0.0, 0.04, 5)
        return ld.LoadSample("open", rate, 0, t, t, t + 0.01, np.ones(5, dtype=bool), 0.001)

    monkeypatch.setattr(ld, "EtcdCluster", FakeCluster)
    monkeypatch.setattr(ld, "open_loop", fake_open_loop)
    return made, points
