"""Deploying a SAM template into moto: translate, create the stack through moto's CloudFormation,
then apply what moto's CloudFormation skips (notifications, event source mappings, alarms,
executable state machines) through the service APIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from moto.sqs.models import sqs_backends

from loyalty_local import cognito, gateway, seams
from loyalty_local.env import ACCOUNT_ID, REGION
from loyalty_local.mail import wire_mail
from loyalty_local.runtime import CloudBase, FunctionSpec, Mapping
from loyalty_local.template import (
    http_routes,
    load_template,
    local_api_outputs,
    of_type,
    prune_unsupported,
    translate,
    zip_dir,
)

_PSEUDO = ("AWS::StackName", "AWS::AccountId", "AWS::Region", "AWS::Partition")


class DeployMixin(CloudBase):
    template_path: Path

    def deploy(self) -> None:
        template = load_template(self.template_path)
        code_dirs = self._upload_artifacts(template)
        params = {k: str(v) for k, v in self.parameters.items()}
        self._sam_template: dict[str, Any] = json.loads(json.dumps(template))
        cfn_template = translate(template, params)
        # user pools first (moto's CloudFormation cannot create them): their ids go into the template
        self.pools = cognito.create_pools(self.client("cognito-idp"), cfn_template, self.stack_name)
        self._sam_template = cognito.resolve(self._sam_template, self.pools)
        self._full_template: dict[str, Any] = json.loads(json.dumps(cfn_template))
        self.pruned = prune_unsupported(cfn_template)
        self.cfn_template = cfn_template
        physical = self._create_stack(cfn_template, params)
        self._apply_unsupported(self._full_template, physical)
        self._register_functions(cfn_template, physical, code_dirs)
        for fn in self.functions.values():  # "cold start" every function now, while single-threaded
            self._load(fn)
        self._wire_bucket_notifications(cfn_template, physical)
        self._apply_object_lock(cfn_template, physical)
        self._wire_event_source_mappings()
        self._wire_mail(physical)
        self._register_state_machines(physical)
        self.buckets = {k: physical[k] for k in of_type(cfn_template, "AWS::S3::Bucket")}
        self.roles = self._role_names(physical)
        self.routes = http_routes(self._sam_template)
        self.apis = gateway.apis_of(self._sam_template, self.routes, lambda v: self._sub_value(v, physical))
        self.outputs.update(local_api_outputs(self._full_template, self.outputs))

    def _role_names(self, physical: dict[str, str]) -> dict[str, str]:
        """Every IAM role of the template by logical id: its name in the stack, or for a role
        moto could not create (it refers to an HTTP API) the name its `RoleName` asks for."""
        out = {}
        for logical, res in of_type(self._full_template, "AWS::IAM::Role").items():
            name = res.get("Properties", {}).get("RoleName")
            if physical.get(logical):
                out[logical] = physical[logical]
            elif name is not None:
                out[logical] = self._sub_value(name, physical)
        return out

    def _upload_artifacts(self, template: dict[str, Any]) -> dict[str, Path]:
        """What `sam package` does: code to an artifacts bucket; definitions inline."""
        root = self.template_path.parent
        s3 = self.client("s3")
        artifacts = f"{self.stack_name}-artifacts-local"
        s3.create_bucket(Bucket=artifacts, CreateBucketConfiguration={"LocationConstraint": REGION})
        code_dirs: dict[str, Path] = {}
        for logical, res in template["Resources"].items():
            props = res.get("Properties", {})
            if isinstance(props.get("DefinitionUri"), str) and not props["DefinitionUri"].startswith("s3://"):
                # the definition file goes inline (sam package would upload it); substitutions are
                # applied by this runtime when it registers the executable state machine
                props["Definition"] = json.loads((root / props.pop("DefinitionUri")).read_text())
            for prop in ("CodeUri", "ContentUri"):
                if isinstance(props.get(prop), str) and not props[prop].startswith("s3://"):
                    src = root / props[prop]
                    key = f"{logical}.zip"
                    s3.put_object(Bucket=artifacts, Key=key, Body=zip_dir(src))
                    props[prop] = f"s3://{artifacts}/{key}"
                    code_dirs[logical] = src
        return code_dirs

    def _create_stack(self, cfn_template: dict[str, Any], params: dict[str, str]) -> dict[str, str]:
        cfn = self.client("cloudformation")
        cfn.create_stack(
            StackName=self.stack_name,
            TemplateBody=json.dumps(cfn_template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        stack = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(f"local stack failed: {stack['StackStatus']} {stack.get('StackStatusReason')}")
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return {
            r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
            for r in cfn.list_stack_resources(StackName=self.stack_name)["StackResourceSummaries"]
        }

    def _sub_value(self, value: Any, physical: dict[str, str]) -> str:
        """Resolve a DefinitionSubstitutions value (Ref, GetAtt .Arn/.Name, Sub) locally."""
        if isinstance(value, str):
            return value
        if "Ref" in value:
            name = value["Ref"]
            default = (self._sam_template.get("Parameters", {}).get(name) or {}).get("Default")
            return self.parameters.get(name) or (
                str(default) if default is not None else physical.get(name, name)
            )
        if "Fn::GetAtt" in value:
            logical, attr = value["Fn::GetAtt"]
            if logical in self.functions and attr == "Arn":
                return self.functions[logical].arn
            return self._resolve_arn({"Fn::GetAtt": [logical, attr]}, physical)
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]
            pseudo = dict(zip(_PSEUDO, (self.stack_name, ACCOUNT_ID, REGION, "aws"), strict=True))
            for k, v in pseudo.items():
                text = text.replace("${" + k + "}", v)
            return str(text)
        raise ValueError(f"cannot resolve substitution {value}")

    def _wire_mail(self, physical: dict[str, str]) -> None:
        """Topic subscriptions to queues and the SES resources (issue 12: loyalty_local.mail)."""
        defaults = {
            k: str(v.get("Default", "")) for k, v in self._full_template.get("Parameters", {}).items()
        }

        def sub(value: Any) -> str:
            if isinstance(value, dict) and "Ref" in value and value["Ref"] in defaults:
                return self.parameters.get(value["Ref"]) or defaults[value["Ref"]]
            return self._sub_value(value, physical)

        wire_mail(
            self.client, self._full_template["Resources"], lambda v: self._resolve_arn(v, physical), sub
        )

    def _register_state_machines(self, physical: dict[str, str]) -> None:
        """moto's CloudFormation ignores DefinitionSubstitutions and keeps state machines in a
        backend that does not execute; register each one, substituted, with moto's ASL
        interpreter (same name and ARN)."""
        sfn = self.client("stepfunctions")
        for logical, res in of_type(self._sam_template, "AWS::Serverless::StateMachine").items():
            props = res["Properties"]
            text = json.dumps(props["Definition"])
            for name, value in (props.get("DefinitionSubstitutions") or {}).items():
                text = text.replace("${" + name + "}", self._sub_value(value, physical))
            arn = physical[logical]
            name = arn.rsplit(":", 1)[1]
            role = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}-role"
            try:
                sfn.describe_state_machine(stateMachineArn=arn)
            except sfn.exceptions.StateMachineDoesNotExist:
                sfn.create_state_machine(
                    name=name, definition=text, roleArn=role, type=props.get("Type", "STANDARD")
                )
            self.state_machines[logical] = arn

    def _register_functions(
        self, tpl: dict[str, Any], physical: dict[str, str], code_dirs: dict[str, Path]
    ) -> None:
        lam = self.client("lambda")
        retries = {  # AWS::Lambda::EventInvokeConfig (not created by moto): honoured by the runtime
            r["Properties"]["FunctionName"]["Ref"]: int(r["Properties"].get("MaximumRetryAttempts", 2))
            for r in of_type(self._full_template, "AWS::Lambda::EventInvokeConfig").values()
        }
        for logical, res in of_type(tpl, "AWS::Lambda::Function").items():
            if logical not in code_dirs:
                continue
            cfg = lam.get_function(FunctionName=physical[logical])["Configuration"]
            env = {k: str(v) for k, v in cfg.get("Environment", {}).get("Variables", {}).items()}
            dlq = (res["Properties"].get("DeadLetterConfig") or {}).get("TargetArn")
            spec = FunctionSpec(
                logical_id=logical,
                name=cfg["FunctionName"],
                arn=cfg["FunctionArn"],
                code_dir=code_dirs[logical],
                handler=res["Properties"]["Handler"],
                env=env,
                timeout=int(cfg.get("Timeout", 3)),
                memory=int(cfg.get("MemorySize", 128)),
                retries=retries.get(logical, 2),
                dlq_arn=self._resolve_arn(dlq, physical) if dlq else "",
            )
            self.functions[logical] = spec
            self.by_arn[spec.arn] = spec

    def _apply_unsupported(self, tpl: dict[str, Any], physical: dict[str, str]) -> None:
        """Resources moto's CloudFormation skips, applied through the service APIs instead.
        AWS::S3::BucketPolicy is not applied: a TLS-only policy cannot hold on the local
        endpoint, which is plain HTTP on 127.0.0.1 (on AWS the policy is enforced)."""
        for res in of_type(tpl, "AWS::CloudWatch::Alarm").values():
            props = res.get("Properties", {})
            dims = []
            for d in props.get("Dimensions", []):
                v = d["Value"]
                if isinstance(v, dict) and "Fn::GetAtt" in v:
                    v = physical[v["Fn::GetAtt"][0]].rsplit("/", 1)[-1]
                elif isinstance(v, dict) and "Ref" in v:
                    v = physical[v["Ref"]]
                dims.append({"Name": d["Name"], "Value": v})
            self.client("cloudwatch").put_metric_alarm(
                AlarmName=f"{self.stack_name}-{props['MetricName']}-{len(dims)}-{dims[0]['Value'] if dims else ''}",
                AlarmDescription=props.get("AlarmDescription", ""),
                Namespace=props["Namespace"],
                MetricName=props["MetricName"],
                Dimensions=dims,
                Statistic=props["Statistic"],
                Period=int(props["Period"]),
                EvaluationPeriods=int(props["EvaluationPeriods"]),
                Threshold=float(props["Threshold"]),
                ComparisonOperator=props["ComparisonOperator"],
            )

    def _resolve_arn(self, value: Any, physical: dict[str, str]) -> str:
        if isinstance(value, str):
            return value
        if "Fn::GetAtt" in value:
            logical = value["Fn::GetAtt"][0]
            url = physical[logical]
            if url.startswith("http"):
                attrs = self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
                return str(attrs["Attributes"]["QueueArn"])
            return url
        if "Ref" in value:
            return physical[value["Ref"]]
        raise ValueError(f"cannot resolve {value}")

    def _wire_bucket_notifications(self, tpl: dict[str, Any], physical: dict[str, str]) -> None:
        """moto's CloudFormation ignores NotificationConfiguration and VersioningConfiguration:
        apply them through the API."""
        s3 = self.client("s3")
        for logical, res in of_type(tpl, "AWS::S3::Bucket").items():
            cors = res.get("Properties", {}).get("CorsConfiguration")
            if cors:  # moto's CloudFormation ignores it
                rules = [
                    {
                        k: [self._sub_value(v, physical) for v in vs] if isinstance(vs, list) else vs
                        for k, vs in r.items()
                    }
                    for r in cors["CorsRules"]
                ]
                rules = [{k.replace("MaxAge", "MaxAgeSeconds"): v for k, v in r.items()} for r in rules]
                s3.put_bucket_cors(Bucket=physical[logical], CORSConfiguration={"CORSRules": rules})
            versioning = res.get("Properties", {}).get("VersioningConfiguration")
            if versioning:  # moto's CloudFormation ignores it too
                s3.put_bucket_versioning(
                    Bucket=physical[logical], VersioningConfiguration={"Status": versioning["Status"]}
                )
            conf = res.get("Properties", {}).get("NotificationConfiguration")
            if not conf:
                continue
            lambdas = []
            for lc in conf.get("LambdaConfigurations", []):
                fn_logical = lc["Function"]["Fn::GetAtt"][0]
                rules = lc.get("Filter", {}).get("S3Key", {}).get("Rules", [])
                entry: dict[str, Any] = {
                    "LambdaFunctionArn": self.functions[fn_logical].arn,
                    "Events": [lc["Event"]],
                }
                if rules:
                    entry["Filter"] = {
                        "Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}
                    }
                lambdas.append(entry)
            s3.put_bucket_notification_configuration(
                Bucket=physical[logical], NotificationConfiguration={"LambdaFunctionConfigurations": lambdas}
            )

    def _apply_object_lock(self, tpl: dict[str, Any], physical: dict[str, str]) -> None:
        """moto's CloudFormation ignores VersioningConfiguration and ObjectLockEnabled: a bucket
        the template locks gets both through the API (while it is still empty)."""
        s3 = self.client("s3")
        for logical, res in of_type(tpl, "AWS::S3::Bucket").items():
            props = res.get("Properties", {})
            if not props.get("ObjectLockEnabled"):
                continue
            s3.put_bucket_versioning(Bucket=physical[logical], VersioningConfiguration={"Status": "Enabled"})
            s3.put_object_lock_configuration(
                Bucket=physical[logical], ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
            )

    def _wire_event_source_mappings(self) -> None:
        lam = self.client("lambda")
        sqs = self.client("sqs")
        backend = sqs_backends[ACCOUNT_ID][REGION]
        esms = of_type(self.cfn_template, "AWS::Lambda::EventSourceMapping").values()
        for esm in lam.list_event_source_mappings()["EventSourceMappings"]:
            spec = self.by_arn.get(esm["FunctionArn"])
            if spec is None or not esm["EventSourceArn"].startswith("arn:aws:sqs"):
                continue
            qname = esm["EventSourceArn"].rsplit(":", 1)[1]
            url = sqs.get_queue_url(QueueName=qname)["QueueUrl"]
            seams.detach_sqs_mappings(backend.get_queue(qname))
            report = any(
                "ReportBatchItemFailures" in (r["Properties"].get("FunctionResponseTypes") or [])
                and r["Properties"]["FunctionName"].get("Ref") == spec.logical_id
                for r in esms
            )
            self.mappings.append(
                Mapping(spec, url, esm["EventSourceArn"], int(esm.get("BatchSize", 10)), report)
            )
