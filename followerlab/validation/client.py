"""Load drivers for etcd's v3 JSON gateway: timed puts and range reads, follower staleness.

Requests go over persistent HTTP/1.1 connections (one per thread) to a member's client port
on 127.0.0.1: ``POST /v3/kv/put {"key": b64, "value": b64}`` and ``POST /v3/kv/range
{"key": b64, "serializable": bool}``.  A linearizable range (the default) costs a ReadIndex
round to a quorum; a serializable one is answered from the member's own state and may be
stale ([etcd-APIGuarantees] in docs/references.rst).  Latency is the client-side wall time of one request
(``time.perf_counter``), so it includes the gateway (HTTP -> gRPC on the member) and, for a
follower, its forwarding to the leader.

Every loop is bounded in count and in time.

>>> s = LatencySample("put", 0, 1, np.array([3.0, 4.0, 5.0, 30.0]))
>>> float(s.p50_ms), float(s.p90_ms)
(4.5, 22.5)
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass

import numpy as np

from .._results import Result
from .._validate import as_float_array, as_int_array, check_choice
from .cluster import HOST, EtcdCluster, EtcdError, b64

__all__ = ["GatewayClient", "LatencySample", "StalenessSample", "OPERATIONS", "measure_latency",
           "measure_staleness", "visibility_curve"]

#: Operations the driver can time.
OPERATIONS = ("put", "range_linearizable", "range_serializable")


class GatewayClient:
    """A persistent connection to one member's JSON gateway.

    Parameters
    ----------
    port : int
        The member's client port on 127.0.0.1.
    timeout_s : float
        Socket timeout of each request.
    """

    def __init__(self, port: int, timeout_s: float = 5.0):
        self.port = int(as_int_array("port", port, minimum=1, maximum=65535))
        self.timeout_s = float(as_float_array("timeout_s", timeout_s, minimum=0.01))
        self._conn: http.client.HTTPConnection | None = None

    def _post(self, path: str, body: dict) -> dict:
        payload = json.dumps(body)
        for attempt in (0, 1):  # one reconnect if the server closed the idle connection
            if self._conn is None:
                self._conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout_s)
            try:
                self._conn.request("POST", path, payload, {"Content-Type": "application/json"})
                resp = self._conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, ConnectionError) as exc:
                self.close()
                if attempt:
                    raise EtcdError(f"port {self.port} {path}: {exc}") from exc
        doc = json.loads(data or b"{}")
        if resp.status != 200 or "error" in doc:
            raise EtcdError(f"port {self.port} {path}: HTTP {resp.status} {doc}")
        return doc

    def put(self, key: str, value: str) -> dict:
        """``/v3/kv/put``; returns the gateway's JSON answer."""
        return self._post("/v3/kv/put", {"key": b64(key), "value": b64(value)})

    def range(self, key: str, serializable: bool = False) -> str | None:
        """``/v3/kv/range`` of one key; its value (decoded), or None when absent."""
        doc = self._post("/v3/kv/range", {"key": b64(key), "serializable": bool(serializable)})
        kvs = doc.get("kvs") or []
        if not kvs:
            return None
        import base64

        return base64.b64decode(kvs[0].get("value", "")).decode()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass(frozen=True)
class LatencySample(Result):
    """Measured latencies of one operation against one member.

    Attributes
    ----------
    op : str
        One of :data:`OPERATIONS`.
    member : int
        Index of the member the client talked to.
    concurrency : int
        Number of client threads issuing requests back to back.
    latencies_ms : numpy.ndarray
        One wall-clock latency per request (ms), in completion order.
    """

    op: str
    member: int
    concurrency: int
    latencies_ms: np.ndarray

    @property
    def p50_ms(self) -> float:
        return float(np.percentile(self.latencies_ms, 50))

    @property
    def p90_ms(self) -> float:
        return float(np.percentile(self.latencies_ms, 90))

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"op": self.op, "member": self.member, "concurrency": self.concurrency,
                             "latency_ms": np.asarray(self.latencies_ms)})


def _one(client: GatewayClient, op: str, key: str, value: str) -> None:
    if op == "put":
        client.put(key, value)
    else:
        client.range(key, serializable=(op == "range_serializable"))


def measure_latency(cluster: EtcdCluster, op: str, member: int, count: int = 100, *, concurrency: int = 1,
                    warmup: int = 5, max_time_s: float = 60.0, key: str = "followerlab/bench") -> LatencySample:
    """Time ``count`` requests of ``op`` sent to ``member`` by ``concurrency`` threads.

    Each thread has its own persistent connection and sends its next request as soon as the
    previous one is answered (closed loop).  ``warmup`` untimed requests per thread go first
    (connection setup, first gRPC dial in the gateway).  Stops after ``count`` timed requests
    or ``max_time_s`` seconds, whichever comes first (then fewer samples are returned; at
    least one is required).

    Parameters
    ----------
    cluster : EtcdCluster
        A running cluster.
    op : {'put', 'range_linearizable', 'range_serializable'}
    member : int
        Member index the client talks to (the leader, or a follower that forwards).
    count : int
        Number of timed requests in all threads together (>= 1).
    concurrency : int
        Closed-loop client threads (1..64).
    warmup : int
        Untimed requests per thread before timing.
    max_time_s : float
        Bound on the timed phase.
    key : str
        The key written or read.

    Returns
    -------
    LatencySample
    """
    op = check_choice("op", op, OPERATIONS)
    member = int(as_int_array("member", member, minimum=0, maximum=getattr(cluster, "size", cluster.n) - 1))
    count = int(as_int_array("count", count, minimum=1, maximum=10**6))
    concurrency = int(as_int_array("concurrency", concurrency, minimum=1, maximum=64))
    warmup = int(as_int_array("warmup", warmup, minimum=0, maximum=10**4))
    max_time_s = float(as_float_array("max_time_s", max_time_s, minimum=0.0, strict_minimum=True))
    port = cluster.client_ports[member]
    lat: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)
    deadline = [0.0]
    issued = [0]

    def worker(w: int) -> None:
        client = GatewayClient(port)
        try:
            for k in range(warmup):
                _one(client, op, key, f"warm-{w}-{k}")
            barrier.wait(30.0)
            for k in range(count):
                with lock:
                    if issued[0] >= count:
                        return
                    issued[0] += 1
                if time.perf_counter() > deadline[0]:
                    return
                t0 = time.perf_counter()
                _one(client, op, key, f"v-{w}-{k}")
                dt = (time.perf_counter() - t0) * 1e3
                with lock:
                    lat.append(dt)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller below
            errors.append(exc)
            try:
                barrier.abort()
            except threading.BrokenBarrierError:
                pass
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(concurrency)]
    for t in threads:
        t.start()
    try:
        deadline[0] = time.perf_counter() + max_time_s + 60.0  # until the barrier releases
        barrier.wait(60.0)
        deadline[0] = time.perf_counter() + max_time_s
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join(max_time_s + 35.0)
    if errors:
        raise EtcdError(f"{op} on member {member} failed: {errors[0]}") from errors[0]
    if not lat:
        raise EtcdError(f"{op} on member {member}: no request completed within {max_time_s} s")
    return LatencySample(op, member, concurrency, np.asarray(lat, dtype=float))


@dataclass(frozen=True)
class StalenessSample(Result):
    """Raw record of a write stream to the leader and serializable reads at one follower.

    Times are ``time.perf_counter`` seconds on this machine's monotonic clock.

    Attributes
    ----------
    leader, follower : int
        Member indices.
    write_done_s : numpy.ndarray
        When the put of value ``k`` (k = 0, 1, ...) returned to the client (the client's view
        of its commit).
    read_sent_s : numpy.ndarray
        When each serializable read was sent to the follower.
    read_value : numpy.ndarray
        The value it returned (-1 when the key was absent).
    """

    leader: int
    follower: int
    write_done_s: np.ndarray
    read_sent_s: np.ndarray
    read_value: np.ndarray

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"read_sent_s": self.read_sent_s, "read_value": self.read_value})


def measure_staleness(cluster: EtcdCluster, leader: int, follower: int, *, writes: int = 100,
                      read_pause_ms: float = 1.0, max_time_s: float = 30.0,
                      key: str = "followerlab/stale") -> StalenessSample:
    """A closed-loop write stream to ``leader`` while a reader polls ``follower`` serializably.

    The writer puts ``0, 1, 2, ...`` (sequentially, each after the previous returned) and
    records when each put returned; the reader sends serializable range reads of the same key
    to the follower, pausing ``read_pause_ms`` between them, and records when each was sent
    and what it returned.  Both stop after ``writes`` writes or ``max_time_s``.

    Returns
    -------
    StalenessSample
        Feed it to :func:`visibility_curve`.
    """
    leader = int(as_int_array("leader", leader, minimum=0, maximum=cluster.n - 1))
    follower = int(as_int_array("follower", follower, minimum=0, maximum=getattr(cluster, "size", cluster.n) - 1))
    if follower == leader:
        raise ValueError(f"follower must differ from leader ({leader}); got {follower}")
    writes = int(as_int_array("writes", writes, minimum=2, maximum=10**6))
    pause = float(as_float_array("read_pause_ms", read_pause_ms, minimum=0.0)) / 1e3
    max_time_s = float(as_float_array("max_time_s", max_time_s, minimum=0.0, strict_minimum=True))
    GatewayClient(cluster.client_ports[leader]).put(key, "-1")
    done: list[float] = []
    sent: list[float] = []
    values: list[int] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        c = GatewayClient(cluster.client_ports[leader])
        try:
            for k in range(writes):
                if stop.is_set():
                    return
                c.put(key, str(k))
                done.append(time.perf_counter())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            stop.set()
            c.close()

    def reader() -> None:
        c = GatewayClient(cluster.client_ports[follower])
        try:
            for _ in range(10**6):
                if stop.is_set():
                    return
                t0 = time.perf_counter()
                v = c.range(key, serializable=True)
                sent.append(t0)
                values.append(-1 if v is None else int(v))
                if pause:
                    time.sleep(pause)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            stop.set()
        finally:
            c.close()

    threads = [threading.Thread(target=writer, daemon=True), threading.Thread(target=reader, daemon=True)]
    for t in threads:
        t.start()
    stop.wait(max_time_s)
    stop.set()
    for t in threads:
        t.join(10.0)
    if errors:
        raise EtcdError(f"staleness run failed: {errors[0]}") from errors[0]
    return StalenessSample(leader, follower, np.asarray(done), np.asarray(sent), np.asarray(values, dtype=np.int64))


def visibility_curve(sample: StalenessSample, t_ms) -> np.ndarray:
    """Measured P(a serializable read sent t ms after a put returned sees that put), per bin.

    For every read sent at ``s`` and every write ``k`` whose put returned at ``c_k <= s``, the
    pair is an observation at ``t = s - c_k`` that the read is *consistent* iff it returned a
    value ``>= k`` (values only grow).  Observations are binned on the edges ``t_ms`` (ms,
    increasing); the result has ``len(t_ms) - 1`` entries (NaN for empty bins).

    >>> s = StalenessSample(0, 1, np.array([0.0]), np.array([0.001, 0.003, 0.005]), np.array([-1, -1, 0]))
    >>> visibility_curve(s, [0, 2, 4, 6]).tolist()
    [0.0, 0.0, 1.0]
    """
    edges = as_float_array("t_ms", t_ms, minimum=0.0)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"t_ms must be increasing bin edges (>= 2 values); got {t_ms!r}")
    c = np.asarray(sample.write_done_s, dtype=float)
    s = np.asarray(sample.read_sent_s, dtype=float)
    v = np.asarray(sample.read_value)
    dt_ms = (s[:, None] - c[None, :]) * 1e3            # reads x writes
    k = np.arange(c.size)[None, :]
    ok = v[:, None] >= k
    valid = dt_ms >= 0
    idx = np.digitize(dt_ms, edges) - 1                 # bin of each pair
    inside = valid & (idx >= 0) & (idx < edges.size - 1)
    tot = np.bincount(idx[inside], minlength=edges.size - 1).astype(float)
    hit = np.bincount(idx[inside], weights=ok[inside].astype(float), minlength=edges.size - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, hit / tot, np.nan)
