"""The intercepting proxy in process: what reaches the mock through it (and what never
leaves), its TLS, its limits, the child's variables. The real programs run in
tests/test_run_cli.py."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from helpers import served_in_thread

from mock_server import close_app, create_app
from mock_server.intercept import Interception, env, proxy
from mock_server.intercept.ca import CertificateAuthority
from mock_server.testing import ThreadedServer

API = "https://api.shortapi.ai"
KEY = "ak-0123456789abcdef0123456789abcdef"
IMAGE = {
    "model": "google/nano-banana/text-to-image",
    "args": {"prompt": "x", "aspect_ratio": "1:1"},
}


@pytest.fixture(scope="module")
def served() -> Iterator[ThreadedServer]:
    """The mock on a loopback port, per-poll clock (each query moves a job one step)."""
    with served_in_thread() as server:
        yield server


@pytest.fixture(scope="module")
def interception(served: ThreadedServer) -> Iterator[Interception]:
    with Interception(served.base_url, environ={}) as running:
        yield running


def session(interception: Interception) -> requests.Session:
    """A requests session using the proxy and the run's bundle, ignoring this process's
    environment (so a proxy or NO_PROXY set around the test changes nothing)."""
    client = requests.Session()
    client.trust_env = False
    assert interception.proxy is not None
    client.proxies = {"https": interception.proxy.url, "http": interception.proxy.url}
    client.verify = interception.variables["REQUESTS_CA_BUNDLE"]
    client.headers["Authorization"] = f"Bearer {KEY}"
    return client


def journal(server: ThreadedServer, limit: int = 50) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = requests.get(
        f"{server.base_url}/_mock/requests", params={"limit": limit}, timeout=10
    ).json()["requests"]
    return entries


def test_a_job_created_polled_and_downloaded_through_the_proxy(
    served: ThreadedServer, interception: Interception
) -> None:
    client = session(interception)
    created = client.post(f"{API}/api/v1/job/create", json=IMAGE, timeout=10)
    assert created.status_code == 200, created.text
    job_id = created.json()["data"]["job_id"]
    for _ in range(5):
        data = client.get(f"{API}/api/v1/job/query", params={"id": job_id}, timeout=10).json()
        if data["data"]["status"] == 2:
            break
    url = data["data"]["result"]["images"][0]["url"]
    # The link names the host the client used, over https: it comes back through the proxy.
    assert url.startswith(f"{API}/files/{job_id}/")
    file = client.get(url, timeout=10)
    assert file.content.startswith(b"\x89PNG")
    assert served.app.extensions  # the same app answered: its journal has the create
    assert any(e.get("job_id") == job_id for e in journal(served))


def test_a_request_through_the_proxy_is_journaled_as_a_direct_one(
    served: ThreadedServer, interception: Interception
) -> None:
    headers = {"User-Agent": "probe/1.0", "Authorization": f"Bearer {KEY}"}
    bad = {"model": "google/nano-banana/text-to-image", "args": {"prompt": "x"}}
    direct = requests.post(f"{served.base_url}/api/v1/job/create", json=bad, headers=headers)
    through = session(interception).post(f"{API}/api/v1/job/create", json=bad, headers=headers)
    assert direct.status_code == through.status_code == 400
    assert direct.json() == through.json()
    assert through.headers["X-Mock-Errors"] == direct.headers["X-Mock-Errors"]
    latest, previous = journal(served, 2)[:2]
    same = ("method", "path", "query", "headers", "key", "status", "code", "outcome", "problems")
    assert {k: latest.get(k) for k in same} == {k: previous.get(k) for k in same}
    assert KEY not in json.dumps(latest)  # redacted alike


def test_a_stopped_mock_gives_a_502_envelope_and_the_api_host_is_never_resolved(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    looked_up: list[str] = []
    opened: list[tuple[str, int]] = []
    real_getaddrinfo = socket.getaddrinfo

    def stub_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        if host not in ("127.0.0.1", "localhost"):
            raise socket.gaierror(f"stub resolver: {host} is not resolved in tests")
        return real_getaddrinfo(host, *args, **kwargs)

    def stub_open(address: tuple[str, int], timeout: float) -> socket.socket:
        opened.append(address)
        raise OSError("stub: no other host is reached in tests")

    monkeypatch.setattr(socket, "getaddrinfo", stub_getaddrinfo)
    with Interception(dead, environ={}, open_connection=stub_open) as running:
        client = session(running)
        answer = client.post(f"{API}/api/v1/job/create", json=IMAGE, timeout=10)
        plain = client.get("http://api.shortapi.ai/api/v1/job/query?id=x", timeout=10)
    assert answer.status_code == plain.status_code == 502
    body = answer.json()
    assert body["code"] == 5001 and body["message"] == body["info"]
    assert (
        "does not answer" in body["message"]
        and "nothing was sent to the live API" in body["message"]
    )
    assert not [h for h in looked_up if "shortapi" in h]
    assert opened == []


def test_the_mocks_dropped_connections_reach_the_client(
    served: ThreadedServer, interception: Interception
) -> None:
    client = session(interception)
    for fault in ("reset", "empty", "ack-lost"):
        with pytest.raises(requests.ConnectionError):
            client.post(
                f"{API}/api/v1/job/create", json=IMAGE, headers={"X-Mock-Fault": fault}, timeout=10
            )
    faults = [e for e in journal(served, 3) if e["outcome"] == "fault"]
    assert len(faults) == 3
    # and the connection pool recovers: the next request goes through
    assert client.post(f"{API}/api/v1/job/create", json=IMAGE, timeout=10).status_code == 200


def test_the_leaf_certificate_passes_strict_verification(interception: Interception) -> None:
    context = ssl.create_default_context(cafile=str(interception.ca_path))
    context.verify_flags |= ssl.VERIFY_X509_STRICT  # Python 3.13's default: key identifiers
    assert interception.proxy is not None
    port = int(interception.proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"CONNECT api.shortapi.ai:443 HTTP/1.1\r\nHost: api.shortapi.ai:443\r\n\r\n")
        assert raw.recv(1024).startswith(b"HTTP/1.1 200")
        with context.wrap_socket(raw, server_hostname="api.shortapi.ai") as tls:
            cert = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True) or b"")
            assert tls.selected_alpn_protocol() in (None, "http/1.1")
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["api.shortapi.ai"]


class _Origin(BaseHTTPRequestHandler):
    """Another host: answers with what it received."""

    def do_GET(self) -> None:
        payload = json.dumps({"path": self.path, "host": self.headers["Host"]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def origin(tmp_path: Path) -> Iterator[tuple[ThreadingHTTPServer, CertificateAuthority]]:
    """A loopback HTTPS server of its own CA: another host, which the proxy must not touch."""
    other_ca = CertificateAuthority(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    server.socket = other_ca.server_context("127.0.0.1").wrap_socket(
        server.socket, server_side=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, other_ca
    server.shutdown()
    server.server_close()


def test_other_hosts_are_tunnelled_untouched(
    interception: Interception, origin: tuple[ThreadingHTTPServer, CertificateAuthority]
) -> None:
    server, other_ca = origin
    client = session(interception)
    client.verify = str(other_ca.cert_path)  # the origin's own certificate, end to end
    port = server.server_address[1]
    answer = client.get(f"https://127.0.0.1:{port}/somewhere?x=1", timeout=10)
    assert answer.json() == {"path": "/somewhere?x=1", "host": f"127.0.0.1:{port}"}
    with pytest.raises(requests.exceptions.SSLError):  # the run's CA does not sign it
        session(interception).get(f"https://127.0.0.1:{port}/", timeout=10)


def test_plain_http_to_other_hosts_is_forwarded_untouched(interception: Interception) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        answer = session(interception).get(f"http://127.0.0.1:{port}/p?q=2", timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert answer.json() == {"path": "/p?q=2", "host": f"127.0.0.1:{port}"}


def test_a_request_to_the_proxy_itself_gets_a_400_that_says_what_it_is(
    interception: Interception,
) -> None:
    assert interception.proxy is not None
    answer = requests.get(f"{interception.proxy.url}/api/v1/job/query?id=x", timeout=10)
    assert answer.status_code == 400
    assert "intercepting proxy" in answer.json()["message"]


def test_a_stalled_client_is_dropped_after_the_head_timeout_and_blocks_no_one(
    served: ThreadedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(proxy, "HEAD_TIMEOUT", 0.5)
    with Interception(served.base_url, environ={}) as running:
        assert running.proxy is not None
        port = int(running.proxy.url.rsplit(":", 1)[1])
        stalled = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        for sock in stalled:
            sock.sendall(b"GET http://api.shortapi.ai/ HTTP/1.1\r\n")  # half a head
        started = time.monotonic()
        answer = session(running).post(f"{API}/api/v1/job/create", json=IMAGE, timeout=10)
        assert answer.status_code == 200
        for sock in stalled:
            sock.settimeout(10)
            assert sock.recv(1) == b""  # closed by the proxy, not by our timeout
            sock.close()
        assert time.monotonic() - started < 10


def test_the_private_folder_holds_the_ca_and_goes_away(served: ThreadedServer) -> None:
    running = Interception(served.base_url, environ={}).start()
    folder = running.folder
    assert folder is not None
    try:
        assert (folder.stat().st_mode & 0o777) == 0o700
        bundle = Path(running.variables["SSL_CERT_FILE"]).read_text()
        assert running.ca_path.read_text() in bundle
        assert bundle.count("BEGIN CERTIFICATE") > 10  # the usual roots too
        assert (folder / env.PRELOAD).is_file()
    finally:
        running.stop()
    assert not folder.exists()


def test_the_child_variables(served: ThreadedServer) -> None:
    with Interception(
        served.base_url,
        environ={
            "NO_PROXY": "*,.shortapi.ai,internal.example",
            "NODE_OPTIONS": "--max-old-space-size=64",
        },
    ) as running:
        variables = running.variables
        assert running.proxy is not None
        for name in env.PROXY_VARIABLES:
            assert variables[name] == running.proxy.url
        for name in env.CA_VARIABLES:
            assert variables[name] == str(running.folder / "bundle.pem")  # type: ignore[operator]
        assert variables["NO_PROXY"] == "localhost,127.0.0.1,::1,internal.example"
        assert variables["NODE_OPTIONS"].startswith("--max-old-space-size=64 --import=file://")
        assert variables["SHORTAPI_MOCK_HOSTS"] == "api.shortapi.ai"


def test_the_shell_and_dotenv_formats_give_the_same_values(served: ThreadedServer) -> None:
    variables = {"A": "plain", "B": "with space and 'quote'", "C": "x=1;y"}
    shell = subprocess.run(
        ["bash", "-c", 'eval "$(cat)"; printf "%s\\n" "$A" "$B" "$C"'],
        input=env.render(variables, "shell"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert shell.stdout.splitlines() == list(variables.values())
    assert env.render(variables, "dotenv").splitlines()[1] == "B=with space and 'quote'"
    assert json.loads(env.render(variables, "json")) == variables


def test_x_forwarded_proto_is_trusted_from_loopback_only() -> None:
    app = create_app({"STORE": "memory", "CLOCK": "per-poll"})
    try:
        client = app.test_client()
        auth = {"Authorization": f"Bearer {KEY}", "X-Forwarded-Proto": "https"}
        results = {}
        for peer in ("127.0.0.1", "192.0.2.10"):  # no packet is sent: the test client
            job = client.post(
                "/api/v1/job/create", json=IMAGE, headers=auth, environ_base={"REMOTE_ADDR": peer}
            ).get_json()["data"]["job_id"]
            for _ in range(3):
                data = client.get(
                    f"/api/v1/job/query?id={job}", headers=auth, environ_base={"REMOTE_ADDR": peer}
                ).get_json()["data"]
            results[peer] = data["result"]["images"][0]["url"]
    finally:
        close_app(app)
    assert results["127.0.0.1"].startswith("https://localhost/files/")
    assert results["192.0.2.10"].startswith("http://localhost/files/")


def test_no_proxy_keeps_entries_that_spare_other_hosts() -> None:
    assert env.no_proxy({"no_proxy": "corp.example, shortapi.ai"}, ["api.shortapi.ai"]) == (
        "localhost,127.0.0.1,::1,corp.example"
    )


def test_no_proxy_drops_entries_that_spare_an_intercepted_host_on_a_port() -> None:
    """Go matches ``host:port`` entries with the default port: such an entry would send the
    child, and its real key, past the proxy to the live API."""
    entries = "api.shortapi.ai:443,.shortapi.ai:443,corp.example:8443"
    assert env.no_proxy({"NO_PROXY": entries}, ["api.shortapi.ai"]) == (
        "localhost,127.0.0.1,::1,corp.example:8443"
    )


def test_what_is_not_http_gets_a_400_envelope(interception: Interception) -> None:
    assert interception.proxy is not None
    port = int(interception.proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"HELLO THERE\r\n\r\n")
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(body)["code"] == 1200
