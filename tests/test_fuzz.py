"""Fuzzing, bounded: whatever arrives, never a 5xx and never a body that is not JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving import served_mock

from mock_server import create_app

APP = create_app({"CLOCK": "manual", "BACKGROUND": False, "MAX_CONTENT_LENGTH": 64 * 1024})
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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(PATHS),
    body=bodies,
    content_type=st.sampled_from(CONTENT_TYPES),
    headers=st.dictionaries(
        st.sampled_from(HEADER_NAMES),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
        max_size=4,
    ),
)
def test_any_request_gets_a_json_answer_below_500(
    method: str, path: str, body: bytes, content_type: str, headers: dict[str, str]
) -> None:
    if content_type:
        headers = {**headers, "Content-Type": content_type}
    with APP.test_client().open(path, method=method, data=body, headers=headers) as response:
        assert response.status_code < 500, response.get_data()[:300]
        if method == "HEAD" or response.status_code in (204, 206, 304):
            return
        if method == "OPTIONS" and response.status_code == 200:
            assert response.get_data() == b"" and response.headers["Allow"]
            return
        if response.mimetype == "video/mp4":
            assert response.get_data()[4:8] == b"ftyp"
            return
        assert response.mimetype == "application/json", (response.status_code, response.data)
        document: Any = response.get_json()
        if response.status_code >= 400:
            assert set(document) == {"code", "message", "info"}
            assert document["code"] != 0 and document["message"] == document["info"]


@pytest.mark.slow
def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / "schemathesis"
    if not executable.exists() and shutil.which("schemathesis") is None:
        pytest.skip("schemathesis is not installed")
    args = [
        "serve",
        "--clock",
        "manual",
        "--store",
        f"sqlite:{tmp_path}/f.db",
        "--workers",
        "2",
        "--reset",
    ]
    with served_mock(tmp_path, args) as mock:
        result = subprocess.run(
            [
                str(executable),
                "run",
                mock.url("/openapi.json"),
                "-H",
                "Authorization: Bearer fz",
                "--checks",
                "not_a_server_error,response_schema_conformance,"
                "status_code_conformance,content_type_conformance",
                "--max-examples",
                "40",
                "--seed",
                "1",
                "--no-color",
                # the image-URL pattern plus `format: uri` makes hypothesis filter a lot
                "--suppress-health-check=filter_too_much",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "passed" in result.stdout
