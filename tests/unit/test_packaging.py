"""The package list in pyproject.toml is the one place that says what ships: every package
directory under the layer and local/ must be in it (a missing one would install without it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _packages_on_disk() -> set[str]:
    found = set()
    for base, top in ((ROOT / "layers/common", "loyalty"), (ROOT / "local", None)):
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            if top and rel.parts[0] != top:
                continue
            found.add(".".join(rel.parts))
    return found


def test_every_package_directory_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = _packages_on_disk()
    assert on_disk, "no packages found: the scan is broken"
    assert on_disk - listed == set(), "package directories missing from pyproject's packages list"
    assert listed - on_disk == set(), "pyproject lists packages that do not exist"
    dirs = config["tool"]["setuptools"]["package-dir"]
    assert {p.split(".")[0] for p in listed} == set(dirs)
