"""The Lambda layer ships exactly the libraries the tests run on.

`layers/<name>/requirements.txt` is what `sam build` installs into each layer (common, pdf,
analytics). Together they must pin every runtime dependency of pyproject.toml the same way, and
every package those pull in on the Lambda runtime's Python (the whole closure, so pip picks nothing
on its own), each at the version installed where the tests run, and no package in two layers.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from cfnlint.decode import cfn_yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LAYER_REQUIREMENTS = [ROOT / "layers" / name / "requirements.txt" for name in ("common", "pdf", "analytics")]
# The Lambda runtime the template deploys (pythonX.Y on Amazon Linux, glibc).
RUNTIME = cfn_yaml.load(str(ROOT / "template.yaml"))["Globals"]["Function"]["Runtime"]
LAMBDA_MARKERS = {
    "python_version": RUNTIME.removeprefix("python"),
    "python_full_version": RUNTIME.removeprefix("python") + ".0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


def _pins_of(path: Path) -> dict[str, Requirement]:
    pins: dict[str, Requirement] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            pins[canonicalize_name(req.name)] = req
    return pins


def _layer_pins() -> dict[str, Requirement]:
    pins: dict[str, Requirement] = {}
    for path in LAYER_REQUIREMENTS:
        pins.update(_pins_of(path))
    return pins


def test_no_package_is_in_two_layers() -> None:
    seen: dict[str, Path] = {}
    for path in LAYER_REQUIREMENTS:
        for key in _pins_of(path):
            assert key not in seen, f"{key} is pinned in {seen.get(key)} and {path}"
            seen[key] = path


def test_each_layer_is_in_the_template_with_its_folder() -> None:
    resources = cfn_yaml.load(str(ROOT / "template.yaml"))["Resources"]
    folders = {
        r["Properties"]["ContentUri"].rstrip("/")
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::LayerVersion"
    }
    assert folders == {p.parent.relative_to(ROOT).as_posix() for p in LAYER_REQUIREMENTS}


def _runtime_dependencies() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"]]


def _closure(roots: list[Requirement]) -> dict[str, set[str]]:
    """Every distribution the roots need on the Lambda runtime -> the extras asked of it."""
    seen: dict[str, set[str]] = {}
    todo = [(r.name, set(r.extras)) for r in roots]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in seen and extras <= seen[key]:
            continue
        seen.setdefault(key, set()).update(extras)
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            wanted = req.marker is None or any(
                req.marker.evaluate({**LAMBDA_MARKERS, "extra": e}) for e in ({""} | seen[key])
            )
            if wanted:
                todo.append((req.name, set(req.extras)))
    return seen


def test_layer_pins_the_runtime_dependencies_of_pyproject() -> None:
    pins = _layer_pins()
    for dep in _runtime_dependencies():
        pin = pins.get(canonicalize_name(dep.name))
        assert pin is not None, f"{dep} is a runtime dependency but the layer does not pin it"
        assert (pin.specifier, pin.extras) == (dep.specifier, dep.extras), (str(pin), str(dep))


def test_every_layer_pin_is_exact_and_installed_here_at_that_version() -> None:
    for key, pin in _layer_pins().items():
        (spec,) = pin.specifier
        assert spec.operator == "==", f"{pin} is not an exact pin"
        assert metadata.version(key) == spec.version, (
            f"tests run on {key} {metadata.version(key)}, layer {pin}"
        )


def test_layer_pins_the_whole_closure_and_nothing_else() -> None:
    needed = _closure(_runtime_dependencies())
    pins = _layer_pins()
    expected = "\n".join(f"{k}=={metadata.version(k)}" for k in sorted(needed))
    assert set(pins) == set(needed), f"the layer should pin exactly:\n{expected}"
