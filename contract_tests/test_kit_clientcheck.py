"""`check_client`: a careful client passes; a careless one is caught, with the reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import requests

from mock_server.contract.clientcheck import ClientCheckFailed, ClientResult, check_client
from mock_server.testing import MockHandle, variants

pytestmark = pytest.mark.kit
MODEL = "kwaivgi/kling-o1/image-to-video"
WORDS = {"queued": 0, "processing": 1, "succeeded": 2, "failed": 3}


class TinyError(Exception):
    """The example client's own error."""


class TinyClient:
    """A small client as a user might write one (the thing `check_client` checks)."""

    errors = (TinyError,)

    def __init__(
        self,
        mock: MockHandle,
        *,
        result_keys: Sequence[str] = ("images", "videos"),
        int_duration: bool = False,
        model: str = MODEL,
    ) -> None:
        self.base_url, self.session = mock.base_url, requests.Session()
        self.session.headers["Authorization"] = f"Bearer {mock.api_key}"
        self.result_keys, self.int_duration, self.model = result_keys, int_duration, model
        self.slept: list[float] = []  # Retry-After waits, recorded instead of slept

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        for _ in range(3):
            with self.session.request(
                method, self.base_url + path, timeout=10, **kwargs
            ) as response:
                if response.status_code == 429:
                    self.slept.append(float(response.headers.get("Retry-After", "1")))
                    continue
                body: dict[str, Any] = response.json()
            if response.status_code >= 400 or body.get("code") != 0:
                raise TinyError(body.get("info") or body.get("message"))
            return body
        raise TinyError("still rate limited")

    def submit(self, args: Mapping[str, Any]) -> str:
        """Create a job; return its id."""
        args = dict(args)
        if self.int_duration and "duration" in args:
            args["duration"] = int(args["duration"])
        body = self._call("POST", "/api/v1/job/create", json={"model": self.model, "args": args})
        return str(body["data"]["job_id"])

    def wait(self, job_id: str) -> ClientResult:
        """Poll until the job ends (the per-poll clock moves it one step per query)."""
        for _ in range(10):
            data = self._call("GET", "/api/v1/job/query", params={"id": job_id})["data"]
            if isinstance(data["status"], str):  # statuses as words (A-status-strings)
                data["status"] = WORDS.get(data["status"], 3)
            if data["status"] == 2:
                key = next(k for k in self.result_keys if k in data["result"])
                return ClientResult(2, data["result"][key][0]["url"])
            if data["status"] > 2:  # 3, or 4: any status above 2 is final
                return ClientResult(data["status"])
        raise TinyError(f"job {job_id} did not finish")


def test_a_careful_client_passes_every_variant(shortapi_mock: MockHandle) -> None:
    """Every variant and fault: requests conform, results are the job's."""
    runs = check_client(lambda mock: TinyClient(mock), shortapi_mock, examples=4)
    assert runs >= len(variants.ALL)


@pytest.mark.parametrize("model", ["google/nano-banana-pro/text-to-image", "suno/suno-v5/generate"])
def test_a_client_of_another_model_is_checked_on_that_models_args(
    shortapi_mock: MockHandle, model: str
) -> None:
    """Generated from the model's own schema (a kling body would be rejected), and the result
    checked is the model's kind: an image, a song."""
    keys = ("images", "musics")
    runs = check_client(
        lambda mock: TinyClient(mock, model=model, result_keys=keys),
        shortapi_mock,
        chosen=[variants.DEFAULT],
        examples=3,
        model=model,
    )
    assert runs >= 1
    kinds = {job["model"] for job in shortapi_mock.jobs()}
    assert kinds == {model}


@pytest.mark.shortapi(check=False)
def test_a_client_reporting_another_url_fails(shortapi_mock: MockHandle) -> None:
    """A result URL that is not the job's own first one is caught."""

    class Elsewhere(TinyClient):
        def wait(self, job_id: str) -> ClientResult:
            found = super().wait(job_id)
            return ClientResult(found.status, "https://cdn.example.com/other.mp4")

    with pytest.raises(ClientCheckFailed, match=r"\[succeeded\].*succeeded with its result at"):
        check_client(
            lambda mock: Elsewhere(mock), shortapi_mock, chosen=[variants.DEFAULT], shrink=False
        )


@pytest.mark.shortapi(check=False)
def test_a_client_reading_only_images_fails_on_videos(shortapi_mock: MockHandle) -> None:
    """A client that knows only result.images crashes when the result is under videos (the
    default variant: a video model's output kind)."""
    with pytest.raises(ClientCheckFailed, match=r"\[succeeded\].*crashed"):
        check_client(
            lambda mock: TinyClient(mock, result_keys=("images",)),
            shortapi_mock,
            chosen=[variants.DEFAULT],
            shrink=False,
        )


@pytest.mark.shortapi(check=False)
def test_a_client_sending_duration_as_a_number_breaks_the_contract(
    shortapi_mock: MockHandle,
) -> None:
    """Every request a client sends is checked: duration 5 (a number) is rejected."""
    with pytest.raises(ClientCheckFailed, match=r"request\.rejected.*/args/duration"):
        check_client(
            lambda mock: TinyClient(mock, int_duration=True),
            shortapi_mock,
            chosen=[variants.DEFAULT],
            shrink=False,
        )
