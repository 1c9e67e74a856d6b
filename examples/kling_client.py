"""A small, typed client of the shortapi.ai job API for ``kwaivgi/kling-o1/image-to-video``.

It is the kind of client an application would write, and `test_kling_client.py` beside it
shows how to test one with the ``shortapi_*`` pytest fixtures:

    client = KlingClient(os.environ["SHORTAPI_KEY"])
    job = client.submit(prompt="a black lab swims across a pool",
                        images=["https://example.com/start.jpg"])
    url = client.wait(job.job_id)              # polls with backoff until status 2 or 3
    client.download(url, "lab.mp4")

Every wait goes through the injectable `sleep`, and every timeout counts the seconds slept,
not wall time: pass ``sleep=shortapi_mock.advance`` in a test and the mock's manual clock
moves instead of the test sleeping.
"""

from __future__ import annotations

import email.utils
import queue
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import requests
import urllib3.exceptions

MODEL = "kwaivgi/kling-o1/image-to-video"
DEFAULT_BASE_URL = "https://api.shortapi.ai"
QUEUED, PROCESSING, SUCCEEDED, FAILED = 0, 1, 2, 3
# Statuses as words (the official agent skills wait for "succeeded"): not settled which form
# the live API sends, so the client reads both (the mock's statuses-as-strings variant).
WORDS = {"queued": QUEUED, "processing": PROCESSING, "succeeded": SUCCEEDED, "failed": FAILED}
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# The codes retried when an error comes as HTTP 200 (one public client says the live API does
# that): rate and concurrency limits, 3000 "upstream unstable", server errors.
RETRY_CODES = frozenset({1302, 1303, 3000, 5000, 5001, 5002})
# A 429 the client must not retry: waiting does not top up an account (upstream Kling 1102).
BALANCE_DEPLETED = 1102

Sleep = Callable[[float], object]


class KlingError(Exception):
    """Base class of the client's errors."""


class ApiError(KlingError):
    """The API answered an error envelope (or something that is not the API's JSON)."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"HTTP {status}, code {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class JobFailed(KlingError):
    """The job ended with a status above 2 (failed: 3, or 4); the API refunds failed jobs."""

    def __init__(self, job_id: str, reason: str, *, refunded: bool = False) -> None:
        super().__init__(f"job {job_id} failed: {reason}")
        self.job_id = job_id
        self.reason = reason
        self.refunded = refunded


class JobTimeout(KlingError):
    """The job did not finish (or its callback did not come) within the timeout."""


class CreateUncertain(KlingError):
    """A create was sent but its answer was lost (the connection dropped or timed out after
    the request went out): the job may exist and be billed. The API documents no idempotency
    key, so the client does not resend it; check the account (or the callbacks) first."""


@dataclass(frozen=True)
class Job:
    """A job the API accepted: its id and what it costs (USD)."""

    job_id: str
    amount: Decimal


@dataclass(frozen=True)
class JobStatus:
    """One answer about a job, from a query or a callback."""

    job_id: str
    status: int
    url: str | None = None  # the result video, once status is 2
    reason: str | None = None  # why it failed, once status is 3
    refunded: bool = False

    @property
    def done(self) -> bool:
        """Whether the status is final (2 succeeded, 3 or above failed)."""
        return self.status >= SUCCEEDED

    def video_url(self) -> str:
        """Return the result URL, or raise `JobFailed` if the job failed."""
        if self.status == SUCCEEDED and self.url:
            return self.url
        if self.status == SUCCEEDED:
            raise ApiError(200, 0, f"job {self.job_id} succeeded without a result URL")
        raise JobFailed(self.job_id, self.reason or "unknown reason", refunded=self.refunded)


class HasBodies(Protocol):
    """Anything that records callback bodies, e.g. `mock_server.testing.CallbackReceiver`."""

    def bodies(self) -> list[Any]: ...


def parse_status(job_id: str, data: Mapping[str, Any]) -> JobStatus:
    """Turn the ``data`` object of a query answer or of a callback into a `JobStatus`."""
    raw = data.get("status", QUEUED)
    status = WORDS.get(raw.lower(), FAILED) if isinstance(raw, str) else int(raw)
    result = data.get("result") or {}
    url = None
    # The model page documents result.images; sibling video pages and clients use videos.
    for key in ("videos", "images"):
        items = result.get(key) or []
        if items and isinstance(items[0], Mapping) and items[0].get("url"):
            url = str(items[0]["url"])
            break
    refunded = bool(data.get("refunded", False))
    if status < SUCCEEDED and refunded:  # refunded means failed, whatever the status says
        status = FAILED
    reason = data.get("error") or data.get("reason")  # clients read error; older mocks reason
    return JobStatus(job_id, status, url, None if reason is None else str(reason), refunded)


def retry_after(response: requests.Response) -> float | None:
    """Return the response's Retry-After in seconds (delta or HTTP date), if it has one."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


class KlingClient:
    """Create Kling O1 image-to-video jobs, wait for them, and download the result."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        session: requests.Session | None = None,
        sleep: Sleep = time.sleep,
        poll_interval: float = 3.0,
        max_poll_interval: float = 15.0,
        timeout: float = 600.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        request_timeout: float = 30.0,
        resend_uncertain_creates: bool = False,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required (SHORTAPI_KEY)")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self._owns_session = session is None
        self.session = session or requests.Session()
        self.sleep = sleep
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.request_timeout = request_timeout
        self.resend_uncertain_creates = resend_uncertain_creates

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> KlingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # the API
    def submit(
        self,
        *,
        prompt: str,
        images: Sequence[str],
        mode: str = "std",
        action: str = "frame",
        duration: int | str = 5,
        aspect_ratio: str | None = None,
        elements: Sequence[Mapping[str, Any]] | None = None,
        callback_url: str | None = None,
    ) -> Job:
        """Create a job; return its id and amount, or raise `ApiError`."""
        args: dict[str, Any] = {
            "mode": mode,
            "action": action,
            "prompt": prompt,
            "duration": str(duration),  # the API wants a string: "5", not 5
            "images": list(images),
        }
        if aspect_ratio is not None:
            args["aspect_ratio"] = aspect_ratio
        if elements is not None:
            args["elements"] = [dict(e) for e in elements]
        body: dict[str, Any] = {"model": MODEL, "args": args}
        if callback_url is not None:
            body["callback_url"] = callback_url
        data = self._call(
            "POST", "/api/v1/job/create", json=body, once=not self.resend_uncertain_creates
        )
        return Job(str(data["job_id"]), Decimal(str(data.get("amount", "0"))))

    def query(self, job_id: str) -> JobStatus:
        """Return the job's current status (one GET), or raise `ApiError`."""
        data = self._call("GET", "/api/v1/job/query", params={"id": job_id})
        return parse_status(job_id, data)

    def wait(self, job_id: str, *, timeout: float | None = None) -> str:
        """Poll until the job is final; return the video URL or raise `JobFailed`/`JobTimeout`.

        Polls every `poll_interval` seconds, growing by half each time up to
        `max_poll_interval`, and stops at the first final status.
        """
        budget = self.timeout if timeout is None else timeout
        waited, interval = 0.0, self.poll_interval
        while True:
            self.sleep(interval)
            waited += interval
            state = self.query(job_id)
            if state.done:
                return state.video_url()
            if waited >= budget:
                raise JobTimeout(f"job {job_id} still has status {state.status} after {waited:g} s")
            interval = min(interval * 1.5, self.max_poll_interval)

    def wait_for_callback(
        self,
        inbox: queue.Queue[Any] | HasBodies,
        job_id: str,
        *,
        timeout: float | None = None,
        check_every: float = 1.0,
    ) -> str:
        """Wait for the job's final callback; return the video URL or raise `JobFailed`.

        `inbox` is where your webhook handler puts the callback bodies it receives (parsed
        JSON): a `queue.Queue` (bodies of other jobs are put back for their own waiter), or
        anything with a ``bodies()`` method. Non-final statuses are skipped, so duplicates
        and out-of-order deliveries are harmless. Raises `JobTimeout` when no final
        callback came within `timeout` seconds.
        """
        budget = self.timeout if timeout is None else timeout
        waited, seen = 0.0, 0
        while True:
            others: list[Any] = []  # bodies of other jobs, for the queue
            if isinstance(inbox, queue.Queue):
                bodies = _drain(inbox)
            else:
                bodies = inbox.bodies()[seen:]
                seen += len(bodies)
            for number, body in enumerate(bodies):
                data = body.get("data") if isinstance(body, Mapping) else None
                if not isinstance(data, Mapping):
                    continue
                if str(data.get("job_id") or data.get("id")) != job_id:
                    others.append(body)
                    continue
                state = parse_status(job_id, data)
                if state.done:
                    _put_back(inbox, [*others, *bodies[number + 1 :]])
                    return state.video_url()
            _put_back(inbox, others)
            if waited >= budget:
                raise JobTimeout(f"no final callback for job {job_id} within {budget:g} s")
            self.sleep(check_every)
            waited += check_every

    def download(self, url: str, path: str | Path) -> Path:
        """Save the result video at `url` to `path` (via a temporary file); return the path.

        The URL points at a file host, so the API key is not sent with it.
        """
        target = Path(path)
        partial = target.with_name(target.name + ".part")
        response = self._send("GET", url, authorized=False, stream=True)
        with response:
            if response.status_code != 200:
                raise _api_error(response)
            with partial.open("wb") as out:
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    out.write(chunk)
        partial.replace(target)
        return target

    def generate(
        self, path: str | Path, *, prompt: str, images: Sequence[str], **args: Any
    ) -> Path:
        """Submit, wait and download in one call; return the saved path."""
        job = self.submit(prompt=prompt, images=images, **args)
        return self.download(self.wait(job.job_id), path)

    # HTTP
    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send an API request; return ``data`` of a ``code: 0`` answer, else raise."""
        response = self._send(method, self.base_url + path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            raise _api_error(response) from None
        if response.status_code != 200 or not isinstance(body, dict) or body.get("code") != 0:
            raise _api_error(response)
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def _send(
        self,
        method: str,
        url: str,
        *,
        authorized: bool = True,
        once: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request, retrying 429, 5xx and connection errors with backoff.

        With `once` (a create), a connection that drops or times out after the request went
        out raises `CreateUncertain` instead: the API documents no idempotency key, so a
        resend could create and bill the job twice. A connection that was never made (refused,
        connect timeout) is retried: nothing reached the API.
        """
        headers = {"Authorization": f"Bearer {self.api_key}"} if authorized else {}
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = self.session.request(
                    method, url, headers=headers, timeout=self.request_timeout, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                if once and not _never_sent(error):
                    raise CreateUncertain(
                        f"{method} {url}: the connection dropped after the request was sent "
                        f"({error.__class__.__name__}); the job may exist and be billed, so "
                        "it is not resent"
                    ) from error
                if last:
                    raise
                self.sleep(self._backoff(attempt))
                continue
            if last or not _retryable(response):
                return response
            delay = retry_after(response)
            response.close()
            self.sleep(self._backoff(attempt) if delay is None else delay)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff * 2**attempt, self.max_backoff))


def _never_sent(error: requests.RequestException) -> bool:
    """Whether the request surely never reached the server: the connection was refused or
    could not be made in time (urllib3 gave up connecting), not dropped after sending."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    cause = error.args[0] if error.args else None
    return isinstance(cause, urllib3.exceptions.MaxRetryError) and isinstance(
        cause.reason, urllib3.exceptions.NewConnectionError
    )


def _retryable(response: requests.Response) -> bool:
    if response.status_code == 200:  # an error sent as HTTP 200 carries a non-zero code
        return _code(response) in RETRY_CODES
    if response.status_code not in RETRY_STATUSES:
        return False
    if response.status_code == 429:
        return _code(response) != BALANCE_DEPLETED
    return True


def _code(response: requests.Response) -> int | None:
    """Return the ``code`` of a JSON answer (None for a file, or a body without one)."""
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def _api_error(response: requests.Response) -> ApiError:
    """Build the `ApiError` of an error answer: message from ``info``, else ``message``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = response.text.strip()[:200] or response.reason or "no body"
        return ApiError(response.status_code, None, text)
    code = body.get("code")
    message = body.get("info") or body.get("message") or f"HTTP {response.status_code}"
    return ApiError(response.status_code, code if isinstance(code, int) else None, str(message))


def _drain(inbox: queue.Queue[Any]) -> list[Any]:
    items = []
    while True:
        try:
            items.append(inbox.get_nowait())
        except queue.Empty:
            return items


def _put_back(inbox: queue.Queue[Any] | HasBodies, bodies: list[Any]) -> None:
    if isinstance(inbox, queue.Queue):
        for body in bodies:
            inbox.put(body)
