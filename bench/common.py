"""What every benchmark shares: the repository root, the job it creates, the bench key's
headers, a JSON request helper and the report writer."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "bench-key"
CREATE_PATH = "/api/v1/job/create"
QUERY_PATH = "/api/v1/job/query"


class BenchError(RuntimeError):
    """A set-up step failed; the message says what to do."""


def job_body(prompt: str = "a cat walks") -> dict[str, Any]:
    """Return a valid create body for the image-to-video model (one start frame)."""
    return {
        "model": "kwaivgi/kling-o1/image-to-video",
        "args": {
            "mode": "std",
            "action": "frame",
            "prompt": prompt,
            "images": ["https://example.com/a.jpg"],
        },
    }


def auth(key: str = API_KEY) -> dict[str, str]:
    """Return the headers that authenticate as `key`."""
    return {"Authorization": f"Bearer {key}"}


def http(
    url: str, method: str = "GET", body: bytes | None = None, timeout: float = 10
) -> tuple[int, bytes]:
    """Send one request with the bench key; return (status, body), errors included."""
    headers = auth()
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status: int = answer.status
            return status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def write_json(path: str | Path, document: Any) -> Path:
    """Write `document` as indented JSON to `path`, creating its folder; return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")
    return out
