"""The window's MetricsLog keeps a long run's steps on disk, not in memory, and still exports them exactly."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from engine.training import metrics_files, updates
from engine.training.metrics_files import STEP_FIELDS, STEP_RECORD, MetricsLog
from engine.training.updates import EMPTY_EVALS, EvalSeries, RunUpdate, StepSeries


def batches(total: int, batch: int, eval_every: int = 50):
    rng = np.random.default_rng(0)
    for start in range(0, total + 1, batch):
        step = np.arange(start, min(start + batch, total + 1), dtype=np.int64)
        at = step[step % eval_every == 0]
        evals = EvalSeries(at, at / 7.0, *(rng.random(len(at)) for _ in range(4))) if len(at) else EMPTY_EVALS
        yield RunUpdate("r", "running", "", int(step[-1]), 0.0, 0.0,
                        StepSeries(step, step / 7.0, 0.1 / (1 + step), rng.random(len(step)), rng.random(len(step)),
                                   step % 3 == 0), evals)


def test_steps_go_to_a_file_of_41_bytes_a_step_and_read_back_exactly(tmp_path):
    log = MetricsLog(folder=str(tmp_path))
    sent = list(batches(10_000, 37))
    for update in sent:
        log.append(update)
    assert len(log) == 10_001 and STEP_RECORD.itemsize == 41
    (back,) = log.steps                                    # read back from the disk (flushed first)
    assert os.fstat(log._file.fileno()).st_size == 41 * 10_001
    assert not list(tmp_path.iterdir())                    # anonymous: nothing left behind to clean up
    for name in STEP_FIELDS:
        np.testing.assert_array_equal(getattr(back, name), np.concatenate([getattr(u.steps, name) for u in sent]))
    (evals,) = log.evals
    np.testing.assert_array_equal(evals.val_acc, np.concatenate([u.evals.val_acc for u in sent]))
    log.clear()
    assert (len(log), log.steps, log.evals) == (0, [], [])


def test_the_csv_is_the_same_text_written_in_blocks_or_at_once(monkeypatch):
    log = MetricsLog()
    for update in batches(1_000, 33, eval_every=7):
        log.append(update)
    whole = log.to_csv()
    monkeypatch.setattr(metrics_files, "CSV_BLOCK", 10)          # 101 blocks: evaluations land in the right block
    assert log.to_csv() == whole
    rows = list(csv.DictReader(io.StringIO(whole)))
    assert len(rows) == 1_001 and [int(r["step"]) for r in rows] == list(range(1_001))
    assert sum(r["val_acc"] != "" for r in rows) == len(range(0, 1_001, 7))
    buf = io.StringIO()
    log.write_csv(buf)
    assert buf.getvalue() == whole


def test_evaluations_alone_still_make_rows():
    log = MetricsLog()
    evals = EvalSeries(np.array([0, 5]), np.array([0.0, 1.0]), *(np.array([0.5, 0.25]) for _ in range(4)))
    log.append(RunUpdate("r", "running", "", 5, 1.0, 0.0, updates.EMPTY_STEPS, evals))
    rows = list(csv.DictReader(io.StringIO(log.to_csv())))
    assert [(r["step"], r["val_acc"], r["train_loss"]) for r in rows] == [("0", "0.5", ""), ("5", "0.25", "")]
    assert MetricsLog().to_csv().count("\n") == 1          # the header only


def _where(file) -> str:
    """The folder an anonymous file was made in, as the system names it (Linux: /proc/self/fd)."""
    return os.readlink(f"/proc/self/fd/{file.fileno()}")


def test_the_steps_file_goes_in_the_given_folder_made_when_missing(tmp_path):
    folder = tmp_path / "data" / "spill"
    log = MetricsLog(folder)
    for update in batches(100, 10):
        log.append(update)
    assert folder.is_dir() and log.spill_folder == folder and log.note is None
    if os.path.isdir("/proc/self/fd"):
        assert _where(log._file).startswith(str(folder) + os.sep)
    assert not list(folder.iterdir())                      # anonymous: nothing to clean up
    assert len(log) == 101 and log.steps[0].step.tolist() == list(range(101))
    log.close()


def test_an_unwritable_folder_sends_the_steps_to_the_system_temp_with_a_one_line_note(tmp_path):
    import tempfile
    (tmp_path / "afile").write_text("keep")
    folder = tmp_path / "afile" / "spill"                 # under a file: refused even to root
    log = MetricsLog(folder)
    sent = list(batches(100, 10))
    for update in sent:
        log.append(update)
    assert log.spill_folder == Path(tempfile.gettempdir())
    assert log.note is not None and "\n" not in log.note and str(folder) in log.note
    assert "system's temporary folder" in log.note
    if os.path.isdir("/proc/self/fd"):
        assert _where(log._file).startswith(tempfile.gettempdir() + os.sep)
    np.testing.assert_array_equal(log.steps[0].loss, np.concatenate([u.steps.loss for u in sent]))
    assert (tmp_path / "afile").read_text() == "keep"
    log.close()


def test_the_note_is_taken_once(tmp_path):
    (tmp_path / "afile").write_text("")
    log = MetricsLog(tmp_path / "afile" / "spill")
    assert log.take_note() is None                         # no steps yet: no file, nothing to say
    log.append(next(batches(5, 5)))
    note = log.take_note()
    assert note == log.note and note.startswith("Cannot write in") and log.take_note() is None
    log.close()
