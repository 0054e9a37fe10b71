"""The etcd validation harness: the delaying proxy, cluster lifecycle, the load drivers.

Tests that need etcd are marked ``etcd``; they skip with a reason when the binary is absent,
but fail when the environment variable CI is set (CI installs etcd, so a skip there would hide
a broken install).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from followerlab.validation.client import LatencySample, StalenessSample, measure_latency, visibility_curve
from followerlab.validation.cluster import EtcdCluster, _remove_orphans, etcd_available, free_ports
from followerlab.validation.proxy import ProxyProcess, _echo, serve


def need_etcd():
    if etcd_available():
        return
    if os.environ.get("CI"):
        pytest.fail("CI is set but the etcd binary is missing (apt-get install etcd-server etcd-client)")
    pytest.skip("etcd binary not installed (apt-get install etcd-server etcd-client, or set ETCD_BIN)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of ours counts as gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def _wait_gone(pids, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


# ---------------------------------------------------------------------------- proxy (no etcd)

async def _roundtrips(delays, count=30, size=200):
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    up = server.sockets[0].getsockname()[1]
    proxies = await serve([(0, up)], delays)
    r, w = await asyncio.open_connection("127.0.0.1", proxies.ports[0])
    loop = asyncio.get_running_loop()
    out, echoed, sent = [], b"", b""
    try:
        for i in range(count):
            msg = (f"{i:06d}" * (size // 6 + 1)).encode()[:size]
            sent += msg
            t0 = loop.time()
            w.write(msg)
            await w.drain()
            echoed += await r.readexactly(size)
            out.append((loop.time() - t0) * 1e3)
    finally:
        w.close()
        await proxies.close()
        server.close()
    return np.array(out), echoed == sent


def test_proxy_adds_the_delay_in_each_direction_and_keeps_bytes_in_order():
    # echo through one proxy: request and answer each cross it once -> 2 x delay
    lat, same = asyncio.run(_roundtrips([8.0]))
    assert same
    # lower bound is exact (never early); the upper allowance covers a loaded 2-core machine
    assert lat.min() >= 16.0
    assert np.median(lat) < 16.0 + 4.0


def test_proxy_with_zero_delay_is_transparent():
    lat, same = asyncio.run(_roundtrips([0.0]))
    assert same and np.median(lat) < 5.0


def test_proxy_keeps_order_when_the_delay_shrinks_mid_stream():
    async def run():
        server = await asyncio.start_server(_echo, "127.0.0.1", 0)
        proxies = await serve([(0, server.sockets[0].getsockname()[1])], [30.0])
        r, w = await asyncio.open_connection("127.0.0.1", proxies.ports[0])
        w.write(b"first-")
        await w.drain()
        await asyncio.sleep(0.002)
        proxies.set_delays([0.0])           # a later chunk must not overtake the queued one
        w.write(b"second")
        await w.drain()
        data = await asyncio.wait_for(r.readexactly(12), 5.0)
        w.close()
        await proxies.close()
        server.close()
        return data

    assert asyncio.run(run()) == b"first-second"


def test_proxy_refuses_bad_arguments():
    with pytest.raises(ValueError, match="delays_ms must be >= 0"):
        asyncio.run(serve([(0, 1)], [-1.0]))
    with pytest.raises(ValueError, match="host must be the loopback"):
        asyncio.run(serve([(0, 1)], [0.0], host="0.0.0.0"))
    with pytest.raises(ValueError, match="one value per upstream"):
        ProxyProcess([1, 2], [0.0])


def test_proxy_process_reports_ports_changes_delays_and_stops():
    up = free_ports(2)
    p = ProxyProcess(up, [0.0, 1.0])
    try:
        assert len(p.ports) == 2 and all(isinstance(x, int) for x in p.ports)
        p.set_delays([3.0, 4.0])
        assert p.delays_ms == [3.0, 4.0]
        with pytest.raises(ValueError, match="one value per proxy"):
            p.set_delays([1.0])
    finally:
        p.stop()
    assert p.proc.poll() is not None


def test_free_ports_are_distinct():
    ports = free_ports(6)
    assert len(set(ports)) == 6


# ---------------------------------------------------------------------------- analysis (no etcd)

def test_latency_sample_percentiles():
    s = LatencySample("put", 0, 1, np.arange(1.0, 101.0))
    assert s.p50_ms == pytest.approx(50.5) and s.p90_ms == pytest.approx(90.1)
    assert list(s.to_frame().columns) == ["op", "member", "concurrency", "latency_ms"]


def test_visibility_curve_counts_every_read_write_pair():
    # writes returned at 0 and 10 ms; a read at 5 ms saw write 0; a read at 12 ms saw only write 0
    s = StalenessSample(0, 1, np.array([0.0, 0.010]), np.array([0.005, 0.012]), np.array([0, 0]))
    p = visibility_curve(s, [0.0, 4.0, 8.0, 16.0])
    # pairs: (5 ms after w0: seen), (12 after w0: seen), (2 after w1: not seen)
    assert p[0] == 0.0 and p[1] == 1.0 and p[2] == 1.0
    with pytest.raises(ValueError, match="t_ms must be increasing"):
        visibility_curve(s, [3.0, 1.0])


# ---------------------------------------------------------------------------- etcd lifecycle

@pytest.mark.etcd
def test_cluster_stops_everything_when_the_with_block_raises():
    need_etcd()
    with pytest.raises(RuntimeError, match="boom"):
        with EtcdCluster(3, heartbeat_ms=20, election_ms=200) as c:
            pids = c.pids()
            tmp = c.tmpdir
            assert len(pids) == 4 and c.leader() in range(3)
            raise RuntimeError("boom")
    assert _wait_gone(pids) == []
    assert not tmp.exists()


_CHILD = textwrap.dedent("""
    import json, sys, time
    from followerlab.validation.cluster import EtcdCluster
    c = EtcdCluster(3, heartbeat_ms=20, election_ms=200).start()  # no with-block: atexit / signal handling must clean up
    print(json.dumps([c.pids(), str(c.tmpdir)]), flush=True)
    time.sleep(120)
""")


@pytest.mark.etcd
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_cluster_processes_die_with_their_parent(sig):
    """SIGTERM/SIGINT unwind through atexit; SIGKILL is caught by PR_SET_PDEATHSIG / stdin EOF."""
    need_etcd()
    # SIGINT as a terminal's foreground process has it: a shell runs background jobs with SIGINT
    # ignored, and a Python started that way never raises KeyboardInterrupt (CI run with `&`)
    proc = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stdout.readline()
        pids, tmpdir = json.loads(line)
        assert len(pids) == 4 and all(_alive(p) for p in pids)
        proc.send_signal(sig)
        proc.wait(20)
        assert _wait_gone(pids, 10.0) == []
        if sig == signal.SIGKILL:       # nobody could clean up: the next cluster removes the orphan
            assert Path(tmpdir).exists()
            _remove_orphans(str(Path(tmpdir).parent))
        assert not Path(tmpdir).exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


@pytest.mark.etcd
def test_leader_moves_and_gateway_ops_work():
    need_etcd()
    with EtcdCluster(3) as c:
        lead = c.leader()
        target = (lead + 1) % 3
        assert c.move_leader(target) == target
        s = measure_latency(c, "put", target, 20)
        assert s.latencies_ms.size == 20 and np.all(s.latencies_ms > 0)
        s = measure_latency(c, "range_linearizable", (target + 1) % 3, 20, concurrency=2)
        assert s.latencies_ms.size == 20
        c.stop_member((target + 1) % 3)
        assert not c.running((target + 1) % 3)
        assert c.wait_for_leader(10) == target
        with pytest.raises(ValueError, match="op must be one of"):
            measure_latency(c, "get", target, 1)
