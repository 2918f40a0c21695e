"""The dashboard in a real headless Chromium (Debian's, driven by playwright).

It signs in with a read key, shows the data set's totals, switches bucket and zone,
filters by clicking a country, and fits a phone. Screenshots are saved as test
artifacts in build/test-artifacts/ (ignored by git) and in the test's tmp dir.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from footfall.app import create_app
from footfall.connections import mongo_database, redis_client
from footfall.flusher import Flusher
from footfall.store.schema import init_db
from tests.conftest import keyed_client, make_key, make_settings
from tests.stats_data import Oracle, generate, geo_database, post, unique_name

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent.parent / "build" / "test-artifacts"
RANGE = "start=2026-10-31&end=2026-11-03"  # the dashboard's "to" date is inclusive


class Site:
    def __init__(self, url: str, key: str, oracle: Oracle) -> None:
        self.url, self.key, self.oracle = url, key, oracle


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(valkey, mongo, tmp_path_factory) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    settings = make_settings(
        valkey.url,
        mongo.uri,
        unique_name(),
        geoip_db=geo_database(tmp_path_factory.mktemp("geo")),
        validate_responses=False,
    )
    db, redis = mongo_database(settings.servers), redis_client(settings.servers)
    init_db(db)
    app = create_app(settings)
    data = generate()
    post(keyed_client(app, db, "ingest"), data.items())
    flusher = Flusher(settings, redis, db)
    flusher.streams.ensure_group(flusher.collections)
    while batch := flusher.next_batch():
        assert flusher.store(batch)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", make_key(db, "read"), Oracle(data, db))
    server.should_exit = True
    thread.join(10)
    db.client.drop_database(db.name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"the dashboard test needs Chromium at {CHROMIUM} (set CHROMIUM to another "
            "path): `apt-get install chromium` as root"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def save(page: Any, tmp_path: Path, name: str, full_page: bool = True, of: str = "") -> None:
    """A screenshot of the page (or of the element `of` selects) as a test artifact."""
    path = tmp_path / f"{name}.png"
    target = page.locator(of).first if of else page
    target.screenshot(path=str(path), **({} if of else {"full_page": full_page}))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)


def watch(page: Any) -> list[str]:
    """Every script error, console error and failed request of the page (a missing
    favicon is one: the browser logs its 404 as a console error)."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"error: {error}"))
    page.on(
        "console",
        lambda m: problems.append(f"console: {m.text} {m.location}") if m.type == "error" else None,
    )
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems


def ready(page: Any, after: int = 0) -> int:
    page.wait_for_function(f"Number(document.body.dataset.ready || 0) > {after}", timeout=30_000)
    return int(page.evaluate("document.body.dataset.ready"))


# The map's drawing, read back from its SVG: the longest straight segment of any
# country's outline (countries are the paths with the map's border colour, drawn in the
# element's pixels), the extent of all countries, the geo view and the colour scale's
# box. A country cut wrongly at the antimeridian is a segment across the whole world.
MAP_GEOMETRY = """() => {
  const element = document.getElementById('map');
  const chart = echarts.getInstanceByDom(element);
  let longest = 0, left = Infinity, right = -Infinity, paths = 0;
  for (const path of element.querySelectorAll('svg path[stroke="#c7ccd4"]')) {
    paths += 1;
    const tokens = (path.getAttribute('d') || '').match(/[A-Za-z]|-?[0-9.]+(?:e-?[0-9]+)?/g) || [];
    let start = null, at = null, command = null, numbers = [];
    const go = (to) => {
      if (at) longest = Math.max(longest, Math.abs(to[0] - at[0]));
      left = Math.min(left, to[0]); right = Math.max(right, to[0]); at = to;
    };
    const flush = () => {
      if (command === 'M') { at = null; go(numbers.slice(0, 2)); start = at; }
      else if ('LCQSTA'.includes(command) && numbers.length >= 2) go(numbers.slice(-2));
      else if (command === 'Z' && start) go(start);
    };
    for (const t of tokens) {
      if (/[A-Za-z]/.test(t)) { if (command) flush(); command = t.toUpperCase(); numbers = []; }
      else numbers.push(Number(t));
    }
    if (command) flush();
  }
  const model = chart.getModel();
  const view = model.getComponent('geo').coordinateSystem.getViewRect();
  const scale = chart.getViewOfComponentModel(model.getComponent('visualMap')).group;
  const box = scale.getBoundingRect().clone();
  box.applyTransform(scale.getLocalTransform());
  return { paths, longest, extent: right - left, width: element.clientWidth,
    height: element.clientHeight, view: [view.x, view.y, view.width, view.height],
    scale: [box.x, box.y, box.width, box.height] };
}"""


def check_map(page: Any) -> None:
    """No line across the world, the world as wide as its panel (or as tall as the room
    above its colour scale), and the colour scale clear of it."""
    m = page.evaluate(MAP_GEOMETRY)
    assert m["paths"] > 100, m  # the countries are drawn as SVG paths
    # A correct world's longest segment is the bottom edge of a cut Antarctica (half
    # the width at most); a ring joining +180° to -180° spans all of it.
    assert m["longest"] < 0.6 * m["extent"], m
    x, y, w, h = m["view"]
    assert w >= 0.95 * m["width"] or h >= 0.95 * (m["height"] - 48), m
    sx, sy, sw, sh = m["scale"]
    assert sy >= y + h or sx >= x + w or sx + sw <= x or sy + sh <= y, m


# Every element that clips its text (overflow hidden, an ellipsis) and has more than fits.
CUT_OFF = """() => [...document.querySelectorAll('#app *')]
  .filter((e) => e.getClientRects().length && e.textContent.trim()
    && ['hidden', 'clip'].includes(getComputedStyle(e).overflowX)
    && e.scrollWidth > e.clientWidth + 1)
  .map((e) => `${e.className}: ${e.textContent.trim().slice(0, 80)}`)"""


def shares(page: Any, dimension: str) -> list[tuple[str, str]]:
    """The (name, percent) rows of a donut's legend, each checked to be shown in full
    inside its panel."""
    legend = page.locator(f'[data-legend="{dimension}"]')
    assert page.evaluate(
        """(ul) => {
          const panel = ul.closest('.panel').getBoundingClientRect();
          return [...ul.querySelectorAll('li *')].every((e) => {
            const r = e.getBoundingClientRect();
            return r.left >= panel.left && r.right <= panel.right
              && e.scrollWidth <= e.clientWidth + 1;
          });
        }""",
        legend.element_handle(),
    )
    return [
        (li.locator(".name").inner_text(), li.locator(".pct").inner_text())
        for li in legend.locator("li").all()
    ]


def expected_shares(counts: Counter[str]) -> list[tuple[str, str]]:
    """As the API rounds them (two decimals) and JavaScript prints them (no trailing 0)."""
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(v, f"{100 * c / total:.2f}".rstrip("0").rstrip(".") + "%") for v, c in ranked]


def kpi(page: Any, name: str) -> str:
    return page.locator(f'[data-kpi="{name}"] .value').inner_text()


def test_the_dashboard_shows_switches_and_filters_the_data_set(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems = watch(page)
    page.goto(f"{site.url}/dashboard/?{RANGE}&zone=UTC")
    page.fill("#key", site.key)
    page.click("#signin button")
    generation = ready(page)
    utc = site.oracle.figures(datetime(2026, 10, 31, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC))
    assert kpi(page, "pageviews") == f"{utc['pageviews']:,}"
    assert kpi(page, "visits") == f"{utc['visits']:,}"
    assert page.evaluate("sessionStorage.getItem('footfall-read-key')") == site.key
    points = (
        "echarts.getInstanceByDom(document.getElementById('chart')).getOption().xAxis[0]"
        ".data.length"
    )
    assert page.evaluate(points) == 4
    save(page, tmp_path, "dashboard-1280x800")
    save(page, tmp_path, "dashboard-1280x800-map", of=".map-panel")
    save(page, tmp_path, "dashboard-1280x800-browsers", of=".panel:has(.share) + .panel")
    check_map(page)
    a, b = datetime(2026, 10, 31, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC)
    for dimension in ("device_types", "browsers", "operating_systems"):
        assert shares(page, dimension) == expected_shares(site.oracle.top(dimension, a, b))
    assert page.evaluate(CUT_OFF) == []

    page.select_option("#bucket", "hour")
    generation = ready(page, generation)
    assert page.evaluate(points) == 96

    page.select_option("#zone", "Asia/Kolkata")
    generation = ready(page, generation)
    start = datetime(2026, 10, 30, 18, 30, tzinfo=UTC)
    kolkata = site.oracle.figures(start, start + timedelta(days=4))
    assert kpi(page, "pageviews") == f"{kolkata['pageviews']:,}"

    page.click('ul[data-dimension="countries"] li[data-value="IN"]')
    generation = ready(page, generation)
    india = site.oracle.figures(start, start + timedelta(days=4), ("country", "IN"))
    assert kpi(page, "pageviews") == f"{india['pageviews']:,}"
    assert page.locator("#filter").inner_text().startswith("country: IN")
    assert "country=IN" in page.url
    page.evaluate("window.scrollTo(0, 0)")  # else the sticky controls show mid-page
    save(page, tmp_path, "dashboard-filtered-by-india")
    assert problems == []


def test_the_dashboard_fits_a_phone(site: Site, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    problems = watch(page)
    page.goto(f"{site.url}/dashboard/?{RANGE}")
    page.fill("#key", site.key)
    page.click("#signin button")
    ready(page)
    save(page, tmp_path, "dashboard-phone")
    save(page, tmp_path, "dashboard-phone-first-screen", full_page=False)
    page.locator('[data-list="countries"]').scroll_into_view_if_needed()
    save(page, tmp_path, "dashboard-phone-lists", full_page=False)
    save(page, tmp_path, "dashboard-phone-map", of=".map-panel")
    save(page, tmp_path, "dashboard-phone-browsers", of=".panel:has(.share) + .panel")
    save(page, tmp_path, "dashboard-phone-paths", of='[data-list="paths"]')
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check_map(page)
    # A finger dragging over the map scrolls the page: no pan and zoom on a phone.
    roam = "echarts.getInstanceByDom(document.getElementById('map')).getOption().geo[0].roam"
    assert page.evaluate(roam) is False
    a, b = datetime(2026, 10, 31, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC)
    for dimension in ("device_types", "browsers", "operating_systems"):
        assert shares(page, dimension) == expected_shares(site.oracle.top(dimension, a, b))
    assert page.evaluate(CUT_OFF) == []
    assert problems == []


def test_a_key_without_read_scope_is_sent_back_to_sign_in(site: Site, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{site.url}/dashboard/")
    page.fill("#key", "ff_not_a_key")
    page.click("#signin button")
    page.wait_for_selector("#signin:not([hidden])")
    assert "unknown" in page.locator("#signin-error").inner_text()
    assert page.evaluate("sessionStorage.getItem('footfall-read-key')") is None
