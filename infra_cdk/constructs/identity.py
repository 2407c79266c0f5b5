"""Who callers are: a Cognito user pool (default) or an external OIDC issuer, and the JWT authorizer for it.
Must never accept a token whose issuer and audience are not pinned."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra_cdk.constructs.nag import acknowledge
from maestro.core.rbac import ROLES


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    audience: list[str]


class Identity(Construct):
    """`tenant_claim` and `roles_claim` tell the functions where the tenant and roles are in a token."""

    def __init__(self, scope: Construct, construct_id: str, *, oidc: OidcConfig | None) -> None:
        super().__init__(scope, construct_id)
        self.user_pool: cognito.UserPool | None = None
        self.user_pool_client: cognito.UserPoolClient | None = None
        if oidc:
            self.authorizer: apigw.IHttpRouteAuthorizer = authorizers.HttpJwtAuthorizer(
                "OidcAuthorizer", oidc.issuer, jwt_audience=oidc.audience
            )
            return
        pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,  # tenant admins invite users; nobody signs themselves into a tenant
            sign_in_aliases=cognito.SignInAliases(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            custom_attributes={"tenant": cognito.StringAttribute(min_len=1, max_len=63, mutable=False)},
            removal_policy=RemovalPolicy.RETAIN,
        )
        for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
            acknowledge(
                pool,
                rule,
                "Threat protection needs the Plus feature plan, billed per user; deployers opt in by "
                "account policy. MFA is required and self sign-up is off.",
            )
        client = pool.add_client(
            "ApiClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            # Clients must not rewrite their own tenant.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True, fullname=True),
        )
        for role in ROLES:
            cognito.CfnUserPoolGroup(
                self,
                f"Group-{role}",
                user_pool_id=pool.user_pool_id,
                group_name=role,
                description=f"Maestro ML role {role}",
            )
        self.user_pool, self.user_pool_client = pool, client
        self.authorizer = authorizers.HttpUserPoolAuthorizer(
            "CognitoAuthorizer", pool, user_pool_clients=[client]
        )
