"""Requests parse their body once and hand out copies; a key spliced into a big body gives
the bytes `with_body` would."""

from __future__ import annotations

import pytest

from mock_server.contract.strategies import encode
from mock_server.contract.wire import WireRequest

pytestmark = pytest.mark.kit


def test_request_json_is_a_copy_each_time() -> None:
    request = WireRequest.create({"model": "m", "args": {"images": ["a"]}})
    first = request.json()
    first["args"]["images"].append("b")
    assert request.json() == {"model": "m", "args": {"images": ["a"]}}


@pytest.mark.parametrize("size", [10, 2 << 20])
def test_with_key_gives_the_bytes_with_body_gives(size: int) -> None:
    body = {"model": "m", "args": {"prompt": "x" * size}}
    request = WireRequest.create(body)
    added = request.with_key("callback_url", "http://127.0.0.1:9/cb")
    assert added.body == request.with_body({**body, "callback_url": "http://127.0.0.1:9/cb"}).body
    assert added.body == encode({**body, "callback_url": "http://127.0.0.1:9/cb"})
    assert added.json() == {**body, "callback_url": "http://127.0.0.1:9/cb"}


def test_with_key_refuses_a_body_that_has_the_key() -> None:
    with pytest.raises(ValueError):
        WireRequest.create({"callback_url": "x"}).with_key("callback_url", "y")
