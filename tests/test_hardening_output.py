"""Issue 7: output that cannot mislead — --out checked before the solve, written whole,
locked, leftovers of killed runs cleaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fab2flop.cli import app
from fab2flop.errors import OutputError
from fab2flop.outdir import MARKER, check_out_dir, lock_out_dir, write_dir

runner = CliRunner()


def _writer(names: list[str]):
    def write(tmp: Path) -> list[str]:
        for n in names:
            (tmp / n).write_text(n)
        return names

    return write


def test_out_checks_before_any_work(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("keep me")
    with pytest.raises(OutputError, match="existing file"):
        check_out_dir(f)
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    with pytest.raises(OutputError, match="not empty.*--force"):
        check_out_dir(full)
    assert check_out_dir(full, force=True) == full
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_out_dir(empty) == empty
    with pytest.raises(OutputError, match="is a file"):
        check_out_dir(f / "below")


def test_cli_refuses_an_existing_file_before_the_solve(tmp_path):
    f = tmp_path / "results"
    f.write_text("keep me")
    t0 = time.perf_counter()
    r = runner.invoke(app, ["run", "--out", str(f)])  # the default would take minutes
    assert r.exit_code == 2 and "existing file" in r.stderr
    assert time.perf_counter() - t0 < 30
    assert f.read_text() == "keep me"


def test_write_is_whole_and_force_replaces_whole(tmp_path):
    out = tmp_path / "run"
    write_dir(out, _writer(["a.txt", "old.txt"]))
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "a.txt", "old.txt"]
    with pytest.raises(OutputError, match="not empty"):
        write_dir(out, _writer(["a.txt"]))
    write_dir(out, _writer(["a.txt"]), force=True)
    # replaced whole: nothing of the earlier run is left beside the new files
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "a.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temp, no lock


def test_a_failing_writer_leaves_nothing(tmp_path):
    out = tmp_path / "run"

    def bad(tmp: Path) -> list[str]:
        (tmp / "half.nc").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_dir(out, bad)
    assert list(tmp_path.iterdir()) == []


def test_two_writers_cannot_interleave(tmp_path):
    out = tmp_path / "run"
    with lock_out_dir(out):
        with pytest.raises(OutputError, match="another run"):
            write_dir(out, _writer(["a.txt"]))
    write_dir(out, _writer(["a.txt"]))  # the lock is released: now it works
    assert (out / MARKER).is_file()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()  # a pid that no longer runs
    (tmp_path / ".run.lock").write_text(f"{p.pid}\n")
    write_dir(tmp_path / "run", _writer(["a.txt"]))
    assert (tmp_path / "run" / MARKER).is_file()
    assert not (tmp_path / ".run.lock").exists()


_SLOW_WRITER = """
import sys, time
from pathlib import Path
from fab2flop.outdir import write_dir

def write(tmp):
    (tmp / "results.nc").write_text("half")
    Path(sys.argv[2]).write_text("writing")  # tell the test we are mid-write
    time.sleep(60)
    return ["results.nc"]

write_dir(sys.argv[1], write)
"""


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_sigkill_mid_write_leaves_no_target_and_the_next_run_cleans_up(tmp_path):
    out, flag = tmp_path / "run", tmp_path / "flag"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(out), str(flag)], env=_env())
    try:
        t0 = time.time()
        while not flag.exists() and time.time() - t0 < 60:
            time.sleep(0.05)
        assert flag.exists(), "the writer never started"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not out.exists()  # no half-written target
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".run")]
    assert any(".fab2flop-tmp-" in n for n in left)  # the killed run's temp folder
    write_dir(out, _writer(["a.txt"]))  # the next run: stale lock taken, leftovers removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flag", "run"]
    assert (out / MARKER).is_file()


def test_sigkill_of_a_real_cli_run_mid_write(tmp_path):
    """A real `fab2flop run --out`, killed as soon as its temporary folder appears: the
    target is absent (or, if the kill came after the rename, whole with its marker)."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-c", "from fab2flop.cli import main; main()"]
    proc = subprocess.Popen(
        [*cmd, "run", "--set", "time.end=2026", "--out", str(out), "--json"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        t0 = time.time()
        while time.time() - t0 < 300 and proc.poll() is None:
            if any(".fab2flop-tmp-" in p.name for p in tmp_path.iterdir()):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not out.exists() or (out / MARKER).is_file()
    r = runner.invoke(app, ["run", "--set", "time.end=2026", "--out", str(out), "--force"])
    assert r.exit_code == 0, r.output
    assert (out / MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no leftovers, no lock


def test_failed_run_with_force_leaves_nothing_of_the_earlier_run(tmp_path):
    out = tmp_path / "run"
    ok = runner.invoke(app, ["run", "--set", "time.end=2026", "--out", str(out)])
    assert ok.exit_code == 0 and (out / "results.nc").is_file()
    bad = runner.invoke(
        app,
        [
            "run", "--out", str(out), "--force", "--set", "time.end=2026",
            "--set", "objective.kind=min_cost_for_path",
            "--set", "objective.compute_path_h100e={2026: 1.0e12}",
        ],
    )  # fmt: skip
    assert bad.exit_code == 1
    names = {p.name for p in out.iterdir()}
    assert "results.nc" not in names and not any(n.endswith(".parquet") for n in names)
    assert MARKER in names and "summary.json" in names
