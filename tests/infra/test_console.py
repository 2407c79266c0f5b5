"""The web console on the template: its files in a private bucket that only the distribution reads (origin
access control), /console/ given its index by a CloudFront Function, every API path prefix passed to the HTTP
API uncached with the caller's Authorization, and a Cognito client for the hosted UI (code grant, back to the
console) whose tokens the API's authorizer accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.infra.test_stack import resources

ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def distribution(synthesized: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    (found,) = resources(synthesized, "AWS::CloudFront::Distribution").values()
    config: dict[str, Any] = found["Properties"]["DistributionConfig"]
    return config


def test_the_console_bucket_is_read_by_the_distribution_alone(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    config = distribution(synthesized)
    (origin,) = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert "OriginAccessControlId" in origin
    bucket_id = origin["DomainName"]["Fn::GetAtt"][0]
    bucket = resources(synthesized, "AWS::S3::Bucket")[bucket_id]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    (policy,) = [
        p
        for p in resources(synthesized, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    readers = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in readers] == [{"Service": "cloudfront.amazonaws.com"}]
    (association,) = config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"


def test_every_api_prefix_reaches_the_api_uncached_with_the_callers_authorization(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    routes = resources(synthesized, "AWS::ApiGatewayV2::Route").values()
    prefixes = {"/" + r["Properties"]["RouteKey"].split(" ", 1)[1].strip("/").split("/")[0] for r in routes}
    behaviors = {b["PathPattern"]: b for b in distribution(synthesized)["CacheBehaviors"]}
    assert set(behaviors) == {f"{p}*" for p in prefixes} and "/api*" in behaviors and "/whoami*" in behaviors
    for behavior in behaviors.values():
        assert behavior["CachePolicyId"] == CACHING_DISABLED
        assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
        assert set(behavior["AllowedMethods"]) >= {"GET", "POST", "PUT", "PATCH", "DELETE"}
        assert behavior["ViewerProtocolPolicy"] == "https-only"


def test_the_hosted_ui_signs_users_into_the_console_and_the_api_accepts_them(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    clients = resources(synthesized, "AWS::Cognito::UserPoolClient")
    (console_id,) = [lid for lid in clients if "ConsoleClient" in lid]
    console = clients[console_id]["Properties"]
    assert console["AllowedOAuthFlows"] == ["code"] and console.get("GenerateSecret") is False
    assert console["AllowedOAuthFlowsUserPoolClient"] is True and console["SupportedIdentityProviders"] == [
        "COGNITO"
    ]
    assert "openid" in console["AllowedOAuthScopes"]
    callback = console["CallbackURLs"][0]["Fn::Join"][1]
    assert (
        any(isinstance(part, dict) and "Fn::GetAtt" in part for part in callback)
        and callback[-1] == "/console/"
    )
    (authorizer,) = resources(synthesized, "AWS::ApiGatewayV2::Authorizer").values()
    audiences = authorizer["Properties"]["JwtConfiguration"]["Audience"]
    assert {"Ref": console_id} in audiences and len(audiences) == 2
    (domain,) = resources(synthesized, "AWS::Cognito::UserPoolDomain").values()
    prefix = domain["Properties"]["Domain"]["Fn::Join"][1]
    assert prefix == ["maestro-dev-", {"Ref": "AWS::AccountId"}]  # one hosted UI per stage of an account
