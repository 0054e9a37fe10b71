"""The trade-off figure's labels: none on another, none on a point, none outside the axes, and a
label moved off its point's line gets a leader line (the report's first figure had overlapping
labels: they were placed before the log scale was set, with a guessed text width)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from followerlab.plots import tradeoff_scatter  # noqa: E402
from followerlab.plots._compare import _text_box  # noqa: E402


def _crowded(log: bool) -> pd.DataFrame:
    # a cluster of close points with long labels, plus a few far ones (log y spans 3 decades)
    x = np.r_[np.zeros(4), [32.5, 33.0, 44.0, 56.0], [0.0, 0.0, 3.0, 4.0]]
    y = np.r_[[215.0, 220.0, 225.0, 230.0], [215.0, 218.0, 222.0, 216.0], [2.0, 2.0, 2.0, 2.0]]
    if not log:
        y = y / 100.0
    conf = [f"follower 1d hot + union {k} min, a long configuration name" for k in range(len(x))]
    return pd.DataFrame({"notebook": ["01-follower-lag"] * 8 + ["03-raft-write-latency"] * 4,
                         "scenario": "s", "configuration": conf, "staleness_mean_s": x,
                         "read_latency_p50_ms": y})


@pytest.mark.parametrize("log", [True, False])
def test_labels_do_not_overlap_each_other_points_or_the_frame(log):
    fig = tradeoff_scatter(_crowded(log), "staleness_mean_s", "read_latency_p50_ms")
    ax = fig.axes[0]
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    texts = [t for t in ax.texts]
    assert len(texts) == 11            # 12 points, two at the same spot share a label
    boxes = [_text_box(t, r) for t in texts]    # the text, not its leader line
    frame = ax.get_window_extent(r)
    for i, b in enumerate(boxes):
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1, texts[i].get_text()
        for c in boxes[i + 1:]:
            assert not b.overlaps(c), (texts[i].get_text(), b, c)
    pts = ax.transData.transform(_crowded(log)[["staleness_mean_s", "read_latency_p50_ms"]].to_numpy())
    for t, b in zip(texts, boxes):
        own = ax.transData.transform(t.xy)
        others = pts[np.hypot(*(pts - own).T) > 0.5]
        inside = (others[:, 0] > b.x0) & (others[:, 0] < b.x1) & (others[:, 1] > b.y0) & (others[:, 1] < b.y1)
        assert not inside.any(), t.get_text()
        moved = abs(t.xyann[1]) > 0
        assert (t.arrow_patch is not None) == moved, t.get_text()
    assert any(abs(t.xyann[1]) > 0 for t in texts)     # the crowd forced some labels off their line
    plt.close(fig)
