"""Local JWTs: signed by a key kept in the local state folder, verified by the local gateway the way
API Gateway's JWT authorizer verifies (issuer, audience, expiry, signature).
Must never be used outside local mode."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://maestro.local/issuer"
AUDIENCE = "maestro-local"
DEFAULT_TTL_S = 12 * 3600


class InvalidToken(Exception):
    pass


class LocalTokens:
    def __init__(self, state_dir: Path) -> None:
        self.key_path = Path(state_dir) / "jwt-signing-key.pem"
        self._private_key = self._load_or_create()
        self._public_key = self._private_key.public_key()

    def _load_or_create(self) -> rsa.RSAPrivateKey:
        if self.key_path.exists():
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key
        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return key

    def issue(
        self,
        *,
        tenant: str,
        roles: list[str],
        subject: str | None = None,
        ttl_s: int = DEFAULT_TTL_S,
        tenant_claim: str = "custom:tenant",
        roles_claim: str = "cognito:groups",
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject or f"local-user@{tenant}",
            "iat": now,
            "exp": now + ttl_s,
            "jti": str(uuid.uuid4()),
            tenant_claim: tenant,
            roles_claim: list(roles),
        }
        return jwt.encode(claims, self._private_key, algorithm="RS256")

    def verify(self, token: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc


def register_tenant(url: str, tokens: LocalTokens, tenant: str) -> None:
    """Register `tenant` on the running local platform as its operator would (POST /tenants, as the platform
    tenant's admin), so a local token for it is admitted; an existing tenant is left as it is."""
    import requests

    from maestro.core.settings import get_settings

    settings = get_settings()
    if tenant == settings.platform_tenant:  # built in
        return
    operator = tokens.issue(
        tenant=settings.platform_tenant,
        roles=["admin"],
        subject="local-operator",
        tenant_claim=settings.tenant_claim,
        roles_claim=settings.roles_claim,
    )
    response = requests.post(
        f"{url}/tenants",
        json={"tenant_id": tenant, "name": tenant},
        headers={"Authorization": f"Bearer {operator}"},
        timeout=60,
    )
    if response.status_code not in (201, 409):
        raise RuntimeError(f"could not register tenant {tenant!r}: {response.status_code} {response.text}")


def claims_as_api_gateway_passes_them(claims: dict[str, Any]) -> dict[str, str]:
    """HTTP API payload 2.0 hands every claim on as a string; arrays become "[a b c]"."""
    out = {}
    for key, value in claims.items():
        if isinstance(value, list):
            out[key] = "[" + " ".join(str(v) for v in value) + "]"
        else:
            out[key] = str(value)
    return out
