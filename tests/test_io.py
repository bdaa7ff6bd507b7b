"""Outputs are written atomically: a failure leaves the previous output intact."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import io


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "table.csv"
    io.write_csv(pd.DataFrame({"a": [1]}), target)
    before = target.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(io.os, "replace", broken_replace)
    with pytest.raises(OSError):
        io.write_csv(pd.DataFrame({"a": [2]}), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_csv_text_is_byte_stable_with_lf_line_ends():
    frame = pd.DataFrame({"x": [0.1 + 0.2, 1 / 3], "y": ["a", "b\nc"]})
    assert io.csv_text(frame) == io.csv_text(frame.copy())
    assert "\r" not in io.csv_text(frame)
    assert io.csv_text(frame).startswith("x,y\n0.3,a\n")


def test_a_table_written_to_a_file_has_exactly_the_bytes_of_its_csv_text(tmp_path):
    frame = pd.DataFrame({"x": [0.1 + 0.2, 1 / 3, float("nan")],
                          "quote": ["a, \"b\"", "line\nbreak\r\nand CRLF", "ḍ é 😀 \u2028"]})
    path = io.write_csv(frame, tmp_path / "t.csv")
    assert path.read_bytes() == io.csv_text(frame).encode("utf-8")
    assert b"\r\n" in path.read_bytes()  # the cell's CRLF is kept, not translated


def test_a_write_that_fails_midway_leaves_nothing_at_the_target(tmp_path):
    def half(handle):
        handle.write("x,y\n")
        raise ValueError("stopped midway")

    with pytest.raises(ValueError):
        io.atomic_write_with(tmp_path / "t.csv", half, text=True)
    assert list(tmp_path.iterdir()) == []


def test_outputs_get_the_usual_permissions_not_those_of_a_temporary_file(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = io.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
