"""The close's BankFiles step in its own Lambda: the only function that decrypts bank details
(the data key's decrypt for bank details is granted to it alone). The state machine calls it
with `{"period": ..., "run": ..., "manifest": ...}` after every pay batch committed; it writes the
run's immutable bank files (`payouts/<period>/<run>/payouts.csv`, `pain001.xml`) or fails closed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.settings import Settings
from loyalty.wiring import Container
from pydantic import BaseModel, Field

logger = Logger(service="bank-files")
tracer = Tracer(service="bank-files")
container = Container(Settings.from_env())


class BankFilesEvent(BaseModel):
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    run: str = Field(pattern=r"^close-\d{4}-\d{2}(-r\d+)?$")
    manifest: str = Field(min_length=1)


@tracer.capture_lambda_handler
@logger.inject_lambda_context
@event_parser(model=BankFilesEvent)
def handler(event: BankFilesEvent, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(period=event.period, run=event.run)
    result = container.bank_files().bank_files(
        event.period, event.run, event.manifest, dt.datetime.now(dt.UTC)
    )
    logger.info("bank files done", extra={"payments": result.payments, "total": str(result.total)})
    return result.to_json()
