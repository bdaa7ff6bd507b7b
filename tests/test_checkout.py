"""A clone made with any git settings holds the data byte for byte and validates.

git's ``core.autocrlf=true`` (the Windows default) turns LF into CRLF on checkout for
every file git takes for text. ``.gitattributes`` marks everything under ``data/`` as
not text, so the raw texts keep their bytes (offsets point into them) and the coding
sheets' multi-line quotes still equal the raw text. The clone is made from the
repository's committed ``HEAD``.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from analysis.paths import ROOT
from conftest import run_cli


def git(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True)


@pytest.fixture(scope="module")
def crlf_clone(tmp_path_factory):
    """A clone of this repository made with ``core.autocrlf=true``."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--git-dir"],
                      capture_output=True).returncode != 0:
        pytest.skip("the kit is not a git checkout (e.g. unpacked from an archive)")
    clone = tmp_path_factory.mktemp("checkout") / "kit"
    git("-c", "core.autocrlf=true", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone))
    return clone


def committed_blobs(clone, paths: list[str]) -> list[bytes]:
    """The bytes git stores for ``paths`` at HEAD, before any line-end conversion."""
    batch = "".join(f"HEAD:{p}\n" for p in paths).encode()
    out = subprocess.run(["git", "cat-file", "--batch"], cwd=clone, input=batch,
                         capture_output=True, check=True).stdout
    blobs, pos = [], 0
    for _ in paths:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        blobs.append(out[header_end + 1:header_end + 1 + size])
        pos = header_end + 1 + size + 1
    return blobs


def test_autocrlf_is_in_effect_for_files_outside_data(crlf_clone):
    # without this the test below would pass for the wrong reason
    assert b"\r\n" in (crlf_clone / "README.md").read_bytes()


def test_every_file_under_data_is_checked_out_byte_for_byte(crlf_clone):
    paths = git("ls-files", "data", cwd=crlf_clone).stdout.decode().split()
    assert any(p.startswith("data/raw/") for p in paths)
    assert any(p.startswith("data/coding/") for p in paths)
    changed = [p for p, blob in zip(paths, committed_blobs(crlf_clone, paths))
               if (crlf_clone / p).read_bytes() != blob]
    assert changed == []


def test_the_clone_validates(crlf_clone, capsys):
    status, out, err = run_cli(capsys, "validate", "--data", crlf_clone / "data",
                               "--out", crlf_clone / "reports")
    assert status == 0, out + err
    assert "files valid" in out


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("made_here", [True, False])
def test_a_venv_made_for_another_folder_is_made_again_for_this_one(tmp_path, made_here):
    """A copied checkout (cp -r, .venv included) does not run the original's code and data."""
    import re

    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy2(ROOT / name, tmp_path / name)  # older than the stamp, as in a checkout
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    stamp = tmp_path / ".venv" / re.search(r"^STAMP\s*:=\s*\$\(VENV\)/(\S+)", makefile,
                                           re.M).group(1)
    stamp.parent.mkdir()
    stamp.write_text(f"{tmp_path.resolve() if made_here else '/elsewhere/kit'}\n")
    done = subprocess.run(["make", "-n", "validate"], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert ("rm -rf .venv" in done.stdout) != made_here, done.stdout
    said = ".venv was made for /elsewhere/kit, not for this folder: the first target"
    assert (said in done.stdout) != made_here, done.stdout
