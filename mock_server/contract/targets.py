"""Where the contract suite sends requests: the in-process mock, any URL, or the live API.

A target sends `WireRequest`s and tells what it offers: `controls` (the mock's ``/_mock/``
admin API, used only when the target has it), whether it costs money (`paid`), and
whether hypothesis may send it as many generated examples as it likes (`generative`).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from flask import Flask

from mock_server import create_app
from mock_server.control import MockControl, get_control
from mock_server.keys import fingerprint
from mock_server.testing import API_URL, TEST_CONFIG, call_app

from .wire import Secret, WireRequest, WireResponse

LIVE_URL = API_URL
HTTP_TIMEOUT = 30.0  # seconds for one request
BIG_BODY = 64 * 1024  # bytes: bigger request bodies go on a connection of their own


class TargetError(Exception):
    """The target could not be reached or answered nonsense (not a contract finding)."""


class Controls(Protocol):
    """The mock's control API, as far as the contract suite uses it."""

    def now(self) -> float:
        """Return the mock's clock time."""
        ...

    def advance(self, seconds: float) -> None:
        """Move the mock's clock forward."""
        ...

    def clock_mode(self) -> tuple[str, float]:
        """Return the mock's clock mode and speed."""
        ...

    def set_clock(self, mode: str, *, speed: float | None = None) -> None:
        """Switch the mock's clock mode (and speed) without a jump in time."""
        ...

    def set_strict_args(self, on: bool) -> None:
        """Read args strictly (True) or leniently (False), as ``--strict-args`` does."""
        ...

    def add_fault(self, fault: str, *, key: Secret, endpoint: str) -> None:
        """Answer the next request of `key` to `endpoint` with `fault`."""
        ...

    def clear_faults(self) -> None:
        """Forget every fault not yet used."""
        ...

    def open_account(self, key: Secret) -> None:
        """Track what `key` spends (no balance limit): the mock tracks only known accounts."""
        ...

    def account(self, key: Secret) -> dict[str, Any]:
        """Return the account of `key`: balance, spent, refunded, in flight."""
        ...

    def newest_job(self, key: Secret) -> str | None:
        """Return the id of the newest job of `key`, or None."""
        ...


class InProcessControls:
    """`Controls` over a `MockControl` in this process."""

    def __init__(self, control: MockControl) -> None:
        self.control = control

    def now(self) -> float:
        """Return the mock's clock time."""
        return self.control.now()

    def advance(self, seconds: float) -> None:
        """Move the mock's clock forward (callbacks due by then are sent first)."""
        self.control.advance(seconds)

    def clock_mode(self) -> tuple[str, float]:
        """Return the mock's clock mode and speed."""
        runtime = self.control.runtime()
        return runtime.clock, runtime.speed

    def set_clock(self, mode: str, *, speed: float | None = None) -> None:
        """Switch the mock's clock mode (and speed) without a jump in time."""
        self.control.set_clock(mode, speed=speed)

    def set_strict_args(self, on: bool) -> None:
        """Read args strictly (True) or leniently (False), as ``--strict-args`` does."""
        self.control.configure(strict_args=on)

    def add_fault(self, fault: str, *, key: Secret, endpoint: str) -> None:
        """Answer the next request of `key` to `endpoint` with `fault`."""
        self.control.add_fault(fault, key=fingerprint(key.reveal()), endpoint=endpoint)

    def clear_faults(self) -> None:
        """Forget every fault not yet used."""
        self.control.clear("fault")

    def open_account(self, key: Secret) -> None:
        """Track what `key` spends (no balance limit)."""
        self.control.set_account(fingerprint(key.reveal()), balance=None)

    def account(self, key: Secret) -> dict[str, Any]:
        """Return the account of `key`."""
        return self.control.account(fingerprint(key.reveal()))

    def newest_job(self, key: Secret) -> str | None:
        """Return the id of the newest job of `key`, or None."""
        jobs = self.control.jobs(key=fingerprint(key.reveal()), limit=1)
        return str(jobs[0]["id"]) if jobs else None


class HttpControls:
    """`Controls` over a served mock's ``/_mock/`` admin API (keys sent as fingerprints)."""

    def __init__(self, session: requests.Session, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        with self.session.request(
            method, self.base_url + "/_mock" + path, json=body, timeout=HTTP_TIMEOUT
        ) as response:
            if response.status_code != 200:
                raise TargetError(f"/_mock{path} answered {response.status_code}")
            return response.json()

    def now(self) -> float:
        """Return the mock's clock time."""
        return float(self._call("GET", "/clock")["now"])

    def advance(self, seconds: float) -> None:
        """Move the mock's clock forward (callbacks due by then are sent first)."""
        self._call("POST", "/clock/advance", {"seconds": seconds})

    def clock_mode(self) -> tuple[str, float]:
        """Return the mock's clock mode and speed."""
        view = self._call("GET", "/clock")
        return str(view["clock"]), float(view["speed"])

    def set_clock(self, mode: str, *, speed: float | None = None) -> None:
        """Switch the mock's clock mode (and speed) without a jump in time."""
        self._call("POST", "/clock", {"mode": mode, **({"speed": speed} if speed else {})})

    def set_strict_args(self, on: bool) -> None:
        """Read args strictly (True) or leniently (False), as ``--strict-args`` does."""
        self._call("POST", "/settings", {"strict_args": on})

    def add_fault(self, fault: str, *, key: Secret, endpoint: str) -> None:
        """Answer the next request of `key` to `endpoint` with `fault`."""
        body = {"fault": fault, "count": 1, "endpoint": endpoint, "key": fingerprint(key.reveal())}
        self._call("POST", "/faults", body)

    def clear_faults(self) -> None:
        """Forget every fault not yet used (of every key: the admin API has no other)."""
        self._call("DELETE", "/faults")

    def open_account(self, key: Secret) -> None:
        """Track what `key` spends (no balance limit)."""
        self._call("POST", f"/accounts/{fingerprint(key.reveal())}", {"balance": None})

    def account(self, key: Secret) -> dict[str, Any]:
        """Return the account of `key`."""
        result: dict[str, Any] = self._call("GET", f"/accounts/{fingerprint(key.reveal())}")
        return result

    def newest_job(self, key: Secret) -> str | None:
        """Return the id of the newest job of `key`, or None."""
        jobs = self._call("GET", f"/jobs?key={fingerprint(key.reveal())}&limit=1")["jobs"]
        return str(jobs[0]["id"]) if jobs else None


class Target:
    """Something that answers the API: sends requests, keeps time, maybe offers controls."""

    name = "target"
    paid = False
    controls: Controls | None = None

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    @property
    def where(self) -> str:
        """Where the target is, as a report names it: its URL."""
        return self.base_url

    @property
    def generative(self) -> bool:
        """Say whether hypothesis may send this target as many examples as it likes."""
        return self.controls is not None and not self.paid

    @property
    def reaches_loopback(self) -> bool:
        """Say whether the target can call back a receiver on 127.0.0.1."""
        return self.controls is not None

    def send(self, request: WireRequest, key: Secret) -> WireResponse:
        """Send `request` with `key`; return the answer."""
        raise NotImplementedError

    def clock(self) -> float:
        """Return the target's time in seconds (the mock's clock when it has controls)."""
        return self.controls.now() if self.controls else time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of the target's time."""
        time.sleep(seconds)

    def recorded_plan(self) -> list[dict[str, Any]] | None:
        """Return the plan this target was recorded with (replay targets only)."""
        return None

    def close(self) -> None:
        """Release what the target holds."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.base_url}>"


class InProcessTarget(Target):
    """The mock app in this process: no socket, manual clock, full controls."""

    name = "mock"

    def __init__(self, app: Flask | None = None, *, base_url: str = API_URL) -> None:
        super().__init__(base_url)  # the URLs its calls are routed by, never a socket
        self.app = app or create_app(TEST_CONFIG)
        self.controls = InProcessControls(get_control(self.app))

    @property
    def where(self) -> str:
        """Not the API URL its calls are routed by: the app in this process."""
        return "in-process, no socket"

    def send(self, request: WireRequest, key: Secret) -> WireResponse:
        """Run `request` through the app."""
        status, headers, body = call_app(
            self.app,
            request.method,
            self.base_url + request.target,
            request.send_headers(key),
            request.body or None,
        )
        return WireResponse.of(status, headers, body)

    def close(self) -> None:
        """Stop the app's callback thread and close its store."""
        self.app.extensions["shortapi.callbacks"].stop()
        self.app.extensions["shortapi.store"].close()


class HttpTarget(Target):
    """Any URL, as a black box; the ``/_mock/`` controls are used only if it offers them."""

    name = "url"

    def __init__(
        self, base_url: str, *, probe_controls: bool = True, timeout: float = HTTP_TIMEOUT
    ) -> None:
        super().__init__(base_url)
        self.timeout = timeout
        self.session = requests.Session()
        if probe_controls and self._offers_controls():
            self.controls = HttpControls(self.session, self.base_url)
        self.paid = self.controls is None  # a black box may charge: the budget applies

    @property
    def reaches_loopback(self) -> bool:
        """Say whether the target can call back a receiver on 127.0.0.1."""
        host = urlsplit(self.base_url).hostname or ""
        return self.controls is not None and host in ("127.0.0.1", "localhost", "::1")

    def _offers_controls(self) -> bool:
        with (
            contextlib.suppress(requests.RequestException, ValueError),
            self.session.get(self.base_url + "/_mock/health", timeout=self.timeout) as response,
        ):
            return response.status_code == 200 and response.json().get("status") == "ok"
        return False

    def send(self, request: WireRequest, key: Secret) -> WireResponse:
        """Send `request` over HTTP (no redirects followed)."""
        headers = request.send_headers(key)
        if len(request.body) > BIG_BODY:
            # A server refusing a huge body may drop the connection without saying so
            # (the served mock does after its 413): do not keep it for the next request.
            headers["Connection"] = "close"
        try:
            with self.session.request(
                request.method,
                self.base_url + request.target,
                headers=headers,
                data=request.body or None,
                timeout=self.timeout,
                allow_redirects=False,
            ) as response:
                return WireResponse.of(response.status_code, response.headers, response.content)
        except requests.RequestException as exc:
            raise TargetError(f"{request.method} {request.path}: {type(exc).__name__}") from None

    def close(self) -> None:
        """Close the connection pool."""
        self.session.close()


class LiveTarget(HttpTarget):
    """The live API: paid, a black box (never probed for controls), the budget enforced."""

    name = "live"
    paid = True

    def __init__(self, base_url: str = LIVE_URL, *, timeout: float = HTTP_TIMEOUT) -> None:
        super().__init__(base_url, probe_controls=False, timeout=timeout)
