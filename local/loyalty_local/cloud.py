"""The embedded local cloud: moto deploys a SAM template (translated with aws-sam-translator,
created through moto's CloudFormation) and an in-process runtime runs its Python handlers with
AWS event semantics (see `delivery`). It knows no application: functions, their events, HTTP
API routes, state machines, buckets and roles are read from the template, and callers name
them by logical id or output name.

Use it in-process (`with LocalCloud() as cloud:`) or as a server on 127.0.0.1:4566 (`server`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto import mock_aws

from loyalty_local import seams
from loyalty_local.atomic import atomic_dynamodb
from loyalty_local.delivery import DeliveryMixin
from loyalty_local.deploy import DeployMixin
from loyalty_local.env import DEFAULT_TEMPLATE, LOCAL_ENV, REGION
from loyalty_local.httpapi import HttpApiMixin
from loyalty_local.template import load_template, translate

__all__ = ["LOCAL_ENV", "REGION", "LocalCloud", "load_template", "translate"]


class LocalCloud(DeployMixin, DeliveryMixin, HttpApiMixin):
    """A deployed stack plus the runtime that delivers its events."""

    def __init__(
        self,
        stack_name: str = "loyalty",
        parameters: dict[str, str] | None = None,
        log_path: Path | None = None,
        start_mock: bool = True,
        template: Path = DEFAULT_TEMPLATE,
    ) -> None:
        super().__init__(stack_name, parameters, log_path)
        self.template_path = template
        self._mock = mock_aws() if start_mock else None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        atomic_dynamodb()  # one DynamoDB request at a time, each atomic (moto is not, under threads)
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

    # -- workflows -------------------------------------------------------------------------
    def state_machine(self, logical_id: str | None = None) -> str:
        """The ARN of a state machine by logical id (None: the stack's only one)."""
        if logical_id is not None:
            return self.state_machines[logical_id]
        if len(self.state_machines) != 1:
            raise ValueError(f"name the state machine, one of {sorted(self.state_machines)}")
        return next(iter(self.state_machines.values()))

    def execution(self, name: str, machine: str | None = None) -> dict[str, Any]:
        """An execution by name; with several state machines and none named, the one that has an
        execution of that name (names are per machine: `close-2026-08`, `sim-<job>`)."""
        sfn = self.client("stepfunctions")
        names = (
            [machine] if machine is not None or len(self.state_machines) <= 1 else sorted(self.state_machines)
        )
        for i, logical in enumerate(names):
            arn = self.state_machine(logical).replace(":stateMachine:", ":execution:") + f":{name}"
            try:
                out: dict[str, Any] = sfn.describe_execution(executionArn=arn)
                return out
            except sfn.exceptions.ExecutionDoesNotExist:
                if i == len(names) - 1:
                    raise
        raise ValueError("the stack has no state machine")

    def wait_execution(
        self,
        name: str,
        until: Callable[[LocalCloud], bool] | None = None,
        timeout: float = 600,
        machine: str | None = None,
    ) -> dict[str, Any]:
        """Wait until the execution ends (or `until(cloud)` holds), pumping other events meanwhile."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if until is not None and until(self):
                return self.execution(name, machine)
            ex = self.execution(name, machine)
            if ex["status"] != "RUNNING":
                return ex
            if not self.step():
                time.sleep(0.02)
        raise TimeoutError(f"execution {name} still running after {timeout} s")

    # -- buckets ---------------------------------------------------------------------------
    @property
    def bucket(self) -> str:
        """The stack's bucket (a stack with several names one: `buckets[logical_id]`)."""
        if len(self.buckets) != 1:
            raise ValueError(f"name the bucket, one of {sorted(self.buckets)}")
        return next(iter(self.buckets.values()))

    def upload(self, key: str, body: bytes) -> None:
        self.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body)

    def read_json(self, key: str) -> Any:
        return json.loads(self.read_bytes(key))

    def read_bytes(self, key: str) -> bytes:
        return self.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]
