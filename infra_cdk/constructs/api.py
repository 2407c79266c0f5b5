"""The HTTP API front door: JWT authorizer on every route by default, access logs, one helper to add routes.
Must never add a public route by accident: public=True is explicit and cdk-nag acknowledged per route."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import takewhile

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra_cdk.constructs.nag import acknowledge


@jsii.implements(apigw.IAccessLogSettings)
class AccessLogSettings:
    """IAccessLogSettings is a jsii interface, not a struct: it needs an implementing class."""

    def __init__(self, destination: apigw.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return apigw_v1.AccessLogFormat.json_with_standard_fields(
            caller=False,
            http_method=True,
            ip=True,
            protocol=True,
            request_time=True,
            resource_path=True,
            response_length=True,
            status=True,
            user=True,
        )


class HttpApi(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, authorizer: apigw.IHttpRouteAuthorizer
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.HttpApi(self, "Api", default_authorizer=authorizer, create_default_stage=False)
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            auto_deploy=True,
            access_log_settings=AccessLogSettings(apigw.LogGroupLogDestination(access_logs)),
        )
        self._integrations: dict[str, integrations.HttpLambdaIntegration] = {}
        self.routed: set[str] = set()  # the construct paths of the functions (aliases) routes invoke
        self.prefixes: set[str] = set()  # each route's first path segment: /ab, /api, /whoami, ...

    @property
    def url(self) -> str:
        return self.stage.url

    def route(self, method: str, path: str, fn: lambda_.IFunction, *, public: bool = False) -> None:
        integration = self._integrations.get(fn.node.path)
        if integration is None:
            # One invoke permission per function for this API (not one per route): CloudFormation's 500
            # resources a stack are a budget, and a route-scoped permission buys nothing here, since each
            # function checks every request's route and caller itself.
            integration = integrations.HttpLambdaIntegration(
                f"{fn.node.path.replace('/', '')}Integration", fn, scope_permission_to_route=False
            )
            self._integrations[fn.node.path] = integration
            self.routed.add(fn.node.path)
        self.prefixes.add("/" + path.strip("/").split("/")[0])
        routes = self.api.add_routes(
            path=path,
            methods=[apigw.HttpMethod(method)],
            integration=integration,
            authorizer=apigw.HttpNoneAuthorizer() if public else None,
        )
        if public:
            for r in routes:
                acknowledge(
                    r,
                    "AwsSolutions-APIG4",
                    f"{method} {path} is public by design (health probes, API description); "
                    "it reveals no tenant data.",
                )

    def routes(self, fn: lambda_.IFunction, routes: Sequence[tuple[str, str]]) -> None:
        """A function's routes, as few as API Gateway needs (collapsed): each route is a resource, and
        CloudFormation counts 500 a stack. The function's own resolver routes each request, and authorizes
        it by its own route table before reading the body (core.api)."""
        for method, path in collapsed(routes):
            self.route(method, path, fn)


def collapsed(routes: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """`routes` as one greedy route under their longest common literal prefix (`ANY /training/{proxy+}`),
    and the prefix itself when it is a route; as they are when fewer than three, or when they share no
    literal prefix. API Gateway prefers any more specific route, so another function's exact or
    parameterized routes under the same prefix still reach that function."""
    if len(routes) < 3:
        return list(routes)
    literal = [list(takewhile(lambda s: not s.startswith("{"), p.strip("/").split("/"))) for _, p in routes]
    common: list[str] = []
    for segments in zip(*literal, strict=False):
        if len(set(segments)) != 1:
            break
        common.append(segments[0])
    if not common:
        return list(routes)
    base = "/" + "/".join(common)
    out = [("ANY", f"{base}/{{proxy+}}")]
    if any(p.rstrip("/") == base for _, p in routes):
        out.append(("ANY", base))
    return out
