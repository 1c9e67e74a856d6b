"""A certificate authority made for one run, and the leaf certificates it signs per host.

The CA's key never leaves the process; its certificate is written where the child's trust
variables point (`env.py`). Leaf keys sit beside it in the run's private folder, because
`ssl.SSLContext.load_cert_chain` reads files only. Keys are P-256 (made in a millisecond,
accepted by every TLS stack the README lists). Validity is short and starts an hour back, so
a clock a little off still accepts it. The extensions are what strict verifiers ask for:
Python 3.13's ``VERIFY_X509_STRICT`` wants the key identifiers, Go and Node a SAN.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_FOR = datetime.timedelta(days=30)
SKEW = datetime.timedelta(hours=1)
ALPN = ["http/1.1"]  # no h2: the proxy speaks HTTP/1.1 and clients fall back to it


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "shortapi-mock"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    """Digital signatures (an ECDSA handshake), and certificates and CRLs for the CA."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class CertificateAuthority:
    """A CA for one run: its certificate in `folder`/ca.pem, a TLS server context per host."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        public = self._key.public_key()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(f"shortapi-mock run CA {os.getpid()}"))
            .issuer_name(_name(f"shortapi-mock run CA {os.getpid()}"))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - SKEW)
            .not_valid_after(now + VALID_FOR)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(signs_certificates=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path = folder / "ca.pem"
        self.cert_path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def leaf(self, host: str) -> x509.Certificate:
        """Return a new server certificate for `host` (a name or an IP address), signed by
        this CA, and write it with its key under the folder."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        try:
            alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            alt = x509.DNSName(host)
        ca_public = self._key.public_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(host))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - SKEW)
            .not_valid_after(now + VALID_FOR)
            .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(signs_certificates=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        stem = self.folder / f"leaf-{host.replace(':', '_')}"
        chain = certificate.public_bytes(serialization.Encoding.PEM)
        Path(f"{stem}.pem").write_bytes(chain)
        key_path = Path(f"{stem}.key")
        key_path.touch(mode=0o600)
        key_path.write_bytes(_key_pem(key))
        return certificate

    def server_context(self, host: str) -> ssl.SSLContext:
        """Return the TLS server context presenting `host`'s certificate (made once)."""
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                self.leaf(host)
                stem = self.folder / f"leaf-{host.replace(':', '_')}"
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.load_cert_chain(f"{stem}.pem", f"{stem}.key")
                context.set_alpn_protocols(ALPN)
                self._contexts[host] = context
            return context
