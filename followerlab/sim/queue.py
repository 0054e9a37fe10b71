r"""Monte Carlo FCFS G/G/c queue: the Kiefer–Wolfowitz (Lindley) recursion, vectorized.

The simulator is the independent check of :mod:`followerlab.queueing`.  It follows customers
one after another (a Python loop over customers) and runs many independent replications at
once (numpy across replications), so a run of R replications × N customers costs about N
numpy steps.

The recursion (Kiefer & Wolfowitz, "On the theory of queues with many servers", Trans. AMS 78,
1955; Lindley, Proc. Cambridge Phil. Soc. 48, 1952 for c = 1): let :math:`\mathbf W_n` be the
vector of work each of the c servers still owes when customer n arrives.  FCFS assigns the
customer to the server that frees up first, so

.. math::

    D_n = \min_j W_{n,j}, \qquad
    \mathbf W_{n+1} = \bigl(\mathbf W_n + S_n \mathbf e_{\arg\min_j W_{n,j}} - A_{n+1}\bigr)^+,

with D_n the wait of customer n, S_n its service time and A_{n+1} the next interarrival time.
For one server this is Lindley's :math:`W_{n+1} = (W_n + S_n - A_{n+1})^+`, which the code
solves without a loop as :math:`W_n = P_n - \min(0, \min_{k \le n} P_k)`,
:math:`P_n = W_0 + \sum_{i<n} (S_i - A_{i+1})`.

Every replication starts empty; the first ``warmup`` customers of each are discarded.
Standard errors are across replications (independent by construction), so they are honest
about the noise of the run length actually simulated; they do not measure the bias of starting
empty, which the warm-up is there to make small.

>>> from scipy import stats
>>> r = simulate_queue(stats.expon(scale=1 / 0.5), stats.expon(scale=1.0), servers=1,
...                    customers=4000, replications=64, warmup=500, seed=1)
>>> r.customers
224000
>>> abs(r.mean_wait_s - 1.0) < 4 * r.mean_wait_se_s     # M/M/1 at rho = 0.5: Wq = 1 s
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from followerlab._results import Result
from followerlab._validate import as_float, as_float_array, as_int, as_rng, check_bool, check_finite_result

__all__ = ["SimQueueResult", "simulate_queue", "simulate_ggc", "gamma_sampler"]

#: Target number of random numbers drawn per block (per sampler) to bound memory.
_BLOCK_VALUES = 1 << 19


@dataclass(frozen=True)
class SimQueueResult(Result):
    """Summary of a simulated FCFS G/G/c queue (means over replications, with standard errors).

    Attributes
    ----------
    servers, replications, warmup : int
        c, R and the customers discarded at the start of each replication.
    customers : int
        Customers measured in total, R × (customers − warmup).
    mean_wait_s, mean_wait_se_s : float
        Mean wait in queue and its standard error across replications (s).
    p_wait, p_wait_se : float
        Fraction of customers who waited (> 0) and its standard error.
    mean_response_s, mean_response_se_s : float
        Mean wait + service time and its standard error (s).
    utilization, utilization_se : float
        Σ service / (c · Σ interarrival) over the measured customers: the offered load per
        server (equal to the busy fraction for a stable queue).
    replication_mean_wait_s : numpy.ndarray
        Mean wait of each replication, shape (R,).
    wait_samples_s : numpy.ndarray
        The measured waits, shape (R, customers − warmup); empty (R, 0) with
        ``keep_waits=False``.
    """

    servers: int
    replications: int
    warmup: int
    customers: int
    mean_wait_s: float
    mean_wait_se_s: float
    p_wait: float
    p_wait_se: float
    mean_response_s: float
    mean_response_se_s: float
    utilization: float
    utilization_se: float
    replication_mean_wait_s: np.ndarray
    wait_samples_s: np.ndarray

    def _array_fields(self) -> dict[str, np.ndarray]:
        fields = super()._array_fields()
        fields.pop("replication_mean_wait_s", None)
        fields.pop("wait_samples_s", None)
        return fields

    def wait_quantile(self, q):
        """Empirical q-quantile of the pooled measured waits (needs ``keep_waits=True``).

        >>> from scipy import stats
        >>> r = simulate_queue(stats.expon(scale=2.0), 1.0, customers=2000, replications=8,
        ...                    warmup=200, seed=3)   # M/D/1 at rho = 0.5
        >>> float(r.wait_quantile(0.0))
        0.0
        """
        q = as_float_array("q", q, minimum=0.0, maximum=1.0)
        if self.wait_samples_s.size == 0:
            raise ValueError("wait_samples_s is empty: simulate with keep_waits=True to get quantiles")
        return np.quantile(self.wait_samples_s, q)


def gamma_sampler(mean_s: float, cv: float):
    r"""A sampler of gamma times with the given mean and coefficient of variation.

    Shape :math:`k = 1/c_v^2`, scale :math:`E/k`; ``cv == 0`` gives the constant ``mean_s``
    and ``cv == 1`` the exponential.  Returns a callable ``f(rng, size)``.

    >>> f = gamma_sampler(2.0, 0.0)
    >>> f(np.random.default_rng(0), 3).tolist()
    [2.0, 2.0, 2.0]
    """
    return _gamma_sampler(mean_s, cv, "mean_s", "cv")


def _gamma_sampler(mean_s, cv, mean_name, cv_name):
    mean_s = as_float(mean_name, mean_s, minimum=0.0, strict_minimum=True)
    cv = as_float(cv_name, cv, minimum=0.0)
    if cv == 0.0:
        return lambda rng, size: np.full(size, mean_s)
    if cv == 1.0:
        return lambda rng, size: rng.exponential(mean_s, size)
    with np.errstate(over="ignore", divide="ignore"):
        k = float(1.0 / np.square(np.float64(cv)))
    if not np.isfinite(k):   # cv < 1e-154: a spread below float resolution, the constant exactly
        return lambda rng, size: np.full(size, mean_s)
    if k == 0.0 or not np.isfinite(mean_s / k):
        raise ValueError(f"{cv_name}={cv!r} with {mean_name}={mean_s!r} is outside the range of a gamma law in floating point "
                         "(shape 1/cv**2 underflows)")
    return lambda rng, size: rng.gamma(k, mean_s / k, size)


def _as_sampler(name: str, dist):
    """Turn a number, a scipy frozen distribution or a callable into f(rng, size)."""
    if hasattr(dist, "rvs"):
        return lambda rng, size: np.asarray(dist.rvs(size=size, random_state=rng), dtype=float)
    if callable(dist):
        return lambda rng, size: np.asarray(dist(rng, size), dtype=float)
    value = as_float(name, dist, minimum=0.0)
    return lambda rng, size: np.full(size, value)


def _draw(name, sampler, rng, size):
    x = sampler(rng, size)
    if x.shape != size:
        raise ValueError(f"{name} sampler must return an array of shape {size}; got shape {x.shape}")
    bad = ~np.isfinite(x) | (x < 0)
    if bad.any():
        raise ValueError(f"{name} samples must be finite and >= 0; got {x[bad][0]!r}")
    return x


def simulate_queue(
    interarrival,
    service,
    servers: int = 1,
    *,
    customers: int = 20_000,
    replications: int = 32,
    warmup: int = 2_000,
    seed=None,
    keep_waits: bool = True,
) -> SimQueueResult:
    r"""Simulate an FCFS G/G/c queue by the Kiefer–Wolfowitz recursion.

    Parameters
    ----------
    interarrival, service : scipy frozen distribution, callable or number
        Interarrival and service times in seconds: anything with ``rvs(size, random_state)``,
        a callable ``f(rng, size) -> ndarray``, or a constant.
    servers : int
        c ≥ 1.
    customers : int
        Customers per replication, including the warm-up (> warmup).
    replications : int
        Independent replications R ≥ 2 (run side by side as numpy arrays).
    warmup : int
        Customers discarded at the start of each replication (≥ 0).
    seed : int, numpy.random.Generator or None
        Same seed, same result.
    keep_waits : bool
        Keep every measured wait (R × (customers − warmup) floats) for quantiles.

    Returns
    -------
    SimQueueResult

    Notes
    -----
    Random numbers are drawn in blocks of customers × replications, interarrival times first,
    so a run is reproducible for a given seed, customers and replications.  An unstable
    queue (ρ ≥ 1) is simulated as asked; its waits grow with the run length.

    Examples
    --------
    M/M/2 with λ = 1.5, μ = 1: Erlang C gives W_q = 9/7 s.

    >>> from scipy import stats
    >>> r = simulate_queue(stats.expon(scale=1 / 1.5), stats.expon(), servers=2,
    ...                    customers=3000, replications=64, warmup=300, seed=7)
    >>> abs(r.mean_wait_s - 9 / 7) < 4 * r.mean_wait_se_s
    True
    """
    c = as_int("servers", servers, minimum=1)
    n_total = as_int("customers", customers, minimum=1)
    reps = as_int("replications", replications, minimum=2)
    warm = as_int("warmup", warmup, minimum=0)
    keep_waits = check_bool("keep_waits", keep_waits)
    if warm >= n_total:
        raise ValueError(f"warmup must be < customers ({n_total}); got {warm}")
    arrival_sampler = _as_sampler("interarrival", interarrival)
    service_sampler = _as_sampler("service", service)
    rng = as_rng("seed", seed)

    n_meas = n_total - warm
    waits = np.empty((n_meas, reps)) if keep_waits else None
    sum_wait = np.zeros(reps)
    n_waited = np.zeros(reps)
    sum_service = np.zeros(reps)
    sum_gap = np.zeros(reps)
    work = np.zeros((reps, c)) if c > 1 else np.zeros(reps)
    rows = np.arange(reps)
    block = max(1, min(n_total, _BLOCK_VALUES // reps))

    done = 0
    while done < n_total:
        b = min(block, n_total - done)
        gaps = _draw("interarrival", arrival_sampler, rng, (b, reps))  # gap after customer i
        serv = _draw("service", service_sampler, rng, (b, reps))
        if c == 1:
            # Lindley in closed form: W_n = P_n - min(0, min_{k<=n} P_k), P_0 = W_start.
            steps = serv - gaps
            p = np.empty((b, reps))
            p[0] = work
            np.cumsum(steps[:-1], axis=0, out=p[1:])
            p[1:] += work
            block_wait = p - np.minimum(np.minimum.accumulate(p, axis=0), 0.0)
            work = np.maximum(block_wait[-1] + steps[-1], 0.0)
        else:
            block_wait = np.empty((b, reps))
            for i in range(b):
                j = work.argmin(axis=1)
                w = work[rows, j]
                block_wait[i] = w
                work[rows, j] = w + serv[i]
                work -= gaps[i][:, None]
                np.maximum(work, 0.0, out=work)
        # accumulate the measured part of the block
        lo = max(0, warm - done)
        if lo < b:
            bw = block_wait[lo:]
            sum_wait += bw.sum(axis=0)
            n_waited += (bw > 0.0).sum(axis=0)
            sum_service += serv[lo:].sum(axis=0)
            sum_gap += gaps[lo:].sum(axis=0)
            if waits is not None:
                start = done + lo - warm
                waits[start:start + (b - lo)] = bw
        done += b

    mean_w = sum_wait / n_meas
    p_w = n_waited / n_meas
    resp = (sum_wait + sum_service) / n_meas
    with np.errstate(divide="ignore", invalid="ignore"):
        util = sum_service / (c * sum_gap)

    def mean_se(x):
        return float(x.mean()), float(x.std(ddof=1) / np.sqrt(reps))

    (mw, mw_se), (pw, pw_se), (mr, mr_se), (ut, ut_se) = map(mean_se, (mean_w, p_w, resp, util))
    return SimQueueResult(
        servers=c,
        replications=reps,
        warmup=warm,
        customers=reps * n_meas,
        mean_wait_s=mw,
        mean_wait_se_s=mw_se,
        p_wait=pw,
        p_wait_se=pw_se,
        mean_response_s=mr,
        mean_response_se_s=mr_se,
        utilization=ut,
        utilization_se=ut_se,
        replication_mean_wait_s=mean_w,
        wait_samples_s=(waits.T.copy() if waits is not None else np.empty((reps, 0))),
    )


def simulate_ggc(
    arrival_rate: float,
    service_rate: float,
    servers: int = 1,
    arrival_cv: float = 1.0,
    service_cv: float = 1.0,
    **kwargs,
) -> SimQueueResult:
    """Simulate a G/G/c queue whose interarrival and service times are gamma (cv 0: constant).

    Same parameters as :func:`followerlab.queueing.ggc`; keyword arguments go to
    :func:`simulate_queue`.

    >>> r = simulate_ggc(0.5, 1.0, 1, arrival_cv=1.0, service_cv=0.0, customers=4000,
    ...                  replications=64, warmup=400, seed=2)   # M/D/1: Wq = 0.5 s
    >>> abs(r.mean_wait_s - 0.5) < 4 * r.mean_wait_se_s
    True
    """
    lam = as_float("arrival_rate", arrival_rate, minimum=0.0, strict_minimum=True)
    mu = as_float("service_rate", service_rate, minimum=0.0, strict_minimum=True)
    r = simulate_queue(_gamma_sampler(1.0 / lam, arrival_cv, "1/arrival_rate", "arrival_cv"),
                       _gamma_sampler(1.0 / mu, service_cv, "1/service_rate", "service_cv"),
                       servers, **kwargs)
    check_finite_result(r.mean_wait_se_s, "the simulated standard error of the mean wait", arrival_rate=lam,
                        service_rate=mu, arrival_cv=arrival_cv, service_cv=service_cv)
    return r
