"""Issue 9, point 5: the approval callback token is encrypted at rest in both adapters (its own
key, the period as encryption context): the stored attribute is not the token, a ciphertext
copied onto another close does not open, and a store without a token key stores no token."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.dynamo.closes import NoTokenKey
from loyalty.adapters.memory import MemoryCipher, MemoryStore
from loyalty.adapters.memory.kernel import WrongContext
from loyalty.close.header import CloseMeta
from loyalty.close.runs import CloseStatus
from loyalty_local.cloud import REGION

from tests.contract.conftest import make_table
from tests.contract.test_close_store import Store, dynamo_table

AWAITING = CloseStatus.AWAITING_APPROVAL
TOKEN = "AQCEAHj-task-token-that-completes-the-approval"


@pytest.fixture(params=["dynamo", "memory"])
def store(request: pytest.FixtureRequest) -> Store:
    return dynamo_table() if request.param == "dynamo" else MemoryStore(MemoryCipher())


def raw_token(s: Store, period: str) -> str:
    """The token attribute as it lies in the table (or the in-memory header)."""
    if isinstance(s, MemoryStore):
        return s.headers[period].token or ""
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=s.m.Close.Meta.table_name, Key={"pk": {"S": f"CLOSE#{period}"}, "sk": {"S": "META"}}
    )["Item"]
    return str(item["token"]["S"])


def awaiting(period: str) -> CloseMeta:
    return CloseMeta(period, AWAITING, f"close-{period}", started_by="olga")


def test_the_token_is_encrypted_at_rest_and_bound_to_its_close(store: Store) -> None:
    store.save_close_meta(awaiting("2026-08"), token=TOKEN)
    sealed = raw_token(store, "2026-08")
    assert sealed and TOKEN not in sealed and store.close_token("2026-08") == TOKEN
    # the ciphertext copied onto another close's header does not decrypt (encryption context)
    store.save_close_meta(awaiting("2026-09"), token="other")
    if isinstance(store, MemoryStore):
        store.headers["2026-09"].token = sealed
        with pytest.raises(WrongContext):
            store.close_token("2026-09")
    else:
        boto3.client("dynamodb", region_name=REGION).update_item(
            TableName=store.m.Close.Meta.table_name,
            Key={"pk": {"S": "CLOSE#2026-09"}, "sk": {"S": "META"}},
            UpdateExpression="SET #t = :t",
            ExpressionAttributeNames={"#t": "token"},
            ExpressionAttributeValues={":t": {"S": sealed}},
        )
        with pytest.raises(ClientError, match="InvalidCiphertext"):
            store.close_token("2026-09")
    assert store.close_token("2026-08") == TOKEN


def test_a_table_without_a_token_key_stores_no_token() -> None:
    bare = DynamoStore(make_table(), REGION)
    with pytest.raises(NoTokenKey, match="TOKEN_KEY_ID"):
        bare.save_close_meta(awaiting("2026-08"), token=TOKEN)
    assert bare.close_meta("2026-08") is None
    assert dynamo_table().save_close_meta(awaiting("2026-08"), token=TOKEN)
