"""The dashboard's HTML routes under /_mock/ui (Flask test client, both stores).

The pages in a real browser (controls, live updates, the video, phone width) are in
tests/test_dashboard_browser.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import AUTH, KEY, MODEL, advance, body, create

from mock_server import create_app
from mock_server.api import dashboard
from mock_server.api.journal import MEDIA_MARK
from mock_server.catalog.registry import MODELS
from mock_server.data import schemas
from mock_server.keys import fingerprint
from mock_server.version import __version__

XSS_PROMPT = '<script>alert(1)</script><img src=x onerror="alert(2)"> a cat'
PLANTED = "sk-live-PLANTED-dashboard-77"
STATIC = Path(dashboard.__file__).parent / "static"


class Tags(HTMLParser):
    """Collect every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.data[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def job_id(client: FlaskClient, **args: object) -> str:
    response = create(client, body(**args))
    assert response.status_code == 200, response.json
    return str(response.json["data"]["job_id"])


def test_jobs_page_lists_jobs_newest_first(client: FlaskClient) -> None:
    first = job_id(client)
    second = job_id(client, mode="pro", prompt="a second job")
    advance(client, 3)
    html = page(client, "/_mock/ui")
    rows = re.findall(r'<tr data-id="([0-9a-f]+)">', html)
    assert rows == [second, first]
    assert fingerprint(KEY) in html and KEY not in html
    assert MODEL in html
    assert "$0.375" in html and "$0.5" in html  # std 5 s, pro 5 s
    assert ">pro <" in html and ">std <" in html
    assert "processing" in html and "queued" in html  # status and timeline
    assert "3.0 s" in html  # age on the clock
    assert f'href="/_mock/ui/jobs/{first}"' in html
    assert page(client, "/_mock/ui/") == page(client, "/_mock/ui")


def test_jobs_page_filters_by_key(client: FlaskClient) -> None:
    mine = job_id(client)
    theirs = create(client, body(), Authorization="Bearer other-key").json["data"]["job_id"]
    html = page(client, f"/_mock/ui?key={fingerprint(KEY)}")
    assert mine in html and theirs not in html
    # An API key typed into the filter is replaced by its fingerprint in the URL.
    response = client.get(f"/_mock/ui?key={KEY}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/_mock/ui?key={fingerprint(KEY)}"


def test_jobs_page_has_a_model_column_and_filter(client: FlaskClient) -> None:
    other = "google/nano-banana/text-to-image"
    args = schemas.load(MODELS[other].args_schema)["examples"][0]
    kling = job_id(client)
    banana = create(client, {"model": other, "args": args}).json["data"]["job_id"]
    html = page(client, "/_mock/ui")
    assert kling in html and banana in html
    assert f'<td data-label="Model" class="model">{other}</td>' in html
    selects = [a for t, a in tags(html) if t == "select" and a.get("name") == "model"]
    assert len(selects) == 1
    options = re.findall(r"<option(?: selected)?>([^<]+)</option>", html)
    assert set(MODELS) <= set(options)  # every served model is offered
    html = page(client, f"/_mock/ui?model={other}")
    assert banana in html and kling not in html
    assert f"<option selected>{other}</option>" in html
    assert 'data-model="google/nano-banana/text-to-image"' in html
    # The filters combine, and a typed API key keeps the model in the redirect.
    assert banana not in page(client, f"/_mock/ui?model={other}&key={fingerprint('other')}")
    response = client.get(f"/_mock/ui?model={other}&key={KEY}")
    assert response.status_code == 303
    assert f"model={other}" in response.headers["Location"]
    html = page(client, "/_mock/ui?model=acme/none")
    assert "No jobs of acme/none among the newest 500." in html
    assert "<option selected>acme/none</option>" in html


def test_job_page_request_timeline_callbacks_and_video(client: FlaskClient) -> None:
    payload = body(prompt="a dog runs")
    payload["callback_url"] = "http://127.0.0.1:9/callback"  # nothing listens: attempts fail
    created = client.post("/api/v1/job/create", json=payload, headers=AUTH).json["data"]
    url = f"/_mock/ui/jobs/{created['job_id']}"
    html = page(client, url)
    assert "a dog runs" in html and "https://example.com/start.jpg" in html
    assert "<video" not in html and "No video yet: the job is queued." in html
    assert "No callback yet" in html
    advance(client, 11)
    html = page(client, url)
    statuses = re.findall(r'<tr><td><span class="status s(\d)">', html)
    assert statuses == ["0", "1", "2"]
    src = f"/files/{created['job_id']}.mp4?{MEDIA_MARK}=1"  # the dashboard's own load
    assert f'<video id="video" controls preload="metadata" src="{src}">' in html
    journaled = len(client.get("/_mock/requests").json["requests"])
    with client.get(src) as file:
        assert file.status_code == 200 and file.mimetype == "video/mp4"
    assert len(client.get("/_mock/requests").json["requests"]) == journaled  # not journaled
    with client.get(f"/files/{created['job_id']}.mp4"):  # a client's download is
        assert len(client.get("/_mock/requests").json["requests"]) == journaled + 1
    assert "http://127.0.0.1:9/callback" in html
    assert re.search(r'class="state d-pending">pending<', html)  # retrying
    assert "Connection" in html or "refused" in html.lower()  # the attempt's error
    assert html.count('class="entry ') == 1  # the create request, journaled with the job


def test_failed_job_page_has_no_video(client: FlaskClient) -> None:
    failed = job_id(client, prompt="fails [mock:fail:timeout]")
    advance(client, 11)
    html = page(client, f"/_mock/ui/jobs/{failed}")
    assert "<video" not in html
    assert "The job failed: no video." in html
    assert "fails: generation timed out" in html


def test_unknown_job_page_is_404_html(client: FlaskClient) -> None:
    html = page(client, "/_mock/ui/jobs/nope", status=404)
    assert "Job not found" in html


def test_requests_page_shows_problems_and_filters(client: FlaskClient) -> None:
    job_id(client)
    bad = create(client, body(mode="ultra", duration=5))
    assert bad.status_code == 400
    create(client, body(), Authorization="Bearer other-key")
    html = page(client, "/_mock/ui/requests")
    assert html.count('class="entry ') == 3
    assert '<code class="pointer">/args/mode</code>' in html
    assert "&#34;ultra&#34; is not allowed; use one of &#34;std&#34;, &#34;pro&#34;" in html
    assert '<code class="pointer">/args/duration</code>' in html
    assert 'class="outcome o-rejected">rejected<' in html

    rejected = page(client, "/_mock/ui/requests?outcome=rejected")
    assert rejected.count('class="entry ') == 1
    assert 'data-outcome="rejected"' in rejected  # what the script polls with
    others = page(client, f"/_mock/ui/requests?key={fingerprint('other-key')}")
    assert others.count('class="entry ') == 1
    assert fingerprint(KEY) not in re.sub(r"<datalist.*?</datalist>", "", others, flags=re.S)
    none = page(client, f"/_mock/ui/requests?key={fingerprint('other-key')}&outcome=rejected")
    assert 'class="entry ' not in none and "No requests match the filter." in none
    # An unknown outcome is no filter at all.
    assert page(client, "/_mock/ui/requests?outcome=bogus").count('class="entry ') == 3


def test_untrusted_input_is_escaped(client: FlaskClient) -> None:
    job = job_id(client, prompt=XSS_PROMPT)
    create(client, {"model": MODEL, "args": {"mode": "<img src=x onerror=alert(3)>"}})
    for url in ("/_mock/ui", "/_mock/ui/requests", f"/_mock/ui/jobs/{job}"):
        html = page(client, url)
        assert "<script>alert" not in html and "<img" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x" in html, url
        assert [t for t, _ in tags(html)].count("script") == 1  # only dashboard.js
        assert "img" not in [t for t, _ in tags(html)]


def test_pages_have_no_inline_code_and_load_nothing_from_outside(client: FlaskClient) -> None:
    job = job_id(client)
    advance(client, 10)
    create(client, body(mode="ultra"))
    for url in ("/_mock/ui", "/_mock/ui/requests", f"/_mock/ui/jobs/{job}"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        for tag, attrs in tags(response.get_data(as_text=True)):
            assert not [a for a in attrs if a.startswith("on")], (url, tag, attrs)
            assert "style" not in attrs and tag != "style", (url, tag)
            if tag == "script":
                assert attrs["src"] == f"/_mock/ui/static/dashboard.js?v={__version__}"
            for name in ("src", "href", "action"):
                value = attrs.get(name) or ""
                assert not re.match(r"^(https?:)?//", value), (url, tag, value)


def test_static_assets(client: FlaskClient) -> None:
    with client.get("/_mock/ui/static/dashboard.js") as script:
        assert script.status_code == 200 and "javascript" in script.mimetype
    with client.get("/_mock/ui/static/dashboard.css") as style:
        assert style.mimetype == "text/css"
    source = (STATIC / "dashboard.js").read_text()
    assert source.count("fetch(") == 1  # every call goes through api(): the admin API
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source
    assert "http://" not in source and "https://" not in source
    assert "http://" not in (STATIC / "dashboard.css").read_text()


def test_dashboard_changes_nothing(app: Flask) -> None:
    """Only GET routes: every control calls the admin API instead."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("dashboard.")]
    assert {r.rule for r in rules} >= {"/_mock/ui", "/_mock/ui/jobs/<job_id>"}
    assert all(set(r.methods or ()) <= {"GET", "HEAD", "OPTIONS"} for r in rules)
    for template in (Path(dashboard.__file__).parent / "templates" / "dashboard").glob("*.html"):
        assert 'method="post"' not in template.read_text().lower(), template


def test_pages_are_not_journaled_and_show_no_key(client: FlaskClient) -> None:
    planted = {"Authorization": f"Bearer {PLANTED}"}
    job = create(client, body(), **planted).json["data"]["job_id"]
    client.get(f"/api/v1/job/query?id={job}", headers=planted)
    before = client.get("/_mock/requests").json["requests"]
    for url in ("/_mock/ui", "/_mock/ui/requests", f"/_mock/ui/jobs/{job}"):
        assert PLANTED not in page(client, url)
    assert client.get("/_mock/requests").json["requests"] == before


def test_poll_interval_is_clamped(client: FlaskClient) -> None:
    assert 'data-poll-ms="1000"' in page(client, "/_mock/ui")
    assert 'data-poll-ms="100"' in page(client, "/_mock/ui?poll=5")
    html = page(client, "/_mock/ui?poll=250")
    assert 'data-poll-ms="250"' in html
    assert 'href="/_mock/ui/requests?poll=250"' in html  # kept while navigating
    assert '<input type="hidden" name="poll" value="250">' in html  # and filtering


def test_token_guard(make_app: Callable[..., Flask]) -> None:
    client = make_app(ADMIN_TOKEN="s3cret&<x>", ADMIN_OPEN=False).test_client()
    job = create(client, body()).json["data"]["job_id"]
    for url in ("/_mock/ui", "/_mock/ui/requests", f"/_mock/ui/jobs/{job}"):
        assert "?token=" in page(client, url, status=401)
        assert "Admin token needed" in page(client, url + "?token=wrong", status=401)
    html = page(client, "/_mock/ui?token=s3cret%26%3Cx%3E")
    assert 'data-token="s3cret&amp;&lt;x&gt;"' in html  # handed to the script, escaped
    assert f'href="/_mock/ui/jobs/{job}?token=s3cret%26%3Cx%3E"' in html  # links carry it
    assert 'name="token" value="s3cret&amp;&lt;x&gt;"' in html  # so do the filter forms
    headers = {"X-Mock-Admin-Token": "s3cret&<x>"}
    assert client.get("/_mock/ui/requests", headers=headers).status_code == 200
    # Script and style are no secret: a <script src> sends no header.
    with client.get("/_mock/ui/static/dashboard.js") as script:
        assert script.status_code == 200
    # The admin API the script calls still wants the header.
    assert client.get("/_mock/jobs").status_code == 401
    assert client.get("/_mock/jobs", headers=headers).status_code == 200


def test_closed_admin_api_closes_the_dashboard(make_app: Callable[..., Flask]) -> None:
    client = make_app(ADMIN_OPEN=False).test_client()
    html = page(client, "/_mock/ui", status=403)
    assert "--admin-token" in html
    assert page(client, "/_mock/ui?token=anything", status=403)
    assert client.get("/_mock/ui/static/dashboard.js").status_code == 403


@pytest.mark.parametrize(
    ("value", "clock", "text"),
    [(12.34, "manual", "12.3 s"), (3.0, "per-poll", "step 3"), (None, "manual", "-")],
)
def test_seconds_format(value: float | None, clock: str, text: str) -> None:
    assert dashboard.seconds(value, clock) == text


def test_wall_format() -> None:
    assert dashboard.wall(0.5) == "00:00:00.500"
    assert dashboard.wall("2024-05-01T12:34:56.789+00:00") == "12:34:56.789"
    assert dashboard.wall(None) == "-"


def test_running_job_page_offers_complete_and_fail(client: FlaskClient) -> None:
    job_id = client.post("/api/v1/job/create", json=body(), headers=AUTH).json["data"]["job_id"]
    html = page(client, f"/_mock/ui/jobs/{job_id}")
    assert f'data-action="complete" data-job="{job_id}"' in html
    assert html.count('data-action="fail"') == 3
    client.post(f"/_mock/jobs/{job_id}/complete")
    assert 'data-action="complete"' not in page(client, f"/_mock/ui/jobs/{job_id}")


def test_pages_render_stored_text_that_is_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lone surrogate an older mock stored (the door refuses it now) is shown escaped: the
    requests page and the job's page answer 200 for everyone."""
    from mock_server import strictjson

    monkeypatch.setattr(strictjson, "check", lambda value: None)  # as before the door
    app = create_app({"STORE": f"sqlite:{tmp_path}/s.db", "CLOCK": "manual", "BACKGROUND": False})
    client = app.test_client()
    text = json.dumps(body()).replace("}}", '}, "callback_url": "https://example.com/\\ud800"}')
    created = client.post(
        "/api/v1/job/create",
        data=text,
        headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
    )
    assert created.status_code == 200, created.json
    job_id = created.json["data"]["job_id"]
    for path in ("/_mock/ui/requests", f"/_mock/ui/jobs/{job_id}", "/_mock/ui"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert client.get("/_mock/requests").status_code == 200
    assert client.get(f"/_mock/jobs/{job_id}").status_code == 200


def test_short_ids_tell_jobs_made_in_the_same_second_apart(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app(WALL_CLOCK=lambda: 1_780_000_000.0).test_client()
    ids = [job_id(client) for _ in range(3)]
    assert len({i[:8] for i in ids}) == 1  # an id starts with its creation second
    jobs = re.findall(r'class="job-link"[^>]*>([^<]+)</a>', page(client, "/_mock/ui"))
    refs = re.findall(r'class="job-ref"[^>]*>job ([^<]+)</a>', page(client, "/_mock/ui/requests"))
    expected = sorted(dashboard.short_id(i) for i in ids)
    assert sorted(jobs) == sorted(refs) == expected and len(set(expected)) == 3
    assert all(
        short.lstrip("…") == i[-10:]
        for short, i in zip(expected, sorted(ids, key=dashboard.short_id), strict=True)
    )
