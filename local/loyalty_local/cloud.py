"""The embedded local cloud: moto deploys the same template.yaml (translated with
aws-sam-translator, created through moto's CloudFormation) and an in-process runtime runs the
Python handlers with AWS event semantics:

- S3 -> Lambda notifications are asynchronous, with URL-encoded keys, a sequencer and the
  function's retry policy (EventInvokeConfig) and dead-letter queue;
- SQS -> Lambda event source mappings poll in batches of the configured size, honour
  ReportBatchItemFailures, leave failed messages invisible for the visibility timeout and let
  moto's redrive move them to the DLQ after maxReceiveCount receives;
- a clock that tests advance instead of sleeping.

Use it in-process (`with LocalCloud() as cloud:`) or as a server on 127.0.0.1:4566 (`loyalty up`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools
import json
import logging
import os
import re
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import boto3
import yaml
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]
from moto.sqs.models import sqs_backends

from loyalty_local import seams

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-central-1"
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


# -- template ------------------------------------------------------------------------------------
class _CfnLoader(yaml.SafeLoader):
    pass


def _cfn_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return data


class _AnyManagedPolicy(dict[str, str]):
    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return f"arn:aws:iam::aws:policy/service-role/{key}"

    def __missing__(self, key: str) -> str:
        return self.get(key)


class _PolicyLoader:
    def load(self) -> dict[str, str]:
        return _AnyManagedPolicy()


def translate(template: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    out: dict[str, Any] = transform(template, params, _PolicyLoader())  # type: ignore[arg-type]
    return out


def _zip_dir(path: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(path.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts and not f.name.endswith(".egg-info"):
                z.write(f, f.relative_to(path).as_posix())
    return buf.getvalue()


# -- runtime model -----------------------------------------------------------------------------
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
    function: FunctionSpec
    queue_url: str
    queue_arn: str
    batch_size: int
    report_failures: bool


@dataclass(order=True)
class AsyncItem:
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


_LOGS: dict[Path, Any] = {}


def _log_file(path: Path) -> Any:
    """One handle per log path for the whole process: Powertools loggers are process-global and
    keep the stream they were created with, so the file is never closed under them."""
    if path not in _LOGS:
        _LOGS[path] = path.open("a", encoding="utf-8")
    return _LOGS[path]


class LocalCloud:
    """A deployed stack plus the runtime that delivers its events."""

    _ids = itertools.count(1)

    def __init__(
        self,
        stack_name: str = "loyalty",
        parameters: dict[str, str] | None = None,
        log_path: Path | None = None,
        start_mock: bool = True,
    ) -> None:
        self.stack_name = stack_name
        self.parameters = parameters or {}
        self.id = next(self._ids)
        self.clock = seams.CLOCK
        self.faults = seams.FAULTS
        self._mock = mock_aws() if start_mock else None
        self._lock = threading.RLock()
        self._async: list[AsyncItem] = []
        self._seq = itertools.count()
        self._s3_seq = itertools.count(1)
        self.functions: dict[str, FunctionSpec] = {}
        self.by_arn: dict[str, FunctionSpec] = {}
        self.mappings: list[Mapping] = []
        self.outputs: dict[str, str] = {}
        self.log_path = log_path or Path(os.environ.get("LOYALTY_LOG", "/tmp/loyalty-local.log"))  # noqa: S108
        self._log = _log_file(self.log_path)
        self.batches: list[tuple[str, str, int]] = []  # (function, queue arn, records) per SQS invocation

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        # moto's ASL interpreter logs every failed state (rejections included) at ERROR with its
        # whole parse tree: keep that in the handler log, not on the console
        sfn_log = logging.getLogger("moto.stepfunctions")
        sfn_log.propagate = False
        if not sfn_log.handlers:
            sfn_log.addHandler(logging.StreamHandler(self._log))
        os.environ.update(LOCAL_ENV)
        if self._mock is not None:
            self._mock.start()
        seams.install(self)
        self.deploy()

    def stop(self) -> None:
        seams.uninstall(self)
        if self._mock is not None:
            self._mock.stop()
        self._log.flush()

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    # -- deploy ----------------------------------------------------------------------------
    def deploy(self) -> None:
        template = load_template(ROOT / "template.yaml")
        s3 = self.client("s3")
        artifacts = f"{self.stack_name}-artifacts-local"
        s3.create_bucket(Bucket=artifacts, CreateBucketConfiguration={"LocationConstraint": REGION})
        code_dirs: dict[str, Path] = {}
        for logical, res in template["Resources"].items():
            props = res.get("Properties", {})
            if isinstance(props.get("DefinitionUri"), str) and not props["DefinitionUri"].startswith("s3://"):
                # the definition file goes inline (sam package would upload it); substitutions are
                # applied by this runtime when it registers the executable state machine
                props["Definition"] = json.loads((ROOT / props.pop("DefinitionUri")).read_text())
            for prop in ("CodeUri", "ContentUri"):
                if isinstance(props.get(prop), str) and not props[prop].startswith("s3://"):
                    src = ROOT / props[prop]
                    key = f"{logical}.zip"
                    s3.put_object(Bucket=artifacts, Key=key, Body=_zip_dir(src))
                    props[prop] = f"s3://{artifacts}/{key}"
                    code_dirs[logical] = src
        params = {k: str(v) for k, v in self.parameters.items()}
        self._sam_template = json.loads(json.dumps(template))
        cfn_template = translate(template, params)
        template_full = json.loads(json.dumps(cfn_template))
        self._full_template = template_full
        self.pruned = _prune_unsupported(cfn_template)
        self.cfn_template = cfn_template
        cfn = self.client("cloudformation")
        cfn.create_stack(
            StackName=self.stack_name,
            TemplateBody=json.dumps(cfn_template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        stack = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(f"local stack failed: {stack['StackStatus']} {stack.get('StackStatusReason')}")
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        physical = {
            r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
            for r in cfn.list_stack_resources(StackName=self.stack_name)["StackResourceSummaries"]
        }
        self._apply_unsupported(template_full, physical)
        self._register_functions(cfn_template, physical, code_dirs)
        for fn in self.functions.values():  # "cold start" every function now, while single-threaded
            self._load(fn)
        self._wire_bucket_notifications(cfn_template, physical)
        self._wire_event_source_mappings()
        self._register_state_machines(physical)
        if "ApprovalsApiUrl" not in self.outputs and "ApprovalsApiFunction" in self.functions:
            self.outputs["ApprovalsApiUrl"] = "local:ApprovalsApiFunction (in-process, see LocalCloud.api)"

    def _sub_value(self, value: Any, physical: dict[str, str]) -> str:
        """Resolve a DefinitionSubstitutions value (Ref, GetAtt .Arn/.Name, Sub) locally."""
        if isinstance(value, str):
            return value
        if "Ref" in value:
            name = value["Ref"]
            return self.parameters.get(name) or physical.get(name, name)
        if "Fn::GetAtt" in value:
            logical, attr = value["Fn::GetAtt"]
            if logical in self.functions and attr == "Arn":
                return self.functions[logical].arn
            return self._resolve_arn({"Fn::GetAtt": [logical, attr]}, physical)
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]
            pseudo = {
                "AWS::StackName": self.stack_name,
                "AWS::AccountId": DEFAULT_ACCOUNT_ID,
                "AWS::Region": REGION,
                "AWS::Partition": "aws",
            }
            for k, v in pseudo.items():
                text = text.replace("${" + k + "}", v)
            return str(text)
        raise ValueError(f"cannot resolve substitution {value}")

    def _register_state_machines(self, physical: dict[str, str]) -> None:
        """moto's CloudFormation ignores DefinitionSubstitutions and keeps state machines in a
        backend that does not execute; register each one, substituted, with moto's ASL
        interpreter (same name and ARN)."""
        sfn = self.client("stepfunctions")
        self.state_machines: dict[str, str] = {}
        for logical, res in self._sam_template["Resources"].items():
            if res["Type"] != "AWS::Serverless::StateMachine":
                continue
            props = res["Properties"]
            text = json.dumps(props["Definition"])
            for name, value in (props.get("DefinitionSubstitutions") or {}).items():
                text = text.replace("${" + name + "}", self._sub_value(value, physical))
            arn = physical[logical]
            name = arn.rsplit(":", 1)[1]
            role = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{name}-role"
            try:
                sfn.describe_state_machine(stateMachineArn=arn)
            except sfn.exceptions.StateMachineDoesNotExist:
                sfn.create_state_machine(
                    name=name, definition=text, roleArn=role, type=props.get("Type", "STANDARD")
                )
            self.state_machines[logical] = arn

    def _register_functions(
        self, tpl: dict[str, Any], physical: dict[str, str], code_dirs: dict[str, Path]
    ) -> None:
        lam = self.client("lambda")
        retries = {  # AWS::Lambda::EventInvokeConfig (not created by moto): honoured by the runtime
            r["Properties"]["FunctionName"]["Ref"]: int(r["Properties"].get("MaximumRetryAttempts", 2))
            for r in self._full_template["Resources"].values()
            if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        }
        for logical, res in tpl["Resources"].items():
            if res["Type"] != "AWS::Lambda::Function" or logical not in code_dirs:
                continue
            cfg = lam.get_function(FunctionName=physical[logical])["Configuration"]
            env = {k: str(v) for k, v in cfg.get("Environment", {}).get("Variables", {}).items()}
            dlq = (res["Properties"].get("DeadLetterConfig") or {}).get("TargetArn")
            dlq_arn = self._resolve_arn(dlq, physical) if dlq else ""
            spec = FunctionSpec(
                logical_id=logical,
                name=cfg["FunctionName"],
                arn=cfg["FunctionArn"],
                code_dir=code_dirs[logical],
                handler=res["Properties"]["Handler"],
                env=env,
                timeout=int(cfg.get("Timeout", 3)),
                memory=int(cfg.get("MemorySize", 128)),
                retries=retries.get(logical, 2),
                dlq_arn=dlq_arn,
            )
            self.functions[logical] = spec
            self.by_arn[spec.arn] = spec

    def _apply_unsupported(self, tpl: dict[str, Any], physical: dict[str, str]) -> None:
        """Resources moto's CloudFormation skips, applied through the service APIs instead."""
        for res in tpl["Resources"].values():
            props = res.get("Properties", {})
            # AWS::S3::BucketPolicy is not applied: its only statement denies non-TLS access, and
            # the local endpoint is plain HTTP on 127.0.0.1 (on AWS the policy is enforced).
            if res["Type"] == "AWS::CloudWatch::Alarm":
                dims = []
                for d in props.get("Dimensions", []):
                    v = d["Value"]
                    if isinstance(v, dict) and "Fn::GetAtt" in v:
                        v = physical[v["Fn::GetAtt"][0]].rsplit("/", 1)[-1]
                    elif isinstance(v, dict) and "Ref" in v:
                        v = physical[v["Ref"]]
                    dims.append({"Name": d["Name"], "Value": v})
                self.client("cloudwatch").put_metric_alarm(
                    AlarmName=f"{self.stack_name}-{props['MetricName']}-{len(dims)}-{dims[0]['Value'] if dims else ''}",
                    AlarmDescription=props.get("AlarmDescription", ""),
                    Namespace=props["Namespace"],
                    MetricName=props["MetricName"],
                    Dimensions=dims,
                    Statistic=props["Statistic"],
                    Period=int(props["Period"]),
                    EvaluationPeriods=int(props["EvaluationPeriods"]),
                    Threshold=float(props["Threshold"]),
                    ComparisonOperator=props["ComparisonOperator"],
                )

    def _resolve_arn(self, value: Any, physical: dict[str, str]) -> str:
        if isinstance(value, str):
            return value
        if "Fn::GetAtt" in value:
            logical = value["Fn::GetAtt"][0]
            url = physical[logical]
            if url.startswith("http"):
                attrs = self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
                return str(attrs["Attributes"]["QueueArn"])
            return url
        if "Ref" in value:
            return physical[value["Ref"]]
        raise ValueError(f"cannot resolve {value}")

    def _wire_bucket_notifications(self, tpl: dict[str, Any], physical: dict[str, str]) -> None:
        """moto's CloudFormation ignores NotificationConfiguration: apply it through the API."""
        s3 = self.client("s3")
        for logical, res in tpl["Resources"].items():
            if res["Type"] != "AWS::S3::Bucket":
                continue
            conf = res.get("Properties", {}).get("NotificationConfiguration")
            if not conf:
                continue
            lambdas = []
            for lc in conf.get("LambdaConfigurations", []):
                fn_logical = lc["Function"]["Fn::GetAtt"][0]
                rules = lc.get("Filter", {}).get("S3Key", {}).get("Rules", [])
                entry: dict[str, Any] = {
                    "LambdaFunctionArn": self.functions[fn_logical].arn,
                    "Events": [lc["Event"]],
                }
                if rules:
                    entry["Filter"] = {
                        "Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}
                    }
                lambdas.append(entry)
            s3.put_bucket_notification_configuration(
                Bucket=physical[logical], NotificationConfiguration={"LambdaFunctionConfigurations": lambdas}
            )

    def _wire_event_source_mappings(self) -> None:
        lam = self.client("lambda")
        sqs = self.client("sqs")
        backend = sqs_backends[DEFAULT_ACCOUNT_ID][REGION]
        for esm in lam.list_event_source_mappings()["EventSourceMappings"]:
            spec = self.by_arn.get(esm["FunctionArn"])
            if spec is None or not esm["EventSourceArn"].startswith("arn:aws:sqs"):
                continue
            qname = esm["EventSourceArn"].rsplit(":", 1)[1]
            url = sqs.get_queue_url(QueueName=qname)["QueueUrl"]
            seams.detach_sqs_mappings(backend.get_queue(qname))
            full = self.cfn_template["Resources"]
            report = any(
                r["Type"] == "AWS::Lambda::EventSourceMapping"
                and "ReportBatchItemFailures" in (r["Properties"].get("FunctionResponseTypes") or [])
                and r["Properties"]["FunctionName"].get("Ref") == spec.logical_id
                for r in full.values()
            )
            self.mappings.append(
                Mapping(spec, url, esm["EventSourceArn"], int(esm.get("BatchSize", 10)), report)
            )

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

    # -- S3 notifications (asynchronous) -------------------------------------------------------------
    def enqueue_s3(self, fn_arn: str, event: dict[str, Any]) -> None:
        fn = self.by_arn.get(fn_arn)
        if fn is None:
            return
        now = self.clock.now()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
        for rec in event.get("Records", []):
            rec["eventTime"] = stamp
            rec.setdefault("userIdentity", {"principalId": "AWS:LOCAL"})
            rec.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
            rec.setdefault("responseElements", {"x-amz-request-id": uuid.uuid4().hex[:16].upper()})
            obj = rec["s3"]["object"]
            # AWS URL-encodes the key like quote_plus but leaves '/' as is (moto also encodes '/')
            obj["key"] = quote_plus(unquote_plus(obj["key"]), safe="/")
            obj["sequencer"] = f"{int(now * 1000):012X}{next(self._s3_seq):08X}"
            rec["s3"].setdefault("configurationId", "local")
        with self._lock:
            self._async.append(AsyncItem(now, next(self._seq), fn, event))

    def send_s3_event(self, logical_id: str, event: dict[str, Any]) -> None:
        """Deliver an S3 event as AWS would (used by tests to replay duplicate events)."""
        fn = self.functions[logical_id]
        with self._lock:
            self._async.append(AsyncItem(self.clock.now(), next(self._seq), fn, event))

    # -- the pump -----------------------------------------------------------------------------------
    def step(self, poll: bool = True) -> bool:
        """Deliver what is due: async invocations, then one batch per SQS mapping. True if any."""
        progressed = False
        with self._lock:
            now = self.clock.now()
            due = sorted(i for i in self._async if i.due <= now)
            for item in due:
                self._async.remove(item)
        for item in due:
            progressed = True
            _, error = self.invoke(item.function.logical_id, item.event)
            if error:
                self._async_failed(item, error)
        for m in self.mappings if poll else []:
            if self._poll(m):
                progressed = True
        return progressed

    def queued_bodies(self, queue_url: str) -> list[str]:
        """Bodies of the messages waiting in a queue (test introspection, no receive)."""
        name = queue_url.rsplit("/", 1)[1]
        return [m.body for m in sqs_backends[DEFAULT_ACCOUNT_ID][REGION].get_queue(name).messages]

    def _async_failed(self, item: AsyncItem, error: str) -> None:
        fn = item.function
        if item.attempt < fn.retries:
            delay = 60 * (item.attempt + 1)  # Lambda retries after about 1, then 2 minutes
            with self._lock:
                self._async.append(
                    AsyncItem(self.clock.now() + delay, next(self._seq), fn, item.event, item.attempt + 1)
                )
            return
        if fn.dlq_arn:
            sqs = self.client("sqs")
            url = sqs.get_queue_url(QueueName=fn.dlq_arn.rsplit(":", 1)[1])["QueueUrl"]
            sqs.send_message(
                QueueUrl=url,
                MessageBody=json.dumps(item.event),
                MessageAttributes={
                    "RequestID": {"DataType": "String", "StringValue": uuid.uuid4().hex},
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {"DataType": "String", "StringValue": error[:256]},
                },
            )

    def _poll(self, m: Mapping) -> bool:
        sqs = self.client("sqs")
        resp = sqs.receive_message(
            QueueUrl=m.queue_url,
            MaxNumberOfMessages=min(m.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        msgs = resp.get("Messages", [])
        if not msgs:
            return False
        records = [
            {
                "messageId": msg["MessageId"],
                "receiptHandle": msg["ReceiptHandle"],
                "body": msg["Body"],
                "attributes": msg.get("Attributes", {}),
                "messageAttributes": {
                    k: {
                        "stringValue": v.get("StringValue"),
                        "binaryValue": v.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": v["DataType"],
                    }
                    for k, v in msg.get("MessageAttributes", {}).items()
                },
                "md5OfBody": msg["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": m.queue_arn,
                "awsRegion": REGION,
            }
            for msg in msgs
        ]
        self.batches.append((m.function.logical_id, m.queue_arn, len(records)))
        result, error = self.invoke(m.function.logical_id, {"Records": records})
        if error:
            return True  # the whole batch stays; visible again after the visibility timeout
        failed: set[str] = set()
        if m.report_failures and isinstance(result, dict):
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [r for r in records if r["messageId"] not in failed]
        for i in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=m.queue_url,
                Entries=[
                    {"Id": str(j), "ReceiptHandle": r["receiptHandle"]}
                    for j, r in enumerate(done[i : i + 10])
                ],
            )
        return True

    def run_until_idle(self, max_steps: int = 1_000_000, timeout: float = 3600) -> int:
        """Deliver events until nothing is due. Messages that failed stay invisible until the
        clock passes their visibility timeout (see `advance`)."""
        steps = 0
        end = time.monotonic() + timeout
        while steps < max_steps and time.monotonic() < end:
            if not self.step():
                break
            steps += 1
        return steps

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def settle(self, rounds: int = 12, step_seconds: float = 400) -> None:
        """Run, then let visibility timeouts and async retries pass, until everything is delivered."""
        for _ in range(rounds):
            self.run_until_idle()
            if not self.pending():
                return
            self.advance(step_seconds)
        self.run_until_idle()

    def pending(self) -> int:
        """Messages still queued or in flight, plus scheduled async invocations."""
        sqs = self.client("sqs")
        n = len(self._async)
        for m in self.mappings:
            a = sqs.get_queue_attributes(QueueUrl=m.queue_url, AttributeNames=["All"])["Attributes"]
            n += int(a.get("ApproximateNumberOfMessages", 0)) + int(
                a.get("ApproximateNumberOfMessagesNotVisible", 0)
            )
        return n

    # -- schedules, the approvals API, workflows -------------------------------------------------
    def schedule_event(self, detail: dict[str, Any] | None = None, at: float | None = None) -> dict[str, Any]:
        now = self.clock.now() if at is None else at
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": DEFAULT_ACCOUNT_ID,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "region": REGION,
            "resources": [],
            "detail": detail or {},
        }

    def fire_schedule(
        self, logical_id: str, detail: dict[str, Any] | None = None, at: float | None = None
    ) -> Any:
        """What EventBridge does when a rule's schedule fires (event time: `at`, default the local clock)."""
        result, error = self.invoke(logical_id, self.schedule_event(detail, at))
        if error:
            raise RuntimeError(f"{logical_id} failed: {error}")
        return result

    def role_name(self, role: str) -> str:
        return role_name(self.stack_name, role)

    def api(
        self, method: str, path: str, user: str, role: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """Call the approvals HTTP API as API Gateway would after IAM (SigV4) authentication of
        `user` holding `role` ("finance", "operator" or any other role name)."""
        event = http_api_event(method, path, assumed_role_arn(self.stack_name, role, user), body)
        result, error = self.invoke("ApprovalsApiFunction", event)
        if error:
            return 502, {"error": error}
        payload = result.get("body") or "null"
        return int(result["statusCode"]), json.loads(payload)

    @property
    def close_machine(self) -> str:
        return self.state_machines["CloseStateMachine"]

    def execution(self, name: str) -> dict[str, Any]:
        arn = self.close_machine.replace(":stateMachine:", ":execution:") + f":{name}"
        out: dict[str, Any] = self.client("stepfunctions").describe_execution(executionArn=arn)
        return out

    def wait_execution(self, name: str, until: Any = None, timeout: float = 600) -> dict[str, Any]:
        """Wait until the execution ends (or `until(cloud)` holds), pumping other events meanwhile."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if until is not None and until(self):
                return self.execution(name)
            ex = self.execution(name)
            if ex["status"] != "RUNNING":
                return ex
            if not self.step():
                time.sleep(0.02)
        raise TimeoutError(f"execution {name} still running after {timeout} s")

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def bucket(self) -> str:
        return self.outputs["UploadBucketName"]

    def upload(self, key: str, body: bytes) -> None:
        self.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body)

    def read_json(self, key: str) -> Any:
        return json.loads(self.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def read_bytes(self, key: str) -> bytes:
        return self.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]


def role_name(stack_name: str, role: str) -> str:
    """The template's role for "finance" or "operator" (any other name is taken as is)."""
    return {"finance": f"{stack_name}-finance-approver", "operator": f"{stack_name}-close-operator"}.get(
        role, role
    )


def assumed_role_arn(stack_name: str, role: str, user: str) -> str:
    """The identity IAM gives `user` after assuming `role`: what the approvals API reads."""
    return f"arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/{role_name(stack_name, role)}/{user}"


def http_api_event(method: str, path: str, user_arn: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """The event API Gateway (HTTP API, payload 2.0) hands the function after IAM authentication."""
    user = user_arn.rsplit("/", 1)[-1]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "local"},
        "requestContext": {
            "accountId": DEFAULT_ACCOUNT_ID,
            "apiId": "local",
            "authorizer": {
                "iam": {
                    "accessKey": "ASIALOCAL",
                    "accountId": DEFAULT_ACCOUNT_ID,
                    "callerId": f"AROALOCAL:{user}",
                    "principalOrgId": None,
                    "userArn": user_arn,
                    "userId": f"AROALOCAL:{user}",
                }
            },
            "domainName": "local",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "loyalty",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    return event


def _refs(node: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "Fn::GetAtt":
                out.add(v[0] if isinstance(v, list) else str(v).split(".")[0])
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) else v
                out |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
                out |= _refs(v[1] if isinstance(v, list) else None)
            else:
                out |= _refs(v)
    elif isinstance(node, list):
        for v in node:
            out |= _refs(v)
    return out


def _prune_unsupported(tpl: dict[str, Any]) -> set[str]:
    """Drop resources moto cannot create and, transitively, what refers to them (locally the
    HTTP API is replaced by in-process calls of its function; see LocalCloud.api)."""
    res = tpl["Resources"]
    gone = {k for k, v in res.items() if v["Type"] in _UNSUPPORTED_BY_MOTO}
    changed = True
    while changed:
        changed = False
        for k, v in res.items():
            if k not in gone and _refs(v) & gone:
                gone.add(k)
                changed = True
    tpl["Resources"] = {k: v for k, v in res.items() if k not in gone}
    tpl["Outputs"] = {k: v for k, v in tpl.get("Outputs", {}).items() if not _refs(v) & gone}
    return gone


# Resource types moto's CloudFormation cannot create; their behaviour is provided by the runtime
# above (EventInvokeConfig: retries) or has no local meaning (alarms are checked on AWS).
_UNSUPPORTED_BY_MOTO = frozenset(
    {
        "AWS::Lambda::EventInvokeConfig",
        "AWS::SNS::Subscription",
        "AWS::S3::BucketPolicy",
        "AWS::CloudWatch::Alarm",
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
    }
)
