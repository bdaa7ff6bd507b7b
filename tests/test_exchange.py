"""REFI-QDA exchange: a schema-valid, reproducible export, an import that gets every
tool's positions right (and says what it assumed), and a lossless round trip."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd
import pytest

from analysis.cli import main
from analysis.errors import InputError
from analysis.exchange import (SEGMENT_COLUMNS, codebook_qdc, kit_guid, project_qdpx,
                               read_qdpx, write_import)
from analysis.paths import ROOT, Layout
from analysis.sources import load_codebook, load_corpus
from conftest import build_corpus

SHARED = ROOT.parent / "shared"
REFI = SHARED / "refi-qda"
SAMPLES = REFI / "samples"
NS = {"q": "urn:QDA-XML:project:1.0"}

AGREEMENT_COLUMNS = ["source", "source_guid", "user", "user_guid", "code", "code_guid",
                     "code_path", "start", "end", "text"]


# --------------------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def project_schema(shared):
    xmlschema = pytest.importorskip("xmlschema")
    return xmlschema.XMLSchema(str(REFI / "Project.xsd"))


def with_memo(layout: Layout, segment_id: str, memo: str) -> Layout:
    """Give one segment of the fixture corpus a memo."""
    site = segment_id.split("-")[0]
    path = layout.coding_csv(site)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    for row in rows[1:]:
        if row[0] == segment_id:
            row[-1] = memo
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return layout


def qde_member(archive: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        return zf.read("project.qde")


def parse(xml: bytes):
    import xml.etree.ElementTree as ET
    return ET.fromstring(xml)


def guid_of(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))


def tool_export(path: Path, texts: dict[str, bytes], selections, *, xml_name="project.qde",
                folder="sources", inline: dict[str, str] | None = None) -> Path:
    """A .qdpx as another tool might write it: ``texts`` (name -> file bytes) stored under
    ``folder``, ``inline`` texts as PlainTextContent, and ``selections`` (source name,
    start, end) as tool positions, all coded 'theme'."""
    inline = inline or {}
    user, code = guid_of("user"), guid_of("code:theme")
    parts = ['<?xml version="1.0" encoding="utf-8"?>',
             '<Project xmlns="urn:QDA-XML:project:1.0" name="study" origin="test tool">',
             f'<Users><User guid="{user}" name="ana"/></Users>',
             f'<CodeBook><Codes><Code guid="{guid_of("code:topic")}" name="topic" '
             f'isCodable="false"><Code guid="{code}" name="theme" isCodable="true"/></Code>'
             '</Codes></CodeBook><Sources>']
    for name in [*texts, *inline]:
        g = guid_of(f"source:{name}")
        if name in inline:
            parts.append(f'<TextSource guid="{g}" name={quoteattr(name)}><PlainTextContent>'
                         f'{escape(inline[name])}</PlainTextContent>')
        else:
            parts.append(f'<TextSource guid="{g}" name={quoteattr(name)} '
                         f'plainTextPath="internal://{g}.txt">')
        for i, (source, start, end) in enumerate(selections):
            if source == name:
                parts.append(f'<PlainTextSelection guid="{guid_of(f"sel:{name}:{i}")}" '
                             f'name="s{i}" startPosition="{start}" endPosition="{end}">'
                             f'<Coding guid="{guid_of(f"coding:{name}:{i}")}" '
                             f'creatingUser="{user}"><CodeRef targetGUID="{code}"/></Coding>'
                             '</PlainTextSelection>')
        parts.append('</TextSource>')
    parts.append('</Sources></Project>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(xml_name, "".join(parts).encode("utf-8"))
        for name, data in texts.items():
            zf.writestr(f"{folder}/{guid_of(f'source:{name}')}.txt", data)
    return path


def utf16_pos(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def span(text: str, quote: str, measure=lambda text, i: i) -> tuple[int, int]:
    start = text.index(quote)
    return measure(text, start), measure(text, start + len(quote))


EMOJI_TEXT = ("Kantor 😀 buka pagi. Pegawai 🙂 datang tepat waktu.\n"
              "Pimpinan 👍 hadir setiap hari dan 🎉 memberi arahan jelas.\n")
EMOJI_QUOTES = ["datang tepat waktu", "hadir setiap hari", "memberi arahan jelas"]


def quotes_of(project) -> list[str]:
    return sorted(project.segments["text"])


# --------------------------------------------------------------------------- export

def test_export_validates_against_project_xsd(tiny, project_schema):
    corpus = load_corpus(with_memo(tiny, "alpha-002", "individual work, not a leader's trait"))
    project_schema.validate(io.BytesIO(qde_member(project_qdpx(corpus))))


@pytest.mark.usefixtures("shared")
def test_codebook_export_validates_against_codebook_xsd(tiny):
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(REFI / "Codebook.xsd"))
    schema.validate(io.BytesIO(codebook_qdc(load_codebook(tiny))))


def test_the_same_data_exports_to_the_same_bytes_wherever_it_lives(tmp_path):
    first = project_qdpx(load_corpus(build_corpus(tmp_path / "one")))
    second = project_qdpx(load_corpus(build_corpus(tmp_path / "two")))
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos][0] == "project.qde"
    assert [i.filename for i in infos][1:] == sorted(i.filename for i in infos[1:])
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_code_tree_is_category_then_canonical_code_then_site_code(tiny):
    root = parse(qde_member(project_qdpx(load_corpus(tiny))))
    top = root.findall("q:CodeBook/q:Codes/q:Code", NS)
    assert [c.get("name") for c in top] == ["dimension", "practice", "barrier", "outcome",
                                            "evidence", "attribution", "informant", "section"]
    assert {c.get("isCodable") for c in top} == {"false"}
    openness = root.find(".//q:Code[@name='dimension']/q:Code[@name='openness']", NS)
    site_code = openness.find("q:Code[@name='alpha_open_door']", NS)
    assert site_code is not None and site_code.get("guid") == kit_guid("code", "alpha_open_door")
    # the convention: valence children under every code that is not a barrier
    assert [c.get("name") for c in openness.findall("q:Code", NS)] == \
        ["positive", "negative", "alpha_open_door"]
    assert [c.get("name") for c in site_code.findall("q:Code", NS)] == ["positive", "negative"]
    barrier = root.find(".//q:Code[@name='barrier']/q:Code[@name='individualism']", NS)
    assert barrier.findall("q:Code", NS) == []
    evidence = root.find("q:CodeBook/q:Codes/q:Code[@name='evidence']", NS)
    assert [c.get("name") for c in evidence.findall("q:Code", NS)] == \
        ["interview", "observation", "document", "author_claim"]
    description = openness.find("q:Description", NS).text
    assert "def openness" in description and "Include: inc openness" in description
    assert "Exclude: exc openness" in description


def test_one_case_per_site_carries_the_site_attributes_and_its_sources(tiny):
    root = parse(qde_member(project_qdpx(load_corpus(tiny))))
    variables = {v.get("guid"): v.get("name") for v in root.findall("q:Variables/q:Variable", NS)}
    assert "unit_studied" in variables.values()
    cases = root.findall("q:Cases/q:Case", NS)
    assert [c.get("name") for c in cases] == ["alpha", "beta"]
    alpha = cases[0]
    values = {variables[v.find("q:VariableRef", NS).get("targetGUID")]:
              v.find("q:TextValue", NS).text for v in alpha.findall("q:VariableValue", NS)}
    assert values["name"] == "Office alpha" and values["methods"] == "interview; observation"
    assert [r.get("targetGUID") for r in alpha.findall("q:SourceRef", NS)] == \
        [kit_guid("source", "alpha")]


def test_each_raw_text_is_stored_unchanged_and_referenced_as_internal(tiny):
    archive = project_qdpx(load_corpus(tiny))
    root = parse(qde_member(archive))
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        for source in root.findall("q:Sources/q:TextSource", NS):
            guid = source.get("guid")
            assert source.get("plainTextPath") == f"internal://{guid}.txt"
            raw = (tiny.raw_dir / f"{source.get('name')}.txt").read_bytes()
            assert zf.read(f"sources/{guid}.txt") == raw


def test_segments_become_selections_in_code_points_with_a_coding(tiny):
    corpus = load_corpus(tiny)
    root = parse(qde_member(project_qdpx(corpus)))
    selection = root.find(".//q:PlainTextSelection[@name='beta-002']", NS)
    row = corpus.coding.set_index("segment_id").loc["beta-002"]
    assert (int(selection.get("startPosition")), int(selection.get("endPosition"))) == \
        (row.start, row.end)
    coding = selection.find("q:Coding", NS)
    assert coding.find("q:CodeRef", NS).get("targetGUID") == kit_guid("code", "infrastructure")
    users = root.findall("q:Users/q:User", NS)
    assert [u.get("name") for u in users] == ["kit coder"]
    assert coding.get("creatingUser") == users[0].get("guid")


def test_a_memo_becomes_a_note_referenced_from_its_coding(tiny):
    corpus = load_corpus(with_memo(tiny, "alpha-002", "individual work, not a trait"))
    root = parse(qde_member(project_qdpx(corpus)))
    coding = root.find(".//q:PlainTextSelection[@name='alpha-002']/q:Coding", NS)
    note_guid = coding.find("q:NoteRef", NS).get("targetGUID")
    note = root.find(f"q:Notes/q:Note[@guid='{note_guid}']", NS)
    assert note.find("q:PlainTextContent", NS).text == "individual work, not a trait"


def test_export_command_writes_the_default_path_and_refuses_an_invalid_corpus(tiny, capsys):
    assert main(["qdpx", "export", "--data", str(tiny.data), "--out", str(tiny.out)]) == 0
    assert (tiny.out / "exchange" / "kit.qdpx").is_file()
    assert main(["qdpx", "export-codebook", "--data", str(tiny.data),
                 "--out", str(tiny.out)]) == 0
    assert (tiny.out / "exchange" / "kit.qdc").is_file()
    path = tiny.coding_csv("alpha")
    path.write_text(path.read_text(encoding="utf-8").replace("Tugas sering", "Tugas selalu"),
                    encoding="utf-8")
    target = tiny.out / "broken.qdpx"
    assert main(["qdpx", "export", str(target), "--data", str(tiny.data)]) == 1
    assert "quote differs" in capsys.readouterr().err and not target.exists()


# --------------------------------------------------------------------------- round trip

def assert_round_trip(corpus, tmp_path):
    archive = tmp_path / "kit.qdpx"
    archive.write_bytes(project_qdpx(corpus))
    project = read_qdpx(archive)
    got = project.segments[["source", "code", "start", "end", "text"]]
    want = corpus.coding[["source_id", "code", "start", "end", "quote"]].set_axis(
        got.columns, axis=1)
    key = ["source", "start", "end", "code"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  want.sort_values(key).reset_index(drop=True),
                                  check_dtype=False)
    for row in project.segments.itertuples():
        assert project.sources[row.source][row.start:row.end] == row.text
    assert project.sources == {k: v for k, v in corpus.texts.items()}
    return project


def test_export_then_import_gives_back_every_segment_with_its_offsets(tiny, tmp_path):
    corpus = load_corpus(with_memo(tiny, "beta-001", "the emoji is in the source"))
    assert any(ord(c) > 0xFFFF for c in corpus.texts["beta"]), "fixture needs a non-BMP char"
    project = assert_round_trip(corpus, tmp_path)
    assert project.position_unit == "codepoints"
    memo = project.segments.set_index("selection").loc["beta-001", "memo"]
    assert memo == "the emoji is in the source"
    assert set(project.segments["user"]) == {"kit coder"}
    assert set(project.cases["case"]) == {"alpha", "beta"}
    assert project.cases.set_index("case").loc["alpha", "unit_studied"] == "Bagian Umum"
    paths = dict(zip(project.codes["code"], project.codes["code_path"]))
    assert paths["alpha_open_door"] == "dimension/openness/alpha_open_door"


REAL = ROOT / "data"


@pytest.mark.kit_data
@pytest.mark.skipif(not (list((REAL / "coding").glob("*.csv")) and (REAL / "sources.csv").exists()
                         and (REAL / "sites.csv").exists() and (REAL / "codebook.csv").exists()),
                    reason="the real corpus (data/coding, sources.csv, sites.csv, codebook.csv) "
                           "is not complete yet")
def test_the_real_corpus_round_trips_losslessly(tmp_path, project_schema):
    corpus = load_corpus(Layout())
    project_schema.validate(io.BytesIO(qde_member(project_qdpx(corpus))))
    assert_round_trip(corpus, tmp_path)


# --------------------------------------------------------------------------- samples

@pytest.mark.usefixtures("shared")
def test_qualcoder_sample_imports_with_every_quote_at_its_offsets():
    project = read_qdpx(SAMPLES / "qc-1.3.2.qdpx")
    assert sorted(project.sources) == ["admin-1", "board_2017"]
    assert len(project.codes) == 262
    assert project.segments["selection_guid"].nunique() == 158
    assert len(project.segments) == 205
    for row in project.segments.itertuples():
        assert project.sources[row.source][row.start:row.end] == row.text
    # all-ASCII texts: code points and UTF-16 units coincide; code points is the plausible call
    assert project.position_unit == "codepoints" and project.word_cuts == 0
    assert any("Basic Multilingual Plane" in line for line in project.assumptions)
    assert list(project.segments.columns[:10]) == AGREEMENT_COLUMNS
    assert set(project.segments["user"]) == {"cp"}


@pytest.mark.usefixtures("shared")
def test_nvivo_sample_imports_its_code_tree_and_empty_sources():
    project = read_qdpx(SAMPLES / "nvivo-mac-15.qdpx")
    assert len(project.sources) == 2 and set(project.sources.values()) == {"\n"}
    assert len(project.codes) == 262 and len(project.segments) == 0
    assert project.position_unit == "codepoints"
    assert any("no text selections" in line for line in project.assumptions)
    # the same name under two parents stays two codes, told apart by their paths
    programming = project.codes[project.codes["code"] == "programming"]
    assert len(programming) == 2 and programming["code_path"].is_unique
    assert "rq1_definition/competencies/programming" in set(programming["code_path"])


# --------------------------------------------------------------------------- positions

def test_utf16_positions_after_emoji_are_detected_and_converted(tmp_path):
    sels = [("t", *span(EMOJI_TEXT, q, utf16_pos)) for q in EMOJI_QUOTES]
    project = read_qdpx(tool_export(tmp_path / "x.qdpx", {"t": EMOJI_TEXT.encode()}, sels))
    assert project.position_unit == "utf16"
    assert quotes_of(project) == sorted(EMOJI_QUOTES)
    assert any("UTF-16" in line and "auto" in line for line in project.assumptions)


def test_code_point_positions_after_emoji_are_detected(tmp_path):
    sels = [("t", *span(EMOJI_TEXT, q)) for q in EMOJI_QUOTES]
    project = read_qdpx(tool_export(tmp_path / "x.qdpx", {"t": EMOJI_TEXT.encode()}, sels))
    assert project.position_unit == "codepoints"
    assert quotes_of(project) == sorted(EMOJI_QUOTES)


def test_the_user_can_force_a_unit_and_is_told_so(tmp_path):
    quotes = EMOJI_QUOTES[:2]
    sels = [("t", *span(EMOJI_TEXT, q, utf16_pos)) for q in quotes]
    path = tool_export(tmp_path / "x.qdpx", {"t": EMOJI_TEXT.encode()}, sels)
    project = read_qdpx(path, positions="codepoints")
    assert project.position_unit == "codepoints"
    assert any("given with --positions" in line for line in project.assumptions)
    assert quotes_of(project) != sorted(quotes) and project.word_cuts > 0


def test_a_forced_unit_that_puts_a_selection_past_the_end_is_refused(tmp_path):
    sels = [("t", *span(EMOJI_TEXT, q, utf16_pos)) for q in EMOJI_QUOTES]
    path = tool_export(tmp_path / "x.qdpx", {"t": EMOJI_TEXT.encode()}, sels)
    with pytest.raises(InputError, match="do not fit"):
        read_qdpx(path, positions="codepoints")


def test_a_forced_unit_that_lands_inside_an_emoji_is_refused(tmp_path):
    start = EMOJI_TEXT.index("😀") + 1          # a code-point position right after the emoji
    path = tool_export(tmp_path / "x.qdpx", {"t": EMOJI_TEXT.encode()},
                       [("t", start - 1, start)])
    with pytest.raises(InputError, match="do not fit"):
        read_qdpx(path, positions="utf16")


CRLF_TEXT = "Hasil\r\nPegawai datang tepat waktu.\r\nPimpinan hadir setiap hari.\r\n"
CRLF_QUOTES = ["datang tepat waktu", "Pimpinan hadir setiap hari"]


@pytest.mark.parametrize("tool_counts,rule", [("as_stored", "keep"), ("crlf_as_one", "lf")])
def test_crlf_counted_either_way_is_detected_and_the_text_keeps_its_crlf(tmp_path, tool_counts,
                                                                         rule):
    measure = (lambda t, i: i) if tool_counts == "as_stored" else \
        (lambda t, i: len(t[:i].replace("\r\n", "\n")))
    sels = [("t", *span(CRLF_TEXT, q, measure)) for q in CRLF_QUOTES]
    project = read_qdpx(tool_export(tmp_path / "x.qdpx", {"t": CRLF_TEXT.encode()}, sels))
    assert project.newline_rule == rule
    assert quotes_of(project) == sorted(CRLF_QUOTES)
    assert project.sources["t"] == CRLF_TEXT
    assert any(line.startswith("line ends: CRLF") for line in project.assumptions)


BOM_TEXT = "Pegawai datang tepat waktu. Pimpinan hadir setiap hari.\n"


@pytest.mark.parametrize("counted,rule", [(False, "skip"), (True, "count")])
def test_a_byte_order_mark_counted_or_not_is_detected_and_removed(tmp_path, counted, rule):
    quotes = ["datang tepat waktu", "Pimpinan hadir"]
    sels = [("t", *span(BOM_TEXT, q, lambda t, i: i + counted)) for q in quotes]
    data = "\ufeff".encode("utf-8") + BOM_TEXT.encode("utf-8")
    project = read_qdpx(tool_export(tmp_path / "x.qdpx", {"t": data}, sels))
    assert project.bom_rule == rule
    assert quotes_of(project) == sorted(quotes)
    assert project.sources["t"] == BOM_TEXT
    assert any("byte-order mark" in line for line in project.assumptions)


def test_emoji_crlf_and_bom_together_in_utf16(tmp_path):
    text = "Kantor 😀 buka.\r\nPegawai 🙂 datang tepat waktu.\r\nPimpinan hadir.\r\n"
    quotes = ["datang tepat waktu", "Pimpinan hadir"]
    measure = lambda t, i: 1 + utf16_pos(t, i)          # .NET-like: BOM counted, UTF-16
    sels = [("t", *span(text, q, measure)) for q in quotes]
    data = b"\xef\xbb\xbf" + text.encode("utf-8")
    project = read_qdpx(tool_export(tmp_path / "x.qdpx", {"t": data}, sels))
    assert (project.position_unit, project.bom_rule, project.newline_rule) == \
        ("utf16", "count", "keep")
    assert quotes_of(project) == sorted(quotes)


def test_shifted_selections_are_reported_as_cutting_words(tmp_path):
    text = "Pegawai datang tepat waktu. Pimpinan hadir setiap hari. Sarana terbatas.\n"
    sels = [("t", s + 2, e + 2) for s, e in (span(text, q) for q in
                                             ["datang tepat", "Pimpinan hadir", "Sarana"])]
    project = read_qdpx(tool_export(tmp_path / "x.qdpx", {"t": text.encode()}, sels))
    assert project.word_cuts >= 3
    assert any("cut a word" in line and "shifted" in line for line in project.assumptions)


def test_project_named_after_the_study_capital_sources_and_inline_text(tmp_path):
    text = "Kepala bagian memberi arahan.\n"
    path = tool_export(tmp_path / "x.qdpx", {"filed": text.encode()},
                       [("filed", *span(text, "memberi arahan")),
                        ("inline", *span("Tim 😀 kompak sekali.", "kompak"))],
                       xml_name="My Study.qde", folder="Sources",
                       inline={"inline": "Tim 😀 kompak sekali."})
    project = read_qdpx(path)
    assert sorted(project.segments["text"]) == ["kompak", "memberi arahan"]
    assert project.xml_member == "My Study.qde"
    assert any("PlainTextContent" in line for line in project.assumptions)


# --------------------------------------------------------------------------- command

def test_import_command_writes_tables_texts_and_a_report(tmp_path, capsys):
    sels = [("t", *span(EMOJI_TEXT, q, utf16_pos)) for q in EMOJI_QUOTES]
    path = tool_export(tmp_path / "x.qdpx", {"t": EMOJI_TEXT.encode()}, sels)
    out = tmp_path / "imported"
    assert main(["qdpx", "import", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "UTF-16" in printed and "wrote 3 coded segments" in printed
    segments = pd.read_csv(out / "segments.csv", keep_default_na=False)
    assert list(segments.columns) == SEGMENT_COLUMNS
    sources = pd.read_csv(out / "sources.csv", keep_default_na=False).set_index("source")
    text = (out / sources.loc["t", "file"]).read_bytes().decode("utf-8")
    for row in segments.itertuples():
        assert text[row.start:row.end] == row.text
    assert (out / "codes.csv").is_file() and (out / "cases.csv").is_file()
    report = (out / "import_report.txt").read_text(encoding="utf-8")
    assert "UTF-16 code units" in report and "sha256:" in report


def test_import_replaces_a_previous_import_but_never_another_folder(tmp_path):
    path = tool_export(tmp_path / "x.qdpx", {"t": b"Satu dua tiga.\n"}, [("t", 5, 8)])
    out = tmp_path / "imported"
    write_import(read_qdpx(path), out, path)
    (out / "stale.txt").write_text("old", encoding="utf-8")
    write_import(read_qdpx(path), out, path)
    assert not (out / "stale.txt").exists() and (out / "segments.csv").exists()
    data = tmp_path / "data"
    data.mkdir()
    (data / "codebook.csv").write_text("precious", encoding="utf-8")
    with pytest.raises(InputError, match="not an import folder"):
        write_import(read_qdpx(path), data, path)
    assert (data / "codebook.csv").read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "imported", "x.qdpx"]


def test_import_is_deterministic(tmp_path):
    path = tool_export(tmp_path / "x.qdpx", {"t": EMOJI_TEXT.encode()},
                       [("t", *span(EMOJI_TEXT, q)) for q in EMOJI_QUOTES])
    write_import(read_qdpx(path), tmp_path / "a", path)
    write_import(read_qdpx(path), tmp_path / "b", path)
    for name in ("segments.csv", "codes.csv", "cases.csv", "sources.csv", "import_report.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_an_import_that_fails_while_writing_leaves_no_trace(tmp_path, monkeypatch):
    from analysis import exchange
    path = tool_export(tmp_path / "x.qdpx", {"t": b"Satu dua tiga.\n"}, [("t", 5, 8)])
    project = read_qdpx(path)

    def full_disk(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(exchange.os, "replace", full_disk)
    with pytest.raises(OSError):
        write_import(project, tmp_path / "imported", path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.qdpx"]
