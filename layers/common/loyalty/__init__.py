"""Partner loyalty & rewards platform: the shared library shipped as the `common` Lambda layer.

Domain modules (money, rules, csvio, ingest, commission, registry, fx, reports, services) never
import boto3; AWS access lives in :mod:`loyalty.adapters`.
"""

__version__ = "0.1.0"
