"""Contract of the workflow port (`loyalty.close.ports.Workflow`): Step Functions on moto and
`MemoryWorkflow`. A start is keyed by its name: the same name again starts nothing and answers the
same execution (the scheduler firing twice, an impatient operator). A callback token the workflow
no longer waits for is `CallbackGone` in both."""

from __future__ import annotations

import itertools
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from loyalty.adapters.memory import MemoryWorkflow
from loyalty.adapters.s3sqs import StepFunctions
from loyalty.close.ports import CallbackGone, Workflow
from loyalty_local.env import REGION

_machines = itertools.count(1)


def _state_machine() -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    out = sfn.create_state_machine(
        name=f"contract-{next(_machines)}",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/contract-sfn",
    )
    return str(out["stateMachineArn"])


@pytest.fixture(params=["memory", "sfn"])
def workflow(request: pytest.FixtureRequest) -> Workflow:
    if request.param == "memory":
        return MemoryWorkflow()
    return StepFunctions(_state_machine(), REGION)


def test_a_start_is_keyed_by_its_name(workflow: Workflow) -> None:
    arn, started = workflow.start("close-2026-10", {"period": "2026-10"})
    assert started and arn.endswith(":close-2026-10")
    again, started_again = workflow.start("close-2026-10", {"period": "2026-10"})
    assert (again, started_again) == (arn, False)


def test_different_names_are_different_executions(workflow: Workflow) -> None:
    first, a = workflow.start("close-2026-10", {"period": "2026-10"})
    rerun, b = workflow.start("close-2026-10-r2", {"period": "2026-10"})
    assert a and b and first != rerun
    assert rerun.endswith(":close-2026-10-r2")


@pytest.mark.parametrize("code", ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"])
def test_step_functions_says_callback_gone_for_a_token_it_no_longer_waits_for(code: str) -> None:
    """moto accepts any token, so Step Functions' answers are stubbed (botocore's Stubber)."""
    sfn = StepFunctions(_state_machine(), REGION)
    with Stubber(sfn.sfn) as stub:
        stub.add_client_error("send_task_success", service_error_code=code)
        stub.add_client_error("send_task_failure", service_error_code=code)
        with pytest.raises(CallbackGone):
            sfn.succeed("t", {"approved_by": "frank"})
        with pytest.raises(CallbackGone):
            sfn.fail("t", "Approval.Rejected", "no")


def test_step_functions_passes_other_errors_on() -> None:
    sfn = StepFunctions(_state_machine(), REGION)
    with Stubber(sfn.sfn) as stub:
        stub.add_client_error("send_task_success", service_error_code="ThrottlingException")
        with pytest.raises(ClientError):
            sfn.succeed("t", {})


def test_memory_workflow_completes_a_token_once() -> None:
    wf = MemoryWorkflow()
    wf.succeed("t", {})
    with pytest.raises(CallbackGone):
        wf.succeed("t", {})
    with pytest.raises(CallbackGone):
        wf.fail("t", "Approval.Rejected", "late")
