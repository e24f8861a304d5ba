"""Issue 9, point 5: where the approval callback token can be read. Step Functions records the
AwaitApproval task's parameters (the token among them) in the execution history: that is the one
place outside the encrypted table attribute. Nothing else may echo it: no other state reads
`$$.Task.Token`, the task's result is the callback's output (finance's decision), not the
worker's answer, and the worker's answer to the callback step holds no token."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from loyalty.adapters.s3sqs import KmsTokenCipher
from loyalty.close.approval_rules import APPROVAL_MAX_AGE
from loyalty.settings import Settings
from loyalty.wiring import Container

from tests.unit.test_close_service import NOW, to_approval, world

ASL = Path(__file__).resolve().parents[2] / "statemachines" / "close.asl.json"


def token_paths(node: Any, path: str = "") -> list[str]:
    """Every place of the definition that reads the task token."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in token_paths(v, f"{path}/{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in token_paths(v, f"{path}/{i}")]
    return [path] if isinstance(node, str) and "$$.Task.Token" in node else []


def test_only_the_callback_task_reads_the_token_and_its_result_is_the_decision() -> None:
    machine = json.loads(ASL.read_text())
    assert token_paths(machine) == ["/States/AwaitApproval/Parameters/Payload/token.$"]
    wait = machine["States"]["AwaitApproval"]
    assert wait["Resource"].endswith(".waitForTaskToken")
    assert "ResultSelector" not in wait and "OutputPath" not in wait and wait["ResultPath"] == "$.decision"
    # no approval is valid after the backstop the state machine itself enforces
    assert wait["TimeoutSeconds"] == APPROVAL_MAX_AGE.total_seconds()


def test_the_callback_step_answers_without_the_token() -> None:
    w = world()
    run, _ = to_approval(w)
    answer = w.close.request_approval("2026-08", run, f"token-{run}", NOW).to_json()
    assert f"token-{run}" not in json.dumps(answer)
    assert all(f"token-{run}" not in json.dumps(p.message) for p in w.finance.published)
    assert all(f"token-{run}" not in json.dumps(e.to_json()) for e in w.store.audit_log("2026-08"))


def test_the_token_key_is_its_own_setting_and_falls_back_to_the_data_key() -> None:
    base = {"TABLE_NAME": "t", "UPLOAD_BUCKET": "b", "AWS_REGION": "eu-central-1", "DATA_KEY_ID": "data-key"}
    assert Settings.from_env(base).approval_token_key == "data-key"
    own = Settings.from_env({**base, "TOKEN_KEY_ID": "token-key", "DUAL_APPROVAL_EUR": "250000.00"})
    assert (own.approval_token_key, own.dual_approval_eur) == ("token-key", Decimal("250000.00"))
    cipher = Container(own).store.token_cipher
    assert isinstance(cipher, KmsTokenCipher) and cipher.key_id == "token-key"
    assert Container(own).approvals().dual_above_eur == Decimal("250000.00")
