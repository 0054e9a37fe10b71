"""A user-space TCP proxy that delays every byte by a fixed time, preserving order.

The kernel on the machines this project runs on has no ``netem`` qdisc, so latency between
etcd members is injected in user space: one listening port per member, in front of that
member's peer port.  Every chunk read from either side of a connection is stamped on arrival
and written to the other side ``delay_ms`` later; chunks leave in arrival order (one FIFO
per direction), so the byte stream is unchanged, only late.

Why one delay per member gives ``RTT(i, j) = x_i + x_j`` ([etcd-rafthttp] in docs/references.rst): etcd
3.4 peers *receive* on long-lived streams that the receiver dials, i.e. member *j* connects to
member *i*'s advertised peer URL (the proxy) and *i* writes its messages to *j* on that
connection.  A message from *i* to *j* therefore crosses *i*'s proxy once (``x_i``) and the
answer from *j* to *i* crosses *j*'s proxy once (``x_j``).

The proxy runs in its own process (``python -m followerlab.validation.proxy``, :func:`main`) so that it does
not compete for the GIL with the load driver; :class:`ProxyProcess` starts it, reads the ports
it bound and changes delays at run time through its stdin.  :func:`serve` is the asyncio core,
usable in-process (the tests drive it directly).

Protocol of the process (one JSON object per line):

* stdout, once ready: ``{"ports": [listen_port_0, ...]}``
* stdin: ``{"delays_ms": [x_0, ...]}`` -> stdout ``{"ok": true}``; ``{"stats": true}`` -> how
  late delayed chunks left since the last ask (``count, p50_ms, p90_ms, mean_ms``);
  ``{"quit": true}`` (or EOF) -> exits.

>>> import asyncio, socket
>>> async def demo():
...     server = await asyncio.start_server(_echo, "127.0.0.1", 0)
...     up = server.sockets[0].getsockname()[1]
...     proxies = await serve([(0, up)], [5.0])
...     port = proxies.ports[0]
...     r, w = await asyncio.open_connection("127.0.0.1", port)
...     loop = asyncio.get_running_loop()
...     t0 = loop.time(); w.write(b"ping"); await w.drain()
...     data = await r.readexactly(4); rtt_ms = (loop.time() - t0) * 1e3
...     w.close(); await proxies.close(); server.close()
...     return data, rtt_ms >= 10.0      # 5 ms each way
>>> asyncio.run(demo())
(b'ping', True)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field

from .._validate import as_float_array, as_int_array

__all__ = ["ProxySet", "ProxyProcess", "serve"]

_CHUNK = 65536


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An echo server (used by doctests and tests as the upstream)."""
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay_s, late=None) -> None:
    """Copy ``reader`` to ``writer``, each chunk written ``delay_s()`` seconds after it arrived.

    Two tasks share a FIFO: the reader stamps each chunk with its due time, the writer sleeps
    until the head's due time and writes it.  ``late`` (a deque) collects how late each
    delayed chunk left (s), the proxy's own error.  Order is preserved even if the delay changes
    while chunks are queued (a later chunk never overtakes an earlier one).
    """
    loop = asyncio.get_running_loop()
    queue: deque = deque()
    ready = asyncio.Event()

    async def pump_in() -> None:
        try:
            while True:
                data = await reader.read(_CHUNK)
                queue.append((loop.time() + delay_s(), data))
                ready.set()
                if not data:
                    return
        except (ConnectionError, OSError):
            queue.append((loop.time(), b""))
            ready.set()

    async def pump_out() -> None:
        try:
            while True:
                while not queue:
                    ready.clear()
                    await ready.wait()
                due, data = queue.popleft()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                    if late is not None:
                        late.append(loop.time() - due)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            return

    t_in = asyncio.ensure_future(pump_in())
    try:
        await pump_out()
    finally:
        t_in.cancel()


@dataclass
class ProxySet:
    """Running proxies: ``ports[i]`` listens and forwards to ``upstreams[i]`` with ``delays_ms[i]``."""

    ports: list[int]
    upstreams: list[int]
    delays_ms: list[float]
    _servers: list = field(default_factory=list, repr=False)
    _tasks: set = field(default_factory=set, repr=False)
    lateness_s: deque = field(default_factory=lambda: deque(maxlen=100_000), repr=False)

    def lateness_stats(self, reset: bool = True) -> dict:
        """How late delayed chunks left, in ms: count, p50, p90, mean (then forget them)."""
        import numpy as np

        x = np.asarray(self.lateness_s, dtype=float) * 1e3
        if reset:
            self.lateness_s.clear()
        if x.size == 0:
            return {"count": 0, "p50_ms": float("nan"), "p90_ms": float("nan"), "mean_ms": float("nan")}
        return {"count": int(x.size), "p50_ms": float(np.percentile(x, 50)), "p90_ms": float(np.percentile(x, 90)),
                "mean_ms": float(x.mean())}

    def set_delays(self, delays_ms) -> None:
        """Change every proxy's delay (ms); applies to chunks that arrive from now on."""
        d = as_float_array("delays_ms", delays_ms, minimum=0.0)
        if d.shape != (len(self.upstreams),):
            raise ValueError(f"delays_ms must have one value per proxy ({len(self.upstreams)}); got {delays_ms!r}")
        self.delays_ms[:] = [float(v) for v in d]

    async def close(self) -> None:
        for s in self._servers:
            s.close()
        for t in list(self._tasks):
            t.cancel()
        for s in self._servers:
            try:
                await asyncio.wait_for(s.wait_closed(), 1.0)
            except (asyncio.TimeoutError, Exception):
                pass


async def serve(pairs, delays_ms, host: str = "127.0.0.1") -> ProxySet:
    """Start one delaying proxy per ``(listen_port, upstream_port)`` pair on loopback.

    Parameters
    ----------
    pairs : sequence of (int, int)
        Listening port (0 = pick a free one) and the upstream port it forwards to.
    delays_ms : sequence of float
        Delay added to every chunk, in each direction, by proxy ``i`` (ms, >= 0).
    host : str
        Loopback address only (``127.0.0.1``); anything else is refused.

    Returns
    -------
    ProxySet
        With the bound ``ports``; ``await proxies.close()`` stops them.
    """
    if host != "127.0.0.1":
        raise ValueError(f"host must be the loopback address '127.0.0.1'; got {host!r}")
    pairs = [tuple(p) for p in pairs]
    for name, idx in (("listen port", 0), ("upstream port", 1)):
        as_int_array(name.replace(" ", "_"), [p[idx] for p in pairs] or [0], minimum=0, maximum=65535)
    proxies = ProxySet(ports=[], upstreams=[p[1] for p in pairs], delays_ms=[0.0] * len(pairs))
    proxies.set_delays(delays_ms)

    def handler_for(i: int):
        async def handle(c_reader, c_writer):
            task = asyncio.current_task()
            proxies._tasks.add(task)
            u_writer = None
            try:
                _nodelay(c_writer)
                try:
                    u_reader, u_writer = await asyncio.open_connection(host, proxies.upstreams[i])
                except OSError:
                    return  # upstream down (a stopped member): drop the connection
                _nodelay(u_writer)

                def delay() -> float:
                    return proxies.delays_ms[i] / 1e3

                await asyncio.gather(_pipe(c_reader, u_writer, delay, proxies.lateness_s),
                                     _pipe(u_reader, c_writer, delay, proxies.lateness_s))
            except asyncio.CancelledError:
                pass
            finally:
                for w in (c_writer, u_writer):
                    if w is not None:
                        w.close()
                proxies._tasks.discard(task)

        return handle

    for i, (listen, _up) in enumerate(pairs):
        server = await asyncio.start_server(handler_for(i), host, listen)
        proxies._servers.append(server)
        proxies.ports.append(server.sockets[0].getsockname()[1])
    return proxies


class ProxyProcess:
    """The proxies in a child process; ``ports`` are the listening ports it bound.

    Parameters
    ----------
    upstreams : sequence of int
        Upstream port of each proxy (the etcd members' real peer ports).
    delays_ms : sequence of float
        Initial delay of each proxy (ms).
    popen_kwargs : dict
        Extra arguments for :class:`subprocess.Popen` (the cluster passes its process-group
        and parent-death settings).
    timeout_s : float
        How long to wait for the child to report its ports.
    nice : int
        Priority adjustment of the child (``os.nice``); negative values need root and are
        ignored without it.  A higher priority makes the proxy wake on time on a busy machine.
    """

    def __init__(self, upstreams, delays_ms, *, popen_kwargs=None, timeout_s: float = 10.0, nice: int = 0):
        ups = as_int_array("upstreams", upstreams, minimum=1, maximum=65535)
        d = as_float_array("delays_ms", delays_ms, minimum=0.0)
        if d.shape != ups.shape:
            raise ValueError(f"delays_ms must have one value per upstream ({ups.size}); got {delays_ms!r}")
        # "-c" rather than "-m followerlab.validation.proxy": the package imports this module,
        # and runpy warns when a module it is about to run as __main__ is already imported.
        args = [sys.executable, "-c", "import sys; from followerlab.validation.proxy import main; sys.exit(main())",
                "--upstreams", *map(str, ups.tolist()),
                "--delays-ms", *map(str, d.tolist()), "--nice", str(int(nice))]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     **(popen_kwargs or {}))
        self._lock = threading.Lock()
        line = self._readline(timeout_s)
        try:
            self.ports = [int(p) for p in json.loads(line)["ports"]]
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise RuntimeError(f"latency proxy did not start (said {line!r})") from None
        self.delays_ms = d.tolist()

    def _readline(self, timeout_s: float) -> str:
        out: list[str] = []
        t = threading.Thread(target=lambda: out.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout_s)
        if not out:
            raise RuntimeError(f"latency proxy did not answer within {timeout_s} s")
        return out[0]

    def set_delays(self, delays_ms, timeout_s: float = 5.0) -> None:
        """Change the delays (ms) of every proxy at run time."""
        d = as_float_array("delays_ms", delays_ms, minimum=0.0)
        if d.shape != (len(self.ports),):
            raise ValueError(f"delays_ms must have one value per proxy ({len(self.ports)}); got {delays_ms!r}")
        with self._lock:
            self.proc.stdin.write(json.dumps({"delays_ms": d.tolist()}) + "\n")
            self.proc.stdin.flush()
            reply = self._readline(timeout_s)
        if not json.loads(reply).get("ok"):
            raise RuntimeError(f"latency proxy refused the delays: {reply!r}")
        self.delays_ms = d.tolist()

    def lateness(self, timeout_s: float = 5.0) -> dict:
        """How late the proxies sent delayed chunks since the last call (ms: p50, p90, mean)."""
        with self._lock:
            self.proc.stdin.write(json.dumps({"stats": True}) + "\n")
            self.proc.stdin.flush()
            reply = json.loads(self._readline(timeout_s))
        reply.pop("ok", None)
        return reply

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, timeout_s: float = 3.0) -> None:
        """Ask the child to quit; terminate, then kill it if it does not."""
        if self.proc.poll() is not None:
            return
        try:
            self.proc.stdin.write(json.dumps({"quit": True}) + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout_s)


async def _main_async(upstreams: list[int], delays: list[float]) -> None:
    proxies = await serve([(0, u) for u in upstreams], delays)
    print(json.dumps({"ports": proxies.ports}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            try:
                msg = json.loads(line)
                if msg.get("quit"):
                    break
                if msg.get("stats"):
                    print(json.dumps({"ok": True, **proxies.lateness_stats()}), flush=True)
                    continue
                proxies.set_delays(msg["delays_ms"])
                print(json.dumps({"ok": True}), flush=True)
            except (ValueError, KeyError, TypeError) as exc:
                print(json.dumps({"ok": False, "error": str(exc)}), flush=True)
    finally:
        await proxies.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Delaying TCP proxies on 127.0.0.1 (stdin: JSON control).")
    parser.add_argument("--upstreams", nargs="+", type=int, required=True)
    parser.add_argument("--delays-ms", nargs="+", type=float, required=True)
    parser.add_argument("--nice", type=int, default=0, help="adjust the scheduling priority (negative needs root)")
    args = parser.parse_args(argv)
    if args.nice:
        try:
            os.nice(args.nice)
        except OSError:
            pass
    if len(args.upstreams) != len(args.delays_ms):
        parser.error("--upstreams and --delays-ms need the same number of values")
    try:
        # select(2) takes a microsecond timeout; epoll's is rounded up to whole milliseconds,
        # which would add up to 1 ms to every delayed chunk.  A cluster has far fewer than
        # FD_SETSIZE (1024) sockets.
        with asyncio.Runner(loop_factory=lambda: asyncio.SelectorEventLoop(selectors.SelectSelector())) as runner:
            runner.run(_main_async(args.upstreams, args.delays_ms))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
