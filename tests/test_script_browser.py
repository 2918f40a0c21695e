"""The in-page script in a real headless Chromium, against the real service.

A test site (its own origin, allowed by a browser key) loads `/footfall.js` from a
running `footfall serve`; a flusher stores what arrives; the tests read MongoDB.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import jwt
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from pymongo.database import Database

from footfall.connections import mongo_database
from footfall.security import keys
from footfall.settings import Settings
from tests.conftest import make_settings
from tests.live import Gate, Live, footfall_service, static_site, wait_for

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
SHOTS = Path(__file__).parent.parent / "build" / "screenshots"


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def service_settings(valkey, mongo) -> Settings:  # type: ignore[no-untyped-def]
    name = f"t{uuid.uuid4().hex[:12]}"
    return make_settings(valkey.url, mongo.uri, name, retry_after_s=1, log_level="WARNING")


@pytest.fixture(scope="module")
def store(service_settings: Settings) -> Iterator[Database]:
    database = mongo_database(service_settings.servers)
    yield database
    database.client.drop_database(database.name)
    database.client.close()


@pytest.fixture(scope="module")
def service(service_settings: Settings, store: Database, tmp_path_factory) -> Iterator[Live]:  # type: ignore[no-untyped-def]
    with footfall_service(service_settings, tmp_path_factory.mktemp("service")) as live:
        yield live


class Site:
    """The test site: pages written on demand, loading the script with a browser key."""

    def __init__(self, root: Path, origin: str, db: Database, service: Live) -> None:
        self.root, self.origin, self.service = root, origin, service
        created = keys.create(db, "test site", ["browser"], [origin])
        self.key, self.token_secret = created.secret, created.token_secret
        write_video(root / "tutorial.webm", seconds=150)

    def token(self, username: str) -> str:
        claims = {"sub": username, "aud": "footfall", "exp": int(time.time()) + 600}
        return jwt.encode(claims, self.token_secret, algorithm="HS256")

    def page(self, name: str, body: str = "", title: str = "A page", **data: str) -> str:
        attrs = {"key": self.key, "flush-ms": "100", **data}
        script_attrs = " ".join(f'data-{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        (self.root / name).write_text(
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f'<script src="{self.service.origin}/footfall.js" {script_attrs}></script></head>'
            f"<body><h1>{title}</h1>{body}</body></html>"
        )
        return f"{self.origin}/{name}"


@pytest.fixture(scope="module")
def site(tmp_path_factory, store: Database, service: Live) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("site")
    with static_site(root) as origin:
        yield Site(root, origin, store, service)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def write_video(path: Path, seconds: int) -> None:
    """A real VP8 WebM, 32x32 at 1 frame a second (about 7 KB for 150 s), made with PyAV."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libvpx", rate=1)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for second in range(seconds):
            frame = av.VideoFrame(32, 32, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([second * 7 % 256]) * plane.buffer_size)
            frame.pts, frame.time_base = second, Fraction(1, 1)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())


def stored(db: Database, collection: str, query: dict[str, Any], count: int = 1) -> list[dict]:
    found = wait_for(
        lambda: (docs := list(db[collection].find(query))) and len(docs) >= count and docs
    )
    assert found, f"no {count} {collection} matching {query}: {list(db[collection].find(query))}"
    return found


#: Records in the page what the script sends and what it is answered (the requests still go
#: to the real service). Playwright's own request events miss keepalive fetches.
RECORD_FETCH = """
window.__sent = [];
const realFetch = window.fetch;
window.fetch = function (url, init) {
  const body = init && init.body ? JSON.parse(init.body) : null;
  const entry = {url: String(url), body: body, status: null};
  window.__sent.push(entry);
  return realFetch.apply(this, arguments).then(r => { entry.status = r.status; return r; },
                                               e => { entry.status = 0; throw e; });
};
"""


def sent(page: Page) -> list[dict[str, Any]]:
    """The /batch requests the page made so far: {url, body, status}."""
    return [e for e in page.evaluate("window.__sent") if e["url"].endswith("/batch")]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_a_page_view_has_title_referrer_screen_language_and_first_visit(
    site: Site, page: Page, store: Database
):
    target = site.page("welcome.html", title="Welcome to the course")
    start = site.page("start.html", body='<a id="go" href="welcome.html">go</a>')
    page.goto(start)
    page.click("#go")
    page.wait_for_url(target)
    view = stored(store, "pageviews", {"path": "/welcome.html"})[0]
    assert view["page_title"] == "Welcome to the course"
    assert view["referrer"] == start
    assert view["source"] == "browser"
    assert view["screen"] == "1280x720"
    assert view["language"].startswith("en")
    first = stored(store, "pageviews", {"path": "/start.html"})[0]
    assert first["first_visit"] is True and view["first_visit"] is False
    assert len(view["log_id"]) == 32
    shot(page, "welcome")


def test_a_click_on_an_exit_link_added_after_load_is_recorded(
    site: Site, page: Page, store: Database
):
    page.goto(site.page("links.html", title="Links"))
    other_host = site.origin.replace("127.0.0.1", "localhost") + "/start.html"
    page.evaluate(
        """url => { const a = document.createElement('a'); a.id = 'late'; a.href = url;
                    a.textContent = 'a link added later'; document.body.append(a); }""",
        other_host,
    )
    shot(page, "links")
    page.click("#late")
    click = stored(store, "exit_links", {"url": other_host})[0]
    assert click["page"] == "/links.html" and click["page_title"] == "Links"
    assert "download" not in click


def test_a_click_on_a_file_is_recorded_as_a_download(site: Site, page: Page, store: Database):
    (site.root / "notes.pdf").write_bytes(b"%PDF-1.4\n")
    page.goto(site.page("files.html", body='<a id="pdf" href="notes.pdf" download>notes</a>'))
    page.click("#pdf")
    click = stored(store, "exit_links", {"url": f"{site.origin}/notes.pdf"})[0]
    assert click["download"] is True


def test_a_single_page_app_navigation_is_a_page_view_and_ends_the_last_ones_duration(
    site: Site, page: Page, store: Database
):
    url = site.page("app.html", title="An app")
    page.goto(url)
    first = stored(store, "pageviews", {"path": "/app.html"})[0]
    page.wait_for_timeout(300)
    page.evaluate("history.pushState({}, '', '/app.html/lessons?week=2')")
    view = stored(store, "pageviews", {"path": "/app.html/lessons?week=2"})[0]
    assert view["referrer"] == url
    duration = stored(store, "visit_durations", {"pageview_log_id": first["log_id"]})[0]
    assert duration["duration_s"] >= 0.3
    page.go_back()
    stored(store, "pageviews", {"path": "/app.html"}, count=2)


def test_the_visit_duration_is_sent_when_the_page_is_left(site: Site, page: Page, store: Database):
    page.goto(site.page("read.html", title="Something to read", **{"flush-ms": "60000"}))
    page.wait_for_timeout(1200)
    page.goto(site.page("next.html"))  # the first page is hidden, then unloaded
    view = stored(store, "pageviews", {"path": "/read.html"})[0]
    durations = stored(store, "visit_durations", {"pageview_log_id": view["log_id"]})
    assert max(d["duration_s"] for d in durations) >= 1.2
    assert durations[0]["path"] == "/read.html"


def test_video_progress_is_sent_each_playback_minute_for_the_learner_of_the_token(
    site: Site, page: Page, store: Database
):
    player = (
        '<div data-footfall-course="python" data-footfall-tutorial="intro" '
        'data-footfall-language="English">'
        '<video id="v" src="tutorial.webm" muted width="320" height="180"></video>'
        '<button id="done" data-footfall-complete="true">Mark as completed</button></div>'
    )
    page.goto(site.page("watch.html", body=player, title="Intro", learner_token=site.token("asha")))
    # Chromium's fastest rate: minutes 0, 1 and 2 of real playback in about 8 s.
    page.evaluate("const v = document.getElementById('v'); v.playbackRate = 16; v.play()")
    page.wait_for_function("document.getElementById('v').currentTime > 125", timeout=60_000)
    shot(page, "watch")
    page.click("#done")
    events = stored(
        store, "progress_events", {"tutorial_id": "intro", "kind": "tutorial_progress"}, 3
    )
    assert {int(e["position_s"] // 60) for e in events} == {0, 1, 2}
    assert {e["username"] for e in events} == {"asha"}
    assert len({e["visit_id"] for e in events}) == 1
    assert all(e["duration_s"] == pytest.approx(150, abs=1) for e in events)
    toggle = stored(
        store, "progress_events", {"tutorial_id": "intro", "kind": "tutorial_completion"}
    )
    assert toggle[0]["completed"] is True and toggle[0]["visit_id"] == events[0]["visit_id"]
    state = stored(
        store,
        "tutorial_progress",
        {"username": "asha", "tutorial_id": "intro", "toggle": {"$exists": True}},
    )[0]
    assert sorted(state["minutes"]) == ["0", "1", "2"]


def test_events_made_offline_arrive_once_when_the_browser_is_back_online(
    site: Site, context: BrowserContext, page: Page, store: Database
):
    page.add_init_script(RECORD_FETCH)
    page.goto(site.page("offline.html", title="Offline"))
    stored(store, "pageviews", {"path": "/offline.html"})
    context.set_offline(True)
    for step in (1, 2):
        page.evaluate(f"history.pushState({{}}, '', '/offline.html/step{step}')")
    page.wait_for_timeout(500)
    assert page.evaluate("footfall.stats().queued") >= 2
    queued = json.loads(page.evaluate("localStorage.getItem('footfall:q')"))
    assert {e["path"] for e in queued if e["kind"] == "pageview"} == {
        "/offline.html/step1",
        "/offline.html/step2",
    }
    context.set_offline(False)
    for step in (1, 2):
        stored(store, "pageviews", {"path": f"/offline.html/step{step}"})
    wait_for(lambda: page.evaluate("footfall.stats().queued") == 0)
    page.wait_for_timeout(500)
    for step in (1, 2):
        assert store.pageviews.count_documents({"path": f"/offline.html/step{step}"}) == 1
    accepted = [i["log_id"] for e in sent(page) if e["status"] == 200 for i in e["body"]["items"]]
    assert len(accepted) == len(set(accepted)), "an event was sent again after it was taken"


def test_a_503_is_retried_after_retry_after_and_stored_once(
    site: Site, service_settings: Settings, store: Database, page: Page, tmp_path: Path
):
    host, port = service_settings.servers.redis_url.split("//")[1].split("/")[0].split(":")
    gate = Gate(host, int(port))
    behind_gate = service_settings.replace(update={"redis_url": f"redis://127.0.0.1:{gate.port}/0"})
    try:
        with footfall_service(
            service_settings, tmp_path / "gated", api_settings=behind_gate
        ) as gated:
            gate.close()  # Redis unreachable for this API: writes answer 503
            page.add_init_script(RECORD_FETCH)
            url = site.page("busy.html", title="Busy")
            (site.root / "busy.html").write_text(
                (site.root / "busy.html").read_text().replace(site.service.origin, gated.origin)
            )
            page.goto(url)
            assert wait_for(lambda: any(e["status"] == 503 for e in sent(page)), 10), sent(page)
            gate.open()
            view = stored(store, "pageviews", {"path": "/busy.html"})[0]
            tries = [
                e for e in sent(page) if view["log_id"] in {i["log_id"] for i in e["body"]["items"]}
            ]
            assert [t["status"] for t in tries][:1] == [503] and tries[-1]["status"] == 200
            assert store.pageviews.count_documents({"path": "/busy.html"}) == 1
    finally:
        gate.stop()


def test_do_not_track_is_honoured_only_when_the_site_asks(
    site: Site, playwright: Playwright, store: Database, tmp_path: Path
):
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps({"enable_do_not_track": True}))
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=ARGS
    )
    try:
        page = context.new_page()
        page.add_init_script(RECORD_FETCH)
        page.goto(site.page("private.html", title="Private", respect_dnt="true"))
        assert page.evaluate("navigator.doNotTrack") == "1"
        page.wait_for_timeout(500)
        assert sent(page) == [] and page.evaluate("footfall.stats().queued") == 0
        page.goto(site.page("tracked.html", title="Tracked"))
        tracked = stored(store, "pageviews", {"path": "/tracked.html"})[0]
        assert tracked["do_not_track"] is True  # the server's DNT_POLICY applies to it
        assert store.pageviews.count_documents({"path": "/private.html"}) == 0
    finally:
        context.close()


def test_the_opt_out_call_stops_sending(site: Site, page: Page, store: Database):
    page.goto(site.page("optout.html", title="Opt out"))
    stored(store, "pageviews", {"path": "/optout.html"})
    page.evaluate("footfall.optOut(); history.pushState({}, '', '/optout.html/after')")
    page.goto(site.page("optout2.html"))
    page.wait_for_timeout(800)
    assert (
        store.pageviews.count_documents({"path": {"$in": ["/optout.html/after", "/optout2.html"]}})
        == 0
    )
