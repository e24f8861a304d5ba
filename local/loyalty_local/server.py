"""The local cloud as a server on 127.0.0.1:4566 (AWS CLI / SDK with --endpoint-url).

moto's ThreadedMotoServer answers HTTP in a thread; the stack is deployed in-process into the
same moto backends, and this process's main thread pumps events (S3 notifications, SQS polls)
into the in-process handlers.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
import urllib.request

from moto.server import ThreadedMotoServer

from loyalty_local.cloud import LocalCloud


def serve(stack_name: str, host: str, port: int) -> None:
    os.environ["MOTO_PORT"] = str(port)  # moto's Step Functions interpreter calls Lambda through it
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    req = urllib.request.Request(
        f"http://{host}:{port}/moto-api/config",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
        method="POST",
    )
    urllib.request.urlopen(req, timeout=10).read()  # noqa: S310
    cloud = LocalCloud(stack_name=stack_name)
    cloud.start()
    print(f"local cloud: stack {stack_name!r} at http://{host}:{port}", flush=True)
    for k, v in sorted(cloud.outputs.items()):
        print(f"  {k:<28} {v}", flush=True)
    aws = f"aws --endpoint-url http://{host}:{port}"
    print(f"try:\n  {aws} cloudformation describe-stacks --stack-name {stack_name}", flush=True)
    for name in sorted(cloud.buckets.values()):
        print(f"  {aws} s3 ls s3://{name}/", flush=True)
    print(f"handler logs: {cloud.log_path}   (Ctrl-C stops)", flush=True)
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop["now"]:
            if not cloud.step():
                time.sleep(0.2)
    finally:
        cloud.stop()
        server.stop()
