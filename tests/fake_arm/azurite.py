"""The blob data plane: a real Azurite blob service, reached over HTTPS with OAuth.

Every fake storage account's `primaryEndpoints.blob` is the one Azurite account given by
`--blob-endpoint` (path style, `https://127.0.0.1:PORT/devstoreaccount1/`), so containers of
different fake accounts share one namespace there. The fake mirrors what the resource
provider would do on the data plane: a container resource created through ARM is created
in Azurite, and Azure Image Builder's `customization.log` is uploaded there.

Requests carry a bearer token for https://storage.azure.com minted by the fake's issuer;
Azurite's `--oauth basic` checks its audience, issuer shape and time window (not the
signature), which is why those tokens use the real clock (see tokens.TokenIssuer.mint).
"""

from __future__ import annotations

import email.utils
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable

from . import errors

X_MS_VERSION = "2021-12-02"


class Azurite:
    def __init__(self, endpoint: str, ca_file: str | None, token: Callable[[], str]):
        self.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self._token = token
        self._ctx = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()

    def _call(self, method: str, path: str, data: bytes | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        url = self.endpoint + path
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self._token())
        req.add_header("x-ms-version", X_MS_VERSION)
        req.add_header("x-ms-date", email.utils.formatdate(usegmt=True))
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, context=self._ctx, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            raise errors.ArmError(500, "InternalServerError",
                                  f"The fake ARM endpoint could not reach the blob endpoint {self.endpoint}: {exc}")

    def _check(self, what: str, status: int, body: bytes, ok: tuple[int, ...]) -> None:
        if status not in ok:
            raise errors.ArmError(500, "InternalServerError",
                                  f"The fake ARM endpoint could not {what} on {self.endpoint}: HTTP {status} "
                                  f"{body[:300].decode(errors='replace')}")

    def create_container(self, name: str) -> None:
        status, body = self._call("PUT", f"{urllib.parse.quote(name)}?restype=container", b"")
        self._check(f"create container '{name}'", status, body, (201, 409))  # 409: already exists

    def delete_container(self, name: str) -> None:
        status, body = self._call("DELETE", f"{urllib.parse.quote(name)}?restype=container")
        self._check(f"delete container '{name}'", status, body, (202, 404))

    def put_blob(self, container: str, blob: str, data: bytes, content_type: str = "text/plain") -> str:
        path = f"{urllib.parse.quote(container)}/{urllib.parse.quote(blob)}"
        status, body = self._call("PUT", path, data, {"x-ms-blob-type": "BlockBlob", "Content-Type": content_type})
        self._check(f"upload '{container}/{blob}'", status, body, (201,))
        return self.endpoint + path

    def get_blob(self, container: str, blob: str) -> bytes | None:
        status, body = self._call("GET", f"{urllib.parse.quote(container)}/{urllib.parse.quote(blob)}")
        if status == 404:
            return None
        self._check(f"download '{container}/{blob}'", status, body, (200,))
        return body


# ----------------------------------------------------------------------------- function API
# (endpoint, ..., token) helpers used by service.py. TLS trust: the CA file given to
# `configure`, else $FAKE_ARM_CA_FILE (set by __main__), else $SSL_CERT_FILE, else the system store.

_CA_FILE: list[str | None] = [None]


def configure(ca_file: str | None) -> None:
    _CA_FILE[0] = ca_file


def _client(endpoint: str, token: str) -> Azurite:
    import os
    ca = _CA_FILE[0] or os.environ.get("FAKE_ARM_CA_FILE") or os.environ.get("SSL_CERT_FILE")
    return Azurite(endpoint, ca, lambda: token)


def create_container(endpoint: str, name: str, token: str) -> bool:
    """Create the container (True when it exists afterwards); raises ArmError when unreachable."""
    _client(endpoint, token).create_container(name)
    return True


def put_blob(endpoint: str, container: str, blob: str, data: bytes, token: str) -> str:
    client = _client(endpoint, token)
    client.create_container(container)
    return client.put_blob(container, blob, data)


def get_blob(endpoint: str, container: str, blob: str, token: str) -> bytes | None:
    return _client(endpoint, token).get_blob(container, blob)
