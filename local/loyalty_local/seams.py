"""Every place where the local cloud reaches into moto, in one small module (moto is pinned).

1. `LambdaFunction._invoke_lambda` (direct invoke, Step Functions tasks) -> our in-process runtime
   instead of Docker.
2. `moto.s3.notifications._invoke_awslambda` (S3 -> Lambda, synchronous in moto) -> an AWS-shaped
   event queued for asynchronous invocation, with retries and the function's DLQ.
3. SQS event source mappings: moto invokes one message at a time on send and ignores
   ReportBatchItemFailures; the runtime clears `queue.lambda_event_source_mappings` and polls.
4. SQS time (visibility timeouts, delays): a clock with an offset that tests can advance.
5. A botocore `after-call` hook that can crash a function right after its n-th AWS call.
7. Step Functions execution: moto's ASL interpreter is switched on (`execute_state_machine`).
   StartExecution deep-copies the state machine, and with it every earlier execution (threads,
   locks: "cannot pickle '_thread.RLock'") and the whole backend; the copy leaves those out.
9. DynamoDB read responses (GetItem, BatchGetItem, Query, Scan): moto 5.2 serialises them through
   its generic shape-walking serializer, ~2.5 ms per returned item; the seam returns the same JSON
   (DynamoDB's wire format is plain JSON) without the walk.
8. DynamoDB TransactWriteItems: moto deep-copies every table it touches for the rollback (0.7 s
   per call with a few thousand items); the seam snapshots only the touched partitions.
10. S3 GetObject: moto ignores the `response-content-*` overrides of a presigned download
   (`ResponseContentDisposition`...); the seam answers with those headers, as S3 does.
6. DynamoDB Query on a table's own key: moto 5.2.1 sorts and compares every item of the table
   for each Query; the seam hands it only the queried partition (same result, O(partition)).
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any, Protocol

import botocore.handlers
import moto
import moto.s3.notifications as s3_notifications
import moto.sqs.models as sqs_models
from moto.awslambda.models import LambdaFunction
from moto.core.config import default_user_config
from moto.core.responses import ActionResult
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import dynamo_json_dump
from moto.dynamodb.responses import DynamoHandler
from moto.s3.responses import S3Response
from moto.stepfunctions.models import StateMachineInstance

PINNED_MOTO = "5.2.1"
if moto.__version__ != PINNED_MOTO:  # pragma: no cover - guarded by pyproject pins
    raise RuntimeError(f"the local cloud is verified with moto {PINNED_MOTO}, found {moto.__version__}")


class Clock:
    """Wall time plus an offset: `advance(s)` makes SQS visibility timeouts pass at once."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


CLOCK = Clock()


class Runtime(Protocol):
    def owns(self, fn_arn: str) -> bool: ...
    def invoke_sync(self, fn_arn: str, event: Any) -> tuple[str, bool, str]: ...
    def enqueue_s3(self, fn_arn: str, event: dict[str, Any]) -> None: ...


_runtimes: list[Runtime] = []
_installed = threading.Lock()
_patched = {"done": False}


def _owner(fn_arn: str) -> Runtime | None:
    return next((r for r in reversed(_runtimes) if r.owns(fn_arn)), None)


def _patched_invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    rt = _owner(self.function_arn)
    if rt is None:
        return '{"errorMessage": "no local runtime owns this function"}', True, ""
    return rt.invoke_sync(self.function_arn, event)


def _patched_s3_invoke(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    rt = _owner(fn_arn)
    if rt is not None:
        rt.enqueue_s3(fn_arn, event_body)


_orig_s3_event = s3_notifications._get_s3_event


def _s3_event_with_version(event_name: str, bucket: Any, key: Any, notification_id: str) -> Any:
    """moto leaves `versionId` out of S3 notifications; AWS names the version in a versioned bucket."""
    event = _orig_s3_event(event_name, bucket, key, notification_id)
    version = getattr(key, "version_id", None)
    if version and version != "null" and getattr(bucket, "is_versioned", False):
        for rec in event["Records"]:
            rec["s3"]["object"]["versionId"] = version
    return event


_partition = threading.local()
_orig_query = Table.query
_orig_all_items = Table.all_items


def _partition_items(self: Table) -> list[Any]:
    hk = getattr(_partition, "key", None)
    if hk is not None and getattr(_partition, "table", None) is self and self.range_key_attr:
        return list(self.items[hk].values()) if hk in self.items else []
    return _orig_all_items(self)  # type: ignore[no-any-return]


def _partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if index_name is None and hash_key is not None:
        _partition.key, _partition.table = hash_key, self
    try:
        return _orig_query(self, hash_key, *args, **kwargs)
    finally:
        _partition.key = None
        _partition.table = None


def _state_machine_deepcopy(self: StateMachineInstance, memo: dict[int, Any]) -> StateMachineInstance:
    cls = self.__class__
    new = cls.__new__(cls)
    memo[id(self)] = new
    for k, v in self.__dict__.items():
        if k == "executions":
            setattr(new, k, [])
        elif k == "backend":
            setattr(new, k, v)
        else:
            setattr(new, k, copy.deepcopy(v, memo))
    return new


_tx = threading.local()
_orig_transact = DynamoDBBackend.transact_write_items


def _table_deepcopy(self: Table, memo: dict[int, Any]) -> Table:
    if getattr(_tx, "active", False):
        return self  # the transaction's rollback copy: partitions are snapshotted instead
    new: Table = object.__new__(self.__class__)
    memo[id(self)] = new
    for k, v in self.__dict__.items():
        setattr(new, k, copy.deepcopy(v, memo))
    return new


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    saved: list[tuple[Table, Any, Any]] = []
    for item in transact_items:
        op = next(iter(item.values()))
        table = self.tables.get(op.get("TableName"))
        if table is None:
            continue
        attrs = op.get("Key") or op.get("Item") or {}
        raw = attrs.get(table.hash_key_attr)
        if raw is None:
            continue
        hk = DynamoType(raw)
        if all(t is not table or h != hk for t, h, _ in saved):
            part = table.items.get(hk)
            saved.append((table, hk, copy.deepcopy(part) if part is not None else None))
    _tx.active = True
    try:
        _orig_transact(self, transact_items)
    except Exception:
        for table, hk, part in saved:
            if part is None:
                table.items.pop(hk, None)
            else:
                table.items[hk] = part
        raise
    finally:
        _tx.active = False


def _fast_json(method: Any) -> Any:
    def wrapper(self: Any) -> Any:
        out = method(self)
        if isinstance(out, ActionResult) and isinstance(out.result, dict):
            return dynamo_json_dump(out.result)
        return out

    wrapper.__name__ = method.__name__
    wrapper.__wrapped__ = method  # type: ignore[attr-defined]
    return wrapper


class FaultPlan:
    """Crash a named function right after its n-th AWS call of an invocation (tests only)."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.plans: dict[str, list[int]] = {}  # function logical id -> remaining crash points
        self.on_call: dict[str, list[str]] = {}  # function -> crash after its next call of this operation
        self.fired: list[tuple[str, int, str]] = []
        self.last_calls: dict[str, int] = {}  # AWS calls of each function's latest invocation

    def reset(self) -> None:
        """Forget every plan and fired crash (a new local cloud starts with none)."""
        self.plans.clear()
        self.on_call.clear()
        self.fired.clear()
        self.last_calls.clear()

    def crash_after(self, function: str, call: int) -> None:
        self.plans.setdefault(function, []).append(call)

    def crash_after_operation(self, function: str, operation: str) -> None:
        """Crash the function right after its next AWS call of `operation` (e.g.
        `TransactWriteItems`), however many other calls come before it."""
        self.on_call.setdefault(function, []).append(operation)

    def begin(self, function: str) -> None:
        self.local.function = function
        self.local.calls = 0

    def end(self) -> None:
        fn = getattr(self.local, "function", None)
        if fn:
            self.last_calls[fn] = self.local.calls
        self.local.function = None

    def after_call(self, event_name: str = "", **_: Any) -> None:
        fn = getattr(self.local, "function", None)
        if not fn:
            return
        self.local.calls += 1
        ops = self.on_call.get(fn)
        if ops and event_name.endswith(f".{ops[0]}"):
            ops.pop(0)
            if not ops:
                del self.on_call[fn]
            self.fired.append((fn, self.local.calls, event_name))
            raise InjectedCrash(f"injected crash in {fn} after AWS call #{self.local.calls} ({event_name})")
        points = self.plans.get(fn)
        if points and self.local.calls == points[0]:
            points.pop(0)
            if not points:
                del self.plans[fn]
            self.fired.append((fn, self.local.calls, event_name))
            raise InjectedCrash(f"injected crash in {fn} after AWS call #{self.local.calls} ({event_name})")


class InjectedCrash(RuntimeError):
    pass


FAULTS = FaultPlan()


# S3 GetObject's response overrides (a presigned download's `response-content-disposition`...):
# AWS answers with these headers; moto ignores the parameters
_RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


def _with_response_overrides(get_object: Any) -> Any:
    def wrapped(self: Any) -> Any:
        status, headers, body = get_object(self)
        if status < 300:
            for param, header in _RESPONSE_OVERRIDES.items():
                values = (self.querystring or {}).get(param)
                if values:
                    headers = {k: v for k, v in headers.items() if k.lower() != header.lower()}
                    headers[header] = values[0]
        return status, headers, body

    return wrapped


def install(runtime: Runtime) -> None:
    """Route moto's Lambda invocations to the runtime that owns the function."""
    with _installed:
        _runtimes.append(runtime)
        if _patched["done"]:
            return
        LambdaFunction._invoke_lambda = _patched_invoke_lambda  # type: ignore[method-assign]
        s3_notifications._invoke_awslambda = _patched_s3_invoke
        s3_notifications._get_s3_event = _s3_event_with_version
        # run Step Functions state machines with moto's ASL interpreter (Map, callbacks, retries)
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        StateMachineInstance.__deepcopy__ = _state_machine_deepcopy  # type: ignore[attr-defined]
        Table.__deepcopy__ = _table_deepcopy  # type: ignore[attr-defined]
        DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
        for name in ("get_item", "batch_get_item", "query", "scan"):
            setattr(DynamoHandler, name, _fast_json(getattr(DynamoHandler, name)))
        Table.query = _partition_query  # type: ignore[method-assign]
        S3Response.get_object = _with_response_overrides(S3Response.get_object)  # type: ignore[method-assign]
        Table.all_items = _partition_items  # type: ignore[method-assign]
        sqs_models.unix_time = lambda dt=None: CLOCK.now()  # type: ignore[attr-defined]
        sqs_models.unix_time_millis = lambda dt=None: CLOCK.now() * 1000.0  # type: ignore[attr-defined]
        botocore.handlers.BUILTIN_HANDLERS.append(("after-call.*.*", FAULTS.after_call))
        _patched["done"] = True


def uninstall(runtime: Runtime) -> None:
    with _installed:
        if runtime in _runtimes:
            _runtimes.remove(runtime)


def detach_sqs_mappings(queue: Any) -> None:
    """Stop moto's own synchronous, one-by-one SQS -> Lambda delivery for this queue."""
    queue.lambda_event_source_mappings.clear()
