"""A batch you can trust (issue 14): one batch per output folder, full or unwritable disks named,
nothing half-written reused, a skip key that sees the library and the data, the grid size shown
and capped, bad timeouts refused, kernels' files removed.  Most tests run no kernel."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from followerlab import batch as batch_mod  # first: keeps nbformat's import light (see batch)
from followerlab.batch import (
    EXIT_DISK_FULL,
    EXIT_OUTPUT_UNUSABLE,
    OutputLockedError,
    OutputStorageError,
    TooManyRunsError,
    plan_runs,
    run_batch,
)
from followerlab.cli import USAGE_ERROR, main

import pytest  # noqa: E402

FIX = Path(__file__).resolve().parent / "fixtures"
LAG = FIX / "notebooks" / "fx-refresh-lag.ipynb"


def _scenario(tmp_path, text=None, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text or f"name: s\nnotebooks: [{LAG}]\nparameters: {{refresh_period_s: 40}}\n")
    return path


def _fake_success(task, value=22.0):
    """What a successful run leaves behind (results.csv, run.json with its sha256) -- no kernel."""
    run_dir = Path(task["run_dir"])
    run_dir.mkdir(parents=True)
    (run_dir / "results.csv").write_text(f"configuration,metric,value,unit\nc,staleness_mean_s,{value},s\n")
    sha = hashlib.sha256((run_dir / "results.csv").read_bytes()).hexdigest()
    (run_dir / "run.json").write_text(json.dumps({**task, "status": "ok", "results_sha256": sha,
                                                  "finished": "2026-12-01T10:00:00+0000"}))
    return run_dir


# ----------------------------------------------------------------------------- one batch per --out


def test_a_second_batch_on_the_same_out_is_refused_naming_the_owner(tmp_path, capsys):
    scen, out = _scenario(tmp_path), tmp_path / "out"
    (task,) = plan_runs(scen, out)
    _fake_success(task)
    with batch_mod._OutputLock(out):  # as if another batch were running on it
        assert main(["batch", str(scen), "--out", str(out), "--no-progress", "--no-report"]) == USAGE_ERROR
        err = capsys.readouterr().err
        assert f"--out {out} is in use by another batch (pid {os.getpid()}" in err and "Traceback" not in err
        with pytest.raises(OutputLockedError):
            run_batch(scen, out, report=False, progress=False)
    assert (Path(task["run_dir"]) / "results.csv").exists()  # nothing touched
    # released: the next batch runs (its run is reused) and leaves no lock file behind
    assert main(["batch", str(scen), "--out", str(out), "--no-progress", "--no-report"]) == 0
    assert not (out / batch_mod.LOCK_NAME).exists()


def test_a_stale_lock_of_a_dead_batch_is_taken_over(tmp_path, capsys):
    scen, out = _scenario(tmp_path), tmp_path / "out"
    (task,) = plan_runs(scen, out)
    _fake_success(task)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (out / batch_mod.LOCK_NAME).write_text(json.dumps({"pid": int(dead.stdout), "host": "h", "started": "then"}))
    result = run_batch(scen, out, report=False, compare=False, progress=None)
    assert result.n_skipped == 1
    assert f"took over the lock of pid {int(dead.stdout)}" in capsys.readouterr().err


def test_a_lock_held_by_another_process_refuses_the_cli(tmp_path):
    """Two processes: the lock is an flock, so it also holds across processes."""
    scen, out = _scenario(tmp_path), tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
sys.path.insert(0, {str(Path(batch_mod.__file__).parent.parent)!r})
from pathlib import Path
from followerlab.batch import _OutputLock
with _OutputLock(Path({str(out)!r})):
    print("locked", flush=True)
    time.sleep(60)
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        cli = subprocess.run([sys.executable, "-m", "followerlab", "batch", str(scen), "--out", str(out),
                              "--no-report"], capture_output=True, text=True, timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert cli.returncode == USAGE_ERROR and f"(pid {holder.pid} on" in cli.stderr, cli.stderr
    assert not (out / "runs").exists() or not list((out / "runs").iterdir())


# ----------------------------------------------------------------------------- full or unwritable output


def test_a_non_directory_or_unwritable_out_is_named_with_its_own_exit_status(tmp_path, capsys, monkeypatch):
    scen = _scenario(tmp_path)
    afile = tmp_path / "a-file"
    afile.write_text("x")
    for out in (afile, afile / "sub"):
        assert main(["batch", str(scen), "--out", str(out), "--no-progress"]) == EXIT_OUTPUT_UNUSABLE
        err = capsys.readouterr().err
        assert "not writable" in err and "Traceback" not in err, err
    real_mkdir = Path.mkdir

    def read_only(self, *a, **k):
        if "ro-out" in str(self):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(["batch", str(scen), "--out", str(tmp_path / "ro-out"), "--no-progress"]) == EXIT_OUTPUT_UNUSABLE
    assert "not writable" in capsys.readouterr().err


def test_disk_full_during_a_run_is_named_and_nothing_half_written_is_kept(tmp_path, capsys, monkeypatch):
    """ENOSPC simulated (monkeypatched papermill: writes half a results.csv, then the disk is full)."""
    import papermill

    scen, out = _scenario(tmp_path), tmp_path / "out"
    calls = []

    def full_disk(nb, output, parameters, **kw):
        calls.append(1)
        Path(parameters["output_dir"], "results.csv").write_text("configuration,metric,va")
        raise OSError(errno.ENOSPC, "No space left on device", output)

    monkeypatch.setattr(papermill, "execute_notebook", full_disk)
    assert main(["batch", str(scen), "--out", str(out), "--no-progress", "--no-report"]) == EXIT_DISK_FULL
    err = capsys.readouterr().err
    assert "disk full" in err and "No space left on device" in err and "Traceback" not in err, err
    assert calls == [1]  # not retried as "kernel failed to start"
    assert not list(out.rglob("*.partial")) and not (out / "runs" / "s--fx-refresh-lag").exists()
    with pytest.raises(OutputStorageError) as info:
        run_batch(scen, out, report=False, progress=False)
    assert info.value.kind == "disk full" and info.value.exit_status == EXIT_DISK_FULL


def test_a_disk_full_error_inside_a_cell_counts_as_disk_full():
    from papermill.exceptions import PapermillExecutionError

    cell = PapermillExecutionError(0, 1, "x", "OSError", "[Errno 28] No space left on device: 'results.csv'", [])
    assert batch_mod._storage_kind(cell) == "disk full"
    other = PapermillExecutionError(0, 1, "x", "PermissionError", "[Errno 13] Permission denied: '/etc/x'", [])
    assert batch_mod._storage_kind(other) is None  # the notebook's own failure
    wrapped = RuntimeError("write failed")
    wrapped.__cause__ = OSError(errno.EDQUOT, "Disk quota exceeded")
    assert batch_mod._storage_kind(wrapped) == "disk full"


def _tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_a_full_tmpfs_out_then_a_rerun_with_space(tmp_path):
    """A real full file system (a 3 MB tmpfs, when this test may mount one): the disk-full exit
    status and message, nothing taken as done; with space again the rerun completes."""
    mnt = tmp_path / "small"
    if not _tmpfs(mnt, "3m"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        scen = _scenario(tmp_path)
        out = mnt / "out"
        filler = mnt / "filler"
        with open(filler, "wb") as fh:  # leave ~40 KB: the executed notebook does not fit
            try:
                fh.write(b"\0" * (3 * 1024 * 1024 - 40 * 1024))
            except OSError:
                pass
        cmd = [sys.executable, "-m", "followerlab", "batch", str(scen), "--out", str(out), "--no-compare"]
        full = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert full.returncode == EXIT_DISK_FULL, full.stderr
        assert "disk full" in full.stderr and "Traceback" not in full.stderr, full.stderr
        assert not list(out.rglob("*.partial")) and not list(out.rglob("run.json"))
        filler.unlink()
        again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        import pandas as pd

        table = pd.read_csv(out / "results.csv")
        assert table.loc[table.metric == "staleness_mean_s", "value"].item() == pytest.approx(40 / 2 + 2)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


# ----------------------------------------------------------------------------- the skip key


def test_the_skip_key_sees_the_library_version_and_code_and_the_data(tmp_path, monkeypatch):
    scen, out = _scenario(tmp_path), tmp_path / "out"
    (base,) = plan_runs(scen, out)
    assert base["library"].startswith(batch_mod.library_fingerprint())
    monkeypatch.setattr(batch_mod, "library_fingerprint", lambda: "0.2.0+feedfacecafebeef")
    (upgraded,) = plan_runs(scen, out)
    assert upgraded["hash"] != base["hash"]
    monkeypatch.undo()
    # the library code hash changes with any followerlab/**/*.py file (cached digests by mtime)
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    before = batch_mod._tree_digest(pkg, "*.py")
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    assert batch_mod._tree_digest(pkg, "*.py") != before
    # the data files (FOLLOWERLAB_DATA), except scenario files
    data = tmp_path / "data"
    (data / "regions").mkdir(parents=True)
    (data / "scenarios").mkdir()
    (data / "regions" / "rtt.csv").write_text("a,b\n1,2\n")
    monkeypatch.setenv("FOLLOWERLAB_DATA", str(data))
    (with_data,) = plan_runs(scen, out)
    (data / "scenarios" / "x.yaml").write_text("name: x\n")
    assert plan_runs(scen, out)[0]["hash"] == with_data["hash"]
    (data / "regions" / "rtt.csv").write_text("a,b\n1,3\n")
    assert plan_runs(scen, out)[0]["hash"] != with_data["hash"]


def test_a_file_named_by_a_parameter_is_part_of_the_skip_key(tmp_path):
    rtt = tmp_path / "rtt.csv"
    rtt.write_text("a\n1\n")
    assert batch_mod._named_files_digest({"rtt_file": str(rtt)}, LAG) != ""
    h1 = batch_mod._named_files_digest({"rtt_file": str(rtt)}, LAG)
    rtt.write_text("a\n2\n")
    assert batch_mod._named_files_digest({"rtt_file": str(rtt)}, LAG) != h1
    assert batch_mod._named_files_digest({"mode": "weak", "x": 1.0}, LAG) == ""


def test_reused_runs_are_marked_and_half_written_results_are_not_reused(tmp_path):
    scen, out = _scenario(tmp_path), tmp_path / "out"
    (task,) = plan_runs(scen, out)
    run_dir = _fake_success(task)
    result = run_batch(scen, out, compare=False, progress=False)
    assert result.n_skipped == 1 and result.runs["reused"].tolist() == [True]
    assert ">reused</span>" in (out / "index.html").read_text()
    assert batch_mod._previous(task) is not None
    (run_dir / "results.csv").write_text("configuration,metric,value,unit\nc,staleness_mean_s,2")  # cut short
    assert batch_mod._previous(task) is None
    rec = json.loads((run_dir / "run.json").read_text())
    del rec["results_sha256"]  # a record without the checksum (an older batch) is not trusted
    (run_dir / "run.json").write_text(json.dumps(rec))
    assert batch_mod._previous(task) is None
    (run_dir / "run.json").write_text('{"status": "ok", "ha')  # half-written run.json
    assert batch_mod._previous(task) is None


# ----------------------------------------------------------------------------- grid size, timeouts


def test_the_grid_size_is_capped_unless_confirmed(tmp_path, capsys):
    periods = ", ".join(str(10 * (i + 1)) for i in range(12))
    scen = _scenario(tmp_path, f"name: g\nnotebooks: [{LAG}]\ngrid: {{refresh_period_s: [{periods}]}}\n")
    out = tmp_path / "out"
    assert main(["batch", str(scen), "--out", str(out), "--max-runs", "5"]) == USAGE_ERROR
    err = capsys.readouterr().err
    assert "12 runs planned, more than the cap of 5 (--max-runs)" in err and "--yes" in err
    assert not out.exists()  # nothing ran, nothing created
    asked = []
    with pytest.raises(TooManyRunsError):
        run_batch(scen, out, max_runs=11, confirm=lambda n: asked.append(n) or False, progress=False)
    assert asked == [12]
    with pytest.raises(SystemExit) as info:
        main(["batch", str(scen), "--max-runs", "0"])
    assert info.value.code == USAGE_ERROR


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "-inf", "soon"])
def test_timeout_must_be_a_positive_finite_number(tmp_path, value, capsys):
    with pytest.raises(SystemExit) as info:
        main(["batch", str(_scenario(tmp_path)), "--out", str(tmp_path / "o"), f"--timeout={value}"])
    assert info.value.code == USAGE_ERROR and "--timeout must be" in capsys.readouterr().err
    with pytest.raises(ValueError, match="timeout_s must be a positive"):
        run_batch(_scenario(tmp_path), tmp_path / "o", timeout_s=float(value) if value != "soon" else value)
    assert not (tmp_path / "o").exists()


def test_help_documents_the_exit_statuses():
    out = subprocess.run([sys.executable, "-m", "followerlab", "batch", "--help"], capture_output=True, text=True,
                         timeout=60)
    for text in ("exit status:", "101", "102", "103", "130", "--max-runs", "--yes"):
        assert text in out.stdout
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Batch reports", 1)[1].split("\n## ", 1)[0]
    for code in ("101", "102", "103", "130", "--max-runs", "--yes", "lock"):
        assert code in section, code


# ----------------------------------------------------------------------------- kernels' files


def test_a_killed_kernel_leaves_no_socket_or_connection_file(tmp_path, monkeypatch):
    """A kernel whose run ended without jupyter_client's cleanup (the execution blew up and
    nobody shut the kernel down) is killed by run_one and its IPC sockets and connection file
    removed.  (A kernel killed while jupyter_client still runs is cleaned by jupyter_client;
    one whose pool worker is terminated is cleaned by the worker's SIGTERM handler, see
    tests/test_batch_ctrl_c.py.)"""
    import asyncio
    import tempfile

    import papermill
    from papermill.exceptions import PapermillExecutionError

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    seen = {}

    def abandoned(nb, output, parameters, kernel_manager_class, **kw):
        km = kernel_manager_class(kernel_name="python3")
        asyncio.run(km.start_kernel())
        seen["pid"], seen["conn"] = km.provisioner.pid, km.connection_file
        deadline = time.monotonic() + 30
        while len(list((tmp_path / "tmp").glob("followerlab-kernel-*"))) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)  # the kernel binds its five sockets
        seen["sockets"] = sorted(p.name for p in (tmp_path / "tmp").glob("followerlab-kernel-*"))
        seen["conn_existed"] = Path(km.connection_file).is_file()
        raise PapermillExecutionError(0, 1, "Kernel died", "DeadKernelError", "Kernel died", [])

    monkeypatch.setattr(papermill, "execute_notebook", abandoned)
    (task,) = plan_runs(_scenario(tmp_path), tmp_path / "out")
    rec = batch_mod.run_one(task)
    assert rec["status"] == "failed" and rec["error"]["message"] == "Kernel died"
    assert len(seen["sockets"]) == 5 and seen["conn_existed"]  # they existed
    assert not list((tmp_path / "tmp").glob("followerlab-kernel-*")) and not Path(seen["conn"]).exists()
    stat = Path(f"/proc/{seen['pid']}/stat")
    dead = lambda: not stat.exists() or stat.read_text().split(") ", 1)[1][0] == "Z"  # noqa: E731
    deadline = time.monotonic() + 5
    while not dead() and time.monotonic() < deadline:  # SIGKILL was sent; let the kernel die
        time.sleep(0.05)
    assert dead()  # the kernel was killed


def test_on_a_terminal_a_large_grid_asks_before_running(tmp_path):
    """``N runs; continue? [y/N]`` when stdin is a terminal (a pseudo-terminal here); 'n' runs nothing."""
    import pty

    periods = ", ".join(str(10 * (i + 1)) for i in range(12))
    scen = _scenario(tmp_path, f"name: g\nnotebooks: [{LAG}]\ngrid: {{refresh_period_s: [{periods}]}}\n")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "followerlab", "batch", str(scen), "--out", str(tmp_path / "o"),
                                 "--max-runs", "10"], stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        os.write(leader, b"n\n")
        _, err = proc.communicate(timeout=120)
    finally:
        os.close(leader)
        os.close(follower)
    assert "12 runs; continue? [y/N]" in err and proc.returncode == USAGE_ERROR, err
    assert not (tmp_path / "o").exists()
