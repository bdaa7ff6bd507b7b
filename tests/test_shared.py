"""Tests that need ../shared skip on a user's machine without it and fail in CI."""

from __future__ import annotations

import pytest

from conftest import require_shared


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_a_missing_folder_fails_the_test_in_ci(tmp_path, monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI must provide it"):
        require_shared(tmp_path / "shared")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_a_missing_folder_skips_the_test_elsewhere_and_says_why(tmp_path, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match=r"\.\./shared .* optional for users"):
        require_shared(tmp_path / "shared")


def test_a_present_folder_is_handed_to_the_test(tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    (tmp_path / "shared").mkdir()
    assert require_shared(tmp_path / "shared") == tmp_path / "shared"
