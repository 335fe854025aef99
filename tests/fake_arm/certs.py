"""A throw-away certificate authority and a server certificate for 127.0.0.1 / localhost.

Generated at start-up (ECDSA P-256: fast, and accepted by OpenSSL and rustls/webpki). The CA
certificate is written where the caller asks (the Rust binary trusts it via SSL_CERT_FILE);
the server key never leaves the state directory. With `ca_dir`, the CA (certificate and key)
is kept in that folder and reused, so several servers (the fake ARM endpoint and Azurite)
are trusted through one CA file. Extensions follow what strict verifiers
(webpki) insist on: the CA has critical basicConstraints CA:TRUE and keyCertSign; the leaf has
a subjectAltName (IP 127.0.0.1 and DNS localhost), serverAuth EKU and CA:FALSE.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class CertFiles:
    ca_cert: Path  # PEM, what clients trust
    server_cert: Path  # PEM chain: leaf then CA
    server_key: Path  # PEM, unencrypted


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aibc fake ARM (tests only)"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _new_ca(not_before: dt.datetime, not_after: dt.datetime):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("aibc fake ARM test CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_key, ca_cert


def load_or_create_ca(ca_dir: Path, days: int = 7):
    """(key, certificate) of the CA kept in `ca_dir` (ca.pem, ca-key.pem), created on first use."""
    pem = serialization.Encoding.PEM
    cert_file, key_file = ca_dir / "ca.pem", ca_dir / "ca-key.pem"
    if cert_file.is_file() and key_file.is_file():
        return (serialization.load_pem_private_key(key_file.read_bytes(), password=None),
                x509.load_pem_x509_certificate(cert_file.read_bytes()))
    ca_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, ca_cert = _new_ca(now - dt.timedelta(hours=1), now + dt.timedelta(days=days))
    key_file.write_bytes(ca_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_file.chmod(0o600)
    cert_file.write_bytes(ca_cert.public_bytes(pem))
    return ca_key, ca_cert


def generate(ca_file: Path, out_dir: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
             days: int = 7, ca_dir: Path | None = None) -> CertFiles:
    """A server certificate signed by a new CA (or by the CA kept in `ca_dir`); the CA
    certificate is written to `ca_file`. Returns the file paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    not_before, not_after = now - dt.timedelta(hours=1), now + dt.timedelta(days=days)
    if ca_dir is not None:
        ca_key, ca_cert = load_or_create_ca(ca_dir, days)
    else:
        ca_key, ca_cert = _new_ca(not_before, not_after)
    ca_name = ca_cert.subject
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())

    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0])).issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    ca_pem = ca_cert.public_bytes(pem)
    files = CertFiles(ca_file, out_dir / "server-cert.pem", out_dir / "server-key.pem")
    ca_file.parent.mkdir(parents=True, exist_ok=True)
    if not (ca_file.exists() and ca_file.read_bytes() == ca_pem):
        ca_file.write_bytes(ca_pem)
    files.server_cert.write_bytes(cert.public_bytes(pem) + ca_pem)
    files.server_key.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    files.server_key.chmod(0o600)
    return files
