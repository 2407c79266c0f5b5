"""Who callers are: a Cognito user pool (default) or an external OIDC issuer, and the JWT authorizer for it.
Must never accept a token whose issuer and audience are not pinned."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Aws, CfnOutput, Duration, RemovalPolicy, Stack
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

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        oidc: OidcConfig | None,
        console_url: str | None = None,
        stage: str = "dev",
    ) -> None:
        """`console_url`: the web console's origin, where Cognito's hosted UI sends its users back. `stage`
        names the hosted UI's domain with the account (maestro-<stage>-<account>), so two stages of one
        account each get their own."""
        super().__init__(scope, construct_id)
        self.stage = re.sub(r"[^a-z0-9-]+", "-", stage.lower()).strip("-")[:20] or "dev"
        self.console_client: cognito.UserPoolClient | None = None
        self.domain: cognito.UserPoolDomain | None = None
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
        clients = [client]
        if console_url:
            clients.append(self._console(pool, console_url))
        self.authorizer = authorizers.HttpUserPoolAuthorizer(
            "CognitoAuthorizer", pool, user_pool_clients=clients
        )

    def _console(self, pool: cognito.UserPool, console_url: str) -> cognito.UserPoolClient:
        """The console signs users in on Cognito's hosted UI: authorization code with PKCE, no secret (it runs
        in the browser), back to the console's own page."""
        self.domain = pool.add_domain(
            "HostedUi",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=f"maestro-{self.stage}-{Aws.ACCOUNT_ID}"
            ),
        )
        self.console_client = pool.add_client(
            "ConsoleClient",
            generate_secret=False,
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[f"{console_url}/console/"],
                logout_urls=[f"{console_url}/console/"],
            ),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True, fullname=True),
        )
        stack = Stack.of(self)
        CfnOutput(stack, "ConsoleClientId", value=self.console_client.user_pool_client_id)
        CfnOutput(stack, "HostedUiUrl", value=self.domain.base_url(), description="Cognito's sign-in pages")
        return self.console_client
