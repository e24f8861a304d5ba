"""The runtime model: the stack's functions, loaded once ("cold start") and invoked in-process
with the Lambda context and environment AWS would give them."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

import boto3

from loyalty_local import seams
from loyalty_local.env import LOCAL_ENV, REGION
from loyalty_local.template import Route


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    env: dict[str, str]
    timeout: int
    memory: int
    retries: int = 2
    dlq_arn: str = ""
    module: ModuleType | None = None
    invocations: int = 0
    errors: int = 0
    duration_ms: float = 0.0


@dataclass
class Mapping:
    """An SQS event source mapping, polled by the runtime."""

    function: FunctionSpec
    queue_url: str
    queue_arn: str
    batch_size: int
    report_failures: bool


@dataclass(order=True)
class AsyncItem:
    """An asynchronous invocation waiting to be delivered (S3 notifications, retries)."""

    due: float
    seq: int
    function: FunctionSpec = field(compare=False)
    event: dict[str, Any] = field(compare=False)
    attempt: int = field(compare=False, default=0)


class LambdaContextStub:
    def __init__(self, fn: FunctionSpec) -> None:
        self.function_name = fn.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = fn.arn
        self.memory_limit_in_mb = fn.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{fn.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + fn.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


_LOGS: dict[Path, TextIO] = {}


def log_file(path: Path) -> TextIO:
    """One handle per log path for the whole process: Powertools loggers are process-global and
    keep the stream they were created with, so the file is never closed under them."""
    if path not in _LOGS:
        _LOGS[path] = path.open("a", encoding="utf-8")
    return _LOGS[path]


class CloudBase:
    """The state every part of the local cloud shares, and in-process invocation."""

    _ids = itertools.count(1)

    def __init__(self, stack_name: str, parameters: dict[str, str] | None, log_path: Path | None) -> None:
        self.stack_name = stack_name
        self.parameters = parameters or {}
        self.id = next(self._ids)
        self.clock = seams.CLOCK
        self.faults = seams.FAULTS
        self.faults.reset()  # one process-wide plan: a new cloud does not see an earlier one's
        self._lock = threading.RLock()
        self._async: list[AsyncItem] = []
        self._seq = itertools.count()
        self._s3_seq = itertools.count(1)
        self.functions: dict[str, FunctionSpec] = {}
        self.by_arn: dict[str, FunctionSpec] = {}
        self.mappings: list[Mapping] = []
        self.outputs: dict[str, str] = {}
        self.buckets: dict[str, str] = {}  # logical id -> bucket name
        self.roles: dict[str, str] = {}  # logical id -> role name
        self.state_machines: dict[str, str] = {}  # logical id -> ARN
        self.routes: list[Route] = []
        self.apis: dict[str, Any] = {}  # logical id -> gateway.HttpApi
        self.pools: Any = None  # cognito.PoolIds of the stack's user pools
        self.log_path = log_path or Path(os.environ.get("LOYALTY_LOG", "/tmp/loyalty-local.log"))  # noqa: S108
        self._log = log_file(self.log_path)
        self.batches: list[tuple[str, str, int]] = []  # (function, queue arn, records) per SQS invocation

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    # -- invocation ---------------------------------------------------------------------------
    def _load(self, fn: FunctionSpec) -> ModuleType:
        if fn.module is None:
            mod_name, _, _ = fn.handler.partition(".")
            path = fn.code_dir / f"{mod_name}.py"
            spec = importlib.util.spec_from_file_location(f"lc{self.id}_{fn.logical_id}_{mod_name}", path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # as an import would (pydantic resolves annotations there)
            with self._function_env(fn), contextlib.redirect_stdout(self._log):
                spec.loader.exec_module(module)
            fn.module = module
        return fn.module

    @contextlib.contextmanager
    def _function_env(self, fn: FunctionSpec) -> Iterator[None]:
        saved = dict(os.environ)
        os.environ.update(LOCAL_ENV)
        os.environ.update(fn.env)
        os.environ.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": fn.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_SERVICE_NAME": fn.logical_id,
            }
        )
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def invoke(self, logical_id: str, event: Any) -> tuple[Any, str | None]:
        """Run a handler in-process; returns (result, error message or None)."""
        fn = self.functions[logical_id]
        with self._lock:
            module = self._load(fn)
            handler = getattr(module, fn.handler.partition(".")[2])
            fn.invocations += 1
            self.faults.begin(logical_id)
            started = time.perf_counter()
            try:
                # no environment switch here: handlers read their settings once, at import (as
                # they should), and the Step Functions interpreter's threads read os.environ
                # concurrently - mutating it per invocation made their reads fail
                with contextlib.redirect_stdout(self._log):
                    result = handler(event, LambdaContextStub(fn))
                return result, None
            except Exception as exc:
                fn.errors += 1
                self._log.write(f"[{fn.logical_id}] ERROR {exc!r}\n{traceback.format_exc()}\n")
                return None, f"{type(exc).__name__}: {exc}"
            finally:
                fn.duration_ms += (time.perf_counter() - started) * 1000
                self.faults.end()

    def owns(self, fn_arn: str) -> bool:
        return fn_arn in self.by_arn

    def invoke_sync(self, fn_arn: str, event: Any) -> tuple[str, bool, str]:
        fn = self.by_arn.get(fn_arn)
        if fn is None:
            return json.dumps({"errorMessage": f"unknown function {fn_arn}"}), True, ""
        payload = json.loads(event) if isinstance(event, str) else event
        result, error = self.invoke(fn.logical_id, payload)
        if error:
            kind, _, message = error.partition(": ")
            return json.dumps({"errorMessage": message, "errorType": kind, "stackTrace": []}), True, error
        return json.dumps(result, default=str), False, ""
