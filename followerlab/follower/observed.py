"""Follower lag from observations: Leibowitz2021's FAQ query, and a fit of the sync model.

The FAQ compares ``max(ingestion_time())`` on the leader and the follower over time;
:func:`split_faq_output` splits its output, :func:`estimate_lag` turns the two series into an
empirical lag distribution, and :func:`fit_sync_model` fits the period and the sync-duration
coefficients of :func:`~followerlab.follower.sync.sync_lag` to observed lags.

Sources: Leibowitz2021 in docs/references.rst.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize

from .._results import Result
from .._validate import as_float_array, check_probability
from ..staleness import refresh_lag

__all__ = ["estimate_lag", "LagEstimate", "split_faq_output", "fit_sync_model", "SyncFit"]


_TIME_COLUMNS = ("max_ingestion_time", "max_ingestion_time_", "max_ingestion_time_s")


def _time_series(name: str, value) -> tuple[np.ndarray, np.ndarray | None]:
    """Seconds (float) and the probe times (or None) from a path, frame, series or array."""
    if isinstance(value, (str, Path)):
        path = Path(value)
        if not path.exists():
            raise ValueError(f"{name}: no such file {str(path)!r}")
        value = pd.read_csv(path)
    probe = None
    if isinstance(value, pd.DataFrame):
        cols = [c for c in _TIME_COLUMNS if c in value.columns]
        if not cols:
            raise ValueError(f"{name} needs a column {_TIME_COLUMNS[0]!r}; has {list(value.columns)}")
        if "probe_time" in value.columns:
            probe = _to_seconds(f"{name}.probe_time", value["probe_time"])
        value = value[cols[0]]
    return _to_seconds(name, value), probe


def _to_seconds(name: str, value) -> np.ndarray:
    s = pd.Series(value) if not isinstance(value, pd.Series) else value
    if s.size == 0:
        raise ValueError(f"{name} is empty: need at least one max-ingestion-time observation")
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        arr = s.to_numpy(dtype=float)
    else:
        try:
            t = pd.to_datetime(s, utc=True, format="ISO8601")
        except (ValueError, TypeError):
            raise ValueError(f"{name} must hold datetimes or seconds; got {s.iloc[0]!r}") from None
        arr = np.where(t.isna(), np.nan, (t - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds())
    if np.isnan(arr).any():
        raise ValueError(f"{name} has missing values at rows {np.flatnonzero(np.isnan(arr))[:5].tolist()}")
    return arr


@dataclass(frozen=True)
class LagEstimate(Result):
    """Observed follower lag (leader max ingestion time minus the follower's), in seconds.

    Attributes
    ----------
    lag_s : ndarray
        One sample per probe, in probe order.
    n, mean_s, std_s, p50_s, p99_s : scalars
    negative : int
        Probes where the follower looked ahead of the leader (clock/timing noise; kept).
    probe_time_s : ndarray
        Probe times (s since the epoch) when matched on ``probe_time``, else NaN.

    References
    ----------
    Leibowitz2021 (the FAQ's max(ingestion_time()) probes) and HyndmanFan1996 (ppf: the inverted
    empirical CDF) in docs/references.rst.
    """

    lag_s: np.ndarray
    n: int
    mean_s: float
    std_s: float
    p50_s: float
    p99_s: float
    negative: int
    probe_time_s: np.ndarray

    def cdf(self, t_s) -> np.ndarray:
        """Empirical CDF at ``t_s``."""
        t = as_float_array("t_s", t_s, allow_inf=True)
        return np.searchsorted(np.sort(self.lag_s), t, side="right") / self.n

    def sf(self, t_s) -> np.ndarray:
        """1 - cdf(t_s)."""
        return 1.0 - self.cdf(t_s)

    def ppf(self, q) -> np.ndarray:
        """Inverse of the empirical CDF: the smallest sample with ``cdf >= q``.

        (``p50_s`` / ``p99_s`` interpolate between samples, numpy's default, so they can differ
        from ``ppf(0.5)`` / ``ppf(0.99)`` by less than one gap between neighbouring samples.)
        """
        q = check_probability("q", q)
        return np.quantile(self.lag_s, q, method="inverted_cdf")

    def mean(self) -> float:
        """Sample mean (s): the ``mean_s`` field."""
        return self.mean_s

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"n": [self.n], "mean_s": [self.mean_s], "std_s": [self.std_s],
                             "p50_s": [self.p50_s], "p99_s": [self.p99_s], "negative": [self.negative]})


def estimate_lag(leader_times, follower_times) -> LagEstimate:
    r"""Lag distribution from Leibowitz2021's FAQ ``max(ingestion_time())`` probes of both clusters.

    At each probe time :math:`t` the leader reports its newest ingestion time
    :math:`t - \epsilon_1` and the follower the newest one in its snapshot,
    :math:`t - A - \epsilon_2`, with :math:`\epsilon_i` the gap since the last ingestion
    before each cut (about :math:`\mathrm{Exp}(m)` for ingestion at rate :math:`m`).  The
    difference :math:`A + \epsilon_2 - \epsilon_1` is the snapshot age :math:`A` plus noise of
    mean 0 and variance :math:`\approx 2/m^2`: unbiased, and precise when ingestion is frequent.

    Parameters
    ----------
    leader_times, follower_times : path, DataFrame, Series or array
        Max ingestion times (datetimes or seconds).  A CSV path or DataFrame needs a column
        ``max_ingestion_time``; if both have ``probe_time`` the probes are matched on it (the
        same probe times on both sides), otherwise by position (same length required).

    References
    ----------
    Leibowitz2021 in docs/references.rst (its FAQ compares max(ingestion_time()) on the leader
    and on the follower).

    Examples
    --------
    >>> e = estimate_lag(["2026-01-01T00:10:00Z", "2026-01-01T00:20:00Z"],
    ...                  ["2026-01-01T00:09:30Z", "2026-01-01T00:19:00Z"])
    >>> e.lag_s.tolist(), e.mean_s
    ([30.0, 60.0], 45.0)
    """
    lead, lead_probe = _time_series("leader_times", leader_times)
    foll, foll_probe = _time_series("follower_times", follower_times)
    if lead_probe is not None and foll_probe is not None:
        a = pd.Series(lead, index=lead_probe)
        b = pd.Series(foll, index=foll_probe)
        if a.index.has_duplicates or b.index.has_duplicates:
            raise ValueError("probe_time must be unique within each of leader_times and follower_times")
        only = a.index.symmetric_difference(b.index)
        if len(only):
            raise ValueError(f"probe_time values must match between leader_times and follower_times; "
                             f"{len(only)} occur in only one (first: {only[0]!r})")
        joined = pd.concat([a.rename("l"), b.rename("f")], axis=1, join="inner").sort_index()
        lead, foll = joined["l"].to_numpy(), joined["f"].to_numpy()
        probes = joined.index.to_numpy(dtype=float)
    elif lead.size != foll.size:
        raise ValueError(f"leader_times and follower_times must have the same length; got {lead.size} and {foll.size}")
    else:
        probes = np.full(lead.size, np.nan)
    lag = lead - foll
    return LagEstimate(lag, int(lag.size), float(lag.mean()), float(lag.std(ddof=1)) if lag.size > 1 else 0.0,
                       float(np.quantile(lag, 0.5)), float(np.quantile(lag, 0.99)), int(np.sum(lag < 0)), probes)


def split_faq_output(frame, leader_url: str, follower_url: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the FAQ query's stacked output (``cluster_url, max_ingestion_time`` [, ``probe_time``])
    into the leader's and the follower's rows.

    References
    ----------
    Leibowitz2021 in docs/references.rst (the FAQ query whose stacked output this splits).

    Examples
    --------
    >>> f = pd.DataFrame({"cluster_url": ["L", "F"], "max_ingestion_time": [10.0, 4.0]})
    >>> [len(x) for x in split_faq_output(f, "L", "F")]
    [1, 1]
    """
    if isinstance(frame, (str, Path)):
        if not Path(frame).exists():
            raise ValueError(f"frame: no such file {str(frame)!r}")
        frame = pd.read_csv(frame)
    if "cluster_url" not in frame.columns:
        raise ValueError(f"frame needs a 'cluster_url' column; has {list(frame.columns)}")
    out = []
    for name, url in (("leader_url", leader_url), ("follower_url", follower_url)):
        part = frame[frame["cluster_url"] == url]
        if part.empty:
            raise ValueError(f"{name} {url!r} does not occur in cluster_url ({sorted(frame['cluster_url'].unique())})")
        out.append(part.reset_index(drop=True))
    return out[0], out[1]


@dataclass(frozen=True)
class SyncFit(Result):
    """Fitted sync model (P, d0, d1) and the Cramér-von Mises distance of the fit.

    References
    ----------
    Leibowitz2021 and BaccelliBremaud2003 in docs/references.rst.
    """

    period_s: float
    base_duration_s: float
    duration_per_change_s: float
    cvm_distance: float
    n: int


def fit_sync_model(lag_s, change_rate_per_s) -> SyncFit:
    r"""Fit (P, d0, d1) of :func:`sync_lag` to observed lags by a Cramér-von Mises criterion.

    Minimizes :math:`\sum_g \sum_i (F_g(x_{(i)}) - (i - \tfrac12)/n_g)^2` over the groups
    :math:`g` of equal change rate :math:`m_g`.  With a single change rate :math:`d_0` and
    :math:`d_1` are separated only through the spread of :math:`D` (:math:`d_1^2 m P`): observe
    at two or more ingest rates to pin them.  The FAQ measures snapshot ages, whose law equals
    the lag law below :math:`P + d_0` and shares its mean (see :mod:`followerlab.staleness`).

    Parameters
    ----------
    lag_s : 1-D array
        Observed lags (s), e.g. ``estimate_lag(...).lag_s``; at least 10.
    change_rate_per_s : scalar or 1-D array
        Leader metadata changes per second during each observation.

    References
    ----------
    Leibowitz2021 (the periodic sync whose duration grows with the changes) and
    BaccelliBremaud2003 (the lag law the fit evaluates,
    :func:`followerlab.staleness.refresh_lag`) in docs/references.rst; the Cramér-von Mises
    criterion is stated above.

    Examples
    --------
    >>> from followerlab.sim.follower import simulate_follower
    >>> sims = [simulate_follower(60.0, 3.0, 0.02, m, horizon_s=60.0 * 400, seed=s) for m, s in ((1.0, 1), (5.0, 2))]
    >>> t = np.random.default_rng(3).uniform(1200.0, 60.0 * 380, 300)    # probes at random times
    >>> lags = np.concatenate([s.probe_lag_s(t) for s in sims])
    >>> fit = fit_sync_model(lags, np.repeat([1.0, 5.0], t.size))
    >>> round(fit.period_s, -1), round(fit.duration_per_change_s, 2)   # true: 60 s, 0.02 s
    (60.0, 0.02)
    """
    x = as_float_array("lag_s", lag_s, minimum=0.0)
    if x.ndim != 1 or x.size < 10:
        raise ValueError(f"lag_s must be a 1-D array of at least 10 observed lags; got shape {x.shape}")
    m = np.broadcast_to(as_float_array("change_rate_per_s", change_rate_per_s, minimum=0.0), x.shape)
    groups = [np.flatnonzero(m == g) for g in np.unique(m)]
    xs = np.concatenate([np.sort(x[i]) for i in groups])
    ms = np.concatenate([m[i] for i in groups])
    pos = np.concatenate([(np.arange(len(i)) + 0.5) / len(i) for i in groups])
    # moments: mean = P/2 + d0 + d1 m P, var = P^2/12 + d1^2 m P
    means = np.array([x[i].mean() for i in groups])
    mvals = np.array([m[i][0] for i in groups])
    p0 = max(np.sqrt(12.0 * min(x[i].var() for i in groups)), 1e-3)
    slope = np.polyfit(mvals, means, 1)[0] if len(groups) > 1 else 0.0
    d1_0 = max(slope / p0, 0.0)
    d0_0 = max(float(means[0] - p0 / 2 - d1_0 * mvals[0] * p0), 0.0)

    def loss(theta):
        P, d0, d1 = np.exp(theta[0]), abs(theta[1]), abs(theta[2])
        return float(np.sum((refresh_lag(P, d0, d1, ms).cdf(xs) - pos) ** 2))

    best = None
    for start in ([np.log(p0), d0_0, d1_0], [np.log(p0), 0.5 * (d0_0 + 1e-3), 2 * d1_0 + 1e-4]):
        res = optimize.minimize(loss, start, method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 4000})
        if best is None or res.fun < best.fun:
            best = res
    P, d0, d1 = float(np.exp(best.x[0])), abs(float(best.x[1])), abs(float(best.x[2]))
    return SyncFit(P, d0, d1, float(best.fun) / x.size, int(x.size))
