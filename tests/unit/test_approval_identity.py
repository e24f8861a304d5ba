"""Issue 9, point 4: the person behind a role session is bound (source identity = session name =
user name) and compared as such, so choosing another session name does not make another person;
only operators start closes."""

from __future__ import annotations

import pytest
from loyalty.close.runs import CloseError, CloseStatus
from loyalty.kernel.identity import FINANCE, OPERATOR, Caller, NotAPerson, person, session_caller

from tests.unit.test_close_service import NOW, meta, shown, to_approval, world

ROLES = {"stack-finance-approver": FINANCE, "stack-close-operator": OPERATOR}
ARN = "arn:aws:sts::123456789012:assumed-role/{role}/{session}"


def request(session: str, role: str = "stack-finance-approver", user_id: str | None = None) -> Caller:
    arn = ARN.format(role=role, session=session)
    return session_caller(arn, user_id if user_id is not None else f"AROAEXAMPLE:{session}", ROLES)


def test_a_session_name_is_a_canonical_user_name_or_nobody() -> None:
    assert person("alice") == "alice"
    assert person("Alice") == "alice"  # IAM user names are unique whatever their case
    assert person("bob_smith-2") == "bob_smith-2"
    for bad in ("alice.2", "alice ", " alice", "alice@corp", "al ice", "", "2alice", "ålice", "a" * 65):
        with pytest.raises(NotAPerson, match="is not a person's user name"):
            person(bad)
    for system in ("schedule", "system", "Schedule"):  # names the platform acts under
        with pytest.raises(NotAPerson):
            person(system)


def test_the_caller_is_read_from_the_assumed_role_session() -> None:
    assert request("Frank") == Caller("frank", frozenset({FINANCE}))
    assert request("olga", "stack-close-operator") == Caller("olga", frozenset({OPERATOR}))
    assert request("mallory", "SomeOtherRole") == Caller("mallory", frozenset())
    with pytest.raises(NotAPerson, match="user id does not name the role session"):
        request("frank", user_id="AROAEXAMPLE:alice")
    with pytest.raises(NotAPerson, match="sign the request"):
        session_caller("arn:aws:iam::123456789012:user/frank", "AIDAEXAMPLE", ROLES)
    with pytest.raises(NotAPerson, match="is not a person's user name"):
        request("alice.2")


def test_maker_checker_holds_whatever_session_name_the_maker_chooses() -> None:
    """alice starts the close as operator; as finance, under any other spelling of her session,
    she is still alice, or nobody: never a checker of her own run."""
    w = world()
    to_approval(w, caller=request("alice", "stack-close-operator"))
    assert meta(w).started_by == "alice"
    with pytest.raises(CloseError, match="maker-checker") as same:
        w.approvals.approve(request("Alice"), "2026-08", "mine", (), NOW, **shown(w))
    assert same.value.status == 403
    for session in ("alice.2", "alice ", "ALICE.admin"):
        with pytest.raises(NotAPerson):
            request(session)
    assert meta(w).status == CloseStatus.AWAITING_APPROVAL and w.workflow.succeeded == []
    w.approvals.approve(request("frank"), "2026-08", "checked", (), NOW, **shown(w))
    assert meta(w).status == CloseStatus.APPROVED


def test_finance_does_not_start_closes() -> None:
    w = world()
    with pytest.raises(CloseError, match="needs the operator role") as finance:
        w.close.start(w.workflow, "2026-08", request("fiona"), False, NOW)
    assert finance.value.status == 403 and w.store.close_meta("2026-08") is None
    assert w.close.start(w.workflow, "2026-08", request("olga", "stack-close-operator"), False, NOW).started
