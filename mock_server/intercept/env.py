"""The environment a child process is started with so it talks to the mock: the proxy
variables, a CA bundle it trusts (its usual roots plus the run's CA), the Node preload.

Which client reads which variable is the README's table ("Any program, any language").
Loopback stays direct (NO_PROXY), so the child's own local traffic never meets the proxy.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import ssl
import tempfile
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")
# Where each ecosystem reads extra or replacement trusted roots: OpenSSL and what builds on
# it (Python's ssl, httpx, aiohttp, curl, Ruby, PHP, .NET on Linux), Go (SSL_CERT_FILE),
# requests, curl, Node (added to its own roots) and Deno.
CA_VARIABLES = (
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "DENO_CERT",
)
LOOPBACK = ("localhost", "127.0.0.1", "::1")
FORMATS = ("shell", "dotenv", "json")
PRELOAD = "node_preload.mjs"


def system_bundle(environ: Mapping[str, str]) -> Path | None:
    """Return the trusted roots the child would use without us: its own SSL_CERT_FILE,
    else OpenSSL's default file, else certifi's."""
    paths = ssl.get_default_verify_paths()
    for candidate in (environ.get("SSL_CERT_FILE"), paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    try:
        import certifi
    except ImportError:  # pragma: no cover - requests brings certifi
        return None
    return Path(certifi.where())


def write_bundle(folder: Path, ca_cert: Path, environ: Mapping[str, str]) -> Path:
    """Write `folder`/bundle.pem: the child's usual roots, its NODE_EXTRA_CA_CERTS, the CA."""
    parts: list[bytes] = []
    base = system_bundle(environ)
    if base is not None:
        parts.append(base.read_bytes())
    extra = environ.get("NODE_EXTRA_CA_CERTS")
    if extra and Path(extra).is_file():
        parts.append(Path(extra).read_bytes())
    parts.append(ca_cert.read_bytes())
    bundle = folder / "bundle.pem"
    bundle.write_bytes(b"\n".join(p.rstrip(b"\n") for p in parts) + b"\n")
    return bundle


def copy_preload(folder: Path) -> Path:
    """Copy the Node preload into `folder`, so one folder holds all a container needs."""
    target = folder / PRELOAD
    with resources.as_file(resources.files("mock_server.intercept") / PRELOAD) as source:
        shutil.copyfile(source, target)
    return target


def no_proxy(environ: Mapping[str, str], hosts: Iterable[str]) -> str:
    """Return NO_PROXY: loopback, plus the child's own entries that spare the intercepted
    hosts (an entry such as ``*`` or ``.shortapi.ai`` would let them past the proxy)."""
    intercepted = {h.lower() for h in hosts}
    entries = list(LOOPBACK)
    for raw in (environ.get("NO_PROXY") or environ.get("no_proxy") or "").split(","):
        entry = raw.strip().lower()
        if not entry or entry in entries or entry == "*":
            continue
        suffix = entry.lstrip("*").lstrip(".")
        host, _, port = suffix.rpartition(":")
        if host and port.isdigit():  # "api.shortapi.ai:443" spares the host on that port
            suffix = host.strip("[]")
        if any(h == suffix or h.endswith("." + suffix) for h in intercepted):
            continue
        entries.append(entry)
    return ",".join(entries)


def intercept_variables(
    *,
    proxy_url: str,
    mock_url: str,
    bundle: Path,
    preload: Path,
    hosts: Iterable[str],
    environ: Mapping[str, str],
) -> dict[str, str]:
    """Return the variables to set (only those: not the rest of `environ`)."""
    hosts = list(hosts)
    variables = dict.fromkeys(PROXY_VARIABLES, proxy_url)
    variables.update(dict.fromkeys(NO_PROXY_VARIABLES, no_proxy(environ, hosts)))
    variables.update(dict.fromkeys(CA_VARIABLES, str(bundle)))
    node_options = environ.get("NODE_OPTIONS", "")
    variables["NODE_OPTIONS"] = f"{node_options} --import={preload.as_uri()}".strip()
    variables["SHORTAPI_MOCK_PROXY"] = proxy_url  # read by the Node preload
    variables["SHORTAPI_MOCK_HOSTS"] = ",".join(hosts)
    variables["SHORTAPI_MOCK_URL"] = mock_url  # the mock itself, for a client that asks
    return variables


def render(variables: Mapping[str, str], fmt: str) -> str:
    """Return `variables` as ``export`` lines (shell), KEY=value lines (dotenv) or JSON."""
    if fmt == "json":
        return json.dumps(dict(variables), indent=2) + "\n"
    if fmt == "dotenv":
        return "".join(f"{name}={value}\n" for name, value in variables.items())
    if fmt == "shell":
        return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in variables.items())
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def child_environment(variables: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """Return `environ` with `variables` set (what `run` starts the child with)."""
    return {**environ, **variables}


def private_folder(prefix: str = "shortapi-mock-", *, parent: Path | None = None) -> Path:
    """Make a folder only this user can enter (0700) for the run's CA and keys."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(folder, 0o700)
    return folder
