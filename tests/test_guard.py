"""No web page may drive the mock: the admin API and the dashboard refuse other sites, DNS
rebinding names and form posts; the real API answers under any Host."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from helpers import AUTH, body, create

from mock_server.api.guard import content_type_refusal, host_refusal, origin_refusal
from mock_server.serve.cli import app_config, build_parser

EVIL = "https://evil.example"


def config(**overrides: Any) -> dict[str, Any]:
    return {"ALLOWED_HOSTS": (), "BIND_HOSTS": ("127.0.0.1",), **overrides}


def jobs(client: FlaskClient) -> int:
    count: int = client.get("/_mock/health").json["jobs"]
    return count


# --- the reproduction ---------------------------------------------------------------------


def test_a_cross_site_form_post_cannot_reset_the_mock(client: FlaskClient) -> None:
    create(client, body())
    # What <form enctype="text/plain" action="http://127.0.0.1:8000/_mock/reset"> sends.
    response = client.post(
        "/_mock/reset",
        data="x=y",
        headers={"Content-Type": "text/plain", "Origin": EVIL},
    )
    assert response.status_code == 403
    assert set(response.json) == {"code", "message", "info"}
    assert "cross-site" in response.json["message"]
    assert jobs(client) == 1  # nothing was wiped


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/_mock/reset", None),
        ("POST", "/_mock/run", None),
        ("POST", "/_mock/clock/advance", {"seconds": 10}),
        ("POST", "/_mock/scenarios", {"scenario": "fail"}),
        ("DELETE", "/_mock/faults", None),
        ("GET", "/_mock/requests", None),  # a cross-origin fetch() of the journal
    ],
)
def test_another_sites_page_is_refused_on_every_admin_call(
    client: FlaskClient, method: str, path: str, payload: Any
) -> None:
    response = client.open(path, method=method, json=payload, headers={"Origin": EVIL})
    assert response.status_code == 403, response.json
    assert response.json["code"] != 0


def test_a_form_post_without_origin_is_judged_by_its_referer(client: FlaskClient) -> None:
    response = client.post(
        "/_mock/reset",
        data="x=y",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": f"{EVIL}/p"},
    )
    assert response.status_code == 403


def test_state_changes_need_json(client: FlaskClient) -> None:
    create(client, body())
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = client.post("/_mock/reset", data="x", headers={"Content-Type": content_type})
        assert response.status_code == 415, content_type
        assert "application/json" in response.json["message"]
    assert jobs(client) == 1
    # A call with no body and no Content-Type (curl -X POST, requests.post(url)) is fine,
    # and so is JSON.
    assert client.post("/_mock/run").status_code == 200
    assert client.post("/_mock/reset", json={}).status_code == 200
    assert jobs(client) == 0


def test_the_dashboards_own_calls_pass(client: FlaskClient) -> None:
    # What static/dashboard.js sends from a page served by this mock.
    own = {"Origin": "http://localhost", "Content-Type": "application/json"}
    for path in ("/_mock/run", "/_mock/reset", "/_mock/clock/advance"):
        payload = b'{"seconds": 1}' if path.endswith("advance") else b"{}"
        assert client.post(path, data=payload, headers=own).status_code == 200, path
    assert client.delete("/_mock/faults", data=b"{}", headers=own).status_code == 200


@pytest.mark.parametrize("path", ["/_mock/health", "/_mock/requests", "/_mock/ui"])
def test_a_rebinding_host_is_refused(client: FlaskClient, path: str) -> None:
    response = client.get(path, base_url="http://rebind.evil.example:8000")
    assert response.status_code == 403
    assert response.mimetype == "application/json"
    assert "--allowed-host rebind.evil.example" in response.json["message"]


def test_the_real_api_answers_under_any_host(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/job/create", json=body(), headers=AUTH, base_url="https://mock.proxy.example"
    )
    assert response.status_code == 200
    job_id = response.json["data"]["job_id"]
    query = client.get(
        f"/api/v1/job/query?id={job_id}", headers=AUTH, base_url="http://anything.example"
    )
    assert query.status_code == 200


def test_allowed_hosts_and_the_admin_token(make_app: Any) -> None:
    proxied = make_app(ALLOWED_HOSTS=("mock.internal",)).test_client()
    assert proxied.get("/_mock/health", base_url="http://mock.internal").status_code == 200
    assert proxied.get("/_mock/ui", base_url="http://mock.internal").status_code == 200
    assert proxied.get("/_mock/health", base_url="http://other.internal").status_code == 403
    tokened = make_app(ADMIN_TOKEN="s3cret").test_client()
    header = {"X-Mock-Admin-Token": "s3cret"}
    # The token is what a rebinding page lacks: with it, any Host works.
    answer = tokened.get("/_mock/health", base_url="http://box.lan", headers=header)
    assert answer.status_code == 200
    assert tokened.get("/_mock/ui?token=s3cret", base_url="http://box.lan").status_code == 200
    assert tokened.get("/_mock/health", base_url="http://box.lan").status_code == 401
    # ... but not from another site's page.
    refused = tokened.post("/_mock/reset", headers={**header, "Origin": EVIL})
    assert refused.status_code == 403


def test_a_link_from_another_site_opens_the_dashboard(client: FlaskClient) -> None:
    response = client.get("/_mock/ui", headers={"Referer": "https://github.com/some/readme"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"


# --- the decisions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "bind", "allowed"),
    [
        ("localhost:8000", "127.0.0.1", True),
        ("LOCALHOST", "127.0.0.1", True),
        ("app.localhost:8000", "127.0.0.1", True),
        ("127.0.0.1:8000", "127.0.0.1", True),
        ("127.9.9.9", "127.0.0.1", True),
        ("[::1]:8000", "::1", True),
        ("[::ffff:127.0.0.1]:8000", "127.0.0.1", True),
        ("192.168.1.5:8000", "0.0.0.0", True),  # any address on a wildcard bind
        ("192.168.1.5:8000", "192.168.1.5", True),
        ("192.168.1.6:8000", "192.168.1.5", False),
        ("devbox:8000", "devbox", True),  # the bind name itself
        ("evil.example:8000", "127.0.0.1", False),
        ("localhost.evil.example", "127.0.0.1", False),
        ("", "127.0.0.1", False),
    ],
)
def test_which_hosts_are_answered(host: str, bind: str, allowed: bool) -> None:
    assert (host_refusal(config(BIND_HOSTS=(bind,)), host) is None) is allowed


def test_allowed_host_patterns() -> None:
    settings = config(ALLOWED_HOSTS=("mock.example", "*.dev.example"))
    assert host_refusal(settings, "mock.example:443") is None
    assert host_refusal(settings, "a.dev.example") is None
    assert host_refusal(settings, "dev.example") is not None


@pytest.mark.parametrize(
    ("origin", "referer", "method", "allowed"),
    [
        ("http://127.0.0.1:8000", None, "POST", True),
        ("http://127.0.0.1:8001", None, "POST", False),  # another local app
        ("http://localhost:8000", None, "POST", False),  # another origin, same socket
        ("https://evil.example", None, "GET", False),
        ("null", None, "POST", False),  # a sandboxed frame, a file:// page
        (None, "http://127.0.0.1:8000/_mock/ui", "POST", True),
        (None, "https://evil.example/x", "POST", False),
        (None, "https://evil.example/x", "GET", True),  # a link: a navigation
        (None, None, "POST", True),  # not a browser page: curl, requests, the test kits
    ],
)
def test_which_origins_are_answered(
    origin: str | None, referer: str | None, method: str, allowed: bool
) -> None:
    refusal = origin_refusal(
        config(), host_header="127.0.0.1:8000", method=method, origin=origin, referer=referer
    )
    assert (refusal is None) is allowed


@pytest.mark.parametrize(
    ("host", "origin", "allowed"),
    [
        ("x", "http://x", True),
        ("x:80", "http://x", True),
        ("x", "https://x:8443", False),
        ("x", "https://ui.example", True),  # an --allowed-host page
    ],
)
def test_default_ports_and_allowed_origins(host: str, origin: str, allowed: bool) -> None:
    settings = config(ALLOWED_HOSTS=("ui.example",))
    refusal = origin_refusal(settings, host_header=host, method="POST", origin=origin, referer=None)
    assert (refusal is None) is allowed


def test_content_types() -> None:
    assert content_type_refusal("POST", "application/json; charset=utf-8", True) is None
    assert content_type_refusal("POST", None, False) is None
    assert content_type_refusal("POST", None, True) is not None
    assert content_type_refusal("PUT", "text/plain", True) is not None
    assert content_type_refusal("GET", "text/plain", True) is None


def test_the_cli_passes_bind_and_allowed_hosts() -> None:
    args = build_parser().parse_args(
        ["serve", "--host", "0.0.0.0", "--allowed-host", "mock.lan", "--allowed-host", "*.x"]
    )
    settings = app_config(args)
    assert settings["BIND_HOSTS"] == ("0.0.0.0",)
    assert settings["ALLOWED_HOSTS"] == ("mock.lan", "*.x")


def test_a_callback_cannot_drive_the_admin_api() -> None:
    """A client's callback_url aimed at the mock's own /_mock/reset (or any admin call) is
    refused there: the mock's callbacks carry X-Mock-Delivery, which the guard turns away."""
    from mock_server import close_app, create_app
    from mock_server.testing import TEST_CONFIG, MockHandle, ThreadedServer

    app = create_app({**TEST_CONFIG, "STORE": "memory"})
    try:
        with ThreadedServer(app) as server:
            mock = MockHandle(app, server.base_url)
            mock.check_on_teardown = False
            client = app.test_client()
            hostile = {**body(), "callback_url": f"{server.base_url}/_mock/reset"}
            assert create(client, hostile).status_code == 200
            create(client, body())
            mock.advance(60)  # the jobs finish; the callback is delivered, or refused
            assert jobs(client) == 2
            refused = [c for c in mock.callbacks() if c["url"].endswith("/_mock/reset")]
            assert refused and refused[0]["attempts"][-1]["status"] == 403, refused
    finally:
        close_app(app)
