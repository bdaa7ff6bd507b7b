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


def test_outputs_get_the_usual_permissions_not_those_of_a_temporary_file(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = io.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
