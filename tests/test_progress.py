"""byhand.progress: passes are recorded on this machine, shown per chapter, and never break a check."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from byhand import check, progress
from byhand.derive import TASKS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def record(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("BYHAND_PROGRESS", str(path))
    return path


def passed_tasks(path):
    return set(json.loads(path.read_text(encoding="utf-8"))["passed"])


def test_a_pass_is_recorded_and_a_failure_is_not(record, capsys):
    check.derive_square_node("2*x*ybar")
    with pytest.raises(check.CheckFailed):
        check.derive_matmul_gradient("B^T*dC")
    check.relu_vjp(lambda dout, x: dout * (x > 0), seed=3)
    check.relu_vjp(lambda dout, x: dout * (x > 0))
    data = json.loads(record.read_text(encoding="utf-8"))
    assert set(data["passed"]) == {"derive_square_node", "relu_vjp"}
    assert data["passed"]["relu_vjp"]["passes"] == 2
    assert data["passed"]["relu_vjp"]["seeds"] == [3]


def test_the_table_lists_every_task_of_every_chapter_once(record, capsys):
    check.derive_square_node("2*x*ybar")
    capsys.readouterr()
    progress.show()
    out = capsys.readouterr().out
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("  ")]
    code_tasks = [n for n in check.__all__ if n != "CheckFailed" and not n.startswith("derive_")]
    assert sorted(listed) == sorted(code_tasks + [t.check_name for t in TASKS])
    assert "  ✓ derive_square_node" in out and "  · derive_matmul_gradient" in out
    assert f"1 of {len(listed)} tasks passed" in out
    assert out.count("Chapter ") == 10


def test_an_unreadable_record_is_reported_and_started_afresh(record, capsys):
    record.write_text("{not json", encoding="utf-8")
    progress.show()
    assert "is unreadable" in capsys.readouterr().out
    check.derive_square_node("2*x*ybar")  # passes, and starts the record again
    assert passed_tasks(record) == {"derive_square_node"}
    record.write_text(json.dumps({"version": 99, "passed": {}}), encoding="utf-8")
    progress.show()
    assert "not one this version of byhand wrote" in capsys.readouterr().out


def test_a_record_that_cannot_be_written_never_breaks_a_check(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("BYHAND_PROGRESS", str(blocker / "progress.json"))  # under a file
    check.derive_square_node("2*x*ybar")
    assert capsys.readouterr().out.startswith("✓ derive_square_node")


def test_off_records_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BYHAND_PROGRESS", "off")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    check.derive_square_node("2*x*ybar")
    assert not any(tmp_path.rglob("*.json"))
    progress.show()
    assert "BYHAND_PROGRESS is off" in capsys.readouterr().out


def test_the_default_place_is_the_users_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("BYHAND_PROGRESS")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert progress.location() == tmp_path / "byhand" / "progress.json"


def test_the_command_shows_resets_and_refuses_other_arguments(record):
    env = dict(os.environ, BYHAND_PROGRESS=str(record))
    record.write_text(json.dumps({"version": 1, "passed": {"relu_vjp": {
        "first": "2026-12-05T00:00:00+00:00", "passes": 1, "seeds": []}}}), encoding="utf-8")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "byhand.progress", *args], env=env,
                              cwd=ROOT, capture_output=True, text=True, timeout=120)

    shown = run()
    assert shown.returncode == 0 and "  ✓ relu_vjp" in shown.stdout, shown.stderr
    assert run("--reset").returncode == 0 and not record.exists()
    refused = run("--everything")
    assert refused.returncode == 2 and "usage: python -m byhand.progress" in refused.stderr
