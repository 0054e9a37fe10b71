"""Figures used by the notebooks: titled, labelled with units, with legends, one style.

Each model's figures live in a private module (``_follower``, ``_consistency``, ``_raft``)
and are re-exported here, so users call ``followerlab.plots.<name>``.
"""

from ._style import PALETTE, STYLE, finish, new_axes, new_grid  # noqa: F401
from ._consistency import admin_load_figure, cache_hit_figure, head_load_figure, staleness_cdf_figure  # noqa: F401
from ._follower import follower_cache_comparison, follower_lag_cdfs, follower_lag_vs_period, follower_prefetch_tradeoff, follower_union_window  # noqa: F401
from ._validation import plot_error_by_hops, plot_predicted_vs_measured, plot_visibility  # noqa: F401
from ._raft import raft_read_latency_bars, raft_rtt_heatmap, raft_staleness_bars, raft_t_visibility_curves, raft_write_latency_bars, raft_write_load_curves  # noqa: F401
from ._compare import metric_bars, tradeoff_scatter  # noqa: F401
from ._sensitivity import tornado  # noqa: F401
from ._sweep import sweep_density  # noqa: F401
