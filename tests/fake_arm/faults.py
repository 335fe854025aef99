"""Network and identity faults beyond a scripted status code (README: "faults", "cae", "storage.proxy").

A fault rule's `kind` says what goes wrong on the wire:

- `html`: a 200 whose body is not JSON (a proxy's or captive portal's page), `body` to choose it;
  the request never reaches ARM.
- `reset`: ARM answers, but the connection is reset (TCP RST) half-way through the body.
- `truncate`: ARM answers, but the connection is closed cleanly half-way through the body
  (Content-Length promises more than arrives).
- `stall`: nothing comes back for `seconds` (default 30), then the connection is closed; the
  request never reaches ARM.

Continuous access evaluation: `POST /_fake/revoke` revokes every token issued so far (a password
reset, a disabled account, a changed IP policy); ARM then answers 401 with a claims challenge in
`WWW-Authenticate` (error="insufficient_claims", claims=base64 JSON asking for a token issued after
the revocation), as Entra ID documents: "A claims challenge is a response sent from an API
indicating that an access token sent by a client application has insufficient claims. This can be
because the token doesn't satisfy the Conditional Access policies set for that API, or the access
token has been revoked." Scenario `cae.challenge_all: true` answers every token that way (a
Conditional Access policy the identity can never satisfy).

The blob proxy: with scenario `storage.proxy: true`, storage accounts' blob endpoints point at
`/_blob/` on the fake, which forwards to Azurite after applying fault rules, so uploads can fail
the way ARM requests do.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import struct
import time
import urllib.error
import urllib.request
from typing import Any

from . import errors

DAMAGE = ("reset", "truncate")
PROXY_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Access denied</title></head><body><h1>Web filter</h1>"
              b"<p>The request to this site was blocked by the corporate proxy. Reference: 7731-ab.</p>"
              b"</body></html>\n")


class Stalled(Exception):
    """Raised by Service.handle for a `stall` fault: the server sends nothing and closes."""

    def __init__(self, seconds: float):
        super().__init__(f"stalled {seconds} s")
        self.seconds = seconds


def html_body(fault: dict) -> bytes:
    body = fault.get("body")
    return body.encode() if isinstance(body, str) else PROXY_PAGE


def write_damaged(handler, status: int, headers: dict[str, str], data: bytes, kind: str) -> None:
    """Status line, headers and the full Content-Length, then half the body, then a reset or a
    clean close: what a dying load balancer or a proxy's idle timeout does."""
    handler.send_response(status)
    for k, v in headers.items():
        handler.send_header(k, v)
    promised = max(len(data), 64)
    if not any(k.lower() == "content-type" for k in headers):
        handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(promised))
    handler.end_headers()
    handler.wfile.write(data[: len(data) // 2])
    handler.wfile.flush()
    handler.close_connection = True
    conn = handler.connection
    try:
        if kind == "reset":
            # SO_LINGER 0: close() sends RST instead of FIN.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock = socket.socket(fileno=conn.detach()) if isinstance(conn, ssl.SSLSocket) else conn
            sock.close()
        else:
            conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def stall(handler, seconds: float) -> None:
    time.sleep(seconds)
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# ----------------------------------------------------------------------------- CAE

def claims_challenge(revoked_at: float) -> str:
    """The base64 claims request CAE puts in WWW-Authenticate: a token issued after `revoked_at`."""
    claims = {"access_token": {"nbf": {"essential": True, "value": str(int(revoked_at))}}}
    return base64.b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode()


def cae_check(svc, token: str) -> None:
    """401 with a claims challenge for a revoked token (or every token under `challenge_all`)."""
    revoked = token in svc.revoked_tokens
    if not revoked and not svc.scenario.option("cae", "challenge_all", False):
        return
    at = svc.revoked_at or svc.clock.now()
    # Wording guessed: ARM's body for a CAE rejection is not published.
    err = errors.ArmError(401, "InvalidAuthenticationToken",
                          "The access token has been revoked or does not satisfy the Conditional Access policy "
                          "(continuous access evaluation); a new token with the requested claims is required.")
    err.headers["WWW-Authenticate"] = (
        f'Bearer authorization_uri="{svc.base_url}/{svc.scenario["tenant_id"]}", error="insufficient_claims", '
        f'claims="{claims_challenge(at)}"')
    raise err


def revoke(svc) -> dict:
    svc.revoked_tokens.update(svc.issued)
    svc.revoked_at = svc.clock.now()
    return {"revoked": len(svc.revoked_tokens), "at": svc.revoked_at}


# ----------------------------------------------------------------------------- blob proxy

HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding", "keep-alive"}


def proxy_blob(svc, method: str, path: str, query: str, headers: dict[str, str], raw: bytes,
               ca_file: str | None) -> tuple[int, dict[str, str], bytes]:
    """Forwards `/_blob/<account>/...` to Azurite, unless a fault rule for the path answers first."""
    upstream = svc.blob_endpoint.rsplit("/", 2)[0] + "/" + path[len("/_blob/"):]
    if query:
        upstream += "?" + query
    req = urllib.request.Request(upstream, data=raw if method in ("PUT", "POST", "PATCH") else None, method=method)
    for k, v in headers.items():
        if k.lower() not in HOP_BY_HOP:
            req.add_header(k, v)
    ctx = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return r.status, {k: v for k, v in r.headers.items() if k.lower() not in HOP_BY_HOP}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k: v for k, v in e.headers.items() if k.lower() not in HOP_BY_HOP}, e.read()


def proxied_endpoint(svc) -> str:
    account = svc.blob_endpoint.rstrip("/").rsplit("/", 1)[-1]
    return f"{svc.base_url}/_blob/{account}/"


def fault_for(svc, method: str, path: str) -> dict | None:
    return svc.scenario.match_fault(method, path)


def log_fault(svc, entry: dict[str, Any], fault: dict) -> None:
    entry["fault"] = fault.get("kind") or ("drop" if fault.get("drop") else fault.get("status"))
