"""Strategies and the property of the fuzz tests, shared by tests/test_fuzz.py (bounded) and
bench/fuzz.py (``make fuzz``, 100k requests)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from hypothesis import strategies as st

PATHS = [
    "/api/v1/job/create",
    "/api/v1/job/query",
    "/api/v1/job/query?id=x",
    "/files/x.mp4",
    "/openapi.json",
    "/_mock/health",
    "/_mock/clock/advance",
    "/_mock/clock",
    "/_mock/settings",
    "/_mock/scenarios",
    "/_mock/faults",
    "/_mock/accounts/k",
    "/_mock/requests?limit=5",
    "/_mock/jobs/x",
    "/_mock/run",
    "/",
    "/api/v1/%ff",
    "/_mock/reset",
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
CONTENT_TYPES = [
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "",
]
HEADER_NAMES = [
    "Authorization",
    "X-Mock-Scenario",
    "Accept",
    "X-Mock-Admin-Token",
    "Content-Encoding",
    "Range",
    "If-None-Match",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)
bodies = st.one_of(
    st.binary(max_size=512),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 3000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.integers(1, 20_000).map(
        lambda n: json.dumps(
            {"model": "x", "args": {"images": ["https://e.com/a.jpg"] * n}}
        ).encode()
    ),
    st.builds(
        lambda args: json.dumps(
            {"model": "kwaivgi/kling-o1/image-to-video", "args": args}
        ).encode(),
        st.dictionaries(
            st.sampled_from(
                ["mode", "action", "prompt", "duration", "images", "elements", "aspect_ratio", "x"]
            ),
            json_values,
            max_size=8,
        ),
    ),
)


def check_answer(
    app: Flask, method: str, path: str, body: bytes, content_type: str, headers: dict[str, str]
) -> int:
    """Send one request in process; assert it got a JSON answer below 500; return its status."""
    if content_type:
        headers = {**headers, "Content-Type": content_type}
    with app.test_client().open(path, method=method, data=body, headers=headers) as response:
        assert response.status_code < 500, response.get_data()[:300]
        if method == "HEAD" or response.status_code in (204, 206, 304):
            return response.status_code
        if method == "OPTIONS" and response.status_code == 200:  # the envelope (api/cors.py)
            assert response.headers["Allow"] and response.get_json()["code"] == 0
            return response.status_code
        if response.mimetype == "video/mp4":
            assert response.get_data()[4:8] == b"ftyp"
            return response.status_code
        assert response.mimetype == "application/json", (response.status_code, response.data)
        document: Any = response.get_json()
        if response.status_code >= 400:
            assert set(document) == {"code", "message", "info"}
            assert document["code"] != 0 and document["message"] == document["info"]
        return response.status_code


requests_ = st.fixed_dictionaries(
    {
        "method": st.sampled_from(METHODS),
        "path": st.sampled_from(PATHS),
        "body": bodies,
        "content_type": st.sampled_from(CONTENT_TYPES),
        "headers": st.dictionaries(
            st.sampled_from(HEADER_NAMES),
            st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
            max_size=4,
        ),
    }
)
