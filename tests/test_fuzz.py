"""Fuzzing, bounded: whatever arrives, never a 5xx and never a body that is not JSON."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fuzzing import check_answer, requests_
from hypothesis import HealthCheck, given, settings
from serving import served_mock

from mock_server import create_app

APP = create_app({"CLOCK": "manual", "BACKGROUND": False, "MAX_CONTENT_LENGTH": 64 * 1024})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests_)
def test_any_request_gets_a_json_answer_below_500(request: dict[str, Any]) -> None:
    check_answer(APP, **request)


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
