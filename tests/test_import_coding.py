"""``qdpx import-coding``: a project coded in NVivo, ATLAS.ti, MAXQDA or QualCoder comes back
as validated coding sheets, or is refused with nothing written but a template to fill in."""

from __future__ import annotations

import hashlib
import io
import shutil
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pandas as pd
import pytest

from analysis.cli import main
from analysis.errors import InputError
from analysis.exchange import codebook_qdc, project_qdpx, read_qdpx
from analysis.importcoding import ImportRefused, import_coding
from analysis.paths import ROOT, Layout
from analysis.sources import load_codebook, load_corpus
from conftest import SHARED, TEXTS

SAMPLES = SHARED / "refi-qda" / "samples"
QC = SAMPLES / "qc-1.3.2.qdpx"
NS = "{urn:QDA-XML:project:1.0}"
COMPARED = ["source_id", "start", "end", "quote", "code", "valence", "evidence", "attribution",
            "section"]
needs_samples = pytest.mark.usefixtures("shared")
"""The real exports in ../shared: the ``shared`` fixture skips them on a plain clone, saying
why, and fails them in CI (``CI=true``), so CI never loses them silently."""


# --------------------------------------------------------------------------- helpers

def guid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))


def foreign_qdpx(path: Path, sources, codings, users=("ana",)) -> Path:
    """A .qdpx as another tool writes it. ``sources``: (guid, name, text) triples (or a
    name -> text dict). ``codings``: (source name, quote or (start, end), code path or a
    tuple of paths coded in one selection, user) rows. Every prefix of a code path is a
    code; GUIDs are the tool's own (not the kit's)."""
    if isinstance(sources, dict):
        sources = [(guid(f"source:{n}"), n, t) for n, t in sources.items()]
    paths = sorted({p for *_, codes, _ in codings
                    for p in ([codes] if isinstance(codes, str) else codes)})
    tree: dict[str, dict] = {}
    for p in paths:
        node = tree
        for part in p.split("/"):
            node = node.setdefault(part, {})

    def codes_xml(node, prefix=""):
        return "".join(f'<Code guid="{guid("code:" + prefix + n)}" name={quoteattr(n)} '
                       f'isCodable="true">{codes_xml(kids, prefix + n + "/")}</Code>'
                       for n, kids in node.items())

    parts = ['<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" '
             'name="recoded" origin="another tool"><Users>']
    parts += [f'<User guid="{guid("user:" + u)}" name="{u}"/>' for u in users]
    parts.append(f"</Users><CodeBook><Codes>{codes_xml(tree)}</Codes></CodeBook><Sources>")
    for i, (g, name, text) in enumerate(sources):
        parts.append(f'<TextSource guid="{g}" name={quoteattr(name)} '
                     f'plainTextPath="internal://{i}.txt">')
        for k, (source, where, codes, user) in enumerate(codings):
            if source != name or (isinstance(where, str) and where not in text):
                continue                # a quote is coded in the texts of that name holding it
            start, end = where if isinstance(where, tuple) else (text.index(where),
                                                                 text.index(where) + len(where))
            parts.append(f'<PlainTextSelection guid="{guid(f"sel:{i}:{k}")}" name="sel {k}" '
                         f'startPosition="{start}" endPosition="{end}">')
            for c in ([codes] if isinstance(codes, str) else codes):
                parts.append(f'<Coding guid="{guid(f"coding:{i}:{k}:{c}")}" '
                             f'creatingUser="{guid("user:" + user)}"><CodeRef '
                             f'targetGUID="{guid("code:" + c)}"/></Coding>')
            parts.append("</PlainTextSelection>")
        parts.append("</TextSource>")
    parts.append("</Sources></Project>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", "".join(parts))
        for i, (_, _, text) in enumerate(sources):
            zf.writestr(f"sources/{i}.txt", text.encode("utf-8"))
    return path


def without_sheets(layout: Layout, root: Path) -> Layout:
    """A copy of the corpus without its coding sheets."""
    data = root / "data"
    shutil.copytree(layout.data, data)
    for sheet in (data / "coding").glob("*.csv"):
        sheet.unlink()
    return Layout(data, root / "reports")


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def sheet(layout: Layout, site: str, second: bool = False) -> pd.DataFrame:
    folder = layout.second_coding_dir if second else layout.coding_dir
    return pd.read_csv(folder / f"{site}.csv", keep_default_na=False, dtype=str)


def recode(archive: bytes, edit) -> bytes:
    """The archive with its project.qde changed by ``edit(root)`` (as a coder would in a tool)."""
    ET.register_namespace("", "urn:QDA-XML:project:1.0")
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    root = ET.fromstring(members[0][1])
    edit(root)
    members[0] = ("project.qde", ET.tostring(root, encoding="utf-8", xml_declaration=True))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buffer.getvalue()


def selection(root, name: str):
    return root.find(f".//{NS}PlainTextSelection[@name='{name}']")


# --------------------------------------------------------------------------- round trip

REAL_SHEETS = sorted((ROOT / "data" / "coding").glob("*.csv"))


@pytest.mark.skipif(not REAL_SHEETS, reason="the kit's coding sheets are not there")
def test_the_kits_export_imports_into_sheets_identical_to_the_originals(tmp_path):
    real = Layout()
    archive = tmp_path / "kit.qdpx"
    archive.write_bytes(project_qdpx(load_corpus(real)))
    layout = without_sheets(real, tmp_path)
    result = import_coding(layout, archive)
    assert sorted(p.name for p in result.written) == [p.name for p in REAL_SHEETS]
    compared = 0
    for path in REAL_SHEETS:
        want = pd.read_csv(path, keep_default_na=False, dtype=str)
        got = sheet(layout, path.stem)
        pd.testing.assert_frame_equal(got[COMPARED], want[COMPARED])
        # informant, memo and segment_id come back too: the whole sheet is the same
        pd.testing.assert_frame_equal(got, want)
        compared += len(got)
    assert compared == len(load_corpus(real).coding) and result.review == 0
    load_corpus(layout)                     # the imported corpus validates as a whole


def test_the_fixture_round_trips_with_a_character_outside_the_bmp(tiny, tmp_path):
    archive = tmp_path / "kit.qdpx"
    archive.write_bytes(project_qdpx(load_corpus(tiny)))
    layout = without_sheets(tiny, tmp_path / "copy")
    import_coding(layout, archive)
    for site in TEXTS:
        want = pd.read_csv(tiny.coding_csv(site), keep_default_na=False, dtype=str)
        pd.testing.assert_frame_equal(sheet(layout, site)[COMPARED], want[COMPARED])


# --------------------------------------------------------------------------- second coder

def test_a_recoding_by_a_second_coder_comes_back_for_agreement(tiny, tmp_path, capsys):
    """Coder B recodes the export: drops alpha-002, widens alpha-003 within its sentence,
    moves alpha-004 into the sentence before; user C adds a coding of their own."""
    def edit(root):
        users = root.find(f"{NS}Users")
        kit_user = users.find(f"{NS}User")
        kit_user.set("name", "B")
        ET.SubElement(users, f"{NS}User", {"guid": guid("user:C"), "name": "C"})
        text = TEXTS["alpha"]
        source = selection(root, "alpha-002")
        parent = next(s for s in root.iter(f"{NS}TextSource") if source in list(s))
        parent.remove(source)
        widened = selection(root, "alpha-003")
        widened.set("startPosition", str(text.index("Kepala bagian")))
        moved = selection(root, "alpha-004")
        start = text.index("Kepala bagian")
        moved.set("startPosition", str(start))
        moved.set("endPosition", str(start + len("Kepala bagian")))
        moved.find(f"{NS}Description").text = "valence: negative; evidence: interview"
        extra = ET.SubElement(parent, f"{NS}PlainTextSelection", {
            "guid": guid("sel:C"), "name": "c1", "startPosition": "9", "endPosition": "17"})
        coding = ET.SubElement(extra, f"{NS}Coding", {"guid": guid("coding:C"),
                                                      "creatingUser": guid("user:C")})
        coding.append(ET.Element(f"{NS}CodeRef", {"targetGUID": selection(
            root, "alpha-001").find(f"{NS}Coding/{NS}CodeRef").get("targetGUID")}))

    archive = tmp_path / "recoded.qdpx"
    archive.write_bytes(recode(project_qdpx(load_corpus(tiny)), edit))
    with pytest.raises(InputError, match=r"2 users \('B', 'C'\); choose one with --user"):
        import_coding(tiny, archive, second=True)
    assert main(["qdpx", "import-coding", str(archive), "--second", "--user", "B",
                 "--site", "alpha", "--data", str(tiny.data), "--out", str(tiny.out)]) == 0
    assert "left out (not a --site): beta" in capsys.readouterr().out
    assert sorted(p.name for p in tiny.second_coding_dir.iterdir()) == ["alpha.csv"]
    second = sheet(tiny, "alpha", second=True)
    assert list(second["segment_id"]) == ["alpha-001", "alpha-003", "alpha-004"]
    moved = second.set_index("segment_id").loc["alpha-004"]
    assert (moved["quote"], moved["code"], moved["evidence"]) == \
        ("Kepala bagian", "timeliness", "interview")
    out = tmp_path / "agreement.csv"
    assert main(["agreement", "--sheets", str(tiny.coding_csv("alpha")),
                 str(tiny.second_coding_dir / "alpha.csv"), "--data", str(tiny.data),
                 "--out", str(out)]) == 0
    table = pd.read_csv(out).set_index("code")
    # By hand: alpha has 6 sentences; A codes 4 sentence x code units (open door s2,
    # individualism s3, clear instructions s5, timeliness s6), B codes 3 (s2, s5, s5).
    # Pooled over 4 codes x 6 sentences = 24 units: both 2, neither 24 - 4 - 3 + 2 = 19,
    # po = 21/24 = 87.5 %; pe = 4/24 * 3/24 + 20/24 * 21/24 = 432/576 = 0.75,
    # kappa = (0.875 - 0.75) / 0.25 = 0.5; precision 2/3, recall 2/4.
    overall = table.loc["(all)"]
    assert (overall["n_units"], overall["coded_a"], overall["coded_b"],
            overall["coded_both"]) == (24, 4, 3, 2)
    assert overall["percent_agreement"] == pytest.approx(87.5)
    assert overall["cohen_kappa"] == pytest.approx(0.5)
    assert overall["precision"] == pytest.approx(2 / 3)
    assert overall["recall"] == pytest.approx(0.5)
    # timeliness: A s6, B s5: po 4/6, pe 1/36 + 25/36, kappa (24 - 26) / 10 = -0.2
    assert table.loc["timeliness", "cohen_kappa"] == pytest.approx(-0.2)
    assert table.loc["alpha_open_door", "cohen_kappa"] == pytest.approx(1.0)
    assert table.loc["individualism", "coded_b"] == 0
    # alpha-004 lost its section and attribution in the recoding: section by default, to review
    assert moved["status"] == "suggested" and "section 'results' by default" in moved["memo"]


# --------------------------------------------------------------------------- convention

CONVENTION = [
    ("alpha", "Pimpinan terbuka kepada staf", "dimension/openness/negative", "ana"),
    ("alpha", "Pimpinan terbuka kepada staf. Pegawai bekerja", "evidence/interview", "ana"),
    ("alpha", "Pegawai bekerja secara individual", "individualism", "ana"),
    ("alpha", "Kepala bagian memberi arahan yang jelas", ("Clear Instructions",
                                                          "attribution/cited_secondary",
                                                          "informant/kepala bagian"), "ana"),
    ("beta", "Kinerja pegawai meningkat", "outcome/individual_performance/positive", "ana"),
    ("alpha", (0, len(TEXTS["alpha"])), "section/results", "ana"),   # no section map here
]


def test_a_coding_that_follows_the_convention_carries_valence_evidence_and_attribution(
        tiny, tmp_path):
    layout = without_sheets(tiny, tmp_path / "copy")
    archive = foreign_qdpx(tmp_path / "nvivo.qdpx", TEXTS, CONVENTION)
    result = import_coding(layout, archive)
    alpha = sheet(layout, "alpha").set_index("code")
    assert alpha.loc["openness", ["valence", "evidence", "attribution"]].tolist() == \
        ["negative", "interview", "primary"]
    assert alpha.loc["individualism", "valence"] == "negative"      # a barrier
    clear = alpha.loc["clear_instructions"]
    assert (clear["attribution"], clear["informant"]) == ("cited_secondary", "kepala bagian")
    # no evidence coded around these: author_claim by default, marked for review
    assert clear["evidence"] == "author_claim" and clear["status"] == "suggested"
    assert clear["memo"].startswith("IMPORT: valence 'positive' by default; evidence "
                                    "'author_claim' by default")
    assert alpha.loc["openness", "status"] == ""
    beta = sheet(layout, "beta").set_index("code")
    beta_row = beta.loc["individual_performance"]
    assert (beta_row["valence"], beta_row["section"]) == ("positive", "results")
    assert "section 'results' by default" in beta_row["memo"]
    assert alpha.loc["individualism", "status"] == "suggested"     # not inside the interview
    assert result.review == 3
    assert any(line.startswith("evidence: 1 from coding, 3 from default, review")
               for line in result.report)
    assert "matched by name or label (check these are the same concept): 'Clear Instructions' " \
        "-> clear_instructions; 'individualism' -> individualism" in result.report
    assert result.report_path.read_text(encoding="utf-8").count("\n") == len(result.report)


@pytest.mark.skipif(not REAL_SHEETS, reason="the kit's coding sheets are not there")
def test_sections_come_from_the_section_map_by_offset(tmp_path):
    layout = without_sheets(Layout(), tmp_path)
    text = load_corpus(layout, require_sheets=False).texts["manoi"]
    quote = "interaksi yang harmonis dan komunikatif antara kepala distrik dan pegawai"
    english = text[:1410].index("interaction")        # the English abstract: not coded
    archive = foreign_qdpx(tmp_path / "x.qdpx", {"manoi.txt": text},
                           [("manoi.txt", quote, "dimension/positiveness/positive", "ana"),
                            ("manoi.txt", (english, english + 11), "positiveness", "ana")])
    result = import_coding(layout, archive)
    manoi = sheet(layout, "manoi")
    assert len(manoi) == 1
    row = manoi.iloc[0]
    assert (row["section"], row["start"], row["quote"]) == ("abstract", str(text.index(quote)),
                                                           quote)
    assert any(line.startswith("left out: 1 codings in sections the kit does not code: "
                               "'interaction' (manoi") for line in result.report)


@needs_samples
@pytest.mark.skipif(not REAL_SHEETS, reason="the kit's coding sheets are not there")
def test_the_qualcoder_sample_against_the_kits_codebook(tmp_path):
    layout = without_sheets(Layout(), tmp_path)
    before = tree_digest(layout.data)
    with pytest.raises(ImportRefused) as refused:
        import_coding(layout, QC)
    message = str(refused.value)
    assert "1 coded sources match no site: board_2017" in message
    assert "76 codes match no code of codebook.csv" in message
    assert "rq1_definition/practices/collaboration" not in message   # a false friend, by name
    template = pd.read_csv(layout.out / "exchange" / "qc-1.3.2-code-map-template.csv")
    assert len(template) == 76 and tree_digest(layout.data) == before


def test_the_codebook_export_holds_the_structure_of_the_convention(tiny):
    root = ET.fromstring(codebook_qdc(load_codebook(tiny)))
    q = "{urn:QDA-XML:codebook:1.0}"
    top = [c.get("name") for c in root.find(f"{q}Codes").findall(f"{q}Code")]
    assert top[-4:] == ["evidence", "attribution", "informant", "section"]
    openness = root.find(f".//{q}Code[@name='openness']")
    assert [c.get("name") for c in openness.findall(f"{q}Code")][:2] == ["positive", "negative"]


# --------------------------------------------------------------------------- refusals

@needs_samples
def test_a_foreign_project_gets_every_unmatched_code_and_a_template_and_nothing_else(
        tiny, tmp_path, capsys):
    before = tree_digest(tiny.data)
    out = tmp_path / "out"
    assert main(["qdpx", "import-coding", str(QC), "--data", str(tiny.data),
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    used = read_qdpx(QC).segments.drop_duplicates("code_guid")
    template = pd.read_csv(out / "exchange" / "qc-1.3.2-code-map-template.csv",
                           keep_default_na=False)
    assert list(template.columns) == ["tool_code", "kit_code", "codings", "candidates"]
    assert set(template["tool_code"]) == set(used["code_path"])   # the fixture matches none
    assert len(template) == 77 and template["codings"].sum() == 205
    assert (template["kit_code"] == "").all()
    for path in used["code_path"]:
        assert f"code '{path}'" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and "77 codes match no code of codebook.csv" in last
    assert "board_2017" in last and "nothing else written" in last
    assert tree_digest(tiny.data) == before
    assert sorted(p.name for p in (out / "exchange").iterdir()) == \
        ["qc-1.3.2-code-map-template.csv", "qc-1.3.2-site-map-template.csv"]


@needs_samples
def test_with_a_site_map_the_foreign_project_still_stops_at_its_codes(tiny, tmp_path):
    site_map = tmp_path / "sites.csv"
    site_map.write_text("source,site\nboard_2017,alpha\n", encoding="utf-8")
    before = tree_digest(tiny.data)
    with pytest.raises(ImportRefused, match="^[^;]*77 codes match no code") as refused:
        import_coding(tiny, QC, site_map=site_map, template_dir=tmp_path / "t")
    assert "match no site" not in str(refused.value) and len(refused.value.details) == 77
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == \
        ["qc-1.3.2-code-map-template.csv"]
    assert tree_digest(tiny.data) == before


@needs_samples
def test_a_project_without_coded_selections_is_refused(tiny, tmp_path):
    before = tree_digest(tiny.data)
    with pytest.raises(InputError, match="no coded text selections: nothing to import"):
        import_coding(tiny, SAMPLES / "nvivo-mac-15.qdpx", template_dir=tmp_path / "t")
    assert tree_digest(tiny.data) == before and not (tmp_path / "t").exists()


def test_a_filled_in_code_map_template_completes_the_import(tiny, tmp_path):
    layout = without_sheets(tiny, tmp_path / "copy")
    codings = [("alpha", "memberi arahan yang jelas", "tema/arahan", "ana"),
               ("alpha", "Tugas sering terlambat", "tema/lambat", "ana"),
               ("alpha", "Pimpinan terbuka", "tema/lain", "ana")]
    archive = foreign_qdpx(tmp_path / "x.qdpx", TEXTS, codings)
    with pytest.raises(ImportRefused, match="3 codes match no code"):
        import_coding(layout, archive)
    template = layout.out / "exchange" / "x-code-map-template.csv"
    table = pd.read_csv(template, keep_default_na=False)
    table["kit_code"] = table["tool_code"].map({"tema/arahan": "clear_instructions",
                                                "tema/lambat": "timeliness/negative",
                                                "tema/lain": "ignore"})
    table.to_csv(template, index=False)
    result = import_coding(layout, archive, code_map=template)
    alpha = sheet(layout, "alpha")
    assert list(alpha["code"]) == ["clear_instructions", "timeliness"]
    assert list(alpha["valence"]) == ["positive", "negative"]
    assert "left out: 1 codings of codes the code map says to ignore" in result.report


def test_a_code_named_like_an_attribute_group_but_mapped_to_a_code_is_not_that_group(
        tiny, tmp_path):
    """Mapped to a kit code, a top-level 'Attribution' is a finding's code: the project
    then has no attribution group, so a default attribution is marked for review."""
    layout = without_sheets(tiny, tmp_path / "copy")
    archive = foreign_qdpx(tmp_path / "x.qdpx", TEXTS,
                           [("alpha", "memberi arahan yang jelas", "Attribution", "ana")])
    with pytest.raises(ImportRefused, match="match no code"):
        import_coding(layout, archive)
    code_map = tmp_path / "map.csv"
    code_map.write_text("tool_code,kit_code\nAttribution,clear_instructions\n",
                        encoding="utf-8")
    import_coding(layout, archive, code_map=code_map)
    alpha = sheet(layout, "alpha")
    assert list(alpha["code"]) == ["clear_instructions"]
    assert "attribution 'primary' by default" in alpha["memo"][0], alpha["memo"][0]


def test_a_code_map_naming_no_kit_code_is_refused_at_its_line(tiny, tmp_path):
    archive = foreign_qdpx(tmp_path / "x.qdpx", TEXTS, [("alpha", "Tugas", "tema/x", "ana")])
    code_map = tmp_path / "map.csv"
    code_map.write_text("tool_code,kit_code\ntema/x,punctuality\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"map.csv:2: column 'kit_code': 'punctuality' is "
                                         "not a kit code"):
        import_coding(tiny, archive, code_map=code_map)


def test_a_code_whose_name_fits_two_kit_codes_is_refused_as_ambiguous(tiny, tmp_path):
    book = tiny.codebook_csv
    book.write_text(book.read_text(encoding="utf-8").replace(
        "timeliness,,outcome,timeliness,timeliness", "timeliness,,outcome,timeliness,tepat"),
        encoding="utf-8")
    book.write_text(book.read_text(encoding="utf-8").replace(
        "infrastructure,,barrier,infrastructure,infrastructure",
        "infrastructure,,barrier,infrastructure,tepat"), encoding="utf-8")
    archive = foreign_qdpx(tmp_path / "x.qdpx", TEXTS, [("alpha", "Tugas", "Tepat", "ana")])
    with pytest.raises(ImportRefused, match="0 codes match no code of codebook.csv and 1 are "
                                            "ambiguous") as refused:
        import_coding(tiny, archive, template_dir=tmp_path)
    assert refused.value.details == ["code 'Tepat' (1 codings): ambiguous, could be "
                                     "infrastructure | timeliness"]
    template = pd.read_csv(tmp_path / "x-code-map-template.csv", keep_default_na=False)
    assert template.loc[0, "candidates"] == "infrastructure | timeliness"


def test_a_code_name_with_a_line_break_still_gives_one_line_per_message(tiny, tmp_path,
                                                                         capsys):
    archive = foreign_qdpx(tmp_path / "x.qdpx", TEXTS, [("alpha", "Tugas", "bad\nname", "ana")])
    assert main(["qdpx", "import-coding", str(archive), "--data", str(tiny.data),
                 "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "  code 'bad\\nname' (1 codings): matches no kit code"
    assert len(err) == 2 and err[1].startswith("error: ") and "bad\\nname" in err[1]


def test_an_unknown_user_is_refused_with_the_users_there_are(tiny, tmp_path):
    archive = foreign_qdpx(tmp_path / "x.qdpx", TEXTS, [("alpha", "Tugas", "timeliness", "ana"),
                                                       ("beta", "Sarana", "infrastructure",
                                                        "budi")], users=("ana", "budi"))
    with pytest.raises(InputError, match=r"no codings by user 'cici' \(users with codings: "
                                         r"'ana', 'budi'\)"):
        import_coding(tiny, archive, user="cici")


def test_a_user_name_two_users_share_is_refused_not_merged():
    from analysis.importcoding import choose_user

    archive = Path("project.qdpx")
    segments = pd.DataFrame({"user": ["Ann", "Ann", "Bob"], "user_guid": ["a1", "a2", "b1"],
                             "code": ["x", "y", "z"]})
    with pytest.raises(InputError, match=r"project.qdpx: user name 'Ann' belongs to 2 users "
                                         r"\(a1, a2\); give the user GUID instead"):
        choose_user(segments, "Ann", archive)
    with pytest.raises(InputError, match=r"codings by 3 users \('Ann' \(a1\), 'Ann' \(a2\), "
                                         r"'Bob'\); choose one with --user"):
        choose_user(segments, None, archive)
    mine, who = choose_user(segments, "{A2}", archive)
    assert mine["code"].tolist() == ["y"]
    assert who == "{A2} (of 3 users with codings: 'Ann' (a1), 'Ann' (a2), 'Bob')"


def test_an_existing_sheet_is_replaced_only_with_replace(tiny, tmp_path):
    archive = foreign_qdpx(tmp_path / "x.qdpx", TEXTS, [("alpha", "Tugas", "timeliness", "ana")])
    before = tiny.coding_csv("alpha").read_bytes()
    with pytest.raises(InputError, match=r"alpha.csv already exists; nothing written \(give "
                                         "--replace"):
        import_coding(tiny, archive)
    assert tiny.coding_csv("alpha").read_bytes() == before
    import_coding(tiny, archive, replace=True)
    assert list(sheet(tiny, "alpha")["quote"]) == ["Tugas"]
    assert tiny.coding_csv("beta").exists()                 # other sites untouched


def test_a_write_that_fails_half_way_restores_the_sheets_already_replaced(tiny, tmp_path,
                                                                           monkeypatch):
    from analysis import io as kit_io
    archive = foreign_qdpx(tmp_path / "x.qdpx", TEXTS, [("alpha", "Tugas", "timeliness", "ana"),
                                                       ("beta", "Sarana", "infrastructure",
                                                        "ana")])
    before = tree_digest(tiny.data)
    calls = []

    real = kit_io.atomic_write_bytes

    def second_write_fails(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(path, data)

    monkeypatch.setattr(kit_io, "atomic_write_bytes", second_write_fails)
    with pytest.raises(OSError, match="disk full"):
        import_coding(tiny, archive, replace=True)
    assert len(calls) == 3                  # alpha written, beta failed, alpha restored
    assert tree_digest(tiny.data) == before


def test_a_coded_source_that_matches_no_site_is_named(tiny, tmp_path):
    archive = foreign_qdpx(tmp_path / "x.qdpx", {"notes.txt": "Catatan lapangan saja.\n"},
                           [("notes.txt", "Catatan", "timeliness", "ana")])
    with pytest.raises(ImportRefused, match=r"1 coded sources match no site: notes.txt"):
        import_coding(tiny, archive, template_dir=tmp_path)
    assert pd.read_csv(tmp_path / "x-site-map-template.csv").iloc[0]["source"] == "notes.txt"


def test_a_site_map_finds_the_quotes_of_a_different_extraction_in_the_raw_text(tiny, tmp_path):
    layout = without_sheets(tiny, tmp_path / "copy")
    text = "Halaman 1\n" + TEXTS["alpha"].replace("\n\n", "\n")      # another extraction
    archive = foreign_qdpx(tmp_path / "x.qdpx", {"Alpha.docx": text},
                           [("Alpha.docx", "Tugas sering terlambat", "timeliness", "ana")])
    site_map = tmp_path / "sites.csv"
    site_map.write_text("source,site\nAlpha.docx,alpha\n", encoding="utf-8")
    import_coding(layout, archive, site_map=site_map)
    row = sheet(layout, "alpha").iloc[0]
    assert TEXTS["alpha"][int(row["start"]):int(row["end"])] == "Tugas sering terlambat"


def test_a_passage_with_two_evidence_values_is_refused(tiny, tmp_path):
    codings = [("alpha", "Tugas sering terlambat", ("timeliness", "evidence/interview",
                                                    "evidence/document"), "ana")]
    archive = foreign_qdpx(tmp_path / "x.qdpx", TEXTS, codings)
    with pytest.raises(ImportRefused, match="evidence document and interview"):
        import_coding(tiny, archive, replace=True)


S_GUIDS = ("abcdef12-0000-4000-8000-000000000001", "abcdef12-0000-4000-8000-000000000002")


def test_two_sources_with_one_name_keep_their_own_texts(tiny, tmp_path):
    """Before: both became 's [abcdef12]', one text replaced the other and a quote broke."""
    sources = [(S_GUIDS[0], "s", TEXTS["alpha"]), (S_GUIDS[1], "s", TEXTS["beta"])]
    codings = [("s", "Tugas sering terlambat", "timeliness", "ana")]
    archive = foreign_qdpx(tmp_path / "x.qdpx", sources, codings)
    project = read_qdpx(archive)
    assert sorted(project.sources) == ["s [abcdef12-0000-4000-8000-000000000001]",
                                       "s [abcdef12-0000-4000-8000-000000000002]"]
    assert sorted(project.sources.values()) == sorted([TEXTS["alpha"], TEXTS["beta"]])
    for row in project.segments.itertuples():
        assert project.sources[row.source][row.start:row.end] == row.text
    layout = without_sheets(tiny, tmp_path / "copy")
    import_coding(layout, archive)
    assert list(sheet(layout, "alpha")["quote"]) == ["Tugas sering terlambat"]
    site_map = tmp_path / "sites.csv"
    site_map.write_text("source,site\ns,alpha\n", encoding="utf-8")
    with pytest.raises(InputError, match="sites.csv:2: column 'source': source name 's' is "
                                         "used by 2 sources"):
        import_coding(layout, archive, site_map=site_map, replace=True)


def test_duplicate_source_guids_are_refused(tmp_path):
    sources = [(S_GUIDS[0], "a", TEXTS["alpha"]), (S_GUIDS[0], "b", TEXTS["beta"])]
    archive = foreign_qdpx(tmp_path / "x.qdpx", sources, [])
    with pytest.raises(InputError, match=f"source GUID '{S_GUIDS[0]}' is used by 2 sources"):
        read_qdpx(archive)


def test_duplicate_code_guids_are_refused(tmp_path):
    archive = foreign_qdpx(tmp_path / "x.qdpx", TEXTS, [("alpha", "Tugas", "a/b", "ana")])

    def same_guid(root):
        for node in root.iter():
            for name in ("guid", "targetGUID"):
                if node.get(name) == guid("code:a/b"):
                    node.set(name, guid("code:a"))

    archive.write_bytes(recode(archive.read_bytes(), same_guid))
    with pytest.raises(InputError, match=r"code GUID '[0-9a-f-]+' is used by 2 codes \(a, a/b\)"):
        read_qdpx(archive)


def test_a_crlf_tool_span_maps_to_the_offsets_of_the_lf_text():
    from analysis.importcoding import SourceMatch

    tool = "Satu.\r\nDua tiga.\r\n\r\nEmpat."
    kit = tool.replace("\r\n", "\n")
    match = SourceMatch("s1", "alpha", "content_lf", tool, kit)
    start = tool.index("Dua")
    assert match.span(start, start + len("Dua tiga.")) == (kit.index("Dua"),
                                                          kit.index("Dua") + len("Dua tiga."))
    cut = tool.index("\r\n\r\n") + 1  # between a "\r" and its "\n"
    assert match.span(cut, len(tool)) == (len(tool[:cut].replace("\r\n", "\n")), len(kit))
