"""pyproject.toml and environment.yml list the same dependencies with the same lower bounds."""

from __future__ import annotations

import re
import tomllib

from analysis.paths import ROOT


def _name(spec: str) -> tuple[str, str]:
    match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(.*)", spec)
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def pyproject_deps() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = meta["dependencies"] + meta["optional-dependencies"]["dev"]
    return dict(_name(s) for s in specs)


def conda_deps() -> dict[str, str]:
    deps = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        match = re.match(r"\s*-\s+([A-Za-z0-9_.-]+\s*[<>=!~].*|[A-Za-z0-9_.-]+)\s*$", line)
        if match and not line.strip().startswith("- -e"):
            name, bound = _name(match.group(1))
            if name not in ("python", "pip"):
                deps[name] = bound
    return deps


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    assert conda_deps() == pyproject_deps()


def test_every_runtime_dependency_has_a_lower_bound():
    assert all(bound.startswith(">=") for bound in pyproject_deps().values())
