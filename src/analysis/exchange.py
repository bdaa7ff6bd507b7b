"""REFI-QDA exchange: the kit's coding to and from NVivo, ATLAS.ti, MAXQDA and QualCoder.

Export
    :func:`project_qdpx` turns a validated :class:`~analysis.sources.Corpus` into a
    ``.qdpx`` archive (a zip holding ``project.qde``, valid against the REFI-QDA
    ``Project.xsd``, and every raw text as ``sources/<guid>.txt``); :func:`codebook_qdc`
    turns the codebook into a ``.qdc`` file valid against ``Codebook.xsd``. Every GUID
    is a UUID5 of a kit id, zip members have a fixed order and timestamp, so the
    same data gives the same bytes. Positions are written in code points. The code
    tree (:func:`codebook_tree`) carries the convention :mod:`analysis.importcoding`
    reads back: valence children under each code, attribute groups after the categories.

Import
    :func:`read_qdpx` reads an archive from anywhere (untrusted input) into a
    :class:`QdpxProject`: one row per coding of a text selection, with Python
    code-point offsets such that ``sources[source][start:end] == text``. Tools
    differ in what a position counts (code points or UTF-16 code units, whether a
    byte-order mark or the CR of a CRLF counts), so the reading that fits the
    selections best is detected (or given) and every assumption is reported.
    :func:`write_import` writes the tables and texts to a folder atomically.

Security rules of the import (see docs/exchange.md): member paths that leave the
archive's folder, links, members larger than ``max_member_bytes`` uncompressed,
members over 1 MB compressed more than 100:1, XML with a DTD or entities,
malformed XML and files that are not zips are refused with an
:class:`~analysis.errors.InputError` before anything is written.
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import io
import os
import posixpath
import re
import shutil
import stat
import tempfile
import unicodedata
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

import pandas as pd

from analysis.errors import InputError
from analysis.io import atomic_write_bytes, csv_text, default_mode
from analysis.paths import Layout
from analysis.sources import (ATTRIBUTIONS, CATEGORIES, CODED_SECTIONS, EVIDENCE, VALENCES,
                              sha256_of)

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"

KIT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:analysis-kit:cross-site-synthesis")
"""The UUID5 namespace of every GUID the export writes."""

PROJECT_NAME = "Cross-site synthesis kit"
ORIGIN = "analysis (cross-site synthesis kit)"
KIT_CODER = "kit coder"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

CATEGORY_DESCRIPTIONS = {
    "dimension": "How staff and leaders communicate (interpersonal communication dimensions).",
    "practice": "What leaders and offices do.",
    "barrier": "What hinders communication or performance.",
    "outcome": "What communication is reported to change.",
}

SEGMENT_ATTRIBUTES = ("valence", "evidence", "informant", "attribution", "section")
"""Columns of a coding sheet written into each selection's Description."""

DEFAULT_MAX_MEMBER_BYTES = 200_000_000
BOMB_FLOOR_BYTES = 1_000_000
"""Members up to this size (uncompressed) are never judged by their compression ratio."""
MAX_RATIO = 100
"""Largest accepted uncompressed:compressed ratio of a member above BOMB_FLOOR_BYTES."""

MAX_CODE_DEPTH = 100
"""Deepest code tree the import accepts."""

POSITIONS = ("auto", "codepoints", "utf16")
BOM_RULES = ("auto", "skip", "count")
NEWLINE_RULES = ("auto", "keep", "lf")


def kit_guid(kind: str, key: str) -> str:
    """The GUID of a kit object: UUID5 of ``kind:key`` (same id, same GUID)."""
    return str(uuid.uuid5(KIT_NAMESPACE, f"{kind}:{key}"))


# --------------------------------------------------------------------------- export

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value: str) -> str:
    """A string XML 1.0 can hold (control characters other than tab and line ends dropped)."""
    return _XML_ILLEGAL.sub("", str(value))


def _element(tag: str, attrib: dict[str, str] | None = None, text: str | None = None,
             parent: ET.Element | None = None) -> ET.Element:
    attrib = {k: _xml_text(v) for k, v in (attrib or {}).items()}
    node = ET.Element(tag, attrib) if parent is None else ET.SubElement(parent, tag, attrib)
    if text is not None:
        node.text = _xml_text(text)
    return node


def code_description(row) -> str:
    """A code's Description: definition, include and exclude rules, labels and note."""
    lines = [row["definition"]]
    if row["include"]:
        lines.append(f"Include: {row['include']}")
    if row["exclude"]:
        lines.append(f"Exclude: {row['exclude']}")
    lines.append(f"Label (en): {row['label_en']}; label (id): {row['label_id']}")
    if row.get("note"):
        lines.append(f"Note: {row['note']}")
    return "\n".join(lines)


VALENCE_DESCRIPTIONS = dict(zip(VALENCES, (
    "Valence positive: the parent code's finding is present, shown or has grown.",
    "Valence negative: the parent code's finding is missing, lacking or has declined.")))

ATTRIBUTE_GROUPS = {"evidence": EVIDENCE, "attribution": ATTRIBUTIONS, "informant": (),
                    "section": CODED_SECTIONS}
"""Top-level code groups of the convention that carry a coding sheet's columns: each child
is a value (``informant``: any child name is a role). Not findings: see docs/exchange.md."""

GROUP_DESCRIPTIONS = {
    "evidence": "Not a finding. Code a passage with one of these children to say what the "
                "findings coded inside it rest on (the same selection or a larger one around "
                "it). Without one: author_claim, marked for review.",
    "attribution": "Not a finding. Code cited_secondary on a passage in which the authors "
                   "report another study or another place; every other passage is primary.",
    "informant": "Not a finding. Add a child code named after an informant's role (as the "
                 "study names it) and code the passage the informant speaks in. Optional.",
    "section": "Not a finding. Only for a text without a section map in the kit: code the "
               "passage with its section. With a map, the section is read from the map.",
}


def codebook_tree(codebook: pd.DataFrame, informants=()) -> pd.DataFrame:
    """One row per node of the exported code tree, in tree order (pre-order).

    Columns: name, guid, parent_guid, depth, is_codable, description, path (names from
    the top joined with ``/``), kind (category | code | valence | group | attribute),
    code (the kit code of a code or valence node), attribute and value (of an attribute
    node; a valence node has attribute ``valence``).

    The top level holds one node per category (not codable); canonical codes sit under
    their category and site-specific codes under their canonical parent. Every code that
    is not a barrier has two children, ``positive`` and ``negative``, its valence (a
    barrier is always negative). Then one group per coding-sheet column the convention
    carries (ATTRIBUTE_GROUPS, not codable), its values as children; ``informant``
    holds ``informants`` (roles).
    """
    book = codebook.fillna("")
    rows = []

    def add(name, guid, parent, is_codable, description, kind, code="", attribute="",
            value=""):
        path = f"{parent['path']}/{name}" if parent else name
        rows.append(dict(name=name, guid=guid, parent_guid=parent["guid"] if parent else "",
                         depth=parent["depth"] + 1 if parent else 0, is_codable=is_codable,
                         description=description, path=path, kind=kind, code=code,
                         attribute=attribute, value=value))
        return rows[-1]

    def add_code(row, parent):
        node = add(row["code"], kit_guid("code", row["code"]), parent, True,
                   code_description(row), "code", code=row["code"])
        if row["category"] != "barrier":
            for valence, text in VALENCE_DESCRIPTIONS.items():
                add(valence, kit_guid("valence", f"{row['code']}/{valence}"), node, True,
                    text, "valence", code=row["code"], attribute="valence", value=valence)
        return node

    for category in CATEGORIES:
        members = book[book["category"] == category]
        if members.empty:
            continue
        top = add(category, kit_guid("category", category), None, False,
                  CATEGORY_DESCRIPTIONS[category], "category")
        for _, canon in members[members["parent"] == ""].sort_values("code").iterrows():
            node = add_code(canon, top)
            for _, child in members[members["parent"] == canon["code"]].sort_values(
                    "code").iterrows():
                add_code(child, node)
    for group, values in ATTRIBUTE_GROUPS.items():
        node = add(group, kit_guid("group", group), None, False, GROUP_DESCRIPTIONS[group],
                   "group", attribute=group)
        for value in (values or sorted(set(informants) - {""})):
            add(value, kit_guid("attribute", f"{group}/{value}"), node, True,
                f"{group}: {value}", "attribute", attribute=group, value=value)
    return pd.DataFrame(rows, columns=["name", "guid", "parent_guid", "depth", "is_codable",
                                       "description", "path", "kind", "code", "attribute",
                                       "value"])


def _codes_element(tree: pd.DataFrame, parent: ET.Element) -> ET.Element:
    codes = _element("Codes", parent=parent)
    nodes = {"": codes}
    for row in tree.to_dict("records"):
        node = _element("Code", {"guid": row["guid"], "name": row["name"],
                                 "isCodable": "true" if row["is_codable"] else "false"},
                        parent=nodes[row["parent_guid"]])
        _element("Description", text=row["description"], parent=node)
        nodes[row["guid"]] = node
    return codes


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n")


def codebook_qdc(codebook: pd.DataFrame) -> bytes:
    """The codebook as a REFI-QDA ``.qdc`` document (Codebook.xsd)."""
    root = _element("CodeBook", {"xmlns": CODEBOOK_NS, "origin": ORIGIN})
    _codes_element(codebook_tree(codebook), root)
    return _xml_bytes(root)


def _coders(coding: pd.DataFrame) -> list[str]:
    if "coder" in coding.columns and coding["coder"].fillna("").ne("").any():
        return sorted(set(coding["coder"].fillna("").replace("", KIT_CODER)))
    return [KIT_CODER]


def _segment_description(row) -> str:
    return "; ".join(f"{name}: {row[name]}" for name in SEGMENT_ATTRIBUTES
                     if name in row and row[name] != "")


def project_qde(corpus) -> bytes:
    """The corpus as a REFI-QDA ``project.qde`` document (Project.xsd).

    Users (the coders), the code tree, one Variable per column of sites.csv, one
    Case per site (its attributes and sources), one TextSource per raw text with a
    PlainTextSelection and Coding per segment (code points), memos as Notes.
    """
    coding = corpus.coding.fillna("")
    coders = _coders(coding)
    user_guid = {name: kit_guid("user", name) for name in coders}
    root = _element("Project", {"xmlns": PROJECT_NS, "name": PROJECT_NAME, "origin": ORIGIN,
                                "creatingUserGUID": user_guid[coders[0]]})
    users = _element("Users", parent=root)
    for name in coders:
        _element("User", {"guid": user_guid[name], "name": name,
                          "id": name.replace(" ", "_")}, parent=users)
    informants = coding["informant"] if "informant" in coding.columns else ()
    _codes_element(codebook_tree(corpus.codebook, informants), _element("CodeBook", parent=root))

    sites = corpus.sites.drop(columns=["_line"], errors="ignore").fillna("")
    sources = corpus.sources.fillna("").sort_values("source_id")
    variable_names = [c for c in sites.columns if c != "site"]
    if variable_names:
        variables = _element("Variables", parent=root)
        for name in variable_names:
            _element("Variable", {"guid": kit_guid("variable", name), "name": name,
                                  "typeOfVariable": "Text"}, parent=variables)
    if len(sites):
        cases = _element("Cases", parent=root)
        for row in sites.sort_values("site").to_dict("records"):
            case = _element("Case", {"guid": kit_guid("case", row["site"]),
                                     "name": row["site"]}, parent=cases)
            for name in variable_names:
                if row[name] == "":
                    continue
                value = _element("VariableValue", parent=case)
                _element("VariableRef", {"targetGUID": kit_guid("variable", name)}, parent=value)
                _element("TextValue", text=str(row[name]), parent=value)
            for source_id in sources.loc[sources["site"] == row["site"], "source_id"]:
                _element("SourceRef", {"targetGUID": kit_guid("source", source_id)}, parent=case)

    memos = []
    source_list = _element("Sources", parent=root)
    for src in sources.to_dict("records"):
        guid = kit_guid("source", src["source_id"])
        node = _element("TextSource", {"guid": guid, "name": src["source_id"],
                                       "plainTextPath": f"internal://{guid}.txt"},
                        parent=source_list)
        _element("Description", text=src["title"], parent=node)
        segments = coding[coding["source_id"] == src["source_id"]]
        for row in segments.sort_values(["start", "end", "code", "segment_id"]).to_dict("records"):
            coder = (row.get("coder") or KIT_CODER) if "coder" in row else coders[0]
            selection = _element("PlainTextSelection", {
                "guid": kit_guid("selection", row["segment_id"]), "name": row["segment_id"],
                "startPosition": str(row["start"]), "endPosition": str(row["end"]),
                "creatingUser": user_guid[coder]}, parent=node)
            description = _segment_description(row)
            if description:
                _element("Description", text=description, parent=selection)
            coding_node = _element("Coding", {"guid": kit_guid("coding", row["segment_id"]),
                                              "creatingUser": user_guid[coder]},
                                   parent=selection)
            _element("CodeRef", {"targetGUID": kit_guid("code", row["code"])}, parent=coding_node)
            if row.get("memo"):
                note_guid = kit_guid("memo", row["segment_id"])
                _element("NoteRef", {"targetGUID": note_guid}, parent=coding_node)
                memos.append((note_guid, row["segment_id"], row["memo"], user_guid[coder]))
    if memos:
        notes = _element("Notes", parent=root)
        for note_guid, segment_id, memo, creator in memos:
            note = _element("Note", {"guid": note_guid, "name": f"memo {segment_id}",
                                     "creatingUser": creator}, parent=notes)
            _element("PlainTextContent", text=memo, parent=note)
    return _xml_bytes(root)


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """A zip of ``(name, data)`` members in the given order, with fixed timestamps and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def project_qdpx(corpus) -> bytes:
    """The ``.qdpx`` archive of a corpus: ``project.qde`` then ``sources/<guid>.txt`` sorted.

    Each source file holds the raw text's UTF-8 bytes unchanged.
    """
    members = [("project.qde", project_qde(corpus))]
    texts = []
    for source_id, text in corpus.texts.items():
        texts.append((f"sources/{kit_guid('source', source_id)}.txt", text.encode("utf-8")))
    return zip_bytes(members + sorted(texts))


def export_qdpx(layout: Layout, path: str | Path | None = None) -> Path:
    """Validate the corpus and write its ``.qdpx`` (default ``OUT/exchange/kit.qdpx``)."""
    from analysis.sources import load_corpus
    corpus = load_corpus(layout)
    target = Path(path) if path else layout.out / "exchange" / "kit.qdpx"
    return atomic_write_bytes(target, project_qdpx(corpus))


def export_codebook(layout: Layout, path: str | Path | None = None) -> Path:
    """Validate the codebook and write its ``.qdc`` (default ``OUT/exchange/kit.qdc``)."""
    from analysis.sources import load_codebook
    target = Path(path) if path else layout.out / "exchange" / "kit.qdc"
    return atomic_write_bytes(target, codebook_qdc(load_codebook(layout)))


# --------------------------------------------------------------------------- import

SEGMENT_COLUMNS = ["source", "source_guid", "user", "user_guid", "code", "code_guid",
                   "code_path", "start", "end", "text", "selection", "selection_guid",
                   "description", "memo"]
CODE_COLUMNS = ["code", "code_guid", "code_path", "parent_guid", "is_codable", "description"]
SOURCE_COLUMNS = ["source", "source_guid", "file", "characters", "sha256", "stored_as",
                  "byte_order_mark", "line_ends"]


@dataclass
class QdpxProject:
    """What a ``.qdpx`` holds, with offsets in Python code points.

    ``segments``: one row per coding of a text selection (columns SEGMENT_COLUMNS;
    ``sources[source][start:end] == text``). ``codes``: one row per code of the
    code tree, in tree order. ``cases``: one row per case, its variables as columns
    and its sources in ``sources`` (``;``-separated). ``sources``: source name ->
    text (byte-order mark removed, line ends as stored). ``assumptions``: one line
    per thing the import had to decide.
    """

    segments: pd.DataFrame
    codes: pd.DataFrame
    cases: pd.DataFrame
    sources: dict[str, str]
    assumptions: list[str]
    source_table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SOURCE_COLUMNS))
    name: str = ""
    origin: str = ""
    xml_member: str = ""
    position_unit: str = "codepoints"
    bom_rule: str = "skip"
    newline_rule: str = "keep"
    word_cuts: int = 0
    renamed: dict[str, str] = field(default_factory=dict)
    """Sources renamed because their name was not unique: new name -> name in the project."""


# ---- archive ----------------------------------------------------------------------

def _safe_member_name(name: str) -> bool:
    """A member path that stays inside the archive's folder once extracted."""
    if not name or "\x00" in name or "\\" in name:
        return False
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return all(part not in ("..",) for part in name.split("/"))


def check_archive(archive: zipfile.ZipFile, where: str, max_member_bytes: int) -> None:
    """Refuse an archive with an escaping or linked member, or an oversized or bomb-like one."""
    for info in archive.infolist():
        name = info.filename
        if not _safe_member_name(name):
            raise InputError(where, f"member '{name[:200]}' has a path that leaves the "
                             "archive's folder (refused: zip slip)")
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_ISLNK(mode):
            raise InputError(where, f"member '{name}' is a symbolic link (refused)")
        if info.file_size > max_member_bytes:
            raise InputError(where, f"member '{name}' is {info.file_size} bytes uncompressed, "
                             f"over the limit of {max_member_bytes} (--max-member-bytes)")
        if info.file_size > BOMB_FLOOR_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_RATIO:
                raise InputError(where, f"member '{name}' expands {ratio:.0f}:1 "
                                 f"({info.compress_size} -> {info.file_size} bytes; more than "
                                 f"{MAX_RATIO}:1 above {BOMB_FLOOR_BYTES} bytes is refused as a "
                                 "zip bomb)")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str,
                 max_member_bytes: int) -> bytes:
    """A member's bytes, read no further than the limit whatever its header claims."""
    try:
        with archive.open(info) as handle:
            data = handle.read(max_member_bytes + 1)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as exc:
        raise InputError(where, f"member '{info.filename}' cannot be read ({exc})") from None
    if len(data) > max_member_bytes:
        raise InputError(where, f"member '{info.filename}' is over the limit of "
                         f"{max_member_bytes} bytes (--max-member-bytes)")
    return data


def _find_project_xml(members: dict[str, zipfile.ZipInfo], where: str) -> zipfile.ZipInfo:
    """``project.qde`` at the archive's root, else the only ``*.qde`` there (named after
    the project), else the only ``*.qde`` anywhere."""
    by_lower = {name.lower(): info for name, info in members.items()}
    if "project.qde" in by_lower:
        return by_lower["project.qde"]
    top = sorted(n for n in members if "/" not in n and n.lower().endswith(".qde"))
    anywhere = sorted(n for n in members if n.lower().endswith(".qde"))
    for found in (top, anywhere):
        if len(found) == 1:
            return members[found[0]]
        if len(found) > 1:
            raise InputError(where, f"several project files ({', '.join(found[:5])}); "
                             "expected one .qde")
    raise InputError(where, "no project.qde (nor any .qde file) in the archive: not a "
                     "REFI-QDA project")


def parse_xml(data: bytes, where: str) -> ET.Element:
    """Parse untrusted XML: any DTD, entity declaration or external reference is refused."""
    import defusedxml
    import defusedxml.ElementTree as SafeET
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except defusedxml.DTDForbidden:
        raise InputError(where, "XML with a DOCTYPE/DTD is refused (entity expansion and "
                         "external entities are not allowed)") from None
    except defusedxml.EntitiesForbidden:
        raise InputError(where, "XML with entity declarations is refused") from None
    except defusedxml.DefusedXmlException as exc:
        raise InputError(where, f"XML refused ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise InputError(where, f"malformed XML ({exc})", line=exc.position[0]) from None


# ---- XML model --------------------------------------------------------------------

def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(node: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in node if _local(child.tag) == name]


def _child(node: ET.Element, name: str) -> ET.Element | None:
    found = _children(node, name)
    return found[0] if found else None


def _child_text(node: ET.Element, name: str) -> str:
    child = _child(node, name)
    return (child.text or "") if child is not None else ""


def _guid(value: str | None) -> str:
    """A GUID in one spelling: lower case, without braces."""
    return (value or "").strip().strip("{}").lower()


@dataclass
class _Selection:
    guid: str
    name: str
    start: int | None          # tool positions; None for a coding of the whole source
    end: int | None
    description: str
    creator: str
    codings: list[tuple[str, str, list[str]]]   # (code guid, user guid, note guids)
    notes: list[str]


@dataclass
class _Source:
    guid: str
    name: str
    text: str
    had_bom: bool
    stored_as: str
    selections: list[_Selection]
    project_name: str = ""          # the name in the project, when renamed

    @property
    def has_crlf(self) -> bool:
        return "\r\n" in self.text

    @property
    def has_astral(self) -> bool:
        return has_astral(self.text)


_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def has_astral(text: str) -> bool:
    """True when ``text`` holds a character outside the Basic Multilingual Plane (two
    UTF-16 code units, one code point)."""
    return _ASTRAL.search(text) is not None


def _int_attr(node: ET.Element, name: str, where: str, what: str) -> int:
    value = node.get(name)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(where, f"{what}: {name} {value!r} is not an integer") from None
    if number < 0:
        raise InputError(where, f"{what}: {name} {number} is negative")
    return number


def _codes(root: ET.Element, where: str) -> pd.DataFrame:
    """One row per Code of the CodeBook, in tree order. Walked without recursion, and
    refused beyond MAX_CODE_DEPTH levels (paths would grow with the square of the depth)."""
    rows = []
    book = _child(root, "CodeBook")
    codes = _child(book, "Codes") if book is not None else None
    top = _children(codes, "Code") if codes is not None else []
    stack = [(code, "", "", 1) for code in reversed(top)]
    while stack:
        code, parent_path, parent, depth = stack.pop()
        if depth > MAX_CODE_DEPTH:
            raise InputError(where, f"the code tree is deeper than {MAX_CODE_DEPTH} levels "
                             "(refused)")
        name = code.get("name") or ""
        guid = _guid(code.get("guid"))
        path = f"{parent_path}/{name}" if parent_path else name
        rows.append(dict(code=name, code_guid=guid, code_path=path, parent_guid=parent,
                         is_codable=code.get("isCodable", "true").strip().lower() in ("true", "1"),
                         description=_child_text(code, "Description")))
        stack.extend((child, path, guid, depth + 1) for child in reversed(_children(code, "Code")))
    codes = pd.DataFrame(rows, columns=CODE_COLUMNS)
    repeated = codes.loc[codes["code_guid"].duplicated(), "code_guid"]
    if len(repeated):
        guid = repeated.iloc[0]
        paths = codes.loc[codes["code_guid"] == guid, "code_path"]
        raise InputError(where, f"code GUID '{guid}' is used by {len(paths)} codes "
                         f"({', '.join(paths)}); GUIDs must be unique (refused)")
    return codes


def _value_text(value: ET.Element) -> str:
    """The value of a VariableValue (TextValue as written, other types stripped)."""
    for child in value:
        kind = _local(child.tag)
        if kind == "TextValue":
            return child.text or ""
        if kind != "VariableRef":
            return (child.text or "").strip()
    return ""


def _cases(root: ET.Element, source_names: dict[str, str]) -> pd.DataFrame:
    """One row per Case: name, GUID, one column per Variable, its sources."""
    variables = {}
    var_node = _child(root, "Variables")
    for var in _children(var_node, "Variable") if var_node is not None else []:
        variables[_guid(var.get("guid"))] = var.get("name") or _guid(var.get("guid"))
    reserved = {"case", "case_guid", "sources"}
    column = {g: (f"variable:{n}" if n in reserved else n) for g, n in variables.items()}
    rows = []
    case_node = _child(root, "Cases")
    for case in _children(case_node, "Case") if case_node is not None else []:
        row = {"case": case.get("name") or _guid(case.get("guid")),
               "case_guid": _guid(case.get("guid"))}
        for value in _children(case, "VariableValue"):
            ref = _child(value, "VariableRef")
            target = _guid(ref.get("targetGUID")) if ref is not None else ""
            name = column.get(target, f"variable:{target}")
            row[name] = _value_text(value)
        refs = [_guid(r.get("targetGUID")) for r in _children(case, "SourceRef")]
        row["sources"] = ";".join(sorted(source_names.get(g, g) for g in refs))
        rows.append(row)
    extra = sorted({k for r in rows for k in r} - reserved - set(column.values()))
    columns = ["case", "case_guid", *column.values(), *extra, "sources"]
    return pd.DataFrame([{c: r.get(c, "") for c in columns} for r in rows], columns=columns)


def _notes(root: ET.Element, read_text) -> dict[str, str]:
    notes = {}
    node = _child(root, "Notes")
    for note in _children(node, "Note") if node is not None else []:
        content = _child(note, "PlainTextContent")
        if content is not None:
            text = content.text or ""
        elif note.get("plainTextPath"):
            text = read_text(note.get("plainTextPath"), f"note '{note.get('name', '')}'")
            text = text[0] if text else ""
        else:
            text = ""
        notes[_guid(note.get("guid"))] = text
    return notes


def decode_text(data: bytes, where: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode a source file: a byte-order mark names the encoding (and is removed);
    otherwise UTF-8 (or ``encoding``). Returns (text, byte-order mark found or '')."""
    for bom, codec, label in ((codecs.BOM_UTF8, "utf-8", "UTF-8"),
                              (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
                              (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE")):
        if data.startswith(bom):
            chosen, body = codec, data[len(bom):]
            break
    else:
        chosen, body, label = encoding or "utf-8", data, ""
    try:
        return body.decode(chosen), label
    except (UnicodeDecodeError, LookupError) as exc:
        detail = f"at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise InputError(where, f"not valid {chosen} ({detail}); name the encoding with "
                         "--encoding (e.g. cp1252)") from None


# ---- positions ----------------------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    """What a tool's positions count: ``unit`` (codepoints | utf16), whether a
    byte-order mark counts as position 0 (``bom``: skip | count) and whether a CRLF
    counts as two positions as stored or as one (``newlines``: keep | lf)."""

    unit: str = "codepoints"
    bom: str = "skip"
    newlines: str = "keep"

    def describe(self) -> str:
        unit = "UTF-16 code units" if self.unit == "utf16" else "code points"
        return (f"positions count {unit}; a byte-order mark "
                f"{'counts as position 0' if self.bom == 'count' else 'is not counted'}; "
                f"CRLF counts as {'one position' if self.newlines == 'lf' else 'two positions'}")


def tool_positions(text: str, had_bom: bool, reading: Reading) -> list[int] | range:
    """``pos[i]``: the tool's position of Python index ``i`` of ``text`` (0..len(text))."""
    offset = 1 if (had_bom and reading.bom == "count") else 0
    astral = reading.unit == "utf16" and has_astral(text)
    crlf = reading.newlines == "lf" and "\r\n" in text
    if not astral and not crlf:
        return range(offset, offset + len(text) + 1)
    widths = []
    for i, char in enumerate(text):
        width = 2 if astral and ord(char) > 0xFFFF else 1
        if crlf and char == "\r" and text[i + 1:i + 2] == "\n":
            width = 0
        widths.append(width)
    return list(accumulate(widths, initial=offset))


def to_index(positions, position: int) -> int | None:
    """The Python index at a tool position (the first, before a CR the tool did not count),
    or None when the position is out of range or inside a character."""
    i = bisect.bisect_left(positions, position)
    return i if i < len(positions) and positions[i] == position else None


def cuts_word(text: str, index: int) -> bool:
    """True when a selection boundary at ``index`` splits a word or a CRLF pair."""
    if index <= 0 or index >= len(text):
        return False
    before, after = text[index - 1], text[index]
    return (before.isalnum() and after.isalnum()) or (before == "\r" and after == "\n")


@dataclass
class _Fit:
    reading: Reading
    spans: dict[int, tuple[int, int] | None]   # id() of each _Selection -> Python span
    invalid: int
    cuts: int
    first_invalid: tuple[_Source, _Selection] | None


def fit_reading(sources: list[_Source], reading: Reading) -> _Fit:
    """Map every selection under one reading; count invalid spans and cut words."""
    spans, invalid, cuts, first = {}, 0, 0, None
    for src in sources:
        positions = tool_positions(src.text, src.had_bom, reading)
        for sel in src.selections:
            if sel.start is None:
                spans[id(sel)] = (0, len(src.text))
                continue
            start, end = to_index(positions, sel.start), to_index(positions, sel.end)
            if start is None or end is None or start > end:
                spans[id(sel)] = None
                invalid += 1
                first = first or (src, sel)
                continue
            spans[id(sel)] = (start, end)
            cuts += cuts_word(src.text, start) + (end > start and cuts_word(src.text, end))
    return _Fit(reading, spans, invalid, cuts, first)


_UNIT_LABEL = {"codepoints": "code points", "utf16": "UTF-16 code units"}
_BOM_LABEL = {"skip": "not counted", "count": "counted as position 0"}
_NEWLINE_LABEL = {"keep": "counted as two positions, as stored", "lf": "counted as one position"}


def choose_reading(sources: list[_Source], positions: str = "auto", bom: str = "auto",
                   newlines: str = "auto") -> tuple[_Fit, list[str]]:
    """The reading of positions that fits the selections best, and what was assumed.

    Every combination left open (``auto``) whose choice can matter (characters outside
    the BMP, a byte-order mark, CRLF line ends) is tried; the fewest selections out of
    range or inside a character win, then the fewest boundaries that cut a word, then
    code points, an uncounted mark and line ends as stored.
    """
    for value, allowed, option in ((positions, POSITIONS, "--positions"), (bom, BOM_RULES, "--bom"),
                                   (newlines, NEWLINE_RULES, "--newlines")):
        if value not in allowed:
            raise InputError(option, f"'{value}' is not allowed (expected one of: "
                             f"{', '.join(allowed)})")
    any_astral = any(s.has_astral for s in sources)
    any_bom = any(s.had_bom for s in sources)
    any_crlf = any(s.has_crlf for s in sources)
    units = ["codepoints", "utf16"] if positions == "auto" else [positions]
    boms = ["skip", "count"] if bom == "auto" else [bom]
    lines = ["keep", "lf"] if newlines == "auto" else [newlines]
    if not any_astral:
        units = units[:1]
    if not any_bom:
        boms = boms[:1]
    if not any_crlf:
        lines = lines[:1]
    candidates = [Reading(u, b, n) for u in units for b in boms for n in lines]
    fits = [fit_reading(sources, r) for r in candidates]
    best = min(fits, key=lambda f: (f.invalid, f.cuts, candidates.index(f.reading)))
    count = sum(len(s.selections) for s in sources)
    notes = []
    if positions == "auto":
        if not any_astral:
            notes.append("positions: code points (auto: no character outside the Basic "
                         "Multilingual Plane, so code points and UTF-16 units agree)")
        else:
            notes.append(f"positions: {_UNIT_LABEL[best.reading.unit]} (auto: detected from "
                         f"{count} selections in texts with characters outside the BMP)")
    else:
        notes.append(f"positions: {positions} (given with --positions)")
    if any_bom:
        how = "given with --bom" if bom != "auto" else "auto: detected"
        notes.append(f"byte-order mark: {_BOM_LABEL[best.reading.bom]} ({how}); removed from "
                     "the imported texts")
    if any_crlf:
        how = "given with --newlines" if newlines != "auto" else "auto: detected"
        notes.append(f"line ends: CRLF {_NEWLINE_LABEL[best.reading.newlines]} ({how}); kept "
                     "as CRLF in the imported texts")
    rivals = [f for f in fits if f is not best and f.spans != best.spans
              and (f.invalid, f.cuts) == (best.invalid, best.cuts)]
    if count and rivals:
        notes.append("ambiguous: " + "; ".join(f"'{r.reading.describe()}'" for r in rivals)
                     + " fits as well as the reading chosen; check a few quotes, or give "
                     "--positions/--bom/--newlines")
    if not count:
        notes.append("no text selections: nothing to detect positions from")
    return best, notes


# ---- read ---------------------------------------------------------------------------

_EXTERNAL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://|file:|[A-Za-z]:|/|\\)", re.IGNORECASE)
"""A path outside the archive: a URL scheme (file:, absolute://, http:), a drive
letter or an absolute path."""


def _resolve(path: str, members: dict[str, zipfile.ZipInfo]) -> zipfile.ZipInfo | None:
    """The archive member a ``plainTextPath`` names: ``internal://X`` or a relative ``X``,
    looked up under ``sources/`` (any case) and at the root. Never a file on disk."""
    target = path.strip()
    if target.lower().startswith("internal://"):
        target = target[len("internal://"):]
    elif _EXTERNAL.match(target):
        return None
    target = target.replace("\\", "/").lstrip("/")
    if not target or ".." in target.split("/"):
        return None
    lower = {name.lower(): info for name, info in members.items()}
    for candidate in (f"sources/{target}", target):
        if candidate in members:
            return members[candidate]
        if candidate.lower() in lower:
            return lower[candidate.lower()]
    return None


def read_qdpx(path, *, positions: str = "auto", max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES,
              bom: str = "auto", newlines: str = "auto", encoding: str | None = None
              ) -> QdpxProject:
    """Read a REFI-QDA project archive (untrusted) into tables with code-point offsets.

    ``positions``: what the exporting tool's startPosition/endPosition count: ``auto``
    (detect), ``codepoints`` or ``utf16``. ``bom`` and ``newlines`` likewise for a
    byte-order mark (``skip``/``count``) and CRLF (``keep``: two positions, ``lf``:
    one). ``encoding`` names the encoding of source files without a byte-order mark
    (default UTF-8). Refuses hostile or broken archives with an InputError.
    """
    try:
        project = _read_qdpx(path, positions, max_member_bytes, bom, newlines, encoding)
    except InputError as exc:   # names from the file may hold line breaks: keep one line
        raise InputError(shown(exc.file, 300), shown(exc.detail, 600), line=exc.line,
                         column=exc.column) from None
    project.assumptions = [shown(line, 600) for line in project.assumptions]
    return project


def shown(value: str, limit: int) -> str:
    """``value`` on one line: control characters escaped, at most ``limit`` characters."""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in str(value))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _read_qdpx(path, positions, max_member_bytes, bom, newlines, encoding) -> QdpxProject:
    path = Path(path)
    where = str(path)
    if max_member_bytes <= 0:
        raise InputError("--max-member-bytes", f"{max_member_bytes} is not a positive size")
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise InputError(where, "file not found") from None
    except IsADirectoryError:
        raise InputError(where, "is a folder, not a .qdpx file") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(where, f"not a zip archive, so not a .qdpx ({exc})") from None
    with archive:
        check_archive(archive, where, max_member_bytes)
        members = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        xml_info = _find_project_xml(members, where)
        xml_where = f"{where}:{xml_info.filename}"
        root = parse_xml(_read_member(archive, xml_info, where, max_member_bytes), xml_where)
        if _local(root.tag) != "Project":
            raise InputError(xml_where, f"root element is '{_local(root.tag)}', expected "
                             "'Project' (not a REFI-QDA project)")
        assumptions = [f"project file: {xml_info.filename} (origin: "
                       f"{root.get('origin') or 'not given'})"]

        def read_text(plain_path: str, what: str):
            info = _resolve(plain_path, members)
            if info is None:
                return None
            data = _read_member(archive, info, where, max_member_bytes)
            text, mark = decode_text(data, f"{where}:{info.filename}", encoding)
            return text, mark, info.filename

        sources, skipped = _sources(root, read_text, xml_where)
        assumptions += skipped
        notes = _notes(root, read_text)
    return _project(root, sources, notes, assumptions, xml_info.filename, xml_where,
                    positions, bom, newlines, encoding)


def _sources(root: ET.Element, read_text, where: str) -> tuple[list[_Source], list[str]]:
    sources, notes = [], []
    node = _child(root, "Sources")
    for element in list(node) if node is not None else []:
        kind = _local(element.tag)
        guid = _guid(element.get("guid"))
        if kind != "TextSource":
            notes.append(f"source '{element.get('name') or guid}': a {kind}, not imported "
                         "(only text sources are)")
            continue
        plain_path = element.get("plainTextPath") or ""
        label = element.get("name") or (posixpath.basename(plain_path.replace("\\", "/"))
                                        .rsplit(".", 1)[0]) or guid
        selections = _selections(element, where, label)
        content = _child(element, "PlainTextContent")
        if content is not None:
            text, mark, stored = content.text or "", "", "PlainTextContent (inline)"
            notes.append(f"source '{label}': text inline in the XML (PlainTextContent); XML "
                         "reads line ends as LF")
        else:
            found = read_text(plain_path, f"source '{label}'") if plain_path else None
            if found is None:
                message = (f"source '{label}': its text (plainTextPath {plain_path!r}) is not in "
                           "the archive" if plain_path else f"source '{label}' has no plain text")
                if selections:
                    raise InputError(where, message + f" but it has {len(selections)} coded "
                                     "selections (files outside the archive are never read)")
                notes.append(message + "; skipped (no selections)")
                continue
            text, mark, stored = found
        sources.append(_Source(guid, label, text, bool(mark), stored, selections))
        if mark:
            notes.append(f"source '{label}': starts with a {mark} byte-order mark")
    uses = Counter(s.guid for s in sources)
    repeated = sorted(g for g, n in uses.items() if n > 1)
    if repeated:
        raise InputError(where, f"source GUID '{repeated[0]}' is used by "
                         f"{uses[repeated[0]]} sources (GUIDs must be unique; refused)")
    return sources, notes + unique_source_names(sources)


def unique_source_names(sources: list[_Source]) -> list[str]:
    """Give every source a name of its own, and say which were renamed.

    A name used by several sources becomes ``name [<guid prefix>]`` with the shortest
    GUID prefix (at least 8 characters) that tells those sources apart, so two sources
    never share a name (and a text) whatever their GUIDs look like.
    """
    names = [s.name for s in sources]
    repeated = {n for n in names if names.count(n) > 1}
    taken = set(names) - repeated
    notes = []
    groups = {name: [s.guid for s in sources if s.name == name] for name in repeated}
    for src in sorted((s for s in sources if s.name in repeated), key=lambda s: s.guid):
        guids = groups[src.name]
        width = 8
        while len({g[:width] for g in guids}) < len(guids) and width < max(map(len, guids)):
            width += 1
        new = f"{src.name} [{src.guid[:width]}]"
        n = 2
        while new in taken:        # only when a GUID is a prefix of another source's name
            new, n = f"{src.name} [{src.guid}] ({n})", n + 1
        taken.add(new)
        notes.append(f"source name '{src.name}' is not unique; renamed '{new}'")
        src.project_name, src.name = src.name, new
    return notes


def _codings(node: ET.Element) -> list[tuple[str, str, list[str]]]:
    result = []
    for coding in _children(node, "Coding"):
        ref = _child(coding, "CodeRef")
        result.append((_guid(ref.get("targetGUID")) if ref is not None else "",
                       _guid(coding.get("creatingUser")),
                       [_guid(n.get("targetGUID")) for n in _children(coding, "NoteRef")]))
    return result


def _selections(source: ET.Element, where: str, label: str) -> list[_Selection]:
    found = []
    for sel in _children(source, "PlainTextSelection"):
        guid = _guid(sel.get("guid"))
        what = f"source '{label}', selection '{sel.get('name') or guid}'"
        start = _int_attr(sel, "startPosition", where, what)
        end = _int_attr(sel, "endPosition", where, what)
        if start > end:
            raise InputError(where, f"{what}: startPosition {start} is after endPosition {end}")
        found.append(_Selection(guid, sel.get("name") or "", start, end,
                                _child_text(sel, "Description"), _guid(sel.get("creatingUser")),
                                _codings(sel),
                                [_guid(n.get("targetGUID")) for n in _children(sel, "NoteRef")]))
    whole = _codings(source)
    if whole:
        found.append(_Selection(f"{_guid(source.get('guid'))}-whole", "(whole source)", None,
                                None, "", _guid(source.get("creatingUser")), whole, []))
    return found


def _project(root, sources, notes, assumptions, xml_member, where, positions, bom, newlines,
             encoding) -> QdpxProject:
    codes = _codes(root, where)
    code_by_guid = {row["code_guid"]: row for row in codes.to_dict("records")}
    users = {}
    users_node = _child(root, "Users")
    for user in _children(users_node, "User") if users_node is not None else []:
        guid = _guid(user.get("guid"))
        users[guid] = user.get("name") or user.get("id") or guid
    default_user = _guid(root.get("creatingUserGUID"))

    fit, detected = choose_reading(sources, positions, bom, newlines)
    assumptions += detected
    if fit.invalid:
        src, sel = fit.first_invalid
        raise InputError(where, f"{fit.invalid} selections do not fit the text under the "
                         f"reading '{fit.reading.describe()}', e.g. source '{src.name}', "
                         f"selection '{sel.name or sel.guid}' at {sel.start}-{sel.end} of "
                         f"{len(src.text)} characters; try another --positions/--bom/--newlines")
    rows, whole = [], 0
    for src in sources:
        for sel in src.selections:
            start, end = fit.spans[id(sel)]
            whole += sel.start is None
            for code_guid, user_guid, note_refs in sel.codings:
                if code_guid not in code_by_guid:
                    raise InputError(where, f"source '{src.name}', selection "
                                     f"'{sel.name or sel.guid}': code GUID '{code_guid}' is "
                                     "not in the CodeBook")
                code = code_by_guid[code_guid]
                user_guid = user_guid or sel.creator or default_user
                memo = "\n\n".join(notes.get(g, "") for g in note_refs + sel.notes
                                   if notes.get(g, ""))
                rows.append(dict(source=src.name, source_guid=src.guid,
                                 user=users.get(user_guid, user_guid), user_guid=user_guid,
                                 code=code["code"], code_guid=code_guid,
                                 code_path=code["code_path"], start=start, end=end,
                                 text=src.text[start:end], selection=sel.name,
                                 selection_guid=sel.guid if sel.start is not None else "",
                                 description=sel.description, memo=memo))
    segments = pd.DataFrame(rows, columns=SEGMENT_COLUMNS)
    if len(segments):
        segments = segments.sort_values(["source", "start", "end", "code_path", "user",
                                         "selection_guid"], kind="stable").reset_index(drop=True)
    segments[["start", "end"]] = segments[["start", "end"]].astype("int64")
    if whole:
        assumptions.append(f"{whole} codings of whole sources (no selection) imported as "
                           "the whole text")
    uncoded = sum(1 for s in sources for sel in s.selections if not sel.codings)
    if uncoded:
        assumptions.append(f"{uncoded} selections without a coding left out")
    n_sel = sum(1 for s in sources for sel in s.selections if sel.start is not None)
    assumptions.append(f"verified: {n_sel} selections fall on character boundaries; "
                       f"{fit.cuts} selection boundaries cut a word"
                       + (" (many: positions may be shifted; check a few quotes)"
                          if n_sel and fit.cuts > 0.2 * 2 * n_sel else ""))
    if encoding:
        assumptions.append(f"encoding of files without a byte-order mark: {encoding} "
                           "(given with --encoding)")
    source_table = pd.DataFrame([
        dict(source=s.name, source_guid=s.guid, file="", characters=len(s.text),
             sha256=hashlib.sha256(s.text.encode("utf-8")).hexdigest(), stored_as=s.stored_as,
             byte_order_mark="yes" if s.had_bom else "no",
             line_ends="CRLF" if s.has_crlf else ("CR" if "\r" in s.text else "LF"))
        for s in sorted(sources, key=lambda s: s.name)], columns=SOURCE_COLUMNS)
    return QdpxProject(
        segments=segments, codes=codes, cases=_cases(root, {s.guid: s.name for s in sources}),
        sources={s.name: s.text for s in sorted(sources, key=lambda s: s.name)},
        assumptions=assumptions, source_table=source_table, name=root.get("name") or "",
        origin=root.get("origin") or "", xml_member=xml_member,
        position_unit=fit.reading.unit, bom_rule=fit.reading.bom,
        newline_rule=fit.reading.newlines, word_cuts=fit.cuts,
        renamed={s.name: s.project_name for s in sources if s.project_name})


# ---- write --------------------------------------------------------------------------

def safe_file_name(name: str) -> str:
    """A file name from a source name: letters, digits, ``._-`` only, never a path."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._-")[:100]
    return stem or "source"


def import_report(project: QdpxProject, archive: Path) -> str:
    """The text of import_report.txt: where the data came from and what was assumed."""
    lines = [f"REFI-QDA import of {Path(archive).name}", f"sha256: {sha256_of(Path(archive))}",
             f"project: {project.name} (origin: {project.origin or 'not given'})",
             f"sources: {len(project.sources)}; codes: {len(project.codes)}; "
             f"cases: {len(project.cases)}; segments (codings): {len(project.segments)}",
             "offsets in segments.csv are Python code points into sources/<file>.txt read as "
             "UTF-8 without newline translation (text == source[start:end])",
             "", "assumptions:"]
    lines += [f"- {line}" for line in project.assumptions]
    return "\n".join(lines) + "\n"


def write_import(project: QdpxProject, out: str | Path, archive: str | Path) -> Path:
    """Write segments.csv, codes.csv, cases.csv, sources.csv, sources/*.txt and
    import_report.txt to ``out``, all or nothing (a temporary folder renamed over it).

    An existing ``out`` is replaced only when empty or a previous import (it holds
    import_report.txt), so a mistyped --out never wipes a data folder.
    """
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise InputError(out, "exists and is not a folder")
        if any(out.iterdir()) and not (out / "import_report.txt").exists():
            raise InputError(out, "exists and is not an import folder (no import_report.txt); "
                             "choose another --out or empty it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    os.chmod(tmp, default_mode(directory=True))
    try:
        (tmp / "sources").mkdir()
        files, used = {}, set()
        for name in sorted(project.sources):
            base = safe_file_name(name)
            candidate, n = base, 1
            while candidate.lower() in used:
                n += 1
                candidate = f"{base}-{n}"
            used.add(candidate.lower())
            files[name] = f"sources/{candidate}.txt"
            (tmp / files[name]).write_bytes(project.sources[name].encode("utf-8"))
        table = project.source_table.copy()
        table["file"] = table["source"].map(files)
        (tmp / "sources.csv").write_text(csv_text(table), encoding="utf-8")
        (tmp / "segments.csv").write_text(csv_text(project.segments), encoding="utf-8")
        (tmp / "codes.csv").write_text(csv_text(project.codes), encoding="utf-8")
        (tmp / "cases.csv").write_text(csv_text(project.cases), encoding="utf-8")
        (tmp / "import_report.txt").write_text(import_report(project, archive), encoding="utf-8")
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "previous")
        try:
            os.replace(tmp, out)
        except BaseException:
            if old is not None:
                os.replace(old / "previous", out)
                old.rmdir()
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
