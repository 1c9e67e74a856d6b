"""Each response variant, in process on both stores: what it claims is what the API answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from helpers import AUTH, KEY, body, create, query

from mock_server.testing import MockHandle
from mock_server.testing.variants import ALL, DEFAULT, Variant


@pytest.mark.parametrize("variant", ALL, ids=[v.name for v in ALL])
def test_variant_answers_as_it_says(make_app: Callable[..., Flask], variant: Variant) -> None:
    app = make_app()
    client = app.test_client()
    handle = MockHandle(app, "http://localhost", api_key=KEY)
    variant.apply(handle)

    first = create(client, body())
    answered = [(first.status_code, first.json["code"])]
    if first.json["code"] != 0:  # the first create failed as the variant says: retry once
        again = create(client, body())
        answered.append((again.status_code, again.json["code"]))
        first = again
    handle.run_all()
    data = query(client, first.json["data"]["job_id"]).json["data"]

    assert data["status"] == variant.reported_status
    if variant.outcome == "failed":
        assert (data["refunded"], data["error"]) == (True, variant.reason)
    else:
        assert list(data["result"]) == ["images" if variant.result_key == "images" else "videos"]
    if variant.fault is None:
        assert answered == [(200, 0)]
    else:
        sent = 200 if variant.error_status == "200" else variant.status
        assert answered == [(sent, variant.code), (200, 0)]
        entry = handle.requests()[0]
        assert (entry["status"], entry["sent_status"]) == (variant.status, sent)


def test_the_default_variant_is_a_success_with_the_models_result_key() -> None:
    assert (DEFAULT.name, DEFAULT.result_key, DEFAULT.outcome) == ("succeeded", "auto", "succeeded")
    assert {v.name for v in ALL} >= {"succeeded-images", "failed-status-4", "errors-as-200"}


def test_a_variant_leaves_settings_it_does_not_name(make_app: Callable[..., Flask]) -> None:
    app = make_app(ERROR_STATUS="200")
    handle = MockHandle(app, "http://localhost", api_key=KEY)
    next(v for v in ALL if v.name == "failed-content_policy").apply(handle)
    assert (handle.control.runtime().error_status, handle.control.runtime().failed_status) == (
        "200",
        3,
    )
    assert app.test_client().get("/api/v1/job/query?id=x", headers=AUTH).status_code == 200
