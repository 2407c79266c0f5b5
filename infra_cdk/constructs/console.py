"""The web console in AWS: its built files in a private bucket under console/, served by CloudFront through
origin access control at /console/ (a CloudFront Function gives /console/ its index.html), and the HTTP API
behind the same distribution for each of its path prefixes, so the console calls its own origin (no CORS,
no second URL). `maestro console publish` uploads the files and their config.json after a deploy. Must never
cache an API answer, nor make the bucket readable by anyone but the distribution."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra_cdk.constructs.nag import acknowledge
from infra_cdk.constructs.storage import private_bucket

INDEX = """function handler(event) {
  var request = event.request;
  if (request.uri === "/console" || request.uri === "/console/") request.uri = "/console/index.html";
  return request;
}"""


class Console(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, access_logs: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self, "Files", server_access_logs_bucket=access_logs, server_access_logs_prefix="console/"
        )
        index = cloudfront.Function(
            self,
            "Index",
            code=cloudfront.FunctionCode.from_inline(INDEX),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="/console/ is the console's index.html",
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Maestro ML: the web console (/console/) and the API",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=index, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
        )
        for rule, reason in (
            (
                "AwsSolutions-CFR1",
                "The console serves every country its users work from; the API authorizes.",
            ),
            (
                "AwsSolutions-CFR2",
                "WAF is billed per web ACL and rule; deployers attach theirs by account policy.",
            ),
            (
                "AwsSolutions-CFR3",
                "Standard logs need an ACL-enabled bucket; the API logs every request it serves.",
            ),
            (
                "AwsSolutions-CFR4",
                "The default *.cloudfront.net certificate; a custom domain brings TLS 1.2 only.",
            ),
        ):
            acknowledge(self.distribution, rule, reason)
        self.url = f"https://{self.distribution.distribution_domain_name}"
        CfnOutput(Stack.of(self), "ConsoleUrl", value=f"{self.url}/console/", description="The web console")
        CfnOutput(Stack.of(self), "ConsoleBucketName", value=self.bucket.bucket_name)
        CfnOutput(Stack.of(self), "ConsoleDistributionId", value=self.distribution.distribution_id)

    def serve_api(self, api_id: str, prefixes: Iterable[str]) -> None:
        """Every API path prefix (`/ab`, `/api`, `/whoami`, ...) to the HTTP API's default stage, uncached,
        with the caller's headers (its Authorization) but not its Host."""
        stack = Stack.of(self)
        origin = origins.HttpOrigin(
            f"{api_id}.execute-api.{stack.region}.{stack.url_suffix}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        )
        for prefix in sorted(set(prefixes)):
            self.distribution.add_behavior(
                f"{prefix}*",
                origin,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            )
