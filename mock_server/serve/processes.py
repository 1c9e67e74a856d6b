"""The processes `shortapi-mock run` and `intercept` own: the mock they start (`serve` as a
subprocess, in its own session so a terminal's Ctrl-C reaches it only through us), and the
child command (signals forwarded, its status returned as a shell would).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

STARTUP_TIMEOUT = 60.0  # seconds for the mock's banner
STOP_TIMEOUT = 10.0  # seconds after SIGTERM before SIGKILL
# (Windows has only the first two; there `run` forwards those.)
FORWARDED = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1")
    if hasattr(signal, name)
)
_BANNER = re.compile(r"serving on (http://\S+)")
# The mock dies with us even when we are killed outright (SIGKILL): Linux's parent-death
# signal, set before `serve` starts; the ppid check covers a parent gone before the prctl.
# Then it removes the run's folder (its store, the CA bundle, the leaf keys), which we can
# no longer do; only the mock's own process does (gunicorn's forked workers unwind this
# stack too when they exit).
_GUARDED_SERVE = """
import os, runpy, shutil, signal, sys
parent, folder, me = int(sys.argv[1]), sys.argv[2], os.getpid()
if sys.platform.startswith("linux"):
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        sys.exit(0)
sys.argv = ["shortapi-mock", *sys.argv[3:]]
try:
    runpy.run_module("mock_server", run_name="__main__", alter_sys=True)
finally:
    if folder and os.getpid() == me:
        shutil.rmtree(folder, ignore_errors=True)
"""


class MockStartError(RuntimeError):
    """The mock did not start; the message holds what it said."""


class MockProcess:
    """`shortapi-mock serve ARGS` in a subprocess, until `stop()`."""

    def __init__(self, serve_args: Sequence[str], *, folder: Path | None = None) -> None:
        """Start ``serve serve_args``; `folder` is removed when the mock ends, however the
        caller ended."""
        self.access_log = "--access-log" in serve_args
        guard = [str(os.getpid()), str(folder or "")]
        command = [sys.executable, "-c", _GUARDED_SERVE, *guard, "serve", *serve_args]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() reaches its workers
        )
        self.url = self._wait_for_banner()

    def _wait_for_banner(self) -> str:
        found: list[str] = []
        lines: list[str] = []
        ready = threading.Event()

        def read() -> None:
            assert self.process.stdout is not None
            for raw in self.process.stdout:  # drained to the end, so serve never blocks
                line = raw.decode("utf-8", "replace")
                if not found:
                    lines.append(line)
                    match = _BANNER.search(line)
                    if match:
                        found.append(match.group(1))
                        ready.set()
                elif self.access_log:  # the access log, after the banner, goes to stderr
                    sys.stderr.write(line)
            ready.set()

        threading.Thread(target=read, name="shortapi-mock-stdout", daemon=True).start()
        ready.wait(STARTUP_TIMEOUT)
        if not found:
            self.stop()
            said = "".join(lines).strip()
            raise MockStartError(
                f"the mock did not start (serve exited with {self.process.returncode})"
                + (f": {said}" if said else "; its errors are above")
            )
        return found[0]

    def stop(self) -> None:
        """SIGTERM the mock's process group, then SIGKILL it if it lingers."""
        if not hasattr(os, "killpg"):  # Windows: the process alone
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(STOP_TIMEOUT)
                break
            except subprocess.TimeoutExpired:
                continue
        # gunicorn's workers leave with their master; a straggler gets the same end
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


def exit_status(returncode: int) -> int:
    """Return the status a shell reports: the code, or 128 + the signal that killed it."""
    return returncode if returncode >= 0 else 128 - returncode


def _terminal_foreground() -> bool:
    """Say whether we run in the foreground of a terminal: its Ctrl-C then reaches the
    whole process group, the child included, and is not forwarded a second time."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


@contextlib.contextmanager
def forwarding_signals(child: subprocess.Popen[bytes]) -> Iterator[None]:
    """Forward SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGUSR1 to `child` while in the block
    (SIGINT and SIGQUIT not when a terminal already sent them to the child's group)."""
    from_terminal = _terminal_foreground()

    def forward(signum: int, frame: FrameType | None) -> None:
        if from_terminal and signum in (signal.SIGINT, getattr(signal, "SIGQUIT", None)):
            return
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    try:
        yield
    finally:
        for forwarded, handler in previous.items():
            signal.signal(forwarded, handler)


def run_child(command: Sequence[str], environ: Mapping[str, str]) -> int:
    """Run `command` with `environ`, forwarding signals; return its status as a shell
    would (127 when it is not found, 126 when it cannot be run)."""
    try:
        child = subprocess.Popen(list(command), env=dict(environ))
    except FileNotFoundError:
        print(f"shortapi-mock: {command[0]}: command not found", file=sys.stderr)
        return 127
    except PermissionError as exc:
        print(f"shortapi-mock: {command[0]}: {exc.strerror}", file=sys.stderr)
        return 126
    with forwarding_signals(child):
        returncode = child.wait()
    return exit_status(returncode)
