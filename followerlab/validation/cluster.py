"""An N-member etcd cluster on 127.0.0.1 with a latency proxy in front of each peer port.

:class:`EtcdCluster` starts the proxies (one child process, see
:mod:`followerlab.validation.proxy`) and ``n`` etcd members on free loopback ports with data
directories in a temporary folder, waits for a leader, and stops every process it started when
the ``with`` block ends -- on success, on an exception, on Ctrl-C (SIGINT) and on SIGTERM (the
handler turns SIGTERM into :class:`SystemExit` in the main thread so the ``with`` block
unwinds), at interpreter exit (``atexit``), and even if the Python process is killed with
SIGKILL (children get ``PR_SET_PDEATHSIG`` = SIGKILL on Linux, and the proxy exits when its
stdin closes).

Member *i* listens for peers on its real port and *advertises* its proxy's port, so every
peer connection to *i* crosses *i*'s proxy: ``RTT(i, j) = x_i + x_j`` (why: :mod:`followerlab.validation.proxy`; source: [etcd-rafthttp] in
docs/references.rst).  Clients talk
to each member's client port directly (no delay): the client is local to every member.

>>> etcd_available() in (True, False)
True
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path

from .._validate import as_float_array, as_int_array
from .proxy import ProxyProcess

__all__ = ["EtcdCluster", "EtcdError", "etcd_available", "etcd_binary", "free_ports", "b64"]

HOST = "127.0.0.1"
_LIVE: "weakref.WeakSet[EtcdCluster]" = weakref.WeakSet()


class EtcdError(RuntimeError):
    """etcd did not start, lost its leader, or answered with an error."""


def etcd_binary() -> str | None:
    """Path of the ``etcd`` executable (``$ETCD_BIN`` or on ``PATH``), or None."""
    env = os.environ.get("ETCD_BIN")
    if env:
        return env if os.access(env, os.X_OK) else None
    return shutil.which("etcd")


def etcd_available() -> bool:
    """Whether an etcd binary is installed (Debian: ``apt-get install etcd-server``)."""
    return etcd_binary() is not None


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (bound together, then released)."""
    count = int(as_int_array("count", count, minimum=1, maximum=1000))
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def b64(text: str | bytes) -> str:
    """Base64 of a key or value, as the v3 JSON gateway wants it.

    >>> b64("k")
    'aw=='
    """
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


def _pdeathsig() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _popen_kwargs(nice: int = 0) -> dict:
    kw = {"start_new_session": True}  # Ctrl-C reaches us only; we stop children in order
    linux = os.name == "posix" and os.uname().sysname == "Linux"

    def preexec() -> None:  # between fork and exec: parent-death signal, priority
        if linux:
            _pdeathsig()
        if nice:
            try:
                os.nice(nice)
            except OSError:
                pass

    if linux or nice:
        kw["preexec_fn"] = preexec
    return kw


def _stop_all_live() -> None:
    for cluster in list(_LIVE):
        cluster.stop()


atexit.register(_stop_all_live)


def _remove_orphans(data_root: str | None) -> None:
    """Delete data folders left by a process that was killed (SIGKILL) before it could clean up.

    Folders are named ``followerlab-etcd-<pid>-*``; one whose ``pid`` no longer runs is an orphan.
    """
    root = Path(data_root or tempfile.gettempdir())
    for d in root.glob("followerlab-etcd-*-*"):
        pid = d.name.split("-")[2]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except PermissionError:
            pass


def _sigterm(signum, frame):  # pragma: no cover - exercised in a child process by the tests
    raise SystemExit(128 + signum)


class EtcdCluster:
    """An etcd cluster of ``n`` members on loopback, each peer port behind a delaying proxy.

    Parameters
    ----------
    n : int
        Number of members (1..9).
    delays_ms : sequence of float, optional
        Initial proxy delay ``x_i`` of each member (ms, >= 0); default all 0.  Elections are
        faster with zero delays; set the layout afterwards with :meth:`set_delays`.
    heartbeat_ms, election_ms : int
        etcd ``--heartbeat-interval`` and ``--election-timeout`` (etcd defaults 100, 1000).
        Keep the election timeout well above the largest injected RTT.
    learners : int
        Non-voting members (``etcdctl member add --learner``; 0..4) added after the voters
        elect a leader; they get the member indices ``n .. n + learners - 1`` and a proxy of
        their own (delay 0 until :meth:`set_delays` says otherwise).  Voters-only calls
        (:meth:`leader`, :meth:`move_leader`) ignore them; etcd 3.4 serves only
        serializable reads at a learner ([etcd-Learner] in docs/references.rst).
    data_root : str, optional
        Where the temporary data directories go.  Default ``/dev/shm`` when it exists (tmpfs:
        fdatasync is cheap and steady, so the measurements are not at the mercy of the disk
        traffic of other sessions), else the system temp folder.
    start_timeout_s : float
        Bound on the wait for a leader.
    nice : int
        ``os.nice`` increment of the proxy process and the members (negative = higher
        priority; needs root, silently not applied otherwise).  On a busy machine a process
        that sleeps wakes late: the proxy then injects more delay than asked (see
        :meth:`ProxyProcess.lateness`) and every message hop costs a scheduling delay that a
        zero-delay calibration run does not see.  The load driver keeps normal priority.

    Examples
    --------
    >>> if etcd_available():                                    # doctest: +SKIP
    ...     with EtcdCluster(3) as c:
    ...         c.leader() in range(3)
    True
    """

    def __init__(self, n: int = 3, delays_ms=None, *, heartbeat_ms: int = 100, election_ms: int = 1000,
                 data_root: str | None = None, start_timeout_s: float = 30.0, nice: int = 0, learners: int = 0):
        self.n = int(as_int_array("n", n, minimum=1, maximum=9))
        self.learners = int(as_int_array("learners", learners, minimum=0, maximum=4))
        d = [0.0] * self.n if delays_ms is None else as_float_array("delays_ms", delays_ms, minimum=0.0).tolist()
        if len(d) != self.n:
            raise ValueError(f"delays_ms must have one value per member ({self.n}); got {delays_ms!r}")
        self.initial_delays_ms = d
        self.heartbeat_ms = int(as_int_array("heartbeat_ms", heartbeat_ms, minimum=10, maximum=10000))
        self.election_ms = int(as_int_array("election_ms", election_ms, minimum=5 * self.heartbeat_ms,
                                            maximum=100000))
        self.nice = int(as_int_array("nice", nice, minimum=-20, maximum=19))
        self.start_timeout_s = float(as_float_array("start_timeout_s", start_timeout_s, minimum=1.0))
        if data_root is None:
            data_root = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        self.data_root = data_root
        self.procs: list[subprocess.Popen | None] = []
        self.proxy: ProxyProcess | None = None
        self.tmpdir: Path | None = None
        self.client_ports: list[int] = []
        self.peer_ports: list[int] = []
        self.member_ids: list[str] = []
        self._lock = threading.RLock()
        self._stopped = True
        self._stopped_members: set[int] = set()
        self._old_sigterm = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "EtcdCluster":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "EtcdCluster":
        """Start proxies and members; wait (bounded) until every member knows the same leader."""
        binary = etcd_binary()
        if binary is None:
            raise EtcdError("etcd is not installed (apt-get install etcd-server etcd-client, or set ETCD_BIN)")
        with self._lock:
            self._stopped = False
            _LIVE.add(self)
            if threading.current_thread() is threading.main_thread():
                if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                    self._old_sigterm = signal.signal(signal.SIGTERM, _sigterm)
            try:
                self._start(binary)
            except BaseException:
                self.stop()
                raise
        return self

    def _start(self, binary: str) -> None:
        _remove_orphans(self.data_root)
        self.tmpdir = Path(tempfile.mkdtemp(prefix=f"followerlab-etcd-{os.getpid()}-", dir=self.data_root))
        m = self.size
        ports = free_ports(2 * m)
        self.client_ports, self.peer_ports = ports[:m], ports[m:]
        self.proxy = ProxyProcess(self.peer_ports, self.initial_delays_ms + [0.0] * self.learners,
                                  popen_kwargs=_popen_kwargs(), nice=self.nice)
        advertised = [f"http://{HOST}:{p}" for p in self.proxy.ports]
        initial = ",".join(f"m{i}={u}" for i, u in enumerate(advertised[: self.n]))
        token = f"followerlab-{os.getpid()}-{self.tmpdir.name}"
        self.procs = []
        for i in range(self.n):
            self._spawn(binary, i, initial, "new", token, advertised[i])
        self.wait_for_leader(self.start_timeout_s)
        self.member_ids = [self.status(i)["header"]["member_id"] for i in range(self.n)]
        for i in range(self.n, m):
            self._add_learner(binary, i, advertised, token)

    def _add_learner(self, binary: str, i: int, advertised: list, token: str) -> None:
        """``member add --learner`` through a voter, then start the member with state existing."""
        deadline = time.monotonic() + self.start_timeout_s
        while True:  # etcd refuses (503 "unhealthy cluster") until every voter was connected for 5 s
            try:
                self.request(self.wait_for_leader(self.start_timeout_s), "/v3/cluster/member/add",
                             {"peerURLs": [advertised[i]], "isLearner": True}, timeout_s=10.0)
                break
            except EtcdError as exc:
                if "unhealthy" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
        initial = ",".join(f"m{j}={advertised[j]}" for j in range(i + 1))
        self._spawn(binary, i, initial, "existing", token, advertised[i])
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            try:
                st = self.status(i, timeout_s=1.0)
                if st.get("isLearner") and st.get("leader", "0") != "0":
                    break
            except (EtcdError, OSError, ValueError):
                pass
            if self.procs[i].poll() is not None or time.monotonic() > deadline:
                raise EtcdError(f"learner m{i} did not start; logs: {self.logs_tail()}")
            time.sleep(0.05)
        self.member_ids.append(st["header"]["member_id"])

    def _spawn(self, binary: str, i: int, initial: str, state: str, token: str, advertised: str) -> None:
        log = open(self.tmpdir / f"m{i}.log", "wb")
        args = [binary, "--name", f"m{i}", "--data-dir", str(self.tmpdir / f"m{i}.etcd"),
                "--listen-client-urls", f"http://{HOST}:{self.client_ports[i]}",
                "--advertise-client-urls", f"http://{HOST}:{self.client_ports[i]}",
                "--listen-peer-urls", f"http://{HOST}:{self.peer_ports[i]}",
                "--initial-advertise-peer-urls", advertised,
                "--initial-cluster", initial, "--initial-cluster-state", state,
                "--initial-cluster-token", token,
                "--heartbeat-interval", str(self.heartbeat_ms), "--election-timeout", str(self.election_ms),
                "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn"]
        self.procs.append(subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                           **_popen_kwargs(self.nice)))
        log.close()

    @property
    def size(self) -> int:
        """Members of every kind: ``n`` voters plus the learners."""
        return self.n + self.learners

    def pids(self) -> list[int]:
        """Process ids of every child still running (members and the proxy process)."""
        out = [p.pid for p in self.procs if p is not None and p.poll() is None]
        if self.proxy is not None and self.proxy.proc.poll() is None:
            out.append(self.proxy.pid)
        return out

    def stop(self) -> None:
        """Stop every member and the proxies (SIGTERM, then SIGKILL after 1 s); remove the data.

        The data is scratch, so a member that is slow to shut down gracefully (an etcd leader
        first tries to hand over leadership) is killed after a second.
        """
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            for p in self.procs:
                if p is not None and p.poll() is None:
                    p.terminate()
            deadline = time.monotonic() + 1.0
            for p in self.procs:
                if p is None:
                    continue
                try:
                    p.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5.0)
            if self.proxy is not None:
                self.proxy.stop()
            if self.tmpdir is not None:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
            _LIVE.discard(self)
            if self._old_sigterm is not None and threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, self._old_sigterm)
                self._old_sigterm = None

    def stop_member(self, i: int) -> None:
        """Stop member ``i`` (SIGTERM, bounded wait): the 'member stopped' layouts."""
        i = self._member("i", i)
        self._stopped_members.add(i)
        p = self.procs[i]
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(5.0)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5.0)

    def running(self, i: int) -> bool:
        """Whether member ``i``'s process is alive."""
        p = self.procs[self._member("i", i)]
        return p is not None and p.poll() is None

    def _member(self, name: str, i) -> int:
        return int(as_int_array(name, i, minimum=0, maximum=self.size - 1))

    # ------------------------------------------------------------------ control
    def set_delays(self, delays_ms) -> None:
        """Set the proxy delay ``x_i`` (ms) of every member; takes effect for new bytes.

        ``n`` values set the voters and keep the learners' delays; ``n + learners`` set all.
        """
        if self.proxy is None:
            raise EtcdError("cluster is not running")
        d = list(as_float_array("delays_ms", delays_ms, minimum=0.0).ravel())
        if len(d) == self.n and self.learners:
            d += list(self.proxy.delays_ms[self.n:])
        self.proxy.set_delays(d)

    @property
    def delays_ms(self) -> list[float]:
        return list(self.proxy.delays_ms) if self.proxy is not None else list(self.initial_delays_ms)

    def request(self, i: int, path: str, body: dict, timeout_s: float = 5.0) -> dict:
        """One POST to member ``i``'s JSON gateway (a fresh connection; for control, not timing)."""
        conn = http.client.HTTPConnection(HOST, self.client_ports[self._member("i", i)], timeout=timeout_s)
        try:
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        doc = json.loads(data or b"{}")
        if resp.status != 200 or "error" in doc:
            raise EtcdError(f"member {i} {path}: HTTP {resp.status} {doc}")
        return doc

    def status(self, i: int, timeout_s: float = 2.0) -> dict:
        """``/v3/maintenance/status`` of member ``i``."""
        return self.request(i, "/v3/maintenance/status", {}, timeout_s)

    def leader(self, timeout_s: float = 2.0) -> int:
        """Index of the current leader, as the live members report it (they must agree)."""
        seen = set()
        for i in range(self.n):
            if not self.running(i):
                continue
            st = self.status(i, timeout_s)
            seen.add(st.get("leader", "0"))
        if len(seen) != 1 or "0" in seen:
            raise EtcdError(f"members disagree on the leader or have none: {sorted(seen)}")
        lead = seen.pop()
        if not self.member_ids:
            self.member_ids = [self.status(i)["header"]["member_id"] for i in range(self.n)]
        return self.member_ids.index(lead)

    def wait_for_leader(self, timeout_s: float = 30.0) -> int:
        """Poll (bounded in time) until the live members agree on a leader; return its index."""
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            dead = [i for i, p in enumerate(self.procs) if p.poll() is not None and i not in self._stopped_members]
            if dead:
                raise EtcdError(f"etcd member(s) {dead} exited; logs: {self.logs_tail()}")
            try:
                return self.leader(timeout_s=1.0)
            except (EtcdError, OSError, ValueError, KeyError) as exc:
                last = exc
            time.sleep(0.05)
        raise EtcdError(f"no leader within {timeout_s} s ({last}); logs: {self.logs_tail()}")

    def logs_tail(self, chars: int = 1500) -> str:
        """The end of every member's log (for error messages)."""
        if self.tmpdir is None:
            return ""
        out = []
        for i in range(len(self.procs) or self.n):
            f = self.tmpdir / f"m{i}.log"
            if f.exists():
                out.append(f"[m{i}] " + f.read_text(errors="replace")[-chars:])
        return "\n".join(out)

    def move_leader(self, target: int, timeout_s: float = 15.0) -> int:
        """Transfer leadership to member ``target`` (``/v3/maintenance/transfer-leadership``)."""
        target = self._member("target", target)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            lead = self.wait_for_leader(max(1.0, deadline - time.monotonic()))
            if lead == target:
                return lead
            try:
                self.request(lead, "/v3/maintenance/transfer-leadership",
                             {"targetID": self.member_ids[target]}, timeout_s=max(1.0, deadline - time.monotonic()))
            except (EtcdError, OSError):
                time.sleep(0.1)
        raise EtcdError(f"could not move the leader to member {target} within {timeout_s} s")
