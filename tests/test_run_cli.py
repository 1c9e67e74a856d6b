"""``shortapi-mock run|intercept|env`` with real programs in real processes: the example
clients of examples/clients/ (Node's fetch, Python's requests, bash with curl, Go's
net/http), each hard-coding https://api.shortapi.ai, run unmodified against the mock; exit
statuses; signals; and no process left behind. Each language is skipped, saying why, where
it is missing (`make test` installs nodejs and golang-go from Debian)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from helpers import served_in_thread
from serving import MODULE_COMMAND

from mock_server.testing import ThreadedServer

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "examples" / "clients"
RUN_TIMEOUT = 90.0  # seconds for one `run` (the mock's start, the program, the stop)
KINDS = ("videos", "images", "musics")
MARK = "SHORTAPI_RUN_TEST_MARK"
KEY = "ak-0123456789abcdef0123456789abcdef"
SONG = json.dumps(
    {
        "model": "suno/suno-v5/generate",
        "args": {"mode": "description", "gpt_description_prompt": "x"},
    }
)


def marked_processes(mark: str) -> list[int]:
    """Return the live processes whose environment holds `mark` (what a run left behind)."""
    found = []
    needle = f"{MARK}={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or not ours
    return found


def wait_for_no_process(mark: str, timeout: float = 15.0, *, named: bytes = b"") -> list[int]:
    """Wait until no process holds `mark` (and `named` in its command line); return those
    still there after `timeout`."""

    def left() -> list[int]:
        found = []
        for pid in marked_processes(mark):
            try:
                if named in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
            except OSError:
                continue
        return found

    deadline = time.monotonic() + timeout
    while (still := left()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return still


def start_run(program: str, mark: str) -> subprocess.Popen[bytes]:
    """Start ``shortapi-mock run -- python -c PROGRAM`` (a mock of its own), marked."""
    return subprocess.Popen(
        [*MODULE_COMMAND, "run", "--", sys.executable, "-c", program],
        env={**os.environ, MARK: mark},
        stderr=subprocess.DEVNULL,
    )


def wait_for_file(path: Path, process: subprocess.Popen[bytes]) -> None:
    """Wait until the program run by `process` made `path` (it is then running)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while not path.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert path.exists(), "the program never started"


def run(
    *args: str, mark: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``shortapi-mock ARGS``, its processes marked (the mark is checked after)."""
    mark = mark or uuid.uuid4().hex
    done = subprocess.run(
        [*MODULE_COMMAND, *args],
        env={**os.environ, MARK: mark},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=cwd,
    )
    assert wait_for_no_process(mark) == [], "a process of the run was left behind"
    return done


def needs(program: str, package: str) -> str:
    """Return the path of `program`, or skip saying what to install."""
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} not installed (Debian: apt-get install {package}; make test does)")
    return path


@pytest.fixture(scope="session")
def node() -> str:
    """Debian's node, or the one SHORTAPI_TEST_NODE names (to try another release)."""
    path = os.environ.get("SHORTAPI_TEST_NODE") or needs("node", "nodejs")
    version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    major = int(version.strip().lstrip("v").split(".")[0])
    if major < 20:
        pytest.skip(f"node {version.strip()} is too old for --import in NODE_OPTIONS (>= 20)")
    return path


@pytest.fixture(scope="session")
def go_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go example client, built once per session (its caches in a temp folder)."""
    go = needs("go", "golang-go")
    folder = tmp_path_factory.mktemp("go")
    binary = folder / "shortapi-go"
    environ = {
        **os.environ,
        "GOCACHE": str(folder / "cache"),
        "GOPATH": str(folder / "gopath"),
        "GOPROXY": "off",  # no dependencies: nothing to fetch, ever
        "GOFLAGS": "-mod=mod",
    }
    subprocess.run(
        [go, "build", "-o", str(binary), "."],
        cwd=CLIENTS / "go_nethttp",
        env=environ,
        check=True,
        timeout=300,
    )
    return binary


def assert_three_files(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == list(KINDS), done.stdout
    for line in lines:  # the links the mock handed out name the API's host, over https
        assert "https://api.shortapi.ai/files/" in line


def test_a_node_program_using_fetch(node: str) -> None:
    assert_three_files(run("run", "--speed", "20", "--", node, str(CLIENTS / "node_fetch.mjs")))


def test_a_python_program_using_requests() -> None:
    program = [sys.executable, str(CLIENTS / "python_requests.py")]
    assert_three_files(run("run", "--speed", "20", "--", *program))


def test_a_bash_script_using_curl() -> None:
    bash, _ = needs("bash", "bash"), needs("curl", "curl")
    assert_three_files(run("run", "--speed", "20", "--", bash, str(CLIENTS / "curl.sh")))


def test_a_go_program_using_net_http(go_client: Path) -> None:
    assert_three_files(run("run", "--speed", "20", "--", str(go_client)))


@pytest.fixture(scope="module")
def served() -> Iterator[ThreadedServer]:
    """A mock served by this test process, for `--mock URL` (per-poll clock)."""
    with served_in_thread() as server:
        yield server


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ([sys.executable, "-c", "import sys; sys.exit(7)"], 7),
        (["sh", "-c", "kill -TERM $$"], 128 + signal.SIGTERM),
        (["no-such-command-for-shortapi-mock"], 127),
    ],
    ids=["exit-7", "killed-by-sigterm", "not-found"],
)
def test_the_exit_status_is_the_programs(
    served: ThreadedServer, command: list[str], status: int
) -> None:
    assert run("run", "--mock", served.base_url, "--", *command).returncode == status


def test_node_https_request_users_are_routed_too(node: str, served: ThreadedServer) -> None:
    script = """
import https from "node:https";
https.get("https://api.shortapi.ai/api/v1/job/query?id=nope",
  { headers: { Authorization: "Bearer ak-0123456789abcdef0123456789abcdef" } }, (res) => {
    let body = "";
    res.on("data", (chunk) => (body += chunk));
    res.on("end", () => console.log(res.statusCode, JSON.parse(body).code));
  });
"""
    done = run("run", "--mock", served.base_url, "--", node, "--input-type=module", "-e", script)
    assert done.stdout.split() == ["404", "1203"], done.stderr
    entry = requests.get(f"{served.base_url}/_mock/requests?limit=1", timeout=10).json()
    assert entry["requests"][0]["query"] == "id=nope"


def test_signals_reach_the_program_and_everything_stops(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    program = (
        "import pathlib, signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(5))\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "time.sleep(60)\n"
    )
    mark = uuid.uuid4().hex
    with start_run(program, mark) as process:
        try:
            wait_for_file(ready, process)
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 5  # the program's own status, after its handler
        finally:
            process.kill()
    assert wait_for_no_process(mark) == []


def test_a_killed_run_takes_its_mock_and_files_with_it(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    program = (
        "import os, pathlib, time\n"
        f"pathlib.Path({str(ready)!r}).write_text(os.environ['SSL_CERT_FILE'])\n"
        "time.sleep(60)\n"
    )
    mark = uuid.uuid4().hex
    with start_run(program, mark) as process:
        wait_for_file(ready, process)
        process.kill()  # SIGKILL: no clean-up of ours runs
    folder = Path(ready.read_text()).parent.parent  # the run's: store, CA bundle, leaf keys
    try:  # the program is orphaned, as under a shell; the mock is not
        assert wait_for_no_process(mark, named=b"mock_server") == []
        assert not folder.exists()
    finally:
        for pid in marked_processes(mark):
            os.kill(pid, signal.SIGKILL)


def test_intercept_keeps_the_proxy_up_and_env_prints_its_variables(
    served: ThreadedServer, tmp_path: Path
) -> None:
    curl = needs("curl", "curl")
    mark = uuid.uuid4().hex
    state = tmp_path / ".shortapi-mock" / "intercept.json"
    with subprocess.Popen(
        [*MODULE_COMMAND, "intercept", "--mock", served.base_url, "--format", "json"],
        env={**os.environ, MARK: mark},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            printed = json.loads("".join(iter(process.stdout.readline, "}\n")) + "}")
            assert state.is_file()
            variables = json.loads(run("env", "--format", "json", cwd=tmp_path).stdout)
            assert variables == printed
            created = subprocess.run(
                [
                    curl,
                    "-sS",
                    "https://api.shortapi.ai/api/v1/job/create",
                    "-d",
                    SONG,
                    "-H",
                    f"Authorization: Bearer {KEY}",
                    "-H",
                    "Content-Type: application/json",
                ],
                env={**os.environ, **variables},
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert json.loads(created.stdout)["code"] == 0, created.stderr
            folder = Path(variables["SSL_CERT_FILE"]).parent
            process.send_signal(signal.SIGINT)
            assert process.wait(30) == 0
        finally:
            process.kill()
    assert not state.exists() and not folder.exists()
    assert wait_for_no_process(mark) == []
    gone = run("env", cwd=tmp_path)
    assert gone.returncode == 1 and "no shortapi-mock intercept is running" in gone.stderr


def test_run_refuses_a_command_line_without_a_command() -> None:
    done = run("run", "--speed", "20")
    assert done.returncode == 2 and "give the command after --" in done.stderr
    done = run("run", "--clock", "sideways", "--", "true")
    assert done.returncode == 2 and "--clock" in done.stderr
