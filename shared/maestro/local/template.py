"""Reads a synthesized CloudFormation template into what the local runtime serves: functions, routes,
tables, buckets, buses, rules, queues, event source mappings, state machines.
Must never keep a second, hand-kept list."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestro.local.nested import flattened

ACCOUNT = "123456789012"  # moto's default account
FUNCTION_METADATA = "maestro:function"


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str  # physical name (what ARNs and Invoke calls use)
    handler_dir: str  # functions/<handler_dir>/handler.py
    environment: dict[str, str]
    timeout_s: int
    memory_mb: int = 128


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway path template, e.g. /models/{name} or /files/{proxy+}
    function: str  # logical id
    authorized: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class RuleTarget:
    target_id: str
    arn: str
    kind: str  # "lambda" | "sqs" | "states" | "other"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    logical_id: str
    name: str
    bus: str
    pattern: dict[str, Any] | None
    schedule: str | None
    enabled: bool
    targets: tuple[RuleTarget, ...]


@dataclass(frozen=True)
class EventSourceMapping:
    function: str  # physical function name
    queue_arn: str
    batch_size: int
    report_failures: bool


@dataclass(frozen=True)
class LogSubscription:
    source: str  # physical name of the function whose log group is subscribed
    destination: str  # physical name of the function that receives the matching lines
    filter_name: str
    pattern: str


@dataclass
class LocalModel:
    region: str
    stack_name: str
    resources: dict[str, dict[str, Any]]
    physical: dict[str, str]
    functions: dict[str, Function] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    mappings: list[EventSourceMapping] = field(default_factory=list)
    subscriptions: list[LogSubscription] = field(default_factory=list)

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == cfn_type}

    def function_by_name(self, name_or_arn: str) -> Function | None:
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        return next((f for f in self.functions.values() if f.name == name), None)


def _physical_name(stack: str, logical_id: str, resource: dict[str, Any]) -> str:
    props = resource.get("Properties", {})
    kind = resource["Type"]
    explicit = {
        "AWS::DynamoDB::Table": "TableName",
        "AWS::S3::Bucket": "BucketName",
        "AWS::Events::EventBus": "Name",
        "AWS::Events::Rule": "Name",
        "AWS::SQS::Queue": "QueueName",
        "AWS::StepFunctions::StateMachine": "StateMachineName",
        "AWS::Lambda::Function": "FunctionName",
    }.get(kind)
    if explicit and isinstance(props.get(explicit), str):
        return props[explicit]
    name = f"{stack}-{logical_id}"[:64]
    if kind == "AWS::S3::Bucket":
        return re.sub(r"[^a-z0-9-]", "-", name.lower())[:63]
    if kind == "AWS::SQS::Queue" and props.get("FifoQueue"):
        return name[:75] + ".fifo"
    return name


class Resolver:
    """Resolves the intrinsic functions CDK emits (Ref, GetAtt, Join, Sub, Select, Split) to local values."""

    def __init__(self, model: LocalModel) -> None:
        self.m = model

    def arn(self, logical_id: str) -> str:
        r, name = self.m.resources[logical_id], self.m.physical[logical_id]
        region, kind = self.m.region, self.m.resources[logical_id]["Type"]
        if kind in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            # A function's alias or version: its ARN qualified by the alias's name (the local runtime runs the
            # function's one local version whatever the qualifier).
            props = r["Properties"]
            function = self(props["FunctionName"]).split(":function:")[-1].split(":")[0]
            qualifier = props.get("Name", "1")
            return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function}:{qualifier}"
        return {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Events::EventBus": f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{name}",
            "AWS::Events::Rule": f"arn:aws:events:{region}:{ACCOUNT}:rule/{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{ACCOUNT}:{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}:*",
            "AWS::KMS::Key": f"arn:aws:kms:{region}:{ACCOUNT}:key/{name}",
        }.get(kind, f"arn:aws:local:{region}:{ACCOUNT}:{r['Type']}/{name}")

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.m.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.m.stack_name,
            "AWS::NoValue": "",
        }
        if name in pseudo:
            return pseudo[name]
        kind = self.m.resources[name]["Type"]
        if kind == "AWS::SQS::Queue":
            return f"http://sqs.{self.m.region}.localhost/{ACCOUNT}/{self.m.physical[name]}"
        if kind == "AWS::StepFunctions::StateMachine":
            return self.arn(name)
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{ACCOUNT}:policy/{self.m.physical[name]}"
        if kind in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            return self.arn(name)
        return self.m.physical[name]

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in ("QueueName", "Name", "TableName"):
            return self.m.physical[logical_id]
        if attribute == "Version":
            return "1"
        if attribute == "QueueUrl":
            return self.ref(logical_id)
        return f"{self.m.physical[logical_id]}.{attribute}"

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical, attribute)
            if key == "Fn::Join":
                return str(arg[0]).join(str(self(v)) for v in self(arg[1]))
            if key == "Fn::Select":
                return self(arg[1])[int(self(arg[0]))]
            if key == "Fn::Split":
                return str(self(arg[1])).split(arg[0])
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self(arg[1]))
                return re.sub(r"\$\{([^}!]+)\}", lambda m: self._sub_var(m.group(1), variables), text)
        return {k: self(v) for k, v in value.items()}

    def _sub_var(self, name: str, variables: dict[str, Any]) -> str:
        if name in variables:
            return str(variables[name])
        if "." in name:
            logical, attribute = name.split(".", 1)
            return self.get_att(logical, attribute)
        return self.ref(name)


def _target_kind(arn: str) -> str:
    for prefix, kind in ((":lambda:", "lambda"), (":sqs:", "sqs"), (":states:", "states")):
        if prefix in arn:
            return kind
    return "other"


def load_model(template_path: Path, stack_name: str, region: str) -> LocalModel:
    template = flattened(json.loads(Path(template_path).read_text()), Path(template_path).parent)
    resources = template.get("Resources", {})
    physical = {lid: _physical_name(stack_name, lid, r) for lid, r in resources.items()}
    model = LocalModel(region=region, stack_name=stack_name, resources=resources, physical=physical)
    resolve = Resolver(model)

    for lid, r in model.of_type("AWS::Lambda::Function").items():
        handler_dir = (r.get("Metadata") or {}).get(FUNCTION_METADATA)
        if not handler_dir:
            continue  # CDK's own helper functions (custom resources) have no local handler
        props = r["Properties"]
        env = resolve((props.get("Environment") or {}).get("Variables") or {})
        model.functions[lid] = Function(
            lid,
            physical[lid],
            handler_dir,
            env,
            int(props.get("Timeout", 3)),
            int(props.get("MemorySize", 128)),
        )

    integrations = {
        lid: resolve(r["Properties"]["IntegrationUri"])
        for lid, r in model.of_type("AWS::ApiGatewayV2::Integration").items()
    }
    for r in model.of_type("AWS::ApiGatewayV2::Route").values():
        props = r["Properties"]
        method, path = props["RouteKey"].split(" ", 1)
        target = props["Target"]
        integration_id = (
            target["Fn::Join"][1][1]["Ref"] if isinstance(target, dict) else target.split("/")[-1]
        )
        function = model.function_by_name(integrations[integration_id])
        if function is None:
            raise ValueError(f"route {props['RouteKey']} targets no local function")
        authorized = props.get("AuthorizationType", "NONE") != "NONE"
        model.routes.append(Route(method, path, function.logical_id, authorized))

    for lid, r in model.of_type("AWS::Events::Rule").items():
        props = resolve(r["Properties"])
        targets = tuple(
            RuleTarget(
                t["Id"],
                t["Arn"],
                _target_kind(t["Arn"]),
                {k: v for k, v in t.items() if k not in ("Id", "Arn")},
            )
            for t in props.get("Targets", [])
        )
        bus = props.get("EventBusName", "default")
        model.rules.append(
            Rule(
                lid,
                physical[lid],
                bus.split("/")[-1],
                props.get("EventPattern"),
                props.get("ScheduleExpression"),
                props.get("State", "ENABLED") == "ENABLED",
                targets,
            )
        )

    for r in model.of_type("AWS::Lambda::EventSourceMapping").values():
        props = resolve(r["Properties"])
        if ":sqs:" not in props.get("EventSourceArn", ""):
            continue
        model.mappings.append(
            EventSourceMapping(
                function=props["FunctionName"].split(":function:")[-1].split(":")[0],
                queue_arn=props["EventSourceArn"],
                batch_size=int(props.get("BatchSize", 10)),
                report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            )
        )

    log_groups = {
        ((r["Properties"].get("LoggingConfig") or {}).get("LogGroup") or {}).get("Ref"): lid
        for lid, r in model.of_type("AWS::Lambda::Function").items()
        if lid in model.functions
    }
    for lid, r in model.of_type("AWS::Logs::SubscriptionFilter").items():
        props = r["Properties"]
        source = log_groups.get((props.get("LogGroupName") or {}).get("Ref"))
        destination = model.function_by_name(resolve(props["DestinationArn"]))
        if source is None or destination is None:
            continue  # a log group or destination the local runtime does not host
        model.subscriptions.append(
            LogSubscription(
                physical[source], destination.name, props.get("FilterName", lid), props["FilterPattern"]
            )
        )
    return model
