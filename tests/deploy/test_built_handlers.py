"""Every handler imports against the BUILT layer, as Lambda would load it.

`make build` runs `sam build` twice: for arm64 into .aws-sam/build (what `make deploy` ships) and,
from the same template with the host's architecture, into .aws-sam/host/build, so that compiled
wheels (pydantic-core, PyYAML, wrapt) load here. For each function of template.yaml this test
starts a clean interpreter of the runtime's Python version (`-I -S`: no site-packages, no
PYTHON* variables, no current directory) whose sys.path holds only the function's built folder, the built layer's `python/`
folder and the standard library — the order of Lambda's sys.path — with the environment the
template gives that function (intrinsics replaced by plausible dummy values) and the variables
the Lambda runtime sets. The handler must import and be callable, with no network use at import
and no module loaded from anywhere else.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "host" / "build"
LAYER = BUILD / "CommonLayer" / "python"
TEMPLATE: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
PSEUDO = {
    "AWS::StackName": "loyalty",
    "AWS::Region": "eu-central-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
RUNTIME = TEMPLATE["Globals"]["Function"]["Runtime"]
# The Lambda runtime's interpreter that `make build` built with (written beside the host build).
RUNTIME_PY_FILE = ROOT / ".aws-sam" / "host" / "python"

# Runs inside the clean interpreter: argv = function dir, layer dir, module, attribute.
PROBE = r"""
import importlib, json, sys
import os
fn_dir, layer_dirs, module, attr = sys.argv[1:5]
sys.path[:0] = [fn_dir, *layer_dirs.split(os.pathsep)]
network = []
OUTBOUND = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
            "socket.sendto", "socket.sendmsg", "http.client.connect", "urllib.Request"}
def no_network(event, args):
    if event in OUTBOUND:
        network.append(event)
        raise ConnectionRefusedError("network use while importing the handler: " + event)
sys.addaudithook(no_network)
handler = getattr(importlib.import_module(module), attr)
files = sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)})
print(json.dumps({"path": sys.path, "network": network, "files": files, "callable": callable(handler)}))
"""


def _functions() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, res in TEMPLATE["Resources"].items():
        if res["Type"] == "AWS::Serverless::Function":
            yield name, res["Properties"]


# Lambda's limit on a function's code and all its layers, unzipped
UNZIPPED_LIMIT = 250 * 1024 * 1024


def _layers(props: dict[str, Any]) -> list[Path]:
    """The built `python/` folders of a function's layers: the global ones, then its own (SAM
    appends a function's Layers to the Globals')."""
    names = [*TEMPLATE["Globals"]["Function"].get("Layers", []), *props.get("Layers", [])]
    return [BUILD / ref["Ref"] / "python" for ref in names]


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _ref(name: str) -> str:
    if name in PSEUDO:
        return PSEUDO[name]
    if name in TEMPLATE["Parameters"]:
        return str(TEMPLATE["Parameters"][name]["Default"])
    kind = TEMPLATE["Resources"][name]["Type"]
    region, account = PSEUDO["AWS::Region"], PSEUDO["AWS::AccountId"]
    return {
        "AWS::SQS::Queue": f"https://sqs.{region}.amazonaws.com/{account}/loyalty-{name}",
        "AWS::SNS::Topic": f"arn:aws:sns:{region}:{account}:loyalty-{name}",
        "AWS::KMS::Key": "0d1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    }.get(kind, f"loyalty-{name}")


def _resolve(value: Any) -> str:
    """A template value -> the string Lambda would see (dummy names for what CloudFormation makes)."""
    if isinstance(value, str | int | float):
        return str(value)
    ((fn, arg),) = value.items()
    if fn == "Ref":
        return _ref(arg)
    if fn == "Fn::GetAtt":
        name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
        return f"arn:aws:{attr.lower()}:{PSEUDO['AWS::Region']}:{PSEUDO['AWS::AccountId']}:loyalty-{name}"
    if fn == "Fn::Sub":
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def sub(m: re.Match[str]) -> str:
            key = m.group(1)
            if key in local:
                return _resolve(local[key])
            if "." in key and key.split(".", 1)[0] in TEMPLATE["Resources"]:
                return _resolve({"Fn::GetAtt": key.split(".", 1)})
            return _ref(key)

        return re.sub(r"\$\{([^}!]+)\}", sub, text)
    raise AssertionError(f"no dummy value for {fn} in an environment variable")


def _environment(name: str, props: dict[str, Any], fn_dir: Path) -> dict[str, str]:
    variables = dict(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    variables.update(props.get("Environment", {}).get("Variables", {}))
    env = {k: _resolve(v) for k, v in variables.items()}
    env.update(  # what the Lambda runtime adds (credentials are dummies: nothing may call AWS)
        AWS_REGION=PSEUDO["AWS::Region"],
        AWS_DEFAULT_REGION=PSEUDO["AWS::Region"],
        AWS_LAMBDA_FUNCTION_NAME=f"loyalty-{name}",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(props.get("MemorySize", 512)),
        AWS_EXECUTION_ENV=f"AWS_Lambda_{RUNTIME}",
        LAMBDA_TASK_ROOT=str(fn_dir),
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY="dummy-secret",
        AWS_SESSION_TOKEN="dummy-token",
        TZ=":UTC",
        LANG="en_US.UTF-8",
    )
    return env


def _same_tree(source: Path, built: Path) -> list[str]:
    """Files that differ between a source folder and its built copy (the build is stale)."""

    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }

    a, b = files(source), files(built)
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def _runtime_python() -> str:
    assert RUNTIME_PY_FILE.is_file(), f"no {RUNTIME_PY_FILE}: run `make build`"
    return RUNTIME_PY_FILE.read_text().strip()


@functools.cache
def _bare() -> dict[str, Any]:
    """Version and sys.path of the clean interpreter before the probe adds to it."""
    code = "import json, sys; print(json.dumps({'version': sys.version_info[:2], 'path': sys.path}))"
    out = subprocess.run(
        [_runtime_python(), "-I", "-S", "-c", code], env={}, capture_output=True, text=True, check=True
    ).stdout
    bare: dict[str, Any] = json.loads(out)
    return bare


def test_the_check_runs_on_the_lambda_runtime_version_with_the_standard_library_only() -> None:
    major, minor = _bare()["version"]
    assert f"python{major}.{minor}" == RUNTIME, (RUNTIME, _runtime_python())
    assert any(p.endswith(f"/lib/python{major}.{minor}") for p in _bare()["path"]), _bare()["path"]
    assert not [p for p in _bare()["path"] if "site-packages" in p], _bare()["path"]


def test_the_host_build_is_of_the_current_source() -> None:
    assert LAYER.is_dir(), f"no built layer at {LAYER}: run `make build`"
    stale = _same_tree(ROOT / "layers" / "common" / "loyalty", LAYER / "loyalty")
    assert not stale, f"the build is older than the source ({stale[:5]}): run `make build`"
    pins = (ROOT / "layers" / "common" / "requirements.txt").read_bytes()
    assert (LAYER / "requirements.txt").read_bytes() == pins


@pytest.mark.parametrize(("name", "props"), list(_functions()), ids=[n for n, _ in _functions()])
def test_handler_imports_against_the_built_layer(name: str, props: dict[str, Any]) -> None:
    fn_dir = BUILD / name
    source = ROOT / props["CodeUri"]
    assert not _same_tree(source, fn_dir), f"{fn_dir} is not a build of {source}: run `make build`"
    module, attr = props.get("Handler", TEMPLATE["Globals"]["Function"].get("Handler")).rsplit(".", 1)
    layers = _layers(props)
    proc = subprocess.run(
        [
            _runtime_python(),
            "-I",
            "-S",
            "-c",
            PROBE,
            str(fn_dir),
            os.pathsep.join(map(str, layers)),
            module,
            attr,
        ],
        env=_environment(name, props, fn_dir),
        cwd=fn_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"{name}: {module}.{attr} does not import:\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["callable"], f"{name}: {module}.{attr} is not callable"
    assert report["network"] == [], name
    assert report["path"] == [str(fn_dir), *map(str, layers), *_bare()["path"]]
    allowed = tuple(p + "/" for p in report["path"])
    outside = [f for f in report["files"] if not f.startswith(allowed) or "site-packages" in f]
    assert outside == [], f"{name} loaded modules from outside the build: {outside[:5]}"
    assert any(f.startswith(str(LAYER / "loyalty")) for f in report["files"]), name


@pytest.mark.parametrize(("name", "props"), list(_functions()), ids=[n for n, _ in _functions()])
def test_each_function_and_its_layers_fit_lambdas_unzipped_limit(name: str, props: dict[str, Any]) -> None:
    """250 MB for a function's code and every layer it carries (the host build; the arm64 wheels
    are within a few MB of it: README, "Sizes")."""
    total = _size(BUILD / name) + sum(_size(layer) for layer in _layers(props))
    assert total <= UNZIPPED_LIMIT, f"{name}: {total / 2**20:.0f} MB unzipped with its layers"


def test_every_module_of_the_layer_imports_on_the_runtime_version() -> None:
    """Beyond what the handlers pull in: each `loyalty` module compiles and imports on the runtime
    (with every layer: `loyalty.analytics.parquet` needs the AnalyticsLayer's DuckDB)."""
    layers = [BUILD / name / "python" for name in ("CommonLayer", "PdfLayer", "AnalyticsLayer")]
    code = (
        "import importlib, os, pkgutil, sys; sys.path[:0] = sys.argv[1].split(os.pathsep); import loyalty; "
        "names = [m.name for m in pkgutil.walk_packages(loyalty.__path__, 'loyalty.')]; "
        "[importlib.import_module(n) for n in names]; print(len(names))"
    )
    env = {
        "AWS_REGION": PSEUDO["AWS::Region"],
        "TABLE_NAME": "loyalty-Table",
        "UPLOAD_BUCKET": "loyalty-uploads",
    }
    proc = subprocess.run(
        [_runtime_python(), "-I", "-S", "-c", code, os.pathsep.join(map(str, layers))],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    sources = [p for p in (LAYER / "loyalty").rglob("*.py") if p.name != "__init__.py"]
    assert int(proc.stdout.strip()) >= len(sources)
