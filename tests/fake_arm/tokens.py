"""Access tokens: a fake Entra ID token endpoint, managed-identity endpoints, and verification.

Tokens are JWTs signed with HS256 under a per-process secret (so nothing outside this fake
can mint or check them). Claims follow Entra's access tokens: aud, iss, tid, oid, appid,
iat, nbf, exp. ARM accepts the management audiences; the blob data plane the storage one.

Ways to get a token (README.md has examples):
  * POST /{tenant}/oauth2/v2.0/token   client credentials (client_id, client_secret, scope)
  * POST /{tenant}/oauth2/token        the v1 form (resource instead of scope)
  * GET  /metadata/identity/oauth2/token?resource=...   IMDS shape, header `Metadata: true`
  * GET  /msi/token?resource=...&api-version=2019-08-01 App Service shape, header X-IDENTITY-HEADER
  * POST /_fake/token                  test helper (no credentials), used by the az CLI stub
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from . import errors

ARM_AUDIENCES = ["https://management.core.windows.net/", "https://management.core.windows.net",
                 "https://management.azure.com/", "https://management.azure.com"]
STORAGE_AUDIENCES = ["https://storage.azure.com/", "https://storage.azure.com"]


class Clock:
    """Wall-clock time plus an offset that tests move forward (token expiry, timed LROs)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def iso(self, at: float | None = None) -> str:
        t = self.now() if at is None else at
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1e7):07d}Z"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _dotnet_time(t: float) -> str:
    """How ARM prints times in ExpiredAuthenticationToken: '1/2/2025 10:04:05 AM'."""
    g = time.gmtime(t)
    hour = g.tm_hour % 12 or 12
    return f"{g.tm_mon}/{g.tm_mday}/{g.tm_year} {hour}:{g.tm_min:02d}:{g.tm_sec:02d} {'AM' if g.tm_hour < 12 else 'PM'}"


def scope_to_audience(scope: str) -> str:
    """'https://management.azure.com/.default' -> 'https://management.azure.com/'."""
    scope = scope.split()[0] if scope else ""
    return scope[: -len(".default")] if scope.endswith(".default") else scope


@dataclass
class Claims:
    oid: str
    tid: str
    aud: str
    appid: str
    exp: float
    raw: dict


class TokenIssuer:
    def __init__(self, clock: Clock, scenario) -> None:
        self.clock = clock
        self.scenario = scenario
        self.secret = secrets.token_bytes(32)

    # -- minting ----------------------------------------------------------------------

    def mint(self, *, oid: str, appid: str, audience: str, tenant: str | None = None,
             lifetime: float | None = None) -> tuple[str, float]:
        # Storage tokens are checked by Azurite against the real wall clock (nbf/exp), so
        # they ignore the fake clock's offset; ARM tokens follow the fake clock.
        now = time.time() if audience in STORAGE_AUDIENCES else self.clock.now()
        if lifetime is None:
            lifetime = float(self.scenario.get("token_lifetime_seconds", 3600))
        tid = tenant or self.scenario["tenant_id"]
        payload = {
            "aud": audience, "iss": f"https://sts.windows.net/{tid}/", "iat": int(now), "nbf": int(now),
            "exp": int(now + lifetime), "tid": tid, "oid": oid, "sub": oid, "appid": appid,
            "idtyp": "app", "ver": "1.0", "uti": uuid.uuid4().hex[:22],
        }
        header = {"typ": "JWT", "alg": "HS256", "kid": "fake-arm"}
        signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
        signature = hmac.new(self.secret, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(signature), now + lifetime

    def mint_raw(self, payload: dict) -> str:
        """A signed JWT with exactly these claims (federated / OIDC tokens)."""
        header = {"typ": "JWT", "alg": "HS256", "kid": "fake-arm"}
        signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
        signature = hmac.new(self.secret, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(signature)

    def decode(self, token: str) -> dict | None:
        """The claims of a token this issuer signed, or None (bad shape or signature)."""
        parts = token.strip().split(".")
        if len(parts) != 3:
            return None
        try:
            expected = hmac.new(self.secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                return None
            return json.loads(_unb64(parts[1]))
        except (ValueError, json.JSONDecodeError):
            return None

    def mint_federated(self, subject: str, issuer_url: str, lifetime: float = 3600) -> str:
        now = self.clock.now()
        return self.mint_raw({"aud": FEDERATED_AUDIENCE, "iss": issuer_url, "sub": subject, "iat": int(now),
                              "nbf": int(now), "exp": int(now + lifetime), "jti": uuid.uuid4().hex})

    def check_assertion(self, token: str) -> str | None:
        """Why a client assertion is refused (Entra's wording, abridged), or None."""
        claims = self.decode(token)
        if claims is None:
            return "Client assertion failed signature validation."
        if claims.get("aud") != FEDERATED_AUDIENCE:
            return (f"Client assertion audience claim does not match Realm issuer. Review the documentation at "
                    f"https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-"
                    f"credentials . Audience: '{claims.get('aud')}'.")
        if claims.get("exp", 0) <= self.clock.now():
            return "Client assertion is not within its valid time range."
        return None

    def client(self, client_id: str) -> dict | None:
        for c in self.scenario["clients"]:
            if c["client_id"].lower() == client_id.lower():
                return c
        return None

    # -- verification ---------------------------------------------------------------------

    def verify(self, header: str | None, audiences: list[str]) -> Claims:
        """Claims of a valid bearer token, or an ArmError (401) as ARM words it."""
        if not header:
            raise errors.auth_missing()
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.auth_bad_format()
        parts = token.strip().split(".")
        if len(parts) != 3:
            raise errors.token_invalid()
        try:
            expected = hmac.new(self.secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                raise errors.token_invalid()
            payload = json.loads(_unb64(parts[1]))
        except (ValueError, json.JSONDecodeError):
            raise errors.token_invalid() from None
        now = self.clock.now()
        if payload["exp"] <= now:
            raise errors.token_expired(_dotnet_time(payload["exp"]), _dotnet_time(now))
        if payload["aud"] not in audiences:
            raise errors.token_wrong_audience(payload["aud"], audiences)
        return Claims(payload["oid"], payload["tid"], payload["aud"], payload["appid"], payload["exp"], payload)


# ----------------------------------------------------------------------------- endpoints

def _entra_error(status: int, error: str, code: int, description: str) -> tuple[int, dict]:
    now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    return status, {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {corr} Timestamp: {now}",
        "error_codes": [code], "timestamp": now, "trace_id": trace, "correlation_id": corr,
    }


FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def entra_token(issuer: TokenIssuer, tenant: str, form: dict[str, str], v2: bool) -> tuple[int, dict]:
    """The client-credentials grant of login.microsoftonline.com, v2.0 (scope) or v1 (resource).

    The client proves itself with `client_secret`, or with `client_assertion` (workload
    identity federation: a JWT this fake issued for audience api://AzureADTokenExchange, as
    GET /_fake/federated-token and POST /_fake/oidc hand out)."""
    if tenant.lower() not in (issuer.scenario["tenant_id"].lower(), "organizations", "common"):
        return _entra_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
    if form.get("grant_type") != "client_credentials":
        return _entra_error(400, "unsupported_grant_type", 70003,
                            "The app requested an unsupported grant type.")
    client = issuer.client(form.get("client_id", ""))
    if client is None:
        return _entra_error(400, "unauthorized_client", 700016,
                            f"Application with identifier '{form.get('client_id', '')}' was not found in the "
                            f"directory '{tenant}'.")
    if "client_assertion" in form:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return _entra_error(400, "invalid_request", 90002,
                                f"The client_assertion_type must be '{ASSERTION_TYPE}'.")
        problem = issuer.check_assertion(form["client_assertion"])
        if problem:
            return _entra_error(400, "invalid_client", 700211 if "issuer" in problem else 700024, problem)
    elif not hmac.compare_digest(form.get("client_secret", ""), client["client_secret"]):
        return _entra_error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                            "being sent in the request is the client secret value, not the client secret ID.")
    if v2:
        scope = form.get("scope", "")
        if not scope.endswith("/.default"):
            return _entra_error(400, "invalid_scope", 1002012,
                                f"The provided value for scope {scope} is not valid. Client credential flows "
                                "must have a scope value with /.default suffixed to the resource identifier "
                                "(application ID URI).")
        audience = scope_to_audience(scope)
    else:
        audience = form.get("resource", "")
    if audience not in ARM_AUDIENCES + STORAGE_AUDIENCES:
        return _entra_error(400, "invalid_resource", 500011,
                            f"The resource principal named {audience} was not found in the tenant.")
    token, expires = issuer.mint(oid=client["object_id"], appid=client["client_id"], audience=audience,
                                 tenant=issuer.scenario["tenant_id"])
    lifetime = int(float(issuer.scenario.get("token_lifetime_seconds", 3600)))
    body: dict[str, Any] = {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                            "access_token": token}
    if not v2:
        body.update({"expires_on": str(int(expires)), "not_before": str(int(expires - lifetime)),
                     "resource": audience})
    return 200, body


def managed_identity_token(issuer: TokenIssuer, resource: str, style: str) -> tuple[int, dict]:
    """IMDS (style 'imds') or App Service (style 'appservice') token response."""
    if resource.endswith("/.default"):
        resource = scope_to_audience(resource)
    if resource not in ARM_AUDIENCES + STORAGE_AUDIENCES:
        return 400, {"error": "invalid_resource", "error_description": f"AADSTS500011: The resource principal "
                     f"named {resource} was not found in the tenant."}
    mi = issuer.scenario["managed_identity"]
    token, expires = issuer.mint(oid=mi["object_id"], appid=mi["client_id"], audience=resource)
    lifetime = int(float(issuer.scenario.get("token_lifetime_seconds", 3600)))
    if style == "imds":
        return 200, {"access_token": token, "client_id": mi["client_id"],
                     "expires_in": str(lifetime), "expires_on": str(int(expires)),
                     "ext_expires_in": str(lifetime),
                     "not_before": str(int(expires - lifetime)), "resource": resource, "token_type": "Bearer"}
    return 200, {"access_token": token, "expires_on": str(int(expires)), "resource": resource,
                 "token_type": "Bearer", "client_id": mi["client_id"]}
