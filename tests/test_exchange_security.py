"""A .qdpx from a collaborator is untrusted: every hostile or broken archive is refused
with a one-line error and a non-zero exit, and nothing is written, inside --out or out."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.errors import InputError
from analysis.exchange import project_qdpx, read_qdpx, write_import
from analysis.sources import load_corpus

GOOD_XML = (b'<?xml version="1.0" encoding="utf-8"?>\n'
            b'<Project xmlns="urn:QDA-XML:project:1.0" name="p"><Sources/></Project>')


def archive(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def refuse(tmp_path, path: Path, *options: str) -> str:
    """Run the import command on ``path``; check the refusal and that nothing was written.
    Returns the error line."""
    out = tmp_path / "out" / "imported"
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with _capture() as err:
        status = main(["qdpx", "import", str(path), "--out", str(out), *options])
    assert status == 1
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in err.getvalue()
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    return lines[0]


class _capture:
    def __enter__(self):
        import contextlib
        self.buffer = io.StringIO()
        self._redirect = contextlib.redirect_stderr(self.buffer)
        self._redirect.__enter__()
        return self.buffer

    def __exit__(self, *exc):
        return self._redirect.__exit__(*exc)


@pytest.fixture
def kit_qdpx(tiny, tmp_path) -> bytes:
    """A genuine export of the fixture corpus, to tamper with."""
    return project_qdpx(load_corpus(tiny))


def tampered(kit_qdpx: bytes, path: Path, replace: dict[str, bytes] | None = None,
             add: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(io.BytesIO(kit_qdpx)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members.update(replace or {})
    members.update(add or {})
    return archive(path, members)


def test_the_untampered_export_imports(kit_qdpx, tmp_path):
    path = tmp_path / "kit.qdpx"
    path.write_bytes(kit_qdpx)
    assert len(read_qdpx(path).segments) == 7


@pytest.mark.parametrize("member", ["../evil.txt", "sources/../../evil.txt", "/tmp/evil.txt",
                                    "C:/evil.txt", "sources\\..\\..\\evil.txt"])
def test_a_member_path_that_escapes_the_folder_is_refused(kit_qdpx, tmp_path, member):
    path = tampered(kit_qdpx, tmp_path / "slip.qdpx", add={member: b"owned"})
    assert "zip slip" in refuse(tmp_path, path)
    assert not (tmp_path / "evil.txt").exists()


def test_a_symbolic_link_member_is_refused(kit_qdpx, tmp_path):
    path = tmp_path / "link.qdpx"
    path.write_bytes(kit_qdpx)
    with zipfile.ZipFile(path, "a") as zf:
        info = zipfile.ZipInfo("sources/link.txt")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    assert "symbolic link" in refuse(tmp_path, path)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol3;"/>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&secret;"/>"""

BARE_DOCTYPE = b"""<?xml version="1.0"?>
<!DOCTYPE Project SYSTEM "http://example.org/project.dtd">
<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, XXE, BARE_DOCTYPE],
                         ids=["entity-expansion", "external-entity", "external-dtd"])
def test_xml_with_a_dtd_or_entities_is_refused(tmp_path, xml):
    path = archive(tmp_path / "dtd.qdpx", {"project.qde": xml})
    message = refuse(tmp_path, path)
    assert "DTD" in message or "entit" in message
    assert "root:" not in message  # nothing of /etc/passwd leaked into the message


def test_a_member_over_the_size_limit_is_refused(kit_qdpx, tmp_path):
    path = tmp_path / "kit.qdpx"
    path.write_bytes(kit_qdpx)
    message = refuse(tmp_path, path, "--max-member-bytes", "1000")
    assert "project.qde" in message and "over the limit of 1000" in message


def test_a_zip_bomb_member_is_refused_by_its_compression_ratio(kit_qdpx, tmp_path):
    path = tampered(kit_qdpx, tmp_path / "bomb.qdpx", add={"sources/zeros.txt": bytes(3_000_000)})
    assert "zip bomb" in refuse(tmp_path, path)


def test_a_large_member_that_compresses_normally_is_accepted(kit_qdpx, tmp_path):
    import random
    rng = random.Random(1)
    words = " ".join(rng.choice(["pegawai", "kantor", "arahan", "pimpinan", "tim", "kerja"])
                     + str(rng.randrange(10**6)) for _ in range(150_000)).encode()
    assert len(words) > 1_000_000
    path = tampered(kit_qdpx, tmp_path / "big.qdpx", add={"sources/big.txt": words})
    assert len(read_qdpx(path).segments) == 7


def test_malformed_xml_is_refused(tmp_path):
    path = archive(tmp_path / "bad.qdpx", {"project.qde": b"<Project name='p'><Sources>"})
    assert "malformed XML" in refuse(tmp_path, path)


@pytest.mark.parametrize("content", [b"just some text, not a zip", b""])
def test_a_file_that_is_not_a_zip_is_refused(tmp_path, content):
    path = tmp_path / "fake.qdpx"
    path.write_bytes(content)
    assert "not a zip" in refuse(tmp_path, path)


def test_an_archive_without_a_project_file_is_refused(tmp_path):
    path = archive(tmp_path / "empty.qdpx", {"readme.txt": b"hello"})
    assert "no project.qde" in refuse(tmp_path, path)


def test_a_missing_file_is_a_one_line_error(tmp_path):
    assert "file not found" in refuse(tmp_path, tmp_path / "nowhere.qdpx")


def test_a_source_pointing_outside_the_archive_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me", encoding="utf-8")
    xml = (f'<Project xmlns="urn:QDA-XML:project:1.0" name="p"><CodeBook><Codes>'
           f'<Code guid="11111111-1111-4111-8111-111111111111" name="c" isCodable="true"/>'
           f'</Codes></CodeBook><Sources>'
           f'<TextSource guid="22222222-2222-4222-8222-222222222222" name="s" '
           f'plainTextPath="file://{secret}">'
           f'<PlainTextSelection guid="33333333-3333-4333-8333-333333333333" startPosition="0" '
           f'endPosition="2"><Coding guid="44444444-4444-4444-8444-444444444444">'
           f'<CodeRef targetGUID="11111111-1111-4111-8111-111111111111"/></Coding>'
           f'</PlainTextSelection></TextSource></Sources></Project>').encode()
    path = archive(tmp_path / "outside.qdpx", {"project.qde": xml})
    message = refuse(tmp_path, path)
    assert "not in the archive" in message and "do not read me" not in message


def test_a_hostile_source_name_cannot_place_a_file_outside_out(kit_qdpx, tmp_path):
    with zipfile.ZipFile(io.BytesIO(kit_qdpx)) as zf:
        xml = zf.read("project.qde")
    work = tmp_path / "work"
    work.mkdir()
    path = tampered(kit_qdpx, work / "names.qdpx",
                    replace={"project.qde": xml.replace(b'name="alpha"', b'name="../../../evil"')})
    project = read_qdpx(path)
    assert "../../../evil" in project.sources
    write_import(project, work / "out", path)
    assert [p.relative_to(work) for p in tmp_path.rglob("evil*")] == [Path("out/sources/evil.txt")]
    assert sorted(p.name for p in work.iterdir()) == ["names.qdpx", "out"]


def test_a_refused_import_leaves_a_previous_import_untouched(kit_qdpx, tmp_path):
    good = tmp_path / "kit.qdpx"
    good.write_bytes(kit_qdpx)
    out = tmp_path / "out" / "imported"
    assert main(["qdpx", "import", str(good), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    bad = archive(tmp_path / "bad.qdpx", {"project.qde": b"<Project"})
    with _capture():
        assert main(["qdpx", "import", str(bad), "--out", str(out)]) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["imported"]


def test_read_qdpx_raises_input_error_not_a_crash(tmp_path):
    path = archive(tmp_path / "bad.qdpx", {"project.qde": b"\x00\x01 not xml"})
    with pytest.raises(InputError):
        read_qdpx(path)


def test_a_member_name_with_a_line_break_still_gives_a_one_line_error(kit_qdpx, tmp_path):
    path = tampered(kit_qdpx, tmp_path / "nl.qdpx", add={"../evil\nsecond line.txt": b"x"})
    assert "\\n" in refuse(tmp_path, path)


def nested_codes(depth: int) -> bytes:
    codes = "".join(f'<Code guid="{i:08x}-0000-4000-8000-000000000000" name="c{i}" '
                    'isCodable="true">' for i in range(depth)) + "</Code>" * depth
    return (f'<Project xmlns="urn:QDA-XML:project:1.0" name="p"><CodeBook><Codes>{codes}'
            '</Codes></CodeBook></Project>').encode()


def test_a_deep_code_tree_is_read_and_an_absurdly_deep_one_refused(tmp_path):
    project = read_qdpx(archive(tmp_path / "deep.qdpx", {"project.qde": nested_codes(100)}))
    assert len(project.codes) == 100 and project.codes["code_path"].iloc[-1].count("/") == 99
    path = archive(tmp_path / "deeper.qdpx", {"project.qde": nested_codes(20_000)})
    assert "deeper than 100 levels" in refuse(tmp_path, path)
