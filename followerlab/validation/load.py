"""Latency versus offered load on etcd: open-loop (Poisson) and closed-loop (N clients) drivers.

Both drivers use the JSON-gateway client of :mod:`followerlab.validation.client`
(:class:`~followerlab.validation.client.GatewayClient`: ``POST /v3/kv/put`` over one persistent
HTTP/1.1 connection per thread, to 127.0.0.1 only).

**Open loop** (:func:`open_loop`).  Arrival times are drawn in advance: a Poisson stream of
rate λ, :math:`t_k = t_0 + \\sum_{i \\le k} E_i`, :math:`E_i \\sim \\text{Exp}(\\lambda)`, cut at
``count`` requests and ``max_time_s`` seconds.  ``workers`` threads take the next arrival in
order, sleep until it is due and send it.  A request's latency is measured from its
*scheduled* arrival (``done - scheduled``), so a request that waited for a free worker is
charged that wait: the latency a queueing model predicts, without coordinated omission
(when every worker is busy, new arrivals queue in the driver instead of being silently
dropped or delayed).  ``sent - scheduled`` (the *driver lag*) says how late the driver itself
was; on the zero-latency stub (:class:`StubServer`) it measures the driver's own limit.

**Closed loop** (:func:`closed_loop`).  ``clients`` threads each send their next request as
soon as the previous one returns; latency is ``done - sent``; throughput
completions / elapsed.

Both are bounded in count and time and return a :class:`LoadSample`; :func:`load_summary` turns
it into p50/p90/p99 and achieved throughput.  :func:`run_load_curve` sweeps rates (or client
counts) over layouts behind the delaying proxies and records the machine load of each point.
Why both drivers: open and closed systems give different latencies at the same throughput
([SchroederWiermanHarcholBalter2006] in docs/references.rst); ``raft.write_load`` is an open
(Poisson) model, so only the open-loop curve is compared with it.

>>> s = LoadSample("open", 100.0, 0, np.array([0.0, 0.01]), np.array([0.0, 0.01]), np.array([0.002, 0.013]),
...                np.array([True, True]))
>>> load_summary(s)["p50_ms"]
2.5
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import as_float_array, as_int_array, check_choice
from .client import GatewayClient
from .cluster import HOST, EtcdCluster, EtcdError, _popen_kwargs, b64

__all__ = ["LOAD_OPS", "RawPutClient", "LoadSample", "poisson_schedule", "open_loop", "closed_loop", "load_summary", "StubServer", "driver_overhead",
           "run_load_curve", "load_meta"]

MODES = ("open", "closed")


@dataclass(frozen=True)
class LoadSample(Result):
    """Raw record of one load point (times: ``time.perf_counter`` seconds).

    Attributes
    ----------
    mode : {'open', 'closed'}
    offered : float
        Open loop: the offered rate (requests/s); closed loop: the number of clients.
    member : int
        Member (or stub) index the requests went to.
    scheduled_s, sent_s, done_s : numpy.ndarray
        Per request: scheduled arrival (closed loop: = sent), when it was sent, when it returned
        (NaN if it failed or was still outstanding at the time bound).
    ok : numpy.ndarray of bool
        Whether it returned without error.
    cpu_s : float
        CPU time of this process during the point (user + system; the driver's own cost).
    """

    mode: str
    offered: float
    member: int
    scheduled_s: np.ndarray
    sent_s: np.ndarray
    done_s: np.ndarray
    ok: np.ndarray
    cpu_s: float = float("nan")

    @property
    def latency_ms(self) -> np.ndarray:
        """Latency of every successful request (ms): from its scheduled arrival."""
        return (self.done_s[self.ok] - self.scheduled_s[self.ok]) * 1e3

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"mode": self.mode, "offered": self.offered, "member": self.member,
                             "scheduled_s": self.scheduled_s, "sent_s": self.sent_s, "done_s": self.done_s,
                             "ok": self.ok})


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


class RawPutClient:
    """A lean keep-alive HTTP/1.1 client for ``POST /v3/kv/put`` and linearizable
    ``/v3/kv/range`` (the same gateway endpoints and JSON bodies as
    :class:`~followerlab.validation.client.GatewayClient`, without ``http.client``
    and ``json`` on the hot path, so the driver costs less CPU per request).  An answer that is
    not HTTP 200 or carries an ``"error"`` raises :class:`EtcdError`."""

    def __init__(self, port: int, timeout_s: float = 5.0):
        self.port = int(port)
        self.timeout_s = float(timeout_s)
        self._sock: socket.socket | None = None
        self._buf = b""

    def _connect(self) -> socket.socket:
        s = socket.create_connection((HOST, self.port), timeout=self.timeout_s)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._buf = s, b""
        return s

    def put(self, key: str, value: str) -> None:
        """``/v3/kv/put`` of one key."""
        self._call(b"/v3/kv/put", b'{"key":"%s","value":"%s"}' % (b64(key).encode(), b64(value).encode()))

    def range(self, key: str) -> None:
        """A linearizable ``/v3/kv/range`` of one key (a ReadIndex round at the member); the
        answer is read and dropped."""
        self._call(b"/v3/kv/range", b'{"key":"%s"}' % b64(key).encode())

    def _call(self, path: bytes, body: bytes) -> None:
        req = (b"POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % (path, HOST.encode(), self.port, len(body))) + body
        where = f"port {self.port} {path.decode()}"
        for attempt in (0, 1):
            try:
                s = self._sock or self._connect()
                s.sendall(req)
                status, payload = self._response(s)
                break
            except (OSError, EtcdError) as exc:
                self.close()
                if attempt:
                    raise EtcdError(f"{where}: {exc}") from exc
        if status != 200 or b'"error"' in payload:
            raise EtcdError(f"{where}: HTTP {status} {payload[:200]!r}")

    def _response(self, s: socket.socket) -> tuple[int, bytes]:
        buf = self._buf
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise EtcdError("connection closed")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = None
        chunked = False
        for line in lines[1:]:
            name, _, val = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(val)
            elif name == b"transfer-encoding" and b"chunked" in val.lower():
                chunked = True
        if chunked:  # the gateway answers small bodies with Content-Length; chunked is a fallback
            body = b""
            while True:
                while b"\r\n" not in rest:
                    rest += self._recv(s)
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                while len(rest) < size + 2:
                    rest += self._recv(s)
                body, rest = body + rest[:size], rest[size + 2:]
                if size == 0:
                    break
            self._buf = rest
            return status, body
        length = length or 0
        while len(rest) < length:
            rest += self._recv(s)
        self._buf = rest[length:]
        return status, rest[:length]

    @staticmethod
    def _recv(s: socket.socket) -> bytes:
        chunk = s.recv(65536)
        if not chunk:
            raise EtcdError("connection closed")
        return chunk

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buf = b""


#: Operations of the load drivers: puts, or linearizable reads (ReadIndex at the member).
LOAD_OPS = ("put", "read")


def _request(client, op: str, key: str, value: str) -> None:
    if op == "put":
        client.put(key, value)
    else:
        client.range(key)


def _drive(port: int, schedule: np.ndarray | None, threads: int, count: int, max_time_s: float,
           key_prefix: str, timeout_s: float, warmup: int, closed: bool, lean: bool = True, op: str = "put"):
    """Shared engine: ``threads`` workers with their own connection; returns raw arrays."""
    n = count
    sched = np.full(n, np.nan)
    sent = np.full(n, np.nan)
    done = np.full(n, np.nan)
    ok = np.zeros(n, dtype=bool)
    lock = threading.Lock()
    nxt = [0]
    errors: list[BaseException] = []
    t0 = [0.0]

    def _start_clock() -> None:  # runs once, before any thread leaves the barrier
        t0[0] = time.perf_counter() + 0.005

    ready = threading.Barrier(threads + 1, action=_start_clock)
    stop = threading.Event()

    def worker(w: int) -> None:
        client = RawPutClient(port, timeout_s=timeout_s) if lean else GatewayClient(port, timeout_s=timeout_s)
        try:
            for j in range(warmup):
                _request(client, "put" if j == 0 else op, f"{key_prefix}/warm{w}", str(j))
            ready.wait(30.0)
            while not stop.is_set():
                with lock:
                    k = nxt[0]
                    if k >= n:
                        return
                    nxt[0] += 1
                if closed:
                    s = time.perf_counter()
                    if s - t0[0] > max_time_s:
                        return
                    sched[k] = s
                else:
                    due = t0[0] + schedule[k]
                    if schedule[k] > max_time_s:
                        return
                    sched[k] = due
                    wait = due - time.perf_counter()
                    if wait > 0:
                        if stop.wait(wait):
                            return
                    s = time.perf_counter()
                sent[k] = s
                try:
                    _request(client, op, f"{key_prefix}/{k % 64}", str(k))
                except EtcdError as exc:
                    errors.append(exc)
                    continue
                done[k] = time.perf_counter()
                ok[k] = True
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            try:
                ready.abort()
            except threading.BrokenBarrierError:
                pass
        finally:
            client.close()

    ths = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(threads)]
    for t in ths:
        t.start()
    c0 = _cpu()
    try:
        try:
            ready.wait(60.0)
        except threading.BrokenBarrierError:
            pass
        end = t0[0] + max_time_s + timeout_s + 1.0
        for t in ths:
            t.join(max(0.0, end - time.perf_counter()))
    finally:
        stop.set()          # also on KeyboardInterrupt: workers stop at their next request
        for t in ths:
            t.join(timeout_s + 1.0)
    cpu = _cpu() - c0
    used = ~np.isnan(sched)
    if errors and not ok.any():
        raise EtcdError(f"every request failed: {errors[0]}") from errors[0]
    return sched[used], sent[used], done[used], ok[used], cpu


def poisson_schedule(rate_per_s, count: int, max_time_s: float, seed=0) -> np.ndarray:
    """Arrival times (s from the start) of a Poisson stream, at most ``count`` and ``<= max_time_s``.

    >>> t = poisson_schedule(1000.0, 10**5, 5.0, seed=1)
    >>> t.size in range(4800, 5200), bool(np.all(np.diff(t) > 0)), bool(t[-1] <= 5.0)
    (True, True, True)
    """
    rate = float(as_float_array("rate_per_s", rate_per_s, minimum=0.0, strict_minimum=True))
    count = int(as_int_array("count", count, minimum=1, maximum=10**7))
    max_time_s = float(as_float_array("max_time_s", max_time_s, minimum=0.0, strict_minimum=True))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1.0 / rate, count))
    return t[: int(np.searchsorted(t, max_time_s, side="right"))]


def open_loop(port: int, rate_per_s: float, *, count: int = 1000, max_time_s: float = 10.0, workers: int = 64,
              seed=0, key_prefix: str = "followerlab/load", timeout_s: float = 5.0, warmup: int = 2,
              member: int = 0, op: str = "put") -> LoadSample:
    """Poisson arrivals at ``rate_per_s`` to the gateway on ``port`` (127.0.0.1): puts, or
    linearizable reads with ``op="read"``.

    Parameters
    ----------
    port : int
        Client port of the member (or of a :class:`StubServer`).
    rate_per_s : float
        Offered rate λ (> 0).
    count : int
        At most this many requests (>= 1).
    max_time_s : float
        Arrivals scheduled after this many seconds are not sent (> 0).
    workers : int
        Threads, i.e. at most this many requests in flight (1..512).  Size it above
        λ × (expected latency); when all are busy arrivals wait in the driver (and that wait is
        part of their latency).
    seed : int or numpy.random.Generator
        For the arrival times.

    Returns
    -------
    LoadSample

    References
    ----------
    SchroederWiermanHarcholBalter2006 in docs/references.rst (open vs closed load generators).
    """
    rate = float(as_float_array("rate_per_s", rate_per_s, minimum=0.0, strict_minimum=True))
    count = int(as_int_array("count", count, minimum=1, maximum=10**6))
    max_time_s = float(as_float_array("max_time_s", max_time_s, minimum=0.0, strict_minimum=True))
    workers = int(as_int_array("workers", workers, minimum=1, maximum=512))
    port = int(as_int_array("port", port, minimum=1, maximum=65535))
    op = check_choice("op", op, LOAD_OPS)
    schedule = poisson_schedule(rate, count, max_time_s, seed)
    if schedule.size == 0:
        raise ValueError(f"no arrival within max_time_s={max_time_s} at rate_per_s={rate}")
    sched, sent, done, ok, cpu = _drive(port, schedule, workers, schedule.size, max_time_s, key_prefix, timeout_s,
                                        warmup, closed=False, op=op)
    return LoadSample("open", rate, member, sched, sent, done, ok, cpu)


def closed_loop(port: int, clients: int, *, count: int = 1000, max_time_s: float = 10.0,
                key_prefix: str = "followerlab/load", timeout_s: float = 5.0, warmup: int = 2,
                member: int = 0, op: str = "put") -> LoadSample:
    """``clients`` threads sending puts (or linearizable reads, ``op="read"``) back to back
    (closed loop), bounded in count and time.

    References
    ----------
    SchroederWiermanHarcholBalter2006 in docs/references.rst.
    """
    clients = int(as_int_array("clients", clients, minimum=1, maximum=512))
    count = int(as_int_array("count", count, minimum=1, maximum=10**6))
    max_time_s = float(as_float_array("max_time_s", max_time_s, minimum=0.0, strict_minimum=True))
    port = int(as_int_array("port", port, minimum=1, maximum=65535))
    op = check_choice("op", op, LOAD_OPS)
    sched, sent, done, ok, cpu = _drive(port, None, clients, count, max_time_s, key_prefix, timeout_s, warmup,
                                        closed=True, op=op)
    return LoadSample("closed", float(clients), member, sched, sent, done, ok, cpu)


def load_summary(sample: LoadSample) -> dict:
    """p50/p90/p99/mean latency (ms, from the scheduled arrival), achieved throughput, driver lag.

    ``arrival_rate_per_s`` is the rate the requests actually arrived at (count - 1 over the span
    of the scheduled arrivals: a Poisson count fluctuates around the offered rate); closed loop:
    the rate they were sent at.
    ``throughput_per_s`` is completions divided by the span from the first arrival to the last
    completion; ``driver_lag_p99_ms`` the 99th percentile of ``sent - scheduled`` (open loop;
    0 for closed loop); ``cpu_per_request_ms`` the driver's CPU time per sent request.
    """
    lat = sample.latency_ms
    n_ok = int(sample.ok.sum())
    span = (np.nanmax(sample.done_s) - np.nanmin(sample.scheduled_s)) if n_ok else np.nan
    lag = (sample.sent_s - sample.scheduled_s) * 1e3
    lag = lag[np.isfinite(lag)]
    q = np.percentile(lat, [50, 90, 99]) if n_ok else [np.nan] * 3
    arr_span = float(np.nanmax(sample.scheduled_s) - np.nanmin(sample.scheduled_s)) if sample.scheduled_s.size > 1 else 0.0
    arrival = (sample.scheduled_s.size - 1) / arr_span if arr_span > 0 else np.nan
    return {"mode": sample.mode, "offered": sample.offered, "requests": int(sample.scheduled_s.size),
            "arrival_rate_per_s": arrival,
            "completed": n_ok, "errors": int((~sample.ok).sum()),
            "throughput_per_s": n_ok / span if n_ok and span > 0 else np.nan,
            "p50_ms": float(q[0]), "p90_ms": float(q[1]), "p99_ms": float(q[2]),
            "mean_ms": float(lat.mean()) if n_ok else np.nan,
            "driver_lag_p50_ms": float(np.percentile(lag, 50)) if lag.size else np.nan,
            "driver_lag_p99_ms": float(np.percentile(lag, 99)) if lag.size else np.nan,
            "cpu_per_request_ms": 1e3 * sample.cpu_s / max(1, np.isfinite(sample.sent_s).sum())}


# ---------------------------------------------------------------------------- the stub

#: The stub's program: standard library only, so it starts in a few ms (no package import).
_STUB_SRC = r"""
import asyncio, sys
REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

async def conn(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            writer.write(REPLY)
    except (asyncio.IncompleteReadError, ConnectionError, OSError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()

async def main():
    server = await asyncio.start_server(conn, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until stdin closes
    server.close()

asyncio.run(main())
"""


class StubServer:
    """A zero-latency stand-in for a member's gateway, in a child process (standard library
    only, :data:`_STUB_SRC`): answers every POST with ``{}`` at once.  Used to measure the drivers' own limits.  Stopped on exit of the
    ``with`` block (stdin closed, then SIGTERM/SIGKILL), and with the parent (PDEATHSIG)."""

    def __init__(self, timeout_s: float = 10.0):
        self.timeout_s = float(as_float_array("timeout_s", timeout_s, minimum=0.1))
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None

    def __enter__(self) -> "StubServer":
        self.proc = subprocess.Popen([sys.executable, "-S", "-c", _STUB_SRC], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, **_popen_kwargs())
        try:
            line = self.proc.stdout.readline()
            self.port = int(line)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def stop(self) -> None:
        p = self.proc
        if p is None:
            return
        try:
            if p.stdin:
                p.stdin.close()
            p.wait(2.0)
        except (subprocess.TimeoutExpired, OSError):
            p.terminate()
            try:
                p.wait(2.0)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5.0)
        finally:
            if p.stdout:
                p.stdout.close()
            self.proc = None


def driver_overhead(rates=(200.0, 1000.0, 3000.0), *, seconds: float = 2.0, workers: int = 64,
                    clients=(1, 8), seed=0) -> pd.DataFrame:
    """The drivers against :class:`StubServer`: achieved vs offered rate, latency, lag, CPU cost.

    Whatever the drivers show here is their own limit on this machine (loopback, no etcd);
    a load point against etcd means something only below the rate at which the stub's
    throughput falls short of the offered rate or its driver lag grows.
    """
    rates = as_float_array("rates", rates, minimum=0.0, strict_minimum=True).ravel()
    rows = []
    with StubServer() as stub:
        for r in rates:
            s = open_loop(stub.port, r, count=int(r * seconds) + 1, max_time_s=seconds, workers=workers, seed=seed)
            rows.append(load_summary(s) | load_meta())
        for c in clients:
            s = closed_loop(stub.port, c, count=10**6, max_time_s=seconds)
            rows.append(load_summary(s) | load_meta())
    return pd.DataFrame(rows)


def load_meta() -> dict:
    """Machine load (1-min loadavg), core count and UTC time of a point."""
    try:
        la = os.getloadavg()[0]
    except OSError:
        la = float("nan")
    return {"loadavg_1m": round(la, 2), "cpus": os.cpu_count(),
            "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


# ---------------------------------------------------------------------------- sweeps

def run_load_curve(layouts, *, mode: str = "open", points=(50.0, 100.0, 200.0), seconds: float = 3.0,
                   max_count: int = 5000, workers: int = 64, max_time_s: float = 600.0, seed=0,
                   cluster_kwargs=None, progress=None, fresh_cluster: bool = False, op: str = "put") -> pd.DataFrame:
    """Puts (or linearizable reads, ``op="read"``) to the leader at each offered rate (open) or
    client count (closed), per layout.

    One cluster per cluster size, or with ``fresh_cluster=True`` one per layout, so that no
    layout runs on the history another one wrote (after an overload at 6000/s the next
    layout's latencies were visibly higher; run 2026-12-03T0704Z was measured this way).  For
    each layout the proxies get its delays and the leader is moved to ``layout.leader``; every
    point runs for ``seconds`` (at most ``max_count`` requests) after a short warm-up.  Points
    are run in the given order (light to heavy).

    Returns
    -------
    pandas.DataFrame
        One row per (layout, point): :func:`load_summary` + :func:`load_meta` columns and
        ``layout, n, workers`` (the open-loop driver's threads — at most ``workers`` requests in
        flight — or the closed loop's clients).
    """
    mode = check_choice("mode", mode, MODES)
    op = check_choice("op", op, LOAD_OPS)
    pts = as_float_array("points", points, minimum=0.0, strict_minimum=True).ravel()
    seconds = float(as_float_array("seconds", seconds, minimum=0.0, strict_minimum=True))
    deadline = time.monotonic() + float(as_float_array("max_time_s", max_time_s, minimum=0.0, strict_minimum=True))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if not isinstance(fresh_cluster, (bool, np.bool_)):
        raise ValueError(f"fresh_cluster must be True or False; got {fresh_cluster!r}")
    groups: dict = {}
    for i, lay in enumerate(layouts):
        if lay.stopped:
            raise ValueError(f"layouts with stopped members are not supported here; got {lay.name!r}")
        groups.setdefault(i if fresh_cluster else lay.n, []).append(lay)
    rows = []
    for group in groups.values():
        n = group[0].n
        with EtcdCluster(n, **(cluster_kwargs or {})) as cluster:
            for lay in group:
                cluster.set_delays(lay.delays_ms)
                cluster.move_leader(lay.leader)
                port = cluster.client_ports[lay.leader]
                for p in pts:
                    if time.monotonic() > deadline:
                        break
                    if mode == "open":
                        s = open_loop(port, p, count=min(max_count, int(p * seconds) + 1), max_time_s=seconds,
                                      workers=workers, seed=rng, member=lay.leader, op=op)
                    else:
                        s = closed_loop(port, int(p), count=max_count, max_time_s=seconds, member=lay.leader, op=op)
                    # workers: the open-loop driver's threads (its completion limit), or the clients
                    row = {"layout": lay.name, "n": n, "workers": workers if mode == "open" else int(p)}
                    if op != "put":     # put curves keep the columns of the runs saved before reads
                        row["op"] = op
                    rows.append(row | load_summary(s) | load_meta())
                    if progress is not None:
                        progress(f"{lay.name} {mode} {op} {p:g}: {rows[-1]['throughput_per_s']:.0f}/s "
                                 f"p50 {rows[-1]['p50_ms']:.1f} p99 {rows[-1]['p99_ms']:.1f} ms")
    return pd.DataFrame(rows)
