"""The callback policy judges the address actually connected to.

No test here sends a packet to a metadata, link-local or private address: decisions are made
with a stub resolver, and the one end-to-end test with a refused URL has a sender that fails
the test if it is ever called. The rebinding test uses loopback addresses only.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from helpers import body, create

from mock_server import extensions
from mock_server.callbacks.policy import Policy, Target
from mock_server.callbacks.sender import Sender
from mock_server.testing.receiver import CallbackReceiver

BLOCKED = ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32")


class StubResolver:
    """Answer names from a table (a list of answers is given out one per lookup)."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.table = table
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answer = self.table.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if isinstance(answer, list) and answer and isinstance(answer[0], list):
            return list(answer.pop(0) if len(answer) > 1 else answer[0])
        return list(answer)


def policy(table: dict[str, Any] | None = None, **options: Any) -> tuple[Policy, StubResolver]:
    resolver = StubResolver(table or {})
    settings: dict[str, Any] = {"allow": None, "deny": (), "blocked": BLOCKED, **options}
    return Policy(resolver=resolver, **settings), resolver


@pytest.mark.parametrize(
    "url",
    [
        "http://[::ffff:169.254.169.254]/latest/meta-data",  # IPv4-mapped
        "http://[::ffff:a9fe:a9fe]/latest",  # the same, in hex
        "http://[::169.254.169.254]/latest",  # IPv4-compatible
        "http://[64:ff9b::169.254.169.254]/latest",  # NAT64, well-known prefix
        "http://[64:ff9b:1::a9fe:a9fe]/latest",  # NAT64, local-use prefix
        "http://[2002:a9fe:a9fe::1]/latest",  # 6to4
        "http://[fe80::1]/latest",  # IPv6 link-local
        "http://[fd00:ec2::254]/latest",  # AWS IPv6 metadata
        "http://100.100.100.200/latest",  # Alibaba Cloud metadata
    ],
)
def test_embedded_forms_of_blocked_addresses_are_refused(url: str) -> None:
    decision = policy()[0].decide(url)
    assert decision.target is None
    assert decision.refusal and "blocked network" in decision.refusal


def test_unspecified_addresses_are_judged_as_loopback() -> None:
    guarded = policy(blocked=("127.0.0.0/8", "::1/128"))[0]
    for url in ("http://0.0.0.0:8080/hook", "http://[::]:8080/hook", "http://[::ffff:0.0.0.0]/"):
        decision = guarded.decide(url)
        assert decision.refusal and "stands for" in decision.refusal, url
    open_ = policy()[0].decide("http://0.0.0.0:8080/hook")  # loopback is allowed by default
    assert open_.target is not None and open_.target.address == "0.0.0.0"


@pytest.mark.parametrize(
    "host",
    ["metadata.google.internal", "METADATA.google.internal.", "metadata", "instance-data"],
)
def test_metadata_host_names_are_refused_by_name_before_any_lookup(host: str) -> None:
    guarded, resolver = policy({host.lower().rstrip("."): ["127.0.0.1"]})
    decision = guarded.decide(f"http://{host}/computeMetadata/v1/")
    assert decision.refusal and "metadata" in decision.refusal
    assert resolver.calls == []


def test_a_name_is_refused_if_any_of_its_addresses_is_blocked() -> None:
    guarded, _ = policy({"mixed.test": ["127.0.0.1", "::ffff:169.254.169.254"]})
    decision = guarded.decide("http://mixed.test/hook")
    assert decision.refusal and "169.254.169.254" in decision.refusal


def test_a_name_that_resolves_to_an_encoded_metadata_address_is_refused() -> None:
    guarded, _ = policy({"sneaky.test": ["64:ff9b::a9fe:a9fe"]})
    decision = guarded.decide("https://sneaky.test/hook")
    assert decision.refusal and "stands for 169.254.169.254" in decision.refusal


def test_the_decision_names_the_address_to_connect_to_and_keeps_the_host() -> None:
    guarded, resolver = policy({"hooks.test": ["127.0.0.1", "::1"]})
    decision = guarded.decide("https://Hooks.Test:8443/cb/x?job=1#frag")
    assert decision.target == Target(
        scheme="https",
        host="hooks.test",
        port=8443,
        address="127.0.0.1",
        path="/cb/x?job=1",
        host_header="hooks.test:8443",
    )
    assert resolver.calls == ["hooks.test"]  # resolved once


def test_a_name_that_does_not_resolve_is_an_error_not_a_refusal() -> None:
    decision = policy()[0].decide("http://nowhere.test/hook")
    assert decision.target is None and decision.refusal is None
    assert decision.error and "does not resolve" in decision.error


def test_https_keeps_the_url_host_as_tls_server_name_while_connecting_to_the_address() -> None:
    target = Target("https", "hooks.test", 8443, "127.0.0.1", "/", "hooks.test:8443")
    connection: Any = Sender._new(target, 1.0)
    assert (connection.host, connection.port) == ("127.0.0.1", 8443)
    assert connection.server_hostname == "hooks.test"
    assert connection.assert_hostname == "hooks.test"


# --- end to end, in the app ---------------------------------------------------------------


class NoSender(Sender):
    """A sender that fails the test if an attempt is ever sent."""

    def post(self, *args: Any, **kwargs: Any) -> tuple[int | None, str | None]:
        pytest.fail(f"an attempt was sent: {args!r}")


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as started:
        yield started


def deliveries(app: Flask) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = app.test_client().get("/_mock/callbacks").json["callbacks"]
    return found


def test_mapped_metadata_url_is_refused_without_an_attempt(make_app: Any) -> None:
    app: Flask = make_app()
    extensions.dispatcher(app).sender = NoSender(connect_timeout=1, timeout=1, response_limit=1)
    client = app.test_client()
    url = "http://[::ffff:169.254.169.254]/latest/meta-data/iam/security-credentials/"
    assert create(client, {**body(), "callback_url": url}).status_code == 200
    client.post("/_mock/clock/advance", json={"seconds": 10})
    [delivery] = deliveries(app)
    assert delivery["state"] == "refused"  # final: one record, no retry
    [record] = delivery["attempts"]
    assert "stands for 169.254.169.254" in record["error"]


def test_dns_rebinding_cannot_move_the_attempt_after_the_check(
    make_app: Any, receiver: CallbackReceiver
) -> None:
    # The name answers an allowed loopback address first, a blocked one after: the attempt
    # goes to the address that was judged, and the name is looked up once per attempt.
    resolver = StubResolver({"rebind.test": [["127.0.0.1"], ["127.0.0.2"]]})
    app: Flask = make_app(CALLBACK_RESOLVER=resolver, CALLBACK_BLOCKED_NETWORKS=("127.0.0.2/32",))
    client = app.test_client()
    url = receiver.url.replace("127.0.0.1", "rebind.test")
    assert create(client, {**body(), "callback_url": url}).status_code == 200
    client.post("/_mock/clock/advance", json={"seconds": 10})
    [got] = receiver.received
    assert got.headers["Host"] == url.split("/")[2]  # the URL's host, not the address
    [delivery] = deliveries(app)
    assert delivery["state"] == "delivered"
    assert delivery["attempts"][0]["address"] == "127.0.0.1"
    assert resolver.calls == ["rebind.test"]
