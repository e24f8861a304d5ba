"""The embedded local cloud: moto plus an in-process Lambda runtime, for any SAM template.

- `template`: reading and translating the template, what moto cannot create, HTTP API routes;
- `runtime`: the functions of the stack and in-process invocation;
- `deploy`: the stack into moto (and what moto's CloudFormation skips);
- `delivery`: S3, SQS and schedule events with AWS semantics;
- `httpapi`: HTTP API routes called in-process, as API Gateway would after IAM;
- `cloud`: `LocalCloud`, all of the above; `server`: the same as a server on a local port;
- `seams`: every reach into moto.

It knows no application: names come from the template and from its callers.
"""
