"""The dashboard in a real headless browser: Debian's chromium driven by Playwright.

The mock runs in a threaded server on a manual clock; jobs are created through the API
with `requests`; the tests click the page's controls and wait for the DOM (Playwright's
auto-waiting `expect`, never a fixed sleep). Screenshots go to reports/screenshots/.
Skipped, with the reason, when Playwright or /usr/bin/chromium is missing (`make test`
installs both where it can).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import body

from mock_server import create_app
from mock_server.api.journal import MEDIA_MARK
from mock_server.keys import fingerprint
from mock_server.testing import ThreadedServer
from mock_server.testing.receiver import CallbackReceiver

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'"
)
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: apt-get install chromium (make test does it as root)",
        allow_module_level=True,
    )

Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.slow
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[1] / "reports" / "screenshots"
KEY = "sk-browser-test"
OTHER_KEY = "sk-browser-other"
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> a cat'
POLL = "poll=100"  # the page polls the admin API every 100 ms in these tests
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class Mock:
    """The served mock and short ways to drive it from outside, as a client would."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.admin = {"X-Mock-Admin-Token": token} if token else {}

    def url(self, path: str) -> str:
        return self.base_url + path

    def create(self, key: str = KEY, **args: Any) -> requests.Response:
        payload = body(**{k: v for k, v in args.items() if k != "callback_url"})
        if "callback_url" in args:
            payload["callback_url"] = args["callback_url"]
        return requests.post(
            self.url("/api/v1/job/create"),
            json=payload,
            headers={"Authorization": f"Bearer {key}"},
            timeout=5,
        )

    def job(self, key: str = KEY, **args: Any) -> str:
        response = self.create(key, **args)
        assert response.status_code == 200, response.text
        return str(response.json()["data"]["job_id"])

    def post(self, path: str, payload: Any = None) -> Any:
        response = requests.post(self.url(path), json=payload, headers=self.admin, timeout=5)
        assert response.ok, response.text
        return response.json()

    def get(self, path: str) -> Any:
        response = requests.get(self.url(path), headers=self.admin, timeout=5)
        assert response.ok, response.text
        return response.json()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=20_000
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(create_app({"STORE": "memory", "CLOCK": "manual"})) as served:
        yield served


@pytest.fixture
def mock(server: ThreadedServer) -> Mock:
    handle = Mock(server.base_url)
    handle.post("/_mock/reset")
    return handle


class Watch:
    """What a page did that it must not: script errors, console errors, dialogs."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.confirms = 0

    def attach(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        # A refused admin call (the tests provoke some) is logged as a failed load.
        if message.type == "error" and not message.text.startswith(
            "Failed to load resource: the server responded with a status of 4"
        ):
            self.problems.append(f"console: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        if dialog.type == "confirm" and dialog.message.startswith("Reset the mock?"):
            self.confirms += 1
            dialog.accept()
        else:
            self.problems.append(f"unexpected {dialog.type}: {dialog.message}")
            dialog.dismiss()


@pytest.fixture
def watch() -> Watch:
    return Watch()


def new_page(browser: Browser, watch: Watch, viewport: dict[str, int] = DESKTOP) -> Page:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(5_000)
    page = context.new_page()
    watch.attach(page)
    return page


@pytest.fixture
def page(browser: Browser, watch: Watch) -> Iterator[Page]:
    opened = new_page(browser, watch)
    yield opened
    opened.context.close()
    assert watch.problems == []


def open_page(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def row(page: Page, job_id: str) -> Any:
    return page.locator(f'#jobs-body tr[data-id="{job_id}"]')


def test_jobs_page_shows_jobs_live(mock: Mock, page: Page) -> None:
    first = mock.job(prompt="a black lab swims across a pool")
    open_page(page, mock.url(f"/_mock/ui?{POLL}"))
    expect(row(page, first).locator(".status")).to_have_text("queued")
    expect(row(page, first)).to_contain_text(fingerprint(KEY))
    expect(row(page, first)).to_contain_text("$0.375")

    # Jobs created after the page loaded appear on their own, newest first.
    second = mock.job(OTHER_KEY, mode="pro", action="refer", prompt="two dogs")
    expect(page.locator("#jobs-body tr")).to_have_count(2)
    expect(page.locator("#jobs-body tr").first).to_have_attribute("data-id", second)
    expect(row(page, second)).to_contain_text("$0.5")
    expect(row(page, second)).to_contain_text("pro refer")

    page.get_by_role("button", name="+10 s").click()
    expect(page.locator("#clock-now")).to_have_text("10.0 s")
    expect(row(page, first).locator(".status")).to_have_text("succeeded")
    expect(row(page, first).locator(".timeline li")).to_have_text(
        ["queued 0.0 s", "processing 2.0 s", "succeeded 10.0 s"]
    )
    expect(row(page, first).locator(".age")).to_have_text("10.0 s")
    shot(page, "jobs-desktop")

    # The key filter: an API key typed in becomes its fingerprint.
    page.get_by_label("key").first.fill(OTHER_KEY)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(f"key={fingerprint(OTHER_KEY)}"))
    expect(page.locator("#jobs-body tr")).to_have_count(1)
    mock.job(KEY)
    mock.job(OTHER_KEY)
    expect(page.locator("#jobs-body tr")).to_have_count(2)  # polled with the filter


def test_controls_call_the_admin_api(mock: Mock, page: Page, watch: Watch) -> None:
    open_page(page, mock.url(f"/_mock/ui?{POLL}"))
    admin_calls: list[str] = []
    page.on(
        "request",
        lambda r: (
            admin_calls.append(f"{r.method} {r.url.split('/_mock', 1)[1]}")
            if r.method != "GET"
            else None
        ),
    )

    # Scenario: fail the next job; "Run all" finishes it.
    page.get_by_role("button", name="Fail the next job").click()
    expect(page.locator("#scenario-list")).to_contain_text("fail 1 left")
    failed = mock.job()
    expect(page.locator("#scenario-list")).to_have_text("none")
    page.get_by_role("button", name="Run all").click()
    expect(row(page, failed).locator(".status")).to_have_text("failed")

    # A scenario from the form, for every job of one key.
    form = page.locator("form[data-form=scenario]")
    form.get_by_label("scenario").fill("stuck")
    form.get_by_label("count").fill("")
    form.get_by_label("key").fill(KEY)
    form.get_by_role("button", name="Add scenario").click()
    expect(page.locator("#scenario-list")).to_contain_text(f"stuck every · {fingerprint(KEY)}")
    page.get_by_role("button", name="Clear scenarios").click()
    expect(page.locator("#scenario-list")).to_have_text("none")

    # A fault: the next create answers 503.
    form = page.locator("form[data-form=fault]")
    form.get_by_label("fault").fill("503")
    form.get_by_label("on").select_option("create")
    form.get_by_role("button", name="Add fault").click()
    expect(page.locator("#fault-list")).to_contain_text("503 1 left · create")
    assert mock.create().status_code == 503
    expect(page.locator("#fault-list")).to_have_text("none")
    form.get_by_label("fault").fill("warp")
    form.get_by_role("button", name="Add fault").click()
    expect(page.locator("#flash")).to_contain_text("Refused: unknown fault warp")

    # The clock: advance by a number of seconds, switch the mode.
    page.locator("form[data-form=advance]").get_by_label("advance").fill("2.5")
    page.get_by_role("button", name="Advance", exact=True).click()
    expect(page.locator("#clock-now")).to_have_text(re.compile(r"^\d+\.\d s$"))
    now = mock.get("/_mock/clock")["now"]
    expect(page.locator("#clock-now")).to_have_text(f"{now:.1f} s")
    page.locator("form[data-form=clock]").get_by_label("mode").select_option("per-poll")
    page.get_by_role("button", name="Set clock").click()
    expect(page.locator("#clock-mode")).to_have_text("per-poll")
    assert mock.get("/_mock/clock")["clock"] == "per-poll"
    page.locator("form[data-form=clock]").get_by_label("mode").select_option("manual")
    page.get_by_role("button", name="Set clock").click()
    expect(page.locator("#clock-mode")).to_have_text("manual")

    # Reset, after the confirm dialog.
    page.get_by_role("button", name="Reset the mock").click()
    expect(page.locator("#jobs-empty")).to_be_visible()
    expect(page.locator("#clock-now")).to_have_text("0.0 s")
    assert watch.confirms == 1
    assert mock.get("/_mock/jobs")["jobs"] == []
    assert admin_calls == [
        "POST /scenarios",
        "POST /run",
        "POST /scenarios",
        "DELETE /scenarios",
        "POST /faults",
        "POST /faults",
        "POST /clock/advance",
        "POST /clock",
        "POST /clock",
        "POST /reset",
    ]


def test_fail_one_job_from_its_page(mock: Mock, page: Page) -> None:
    job = mock.job(prompt="a job to fail")
    open_page(page, mock.url(f"/_mock/ui/jobs/{job}?{POLL}"))
    page.get_by_role("button", name="Fail: timeout").click()
    expect(page.locator("#job-status")).to_have_text("failed")
    expect(page.locator("#job-actions")).to_have_count(0)
    answer = requests.get(mock.url(f"/_mock/jobs/{job}"), timeout=5).json()
    assert answer["status"] == 3 and answer["outcome"]["reason"] == "generation timed out"


def test_model_filter_selects_and_keeps_polling(mock: Mock, page: Page) -> None:
    banana = {
        "model": "google/nano-banana/text-to-image",
        "args": {"prompt": "a cat", "aspect_ratio": "1:1"},
    }
    headers = {"Authorization": f"Bearer {KEY}"}

    def create_banana() -> str:
        answer = requests.post(mock.url("/api/v1/job/create"), json=banana, headers=headers)
        return str(answer.json()["data"]["job_id"])

    kling, first = mock.job(prompt="a dog"), create_banana()
    open_page(page, mock.url(f"/_mock/ui?{POLL}"))
    expect(page.locator("#jobs-body tr")).to_have_count(2)
    expect(row(page, first).locator(".model")).to_have_text(banana["model"])
    page.locator("form.filter").get_by_label("model").select_option(
        banana["model"]
    )  # submits on change
    expect(page).to_have_url(re.compile("model=google%2Fnano-banana%2Ftext-to-image"))
    expect(page.locator("#jobs-body tr")).to_have_count(1)
    mock.job(prompt="another dog")
    second = create_banana()
    expect(page.locator("#jobs-body tr")).to_have_count(2)  # polled with the filter
    expect(page.locator("#jobs-body tr").first).to_have_attribute("data-id", second)
    expect(row(page, kling)).to_have_count(0)


def test_job_detail_callbacks_and_video(mock: Mock, page: Page) -> None:
    with CallbackReceiver(statuses=[500]) as receiver:  # the first attempt fails
        job = mock.job(prompt="a cat walks in Kyoto", callback_url=receiver.url)
        open_page(page, mock.url(f"/_mock/ui/jobs/{job}?{POLL}"))
        expect(page.locator("#job-status")).to_have_text("queued")
        expect(page.locator("#no-video")).to_have_text("No video yet: the job is queued.")
        expect(page.locator("#args")).to_contain_text("a cat walks in Kyoto")
        expect(page.locator("#args")).to_contain_text("https://example.com/start.jpg")

        page.get_by_role("button", name="Run all").click()
        expect(page.locator("#job-status")).to_have_text("succeeded")
        expect(page.locator("#timeline-body tr")).to_have_count(3)
        expect(page.locator("#timeline-body")).to_contain_text("succeeded")
        video = page.locator("video#video")
        expect(video).to_have_attribute("src", f"/files/{job}.mp4?{MEDIA_MARK}=1")
        delivery = page.locator("#deliveries .delivery")
        expect(delivery.locator(".state")).to_have_text("delivered")
        expect(delivery.locator("tbody tr")).to_have_count(2)  # 500, then 200
        expect(delivery.locator("tbody tr").nth(0)).to_contain_text("500")
        expect(delivery.locator("tbody tr").nth(1)).to_contain_text("200")
        # Oldest last: the create (the page's own video loads are journaled too).
        expect(page.locator("#journal .entry").last).to_contain_text("POST /api/v1/job/create")
        assert len(receiver.wait_for(2)) == 2

    answer = page.request.get(mock.url(f"/files/{job}.mp4"))
    assert answer.status == 200 and answer.headers["content-type"] == "video/mp4"
    duration = video.evaluate(  # chromium decodes it: the first frame is there
        "v => v.readyState >= 2 ? v.duration : new Promise(ok =>"
        " v.addEventListener('loadeddata', () => ok(v.duration), {once: true}))"
    )
    assert duration == pytest.approx(5.0, abs=0.1)
    shot(page, "job-detail")


def test_journal_shows_broken_rules_and_filters(mock: Mock, page: Page) -> None:
    mock.job()
    rejected = mock.create(OTHER_KEY, mode="ultra", duration=5)
    assert rejected.status_code == 400
    open_page(page, mock.url(f"/_mock/ui/requests?{POLL}"))
    entries = page.locator("#journal .entry")
    expect(entries).to_have_count(2)
    bad = page.locator("#journal .entry.o-rejected")
    expect(bad.locator(".pointer")).to_have_text(["/args/mode", "/args/duration"])
    expect(bad.locator(".problem").first).to_contain_text(
        '"ultra" is not allowed; use one of "std", "pro"'
    )
    expect(bad.locator(".problem").nth(1)).to_contain_text("send the duration as a string")

    # A request made after the page loaded appears live, at the top.
    mock.create(KEY, prompt="")
    expect(entries).to_have_count(3)
    expect(entries.first.locator(".pointer")).to_have_text("/args/prompt")
    entries.first.locator("summary").click()
    expect(entries.first.locator("pre.body")).to_contain_text('"prompt": ""')
    shot(page, "journal")

    page.get_by_label("outcome").select_option("rejected")  # submits the filter form
    expect(page).to_have_url(re.compile("outcome=rejected"))
    expect(entries).to_have_count(2)
    page.get_by_label("key").fill(OTHER_KEY)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(f"key={fingerprint(OTHER_KEY)}"))
    expect(entries).to_have_count(1)
    expect(entries.first.locator(".pointer").first).to_have_text("/args/mode")
    mock.create(KEY, mode="ultra")  # another key: the filter keeps it out
    mock.create(OTHER_KEY, prompt="")
    expect(entries).to_have_count(2)


def test_untrusted_input_is_shown_as_text(mock: Mock, page: Page) -> None:
    before = mock.job(prompt=XSS)
    open_page(page, mock.url(f"/_mock/ui?{POLL}"))  # server-rendered
    expect(row(page, before).locator(".prompt")).to_have_text(XSS)
    after = mock.job(prompt=XSS)  # rendered by the script
    expect(row(page, after).locator(".prompt")).to_have_text(XSS)
    assert page.evaluate("window.__xss") is None
    assert page.locator("img").count() == 0

    mock.create(OTHER_KEY, mode="<img src=x onerror=window.__xss=3>")
    open_page(page, mock.url(f"/_mock/ui/requests?{POLL}"))
    mock.create(OTHER_KEY, prompt=XSS, mode="<b>bold</b>")
    expect(page.locator("#journal .entry")).to_have_count(4)
    expect(page.locator("#journal .entry").first.locator("pre.body")).to_contain_text(
        "<script>window.__xss = 1</script>"
    )
    expect(page.locator("#journal .entry").first.locator(".problem")).to_contain_text("<b>bold</b>")
    assert page.locator("#journal b").count() == 0

    open_page(page, mock.url(f"/_mock/ui/jobs/{before}?{POLL}"))
    expect(page.locator("#args")).to_contain_text(XSS)
    expect(page.locator("#journal .entry")).to_have_count(1)
    assert page.evaluate("window.__xss") is None
    assert page.locator("img, script:not([src])").count() == 0


@pytest.mark.parametrize("name", ["jobs", "journal", "job"])
def test_phone_width_has_no_horizontal_overflow(
    mock: Mock, browser: Browser, watch: Watch, name: str
) -> None:
    job = mock.job(prompt="a very long prompt " * 20)
    mock.create(OTHER_KEY, mode="ultra", duration=5, images=["https://example.com/" + "a" * 200])
    mock.post("/_mock/faults", {"fault": "503", "count": 3, "endpoint": "create"})
    mock.create()
    mock.post("/_mock/run")
    url = {"jobs": "/_mock/ui", "journal": "/_mock/ui/requests", "job": f"/_mock/ui/jobs/{job}"}
    page = new_page(browser, watch, PHONE)
    try:
        open_page(page, mock.url(url[name] + f"?{POLL}"))
        if name == "job":
            expect(page.locator("video#video")).to_be_visible()
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1] == PHONE["width"]
        shot(page, f"{name}-phone")
    finally:
        page.context.close()
    assert watch.problems == []


def test_with_admin_token(browser: Browser, watch: Watch) -> None:
    token = "t0ken&<x>"
    app = create_app({"STORE": "memory", "CLOCK": "manual", "ADMIN_TOKEN": token})
    with ThreadedServer(app) as served:
        mock = Mock(served.base_url, token)
        job = mock.job()
        page = new_page(browser, watch)
        try:
            denied = page.goto(mock.url("/_mock/ui"))
            assert denied is not None and denied.status == 401
            expect(page.locator("h1")).to_have_text("Admin token needed")
            open_page(page, mock.url(f"/_mock/ui?token=t0ken%26%3Cx%3E&{POLL}"))
            page.get_by_role("button", name="+10 s").click()  # the script sends the token
            expect(row(page, job).locator(".status")).to_have_text("succeeded")
            page.locator(f'a[href*="/jobs/{job}"]').first.click()
            expect(page.locator("video#video")).to_have_attribute(
                "src", f"/files/{job}.mp4?{MEDIA_MARK}=1"
            )
            page.get_by_role("link", name="Requests").click()
            expect(page.locator("#journal .entry").last).to_contain_text("/api/v1/job/create")
        finally:
            page.context.close()
    assert watch.problems == []


@pytest.mark.parametrize(
    ("payload", "selector", "count"),
    [
        ({"model": "google/nano-banana/text-to-image",
          "args": {"prompt": "a cat", "aspect_ratio": "21:9", "num_images": 2}}, "#images img", 2),
        ({"model": "suno/suno-v5/generate", "args": {"mode": "custom", "title": "Pool Day"}},
         "#songs audio", 2),
    ],
)  # fmt: skip
def test_job_page_previews_images_and_songs(
    mock: Mock, page: Page, payload: dict[str, Any], selector: str, count: int
) -> None:
    created = requests.post(
        mock.url("/api/v1/job/create"), json=payload, headers={"Authorization": f"Bearer {KEY}"}
    )
    job = created.json()["data"]["job_id"]
    open_page(page, mock.url(f"/_mock/ui/jobs/{job}?{POLL}"))
    noun = "images" if selector.startswith("#images") else "music"
    expect(page.locator("#no-video")).to_have_text(f"No {noun} yet: the job is queued.")
    page.get_by_role("button", name="Run all").click()  # the script draws the preview
    expect(page.locator(selector)).to_have_count(count)
    for n in range(count):
        if noun == "images":
            image = page.locator(selector).nth(n)
            expect(image).to_have_attribute("src", f"/files/{job}/{n + 1}.png?{MEDIA_MARK}=1")
            size = image.evaluate(
                "i => i.complete && i.naturalWidth ? [i.naturalWidth, i.naturalHeight] :"
                " new Promise(ok => i.addEventListener('load',"
                " () => ok([i.naturalWidth, i.naturalHeight]), {once: true}))"
            )
            assert size == [1024, 439]
        else:
            audio = page.locator(selector).nth(n)
            expect(audio).to_have_attribute("src", f"/files/{job}/music-{n + 1}.wav?{MEDIA_MARK}=1")
            duration = audio.evaluate(  # chromium decodes the WAV
                "a => a.readyState >= 1 ? a.duration : new Promise(ok =>"
                " a.addEventListener('loadedmetadata', () => ok(a.duration), {once: true}))"
            )
            assert duration == pytest.approx(5.0, abs=0.05)
            expect(page.locator("#songs figcaption").nth(n)).to_have_text("Pool Day")
    shot(page, f"job-{noun}")
