"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright against `monitor web`
running in a subprocess on a loopback port.

Chromium is /usr/bin/chromium (``apt-get install chromium``; .ci/run installs it); Playwright never
downloads a browser here. Without it the tests skip, except under CI=true, where they fail.
Screenshots go to .artifacts/screenshots/ (git-ignored), kept after the run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from webhelpers import ROOT, Served
from webdata import CANARY, HOSTILE, HOSTILE_ID, PASSWORDS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]
SHOTS = ROOT / ".artifacts" / "screenshots"
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.is_file():
        message = f"no browser at {CHROMIUM}: apt-get install -y chromium (.ci/run does)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # launch() gives every context a fresh, temporary profile
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: object, server: Served) -> Iterator[object]:
    context = browser.new_context(base_url=server.url, accept_downloads=True,  # type: ignore[attr-defined]
                                  viewport={"width": 1280, "height": 900})
    # the canary: any script injected by a post would set it; the page's own (none) never does
    context.add_init_script(f"window.{CANARY} = 0;")
    tab = context.new_page()
    tab.errors = []  # type: ignore[attr-defined]
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    try:
        yield tab
    finally:
        context.close()


def shot(page: object, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def log_in(page: object, name: str) -> None:
    page.goto("/volume")  # type: ignore[attr-defined]
    assert "/login" in page.url  # type: ignore[attr-defined]
    page.fill("input[name=name]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORDS[name])  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*/volume.*"))  # type: ignore[attr-defined]


def bars(page: object) -> list[dict[str, str]]:
    """What the browser rendered: each mark of the chart with its series, period, value and drawn height."""
    return page.eval_on_selector_all(  # type: ignore[attr-defined,no-any-return]
        "svg.chart rect.bar, svg.chart circle.point",
        """els => els.map(e => ({tag: e.tagName, series: e.dataset.series, period: e.dataset.period,
                                 value: e.dataset.value, height: e.getBoundingClientRect().height,
                                 href: e.parentElement.tagName === 'a' ? e.parentElement.getAttribute('href') : null}))""",
    )


def test_log_in_change_filters_and_the_rendered_chart_changes(page: object) -> None:
    log_in(page, "vic")
    before = bars(page)
    assert before and {b["tag"] for b in before} == {"rect"}  # one series: bars
    assert len(before) == 6  # six months of data, per month by default
    tallest = max(before, key=lambda b: float(b["value"]))
    assert tallest["height"] > 100 and all(b["height"] >= 0 for b in before)
    shot(page, "volume-month")
    page.select_option("select[name=every]", "week")  # type: ignore[attr-defined]
    page.fill("input[name=by]", "channel")  # type: ignore[attr-defined]
    page.click("#apply")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*every=week.*"))  # type: ignore[attr-defined]
    after = bars(page)
    assert {b["tag"] for b in after} == {"circle"}  # several series: lines and points
    assert len({b["series"] for b in after}) == 4 and len({b["period"] for b in after}) >= 26
    flags = page.eval_on_selector_all("svg.chart text.flag", "els => els.map(e => e.dataset.z)")  # type: ignore[attr-defined]
    assert flags and all(float(z) >= 3.5 or float(z) <= -3.5 for z in flags)
    shot(page, "volume-week-by-channel")
    assert page.evaluate(f"window.{CANARY}") == 0  # type: ignore[attr-defined]


def test_click_a_bar_and_get_its_posts(page: object) -> None:
    log_in(page, "vic")
    page.goto("/volume?by=group&every=month&group=ISKP")  # type: ignore[attr-defined]
    marks = [b for b in bars(page) if float(b["value"]) > 0]
    assert marks
    target = marks[0]
    page.click(f'svg.chart a[href="{target["href"]}"] > *')  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*/posts\?.*"))  # type: ignore[attr-defined]
    shown = page.locator("article.post").count()  # type: ignore[attr-defined]
    assert shown == min(int(float(target["value"])), 50)
    marks_text = page.eval_on_selector_all("article.post mark", "els => els.map(e => e.textContent)")  # type: ignore[attr-defined]
    assert marks_text and set(marks_text) == {"ISKP"}  # the match highlighted at its span
    shot(page, "posts-of-a-bar")


def test_a_hostile_post_runs_no_script_and_breaks_nothing(page: object) -> None:
    log_in(page, "vic")
    page.goto("/posts?since=2024-02-10&until=2024-02-10&limit=100")  # type: ignore[attr-defined]
    article = page.locator(f"#post-{HOSTILE_ID[0]}-{HOSTILE_ID[1]}")  # type: ignore[attr-defined]
    article.scroll_into_view_if_needed()
    assert page.evaluate(f"window.{CANARY}") == 0  # type: ignore[attr-defined]
    assert page.evaluate("document.querySelectorAll('script, iframe, img, style, svg [onload]').length") == 0  # type: ignore[attr-defined]
    assert page.evaluate("getComputedStyle(document.body).display") == "block"  # type: ignore[attr-defined]
    text = article.locator(".text").inner_text()
    assert "<script>window.__pwned=1</script>" in text and "\\u202etxt.exe\\u202c" in text
    hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")  # type: ignore[attr-defined]
    assert not [h for h in hrefs if h and not h.startswith(("/", "https://", "http://"))]
    rels = article.locator(".link a").evaluate_all("els => els.map(e => e.rel)")
    assert rels == ["noopener noreferrer nofollow"]
    shot(page, "hostile-post")
    page.goto("/alerts")  # type: ignore[attr-defined]
    assert page.evaluate(f"window.{CANARY}") == 0  # type: ignore[attr-defined]
    # the top-posts page shows the same text: escaped there too, its link only to t.me
    page.goto("/top?what=posts-by-views&since=2024-02-10&until=2024-02-10&limit=100")  # type: ignore[attr-defined]
    assert page.evaluate(f"window.{CANARY}") == 0  # type: ignore[attr-defined]
    assert page.evaluate("document.querySelectorAll('script, iframe, img, style, svg [onload]').length") == 0  # type: ignore[attr-defined]
    assert page.evaluate("getComputedStyle(document.body).display") == "block"  # type: ignore[attr-defined]
    top = page.locator("#top").inner_text()  # type: ignore[attr-defined]
    assert "<script>window.__pwned=1</script>" in top and "\\u202etxt.exe" in top
    hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")  # type: ignore[attr-defined]
    assert not [h for h in hrefs if h and not h.startswith(("/", "https://t.me/"))]
    shot(page, "hostile-top-posts")


def test_the_canary_would_catch_an_injected_script(page: object) -> None:
    """The check above can fail: the same payload written into a page raw sets the canary."""
    page.set_content(f"<html><body>{HOSTILE}</body></html>")  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    assert page.evaluate(f"window.{CANARY}") != 0  # type: ignore[attr-defined]


def test_csv_download_is_the_clis_output_byte_for_byte(page: object, server: Served, tmp_path: Path) -> None:
    log_in(page, "vic")
    page.goto("/volume?by=group,language&every=week&since=2024-02-01&until=2024-04-30")  # type: ignore[attr-defined]
    with page.expect_download() as info:  # type: ignore[attr-defined]
        page.click("#volume-csv")  # type: ignore[attr-defined]
    saved = tmp_path / "volume.csv"
    info.value.save_as(saved)
    expected = subprocess.run(
        [sys.executable, "-m", "monitor", "report", "volume", "--by", "group,language", "--every", "week",
         "--since", "2024-02-01", "--until", "2024-04-30", "--format", "csv", "--db", str(server.db)],
        capture_output=True, timeout=120, check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}).stdout
    assert len(expected) > 1000
    assert saved.read_bytes() == expected


def test_a_viewer_cannot_write_and_a_post_without_csrf_is_refused(page: object) -> None:
    log_in(page, "vic")
    page.goto("/alerts")  # type: ignore[attr-defined]
    assert page.locator("button:has-text('Acknowledge')").count() == 0  # type: ignore[attr-defined]
    token = page.get_attribute("form[action='/logout'] input[name=csrf]", "value")  # type: ignore[attr-defined]
    as_viewer = page.request.post("/alerts/1/ack", form={"csrf": token})  # type: ignore[attr-defined]
    assert as_viewer.status == 403 and "only editors" in as_viewer.text()
    page.click("form[action='/logout'] button")  # type: ignore[attr-defined]
    log_in(page, "ana")
    page.goto("/alerts")  # type: ignore[attr-defined]
    no_token = page.request.post("/alerts/2/ack", form={})  # type: ignore[attr-defined]
    assert no_token.status == 403 and "CSRF" in no_token.text()
    page.click("#alert-2 button")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*/alerts.*"))  # type: ignore[attr-defined]
    assert "by ana" in page.locator("#alert-2").inner_text()  # type: ignore[attr-defined]
    shot(page, "alerts-acknowledged")


def test_the_forward_network_is_drawn_and_reach_and_top_render(page: object) -> None:
    log_in(page, "vic")
    page.goto("/network")  # type: ignore[attr-defined]
    nodes = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "svg.network g.node circle", "els => els.map(e => e.getBoundingClientRect().width)")
    edges = page.eval_on_selector_all("svg.network line.edge", "els => els.length")  # type: ignore[attr-defined]
    assert len(nodes) >= 2 and all(w > 0 for w in nodes) and edges >= 1  # drawn, not only in the HTML
    assert page.evaluate(f"window.{CANARY}") == 0  # type: ignore[attr-defined]
    shot(page, "network")
    page.goto("/top?what=channels")  # type: ignore[attr-defined]
    assert page.locator("#top tr").count() >= 3  # type: ignore[attr-defined]
    shot(page, "top-channels")
    page.goto("/reach")  # type: ignore[attr-defined]
    assert page.locator("#reach").count() == 1  # type: ignore[attr-defined]
    shot(page, "reach")
