"""The kit names the exact software it runs with.

``requirements.lock`` pins every package the kit installs, transitive ones, the Typst
compiler (the ``typst`` package), the test tools, pip and setuptools included, to one
version each, with the sha256 of every file PyPI serves for it. ``make`` installs exactly
that into ``.venv``; ``environment.yml`` has conda's pip install the same file; the
environment the tests run in holds those versions.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from analysis.paths import ROOT

LOCK = ROOT / "requirements.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SHA256 = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Pin:
    """One requirement of the lock: ``name==version ; marker`` and its file hashes."""
    requirement: Requirement
    hashes: tuple[str, ...]

    @property
    def name(self) -> str:
        return canonicalize_name(self.requirement.name)

    @property
    def version(self) -> str:
        (spec,) = self.requirement.specifier
        return spec.version

    def applies(self) -> bool:
        """True when the marker selects the running interpreter and platform."""
        marker = self.requirement.marker
        return marker is None or marker.evaluate()


def logical_lines(text: str) -> list[str]:
    """A requirements file's lines with backslash continuations joined."""
    return text.replace("\\\n", " ").splitlines()


def read_lock(text: str) -> list[Pin]:
    """The lock's requirements, one per logical line."""
    pins = []
    for line in logical_lines(text):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement, *hashes = line.split("--hash=")
        pins.append(Pin(Requirement(requirement.strip()), tuple(h.strip() for h in hashes)))
    return pins


PINS = read_lock(LOCK.read_text(encoding="utf-8"))
APPLYING = {pin.name: pin.version for pin in PINS if pin.applies()}


def declared_requirements() -> list[Requirement]:
    """Everything pyproject.toml asks for: runtime, the dev extra, the install group and
    the build backend."""
    project = PYPROJECT["project"]
    specs = (project["dependencies"] + project["optional-dependencies"]["dev"]
             + PYPROJECT["dependency-groups"]["install"]
             + PYPROJECT["build-system"]["requires"])
    return [Requirement(spec) for spec in specs]


def test_every_runtime_dependency_has_a_lower_bound():
    deps = PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["dev"]
    assert all(any(s.operator == ">=" for s in Requirement(d).specifier) for d in deps)


def test_the_lock_pins_each_package_to_one_exact_version_with_file_hashes():
    assert len(PINS) > 100
    for pin in PINS:
        (spec,) = pin.requirement.specifier
        assert spec.operator == "==" and "*" not in spec.version, pin.requirement
        assert pin.requirement.url is None and not pin.requirement.extras, pin.requirement
        assert pin.hashes and all(SHA256.fullmatch(h) for h in pin.hashes), pin.name


def test_the_lock_names_no_index_file_or_path_of_the_machine_it_was_made_on():
    for line in logical_lines(LOCK.read_text(encoding="utf-8")):
        stripped = line.strip()
        if stripped.startswith("#"):  # annotations name packages, never input files
            assert "-c " not in stripped and "-r " not in stripped, line
        else:  # no -e, -r, -c, --index-url, --find-links, no direct URL or path
            assert not stripped.startswith("-") and "file:" not in stripped, line
            assert "://" not in stripped and " @ " not in stripped, line


def test_one_version_per_package_for_any_one_interpreter():
    # a package appears twice only with markers that tell its versions apart
    seen: dict[str, set[str]] = {}
    for pin in PINS:
        seen.setdefault(pin.name, set()).add(str(pin.requirement.marker))
    for name, markers in seen.items():
        assert len(markers) == sum(p.name == name for p in PINS), name
    assert len(APPLYING) == sum(pin.applies() for pin in PINS)


def test_everything_pyproject_asks_for_is_locked_within_its_bounds():
    locked = {}
    for pin in PINS:
        locked.setdefault(pin.name, []).append(pin.version)
    for requirement in declared_requirements():
        versions = locked.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in requirements.lock: run make lock"
        assert all(requirement.specifier.contains(v, prereleases=True) for v in versions), (
            f"{requirement} but the lock pins {versions}: run make lock")


def test_the_typst_compiler_is_locked():
    assert "typst" in APPLYING


def test_the_running_environment_has_every_locked_version():
    wrong = {}
    for name, version in APPLYING.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (installed, version)
    assert wrong == {}, "installed, locked: " + repr(wrong)


def test_pip_freeze_of_the_kit_venv_equals_the_lock():
    venv = ROOT / ".venv"
    if Path(sys.prefix).resolve() != venv.resolve():
        pytest.skip("the tests are not running in the kit's .venv (make test runs them there)")
    freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable",
                             "--disable-pip-version-check"],
                            capture_output=True, text=True, check=True).stdout
    installed = {}
    for line in freeze.splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            installed[canonicalize_name(name)] = version
    assert installed == APPLYING


def test_environment_yml_installs_exactly_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    (pip_section,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert pip_section == [f"-r {LOCK.name}"]
    python = Requirement(next(d for d in conda if d.startswith("python")))
    assert python.specifier == Requirement(f"python{PYPROJECT['project']['requires-python']}").specifier
    assert sorted(conda) == sorted([str(python), "pip"])
