"""The local cloud as a server on 127.0.0.1:4566 (AWS CLI / SDK with --endpoint-url).

moto's WSGI app answers HTTP in a thread; the stack is deployed in-process into the same moto
backends, and this process's main thread pumps events (S3 notifications, SQS polls) into the
in-process handlers.

Only a complete stack is served: until the stack is created, wired (bucket notifications,
queue polling, state machines) and its functions loaded, every request is answered 503 without
reaching moto (a describe call made while moto's CloudFormation creates the stack resolves its
outputs lazily and built a second table that some functions then used), and
`GET /_loyalty/ready` says whether the stack is ready (`loyalty status --wait` polls it).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from loyalty_local import gateway
from loyalty_local.cloud import LocalCloud
from loyalty_local.mail import outbox_endpoint

READY_PATH = "/_loyalty/ready"
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ReadinessGate:
    """WSGI middleware: 503 for every AWS request until `open()`; `GET /_loyalty/ready` answers
    200 with the stack's outputs once open, 503 with the phase before (or after a failed deploy)."""

    def __init__(self, app: WsgiApp, stack_name: str) -> None:
        self.app = app
        self.state: dict[str, Any] = {"ready": False, "stack": stack_name, "phase": "deploying"}
        self._ready = threading.Event()

    def open(self, outputs: dict[str, str]) -> None:
        self.state = {**self.state, "phase": "ready", "outputs": dict(outputs), "ready": True}
        self._ready.set()

    def failed(self, reason: str) -> None:
        self.state = {**self.state, "phase": "failed", "reason": reason}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == READY_PATH:
            status = "200 OK" if self._ready.is_set() else "503 Service Unavailable"
            return _answer(start_response, status, "application/json", json.dumps(self.state).encode())
        if not self._ready.is_set():
            body = (
                "<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>"
                f"<Message>the local cloud is {self.state['phase']}: GET {READY_PATH} says when it"
                " is ready</Message></Error></ErrorResponse>"
            )
            return _answer(start_response, "503 Service Unavailable", "text/xml", body.encode())
        return self.app(environ, start_response)


def _answer(start_response: StartResponse, status: str, kind: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]


class Served:
    """A WSGI app served on host:port (0: a free port) in a daemon thread."""

    def __init__(self, app: WsgiApp, host: str, port: int) -> None:
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()


class Server(Served):
    """moto's HTTP API behind the readiness gate."""

    def __init__(self, stack_name: str, host: str, port: int) -> None:
        moto = DomainDispatcherApplication(create_backend_app)
        self.gate = ReadinessGate(outbox_endpoint(moto), stack_name)  # GET /_loyalty/outbox: the emails
        super().__init__(self.gate, host, port)


class ApiServer(Served):
    """One HTTP API of the stack (JWT authorizer or none) served on its own port, as API Gateway
    serves it (`loyalty_local.gateway`)."""

    def __init__(self, cloud: LocalCloud, api: str, host: str, port: int) -> None:
        self.api = api
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        super().__init__(gateway.wsgi_app(cloud.http_api(api), cloud.invoke), host, port)


def serve_apis(cloud: LocalCloud, host: str, port: int) -> list[ApiServer]:
    """Serve every HTTP API that API Gateway would authorize by JWT (or not at all) on `port`,
    `port + 1`, ... in logical-id order (0: free ports); IAM-authorized APIs stay in-process."""
    out = []
    for i, name in enumerate(sorted(n for n, a in cloud.apis.items() if not a.iam)):
        server = ApiServer(cloud, name, host, port + i if port else 0)
        server.start()
        out.append(server)
    return out


def start_cloud(
    stack_name: str,
    host: str,
    port: int,
    parameters: dict[str, str] | None = None,
    prepare: Callable[[LocalCloud], None] | None = None,
    api_port: int | None = None,
) -> tuple[LocalCloud, Server, list[ApiServer]]:
    """Bind the port (requests wait behind the gate), deploy and wire the stack, run `prepare`
    (e.g. demo data), serve the HTTP APIs from `api_port` on, open the gate."""
    os.environ["MOTO_PORT"] = str(port)  # moto's Step Functions interpreter calls Lambda through it
    # presigned URLs the functions hand a browser point at this server (path-style S3)
    os.environ["S3_PUBLIC_ENDPOINT"] = f"http://{host}:{port}"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = Server(stack_name, host, port)
    server.start()
    print(f"local cloud: deploying {stack_name!r} on http://{host}:{port} (503 until ready)", flush=True)
    cloud = LocalCloud(stack_name=stack_name, parameters=parameters)
    try:
        cloud.start()  # create the stack, wire what moto skips, load every function
        if prepare is not None:  # e.g. the demo data: the stack is ready once they are loaded
            server.gate.state = {**server.gate.state, "phase": "preparing"}
            prepare(cloud)
    except BaseException as exc:
        server.gate.failed(f"{type(exc).__name__}: {exc}")
        server.stop()
        raise
    apis = serve_apis(cloud, host, api_port) if api_port is not None else []
    server.gate.open(cloud.outputs | {api.api: api.url for api in apis})
    return cloud, server, apis


def serve(
    stack_name: str,
    host: str,
    port: int,
    api_port: int = 4580,
    prepare: Callable[[LocalCloud], None] | None = None,
    parameters: dict[str, str] | None = None,
    ready: Callable[[dict[str, str]], None] | None = None,
) -> None:
    cloud, server, apis = start_cloud(stack_name, host, port, parameters, prepare, api_port)
    print(f"local cloud: stack {stack_name!r} at http://{host}:{port} (ready)", flush=True)
    for k, v in sorted(cloud.outputs.items()):
        print(f"  {k:<28} {v}", flush=True)
    for api in apis:
        print(f"  {api.api:<28} {api.url}/   (HTTP API: routes, JWT authorizer, throttling)", flush=True)
    aws = f"aws --endpoint-url http://{host}:{port}"
    print(f"try:\n  {aws} cloudformation describe-stacks --stack-name {stack_name}", flush=True)
    for name in sorted(cloud.buckets.values()):
        print(f"  {aws} s3 ls s3://{name}/", flush=True)
    if ready is not None:  # e.g. the demo logins, with the served APIs' addresses
        ready({api.api: api.url for api in apis})
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
        for api in apis:
            api.stop()
        cloud.stop()
        server.stop()
