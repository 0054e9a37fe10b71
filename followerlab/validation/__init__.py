"""Validating the Raft model against a real etcd cluster with injected latency (issue 7).

* :mod:`~followerlab.validation.proxy`: a user-space TCP proxy delaying every byte by x_i ms.
* :mod:`~followerlab.validation.cluster`: :class:`EtcdCluster`, N members on 127.0.0.1 behind
  the proxies (RTT(i, j) = x_i + x_j), stopped on exit, error, Ctrl-C, SIGTERM or parent death.
* :mod:`~followerlab.validation.client`: puts and linearizable/serializable range reads through
  the v3 JSON gateway; latency and follower-staleness drivers.
* :mod:`~followerlab.validation.predict`: the adapter from a layout to :mod:`followerlab.raft`.
* :mod:`~followerlab.validation.experiments`: layouts, interleaved runs, comparison, saved runs.
* :mod:`~followerlab.validation.load`: open-loop (Poisson) and closed-loop load drivers, a stub.
* :mod:`~followerlab.validation.loadfit`: :func:`followerlab.raft.write_load` fitted to a curve.
* :mod:`~followerlab.validation.learners`: etcd learners (non-voting replicas) vs voters.
* :mod:`~followerlab.validation.load_experiments`: issue 15's full run and its CI check.

>>> from followerlab.validation import Layout, network_ms
>>> network_ms(Layout("sym", (10.0, 10.0, 10.0)))["put_leader"]
20.0
"""

from .client import LatencySample, StalenessSample, measure_latency, measure_staleness, visibility_curve  # noqa: F401
from .cluster import EtcdCluster, EtcdError, etcd_available  # noqa: F401
from .experiments import (CALIBRATION_LAYOUT, CI_LAYOUTS, LAYOUTS, STALENESS_LAYOUTS, compare, load_run,  # noqa: F401
                          run_latency_experiment, run_staleness_experiment, save_run, staleness_table,
                          visibility_t50)
from .predict import (OPS, Calibration, Layout, MessageCosts, calibrate, fit_message_costs, network_ms,  # noqa: F401
                      predict, rtt_from_delays)
from .proxy import ProxyProcess  # noqa: F401
