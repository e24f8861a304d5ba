"""Where the local cloud runs: one region, test credentials, moto's account."""

from __future__ import annotations

from pathlib import Path

from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = ROOT / "template.yaml"
ACCOUNT_ID: str = DEFAULT_ACCOUNT_ID
REGION = "eu-central-1"
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
