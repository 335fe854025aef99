"""HTTPS front end: Entra ID token endpoints, managed-identity and Azure Pipelines OIDC
endpoints, the test controls under /_fake/, and everything else to Service.handle.

One origin serves it all (https://127.0.0.1:PORT), so one CA file and one `--arm-endpoint`
/ `--authority-host` pair point the binary at it.
"""

from __future__ import annotations

import hmac
import json
import os
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import faults, tokens
from .service import Response, Service

FEDERATED_AUDIENCE = "api://AzureADTokenExchange"


class Secrets:
    """What the fake hands out besides tokens: the pipeline's access token."""

    def __init__(self) -> None:
        import secrets as _s
        self.system_access_token = "fake-system-access-token-" + _s.token_hex(12)


def make_handler(svc: Service, extra: Secrets):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet: the request log has it all
            pass

        # -- plumbing -----------------------------------------------------------------

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if body is not None and not isinstance(body, bytes):
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data and self.command != "HEAD":
                self.wfile.write(data)

        def _dispatch(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            raw = self._body()
            path = url.path
            seg = [s for s in path.split("/") if s]
            try:
                if seg[:1] == ["_fake"]:
                    return self._fake(seg[1:], query, raw)
                if seg[:1] == ["_blob"]:
                    return self._blob(path, url.query, raw)
                if len(seg) >= 3 and seg[1] == "oauth2" and seg[-1] == "token":
                    return self._entra(seg[0], raw, v2=seg[2:3] == ["v2.0"])
                if path == "/msi/token":
                    return self._msi(query)
                headers = {k.lower(): v for k, v in self.headers.items()}
                body = None
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except json.JSONDecodeError:
                        return self._send(400, {"error": {"code": "InvalidRequestContent", "message":
                                                          "The request content was invalid and could not be deserialized."}})
                query["__path__"] = path
                resp = svc.handle(self.command, path, {k: v for k, v in query.items()}, headers, body)
                query.pop("__path__", None)
                if resp.damage:
                    body_bytes = resp.body if isinstance(resp.body, bytes) else json.dumps(resp.body).encode()
                    return faults.write_damaged(self, resp.status, resp.headers, body_bytes, resp.damage)
                self._send(resp.status, resp.body, resp.headers)
            except faults.Stalled as st:
                faults.stall(self, st.seconds)
            except ConnectionAbortedError:
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _dispatch

        # -- the blob proxy (faults.proxy_blob) -------------------------------------------

        def _blob(self, path: str, query: str, raw: bytes) -> None:
            entry = {"method": self.command, "path": path, "query": {}, "source": "blob", "body": None,
                     "changed": None, "status": 0}
            fault = svc.scenario.match_fault(self.command, path)
            if fault is not None:
                faults.log_fault(svc, entry, fault)
                if fault.get("kind") == "stall":
                    entry["status"] = -2
                    svc.log(entry)
                    return faults.stall(self, float(fault.get("seconds", 30)))
                if fault.get("drop"):
                    entry["status"] = -1
                    svc.log(entry)
                    raise ConnectionAbortedError("fault: dropped connection")
                if fault.get("kind") not in faults.DAMAGE:
                    status = int(fault.get("status", 503))
                    entry["status"] = status
                    svc.log(entry)
                    code = {500: "InternalError", 503: "ServerBusy"}.get(status, "InjectedFault")
                    xml = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
                           f"<Message>Injected fault.</Message></Error>").encode()
                    return self._send(status, xml, {"Content-Type": "application/xml", "x-ms-error-code": code})
            headers = {k: v for k, v in self.headers.items()}
            status, out_headers, body = faults.proxy_blob(svc, self.command, path, query, headers, raw,
                                                          os.environ.get("FAKE_ARM_CA_FILE"))
            entry["status"] = status
            svc.log(entry)
            if fault is not None:
                return faults.write_damaged(self, status, out_headers, body, fault["kind"])
            self._send(status, body, out_headers)

        # -- Entra ID -------------------------------------------------------------------

        def _mint(self, oid: str, appid: str, audience: str) -> tuple[str, float]:
            token, expires = svc.issuer.mint(oid=oid, appid=appid, audience=audience)
            svc.issued.append(token)
            return token, expires

        def _entra(self, tenant: str, raw: bytes, v2: bool) -> None:
            form = dict(urllib.parse.parse_qsl(raw.decode()))
            svc.log({"method": "POST", "path": f"/{tenant}/oauth2/token", "query": {}, "source": "entra",
                     "body": {"grant_type": form.get("grant_type"), "client_id": form.get("client_id"),
                              "scope": form.get("scope") or form.get("resource"),
                              "assertion": "client_assertion" in form}, "changed": None, "status": 0})
            if "client_assertion" in form:
                return self._assertion(tenant, form)
            status, body = tokens.entra_token(svc.issuer, tenant, form, v2)
            if status == 200:
                svc.issued.append(body["access_token"])
            svc.requests[-1]["status"] = status
            self._send(status, body)

        def _assertion(self, tenant: str, form: dict) -> None:
            """client_credentials with a federated token (workload identity, Azure Pipelines)."""
            try:
                claims = svc.issuer.verify("Bearer " + form["client_assertion"], [FEDERATED_AUDIENCE])
            except Exception:
                svc.requests[-1]["status"] = 401
                return self._send(401, {"error": "invalid_client", "error_description":
                                        "AADSTS700211: No matching federated identity record found for presented "
                                        "assertion issuer."})
            client = svc.issuer.client(form.get("client_id", ""))
            if client is None or claims.appid.lower() != client["client_id"].lower():
                svc.requests[-1]["status"] = 400
                return self._send(400, {"error": "unauthorized_client", "error_description":
                                        "AADSTS700016: Application not found in the directory."})
            audience = tokens.scope_to_audience(form.get("scope", ""))
            token, expires = self._mint(client["object_id"], client["client_id"], audience)
            lifetime = int(expires - svc.clock.now())
            svc.requests[-1]["status"] = 200
            self._send(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                             "access_token": token})

        def _msi(self, query: dict) -> None:
            want = svc.scenario["managed_identity"]["header"]
            if not hmac.compare_digest(self.headers.get("X-IDENTITY-HEADER", ""), want):
                return self._send(401, {"error": "invalid_request", "error_description": "missing X-IDENTITY-HEADER"})
            status, body = tokens.managed_identity_token(svc.issuer, query.get("resource", ""), "appservice")
            if status == 200:
                svc.issued.append(body["access_token"])
            self._send(status, body)

        # -- test controls and the pipeline's OIDC endpoint -------------------------------

        def _federated(self) -> str:
            client = svc.scenario["clients"][0]
            token, _ = self._mint(client["object_id"], client["client_id"], FEDERATED_AUDIENCE)
            return token

        def _fake(self, seg: list[str], query: dict, raw: bytes) -> None:
            what = seg[0] if seg else ""
            data = json.loads(raw) if raw.strip() else {}
            if what == "oidc":
                auth = self.headers.get("Authorization", "")
                if not hmac.compare_digest(auth, f"Bearer {extra.system_access_token}") or \
                        not query.get("serviceConnectionId"):
                    return self._send(401, {"message": "TF400813: The user is not authorized to access this resource."})
                return self._send(200, {"oidcToken": self._federated()})
            if what == "federated-token":
                return self._send(200, self._federated().encode(), {"Content-Type": "text/plain"})
            if what == "token":
                client = svc.scenario["clients"][0]
                resource = data.get("resource") or tokens.scope_to_audience(data.get("scope", ""))
                token, expires = self._mint(client["object_id"], client["client_id"], resource)
                return self._send(200, {"accessToken": token, "expires_on": int(expires),
                                        "expiresOn": svc.clock.iso(expires), "tenant": svc.scenario["tenant_id"],
                                        "subscription": svc.scenario["subscriptions"][0]["id"], "tokenType": "Bearer"})
            if what == "requests":
                with svc.lock:
                    return self._send(200, {"requests": svc.requests})
            if what == "scenario":
                if self.command == "PUT":
                    svc.scenario.replace(data)
                elif self.command == "POST":
                    svc.scenario.merge(data)
                return self._send(200, svc.scenario.data)
            if what == "clock":
                svc.clock.advance(float(data.get("advance", 0)))
                return self._send(200, {"now": svc.clock.now()})
            if what == "issued":
                client = svc.scenario["clients"][0]
                return self._send(200, {"tokens": list(svc.issued), "secrets": [
                    client["client_secret"], extra.system_access_token]})
            if what == "revoke":
                return self._send(200, faults.revoke(svc))
            if what == "reset-log":
                svc.requests.clear()
                return self._send(200, {})
            self._send(404, {"error": {"code": "NotFound", "message": f"no fake control '{what}'"}})

    return Handler


def serve(svc: Service, extra: Secrets, host: str, port: int, cert: str, key: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(svc, extra))
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
