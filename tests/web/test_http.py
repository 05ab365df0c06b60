"""The dashboard over HTTP, in process (Starlette's client on httpx, the app's lifespan opening the real
SQLite store): login, sessions, CSRF, roles, throttling, headers, escaping, downloads equal to the CLI's."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from webhelpers import SECRET, login
from starlette.testclient import TestClient
from webdata import CANARY, HOSTILE_ID, PASSWORDS

from monitor.store import open_store
from monitor.web.app import CSP, create_app
from monitor.web.auth import SESSION_COOKIE
from monitor.web.common import WebConfig

MONITOR = [sys.executable, "-m", "monitor"]


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MONITOR, *args], capture_output=True, text=True, input=stdin, timeout=120, check=False)


def csrf_of(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_pages_and_downloads_need_a_login(client: TestClient) -> None:
    for path in ("/volume", "/posts", "/alerts", "/channels", "/network", "/audit", "/volume.csv", "/network.gexf"):
        response = client.get(path + "?every=week")
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login?next=" + {"/volume": "%2Fvolume"}.get(path, path.replace(
            "/", "%2F")) + "%3Fevery%3Dweek"


def test_login_sets_a_signed_httponly_samesite_strict_cookie_and_logout_clears_it(client: TestClient) -> None:
    response = login(client, "ana")
    assert response.status_code == 303 and response.headers["location"] == "/volume"
    cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback; behind TLS see the next test
    page = client.get("/volume")
    assert page.status_code == 200 and "ana (editor)" in page.text
    token = csrf_of(page.text)
    assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
    out = client.post("/logout", data={"csrf": token})
    assert out.status_code == 303
    assert client.get("/volume").status_code == 303


def test_cookies_are_secure_behind_tls(web_db: Path) -> None:
    app = create_app(WebConfig(database=str(web_db), secret=SECRET, secure_cookies=True))
    with TestClient(app, base_url="https://127.0.0.1", follow_redirects=False) as c:
        assert "Secure" in c.get("/login").headers["set-cookie"]
        cookie = [x for x in login(c, "vic").headers.get_list("set-cookie") if x.startswith(SESSION_COOKIE)][0]
    assert "Secure" in cookie


def test_a_forged_or_tampered_cookie_is_no_session(client: TestClient) -> None:
    login(client, "vic")
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    client.cookies.set(SESSION_COOKIE, value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1])
    assert client.get("/volume").status_code == 303
    other = create_app(WebConfig(database="unused.db", secret="another-secret-" + "y" * 40))
    from monitor.web.auth import Sessions

    forged, _ = Sessions("another-secret-" + "y" * 40).issue("ana")
    client.cookies.set(SESSION_COOKIE, forged)
    assert client.get("/volume").status_code == 303
    assert other is not None


def test_wrong_password_unknown_user_and_missing_csrf_are_refused(client: TestClient) -> None:
    assert login(client, "ana", "not-the-password").status_code == 401
    assert login(client, "nobody", "whatever-password").status_code == 401
    client.get("/login")
    no_token = client.post("/login", data={"name": "ana", "password": PASSWORDS["ana"], "next": "/volume"})
    assert no_token.status_code == 403 and SESSION_COOKIE not in no_token.headers.get("set-cookie", "")


def test_logins_are_throttled_after_five_failures_even_with_the_right_password(client: TestClient) -> None:
    for _ in range(5):
        assert login(client, "vic", "wrong-password-x").status_code == 401
    blocked = login(client, "vic")
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "too many failed logins" in blocked.text


def test_login_redirects_only_within_the_site(client: TestClient) -> None:
    form = client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/volume"' in form.text
    token = csrf_of(form.text)
    response = client.post("/login", data={"name": "vic", "password": PASSWORDS["vic"], "csrf": token,
                                           "next": "https://evil.example/"})
    assert response.headers["location"] == "/volume"


def test_every_response_carries_the_csp_and_no_page_has_a_script(client: TestClient) -> None:
    login(client, "ana")
    for path in ("/volume?by=group", "/posts", "/alerts", "/channels", "/network", "/audit", "/volume.csv",
                 "/static/style.css", "/login", "/volume?by=nope"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CSP, path
        assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        if response.headers.get("content-type", "").startswith("text/html"):
            assert "<script" not in response.text.lower() and " style=" not in response.text, path


def test_hostile_post_text_and_alert_summary_are_escaped(client: TestClient) -> None:
    login(client, "vic")
    page = client.get("/posts?since=2024-02-10&until=2024-02-10&limit=100")
    article = page.text.split(f'id="post-{HOSTILE_ID[0]}-{HOSTILE_ID[1]}"', 1)[1].split("</article>", 1)[0]
    for raw in ("<script", "<img", "<svg", "<iframe", "<style", 'href="javascript:', 'href="data:', "onerror=\"",
                "\u202e"):
        assert raw not in article, raw
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in article
    assert "\\u202etxt.exe\\u202c" in article  # the bidi override shown, not obeyed
    assert "{{ 7*7 }}" in article  # template syntax in data is text
    assert '<mark class="group" title="group: IS (alias)">ИГИЛ</mark>' in article
    assert '[evil.example] <a href="https://evil.example/x?&lt;b&gt;" rel="noopener noreferrer nofollow"' in article
    assert "<code>javascript:window.__pwned=6</code>" in article
    alerts = client.get("/alerts").text
    assert "<img" not in alerts and '&lt;img src=x onerror=&#34;window.__pwned=7&#34;&gt;' in alerts
    assert CANARY in article  # the payload is there, as text


def test_a_bad_filter_is_a_400_with_the_clis_message(client: TestClient) -> None:
    login(client, "vic")
    response = client.get("/volume?by=colour")
    assert response.status_code == 400
    assert "error: --by &#39;colour&#39; is not a report dimension" in response.text
    assert "Traceback" not in response.text
    unknown = client.get("/volume?group=NOPE_GROUP")
    assert unknown.status_code == 400 and "no such group id" in unknown.text
    assert client.get("/posts?limit=0").status_code == 400


@pytest.mark.parametrize(("report", "query", "cli_args"), [
    ("volume", "by=group&every=week&lang=ru", ["--by", "group", "--every", "week", "--lang", "ru"]),
    ("trend", "by=channel&every=week&metric=views", ["--by", "channel", "--every", "week", "--metric", "views"]),
    ("posts", "since=2024-02-10&until=2024-02-11&group=IS&limit=50",
     ["--since", "2024-02-10", "--until", "2024-02-11", "--group", "IS", "--limit", "50"]),
    ("top", "what=posts-by-views&limit=30&deleted=mark&since=2024-02-01",
     ["--what", "posts-by-views", "--limit", "30", "--deleted", "mark", "--since", "2024-02-01"]),
    ("top", "what=channels&per_subscriber=1", ["--what", "channels", "--per-subscriber"]),
    ("top", "what=groups&lang=ru", ["--what", "groups", "--lang", "ru"]),
])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_downloads_are_byte_identical_to_the_cli(client: TestClient, web_db: Path, report: str, query: str,
                                                 cli_args: list[str], fmt: str) -> None:
    login(client, "vic")
    got = client.get(f"/{report}.{fmt}?{query}")
    assert got.status_code == 200
    expected = subprocess.run([*MONITOR, "report", report, *cli_args, "--format", fmt, "--db", str(web_db)],
                              capture_output=True, timeout=120, check=True).stdout
    assert len(expected) > 60 and expected.count(b"\n") >= 3  # a header and rows, not an empty report
    assert got.content == expected


def _svg(html: str) -> str:
    return html.split('<div class="chart-box" id="chart">', 1)[1].split("</svg>", 1)[0]


def test_each_chart_point_links_to_exactly_the_posts_it_counts(client: TestClient) -> None:
    login(client, "vic")
    svg = _svg(client.get("/volume?by=group&every=month&lang=ru").text)
    marks = re.findall(r'<a href="([^"]+)"><circle class="point"[^>]*data-series="([^"]+)" data-value="([^"]+)"', svg)
    assert len(marks) >= 12
    checked = 0
    for href, series, value in marks[:8]:
        link = href.replace("&amp;", "&")
        query = parse_qs(urlsplit(link).query)
        assert query["group"] == [series] and query["lang"] == ["ru"]
        page = client.get(link + "&limit=1000")
        assert page.status_code == 200
        assert page.text.count('<article class="post"') == int(float(value))
        checked += int(float(value))
    assert checked > 0


def test_a_permalink_reproduces_the_view(client: TestClient) -> None:
    login(client, "vic")
    first = client.get("/volume?by=language&every=week&channel=@ozod_sado&show=shares&since=2024-02-01")
    permalink = first.text.split('id="permalink" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "show=shares" in permalink and "since=2024-02-01" in permalink
    assert _svg(client.get(permalink).text) == _svg(first.text)


def test_spikes_are_marked_with_their_baseline_and_z(client: TestClient) -> None:
    login(client, "vic")
    svg = _svg(client.get("/volume?by=channel&every=week").text)
    flags = re.findall(r'<text class="flag"[^>]*data-z="([^"]+)" data-baseline="([^"]+)">▲<title>([^<]+)', svg)
    assert flags, "the burst of channel 2 is flagged"
    z, baseline, title = flags[0]
    assert float(z) >= 3.5 and "spike: z = " in title and "baseline median" in title


def test_a_viewer_cannot_acknowledge_and_nobody_can_without_the_csrf_token(client: TestClient, web_db: Path) -> None:
    login(client, "vic")
    page = client.get("/alerts")
    assert "Acknowledge</button>" not in page.text
    viewer = client.post("/alerts/1/ack", data={"csrf": csrf_of(page.text)})
    assert viewer.status_code == 403 and "only editors" in viewer.text
    client.cookies.clear()
    login(client, "ana")
    page = client.get("/alerts")
    assert "Acknowledge</button>" in page.text
    assert client.post("/alerts/1/ack", data={}).status_code == 403
    assert client.post("/alerts/1/ack", data={"csrf": "0" * 64}).status_code == 403

    async def acks() -> dict[int, object]:
        store = open_store(web_db)
        await store.open()
        try:
            return dict(await store.alert_acks([1]))
        finally:
            await store.close()

    assert asyncio.run(acks()) == {}
    done = client.post("/alerts/1/ack", data={"csrf": csrf_of(page.text)})
    assert done.status_code == 303
    assert "by ana" in client.get("/alerts").text
    assert client.post("/alerts/9999/ack", data={"csrf": csrf_of(page.text)}).status_code == 404
    audit = client.get("/audit").text
    assert re.search(r"<td>ana</td><td>alert\.ack</td><td>1</td>", audit)


def test_a_removed_users_session_ends_at_the_next_request(client: TestClient, tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "copy.db"
    shutil.copy(client.app.state.web.config.database, db)  # type: ignore[attr-defined]
    app = create_app(WebConfig(database=str(db), secret=SECRET))
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as c:
        login(c, "vic")
        assert c.get("/channels").status_code == 200
        gone = cli("users", "remove", "vic", "--db", str(db))
        assert gone.returncode == 0, gone.stderr
        assert c.get("/channels").status_code == 303


def test_proxy_header_mode_trusts_the_header_only_from_the_proxy(web_db: Path) -> None:
    config = WebConfig(database=str(web_db), secret=SECRET, proxy_user_header="X-Remote-User",
                       trusted_proxies=("10.0.0.0/8",))
    app = create_app(config)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False, client=("10.1.2.3", 4000)) as c:
        page = c.get("/volume", headers={"X-Remote-User": "ana"})
        assert page.status_code == 200 and "ana (editor)" in page.text and "Log out" not in page.text
        sso = c.get("/alerts", headers={"X-Remote-User": "someone.from.sso"})
        assert sso.status_code == 200 and "someone.from.sso (viewer)" in sso.text
        from monitor.web.auth import Sessions

        token = Sessions(SECRET).csrf("proxy:someone.from.sso")
        refused = c.post("/alerts/2/ack", headers={"X-Remote-User": "someone.from.sso"}, data={"csrf": token})
        assert refused.status_code == 403 and "only editors" in refused.text  # the token was right, the role not
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False, client=("192.0.2.9", 4000)) as c:
        assert c.get("/volume", headers={"X-Remote-User": "ana"}).status_code == 303


def test_users_command_reads_passwords_from_stdin_never_arguments(tmp_path: Path, web_db: Path) -> None:
    import shutil

    db = tmp_path / "users.db"
    shutil.copy(web_db, db)
    added = cli("users", "add", "zed", "--role", "editor", "--password-stdin", "--db", str(db),
                stdin="a-long-enough-password\n")
    assert added.returncode == 0 and "user zed added (role editor)" in added.stdout, added.stderr
    assert cli("users", "add", "zed", "--password-stdin", "--db", str(db), stdin="x" * 12 + "\n").returncode == 1
    short = cli("users", "add", "kim", "--password-stdin", "--db", str(db), stdin="short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    listed = cli("users", "list", "--db", str(db)).stdout
    assert "zed\teditor" in listed and "kim" not in listed
    changed = cli("users", "passwd", "zed", "--role", "viewer", "--password-stdin", "--db", str(db),
                  stdin="another-long-password\n")
    assert changed.returncode == 0 and "role viewer" in changed.stdout
    assert cli("users", "add", "--help").stdout.count("--password ") == 0
    app = create_app(WebConfig(database=str(db), secret=SECRET))
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as c:
        assert login(c, "zed", "a-long-enough-password").status_code == 401
        assert login(c, "zed", "another-long-password").status_code == 303
        audit = c.get("/audit").text
    assert "user.add" in audit and "user.passwd" in audit and "another-long-password" not in audit
    assert cli("users", "remove", "zed", "--db", str(db)).returncode == 0
    assert cli("users", "remove", "zed", "--db", str(db)).returncode == 1


def test_a_chart_with_more_series_than_drawn_marks_the_trend_reports_flags(client: TestClient, web_db: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the drawn series are scored (the trend of the others is not needed): their flags must be the
    ones the whole trend report gives them."""
    from monitor.web.views import charts

    monkeypatch.setattr(charts, "MAX_SERIES", 2)
    login(client, "vic")
    page = client.get("/volume?by=channel&every=week").text
    assert "The 2 smaller series are not drawn" in page
    svg = _svg(page)
    drawn = set(re.findall(r'data-series="([^"]+)"', svg)) - {"2"}
    assert len(drawn) == 2
    marked = set(re.findall(r'<text class="flag"[^>]*>[▲▼]<title>([^,]+), ([^:]+):', svg))
    full = subprocess.run([*MONITOR, "report", "trend", "--by", "channel", "--every", "week", "--only-flagged",
                           "--format", "tsv", "--db", str(web_db)], capture_output=True, text=True, check=True,
                          timeout=120).stdout.splitlines()[1:]
    expected = {(line.split("\t")[1], line.split("\t")[0]) for line in full if line.split("\t")[1] in drawn}
    assert marked == expected and expected
    # and the drawn values (shares too) are the whole volume report's
    for show, column in (("counts", "posts"), ("shares", "posts_share")):
        svg = _svg(client.get(f"/volume?by=channel&every=week&show={show}").text)
        points = re.findall(r'data-period="([^"]+)" data-series="([^"]+)" data-value="([^"]+)"', svg)
        assert len(points) == 2 * 26
        full = subprocess.run([*MONITOR, "report", "volume", "--by", "channel", "--every", "week", "--format", "json",
                               "--db", str(web_db)], capture_output=True, text=True, check=True, timeout=120).stdout
        values = {(r["period"], r["channel"]): r[column] for r in json.loads(full)["rows"]}
        assert all(abs(values[(period, name)] - float(value)) < 1e-6 for period, name, value in points)


def test_spread_opens_on_an_explicit_range_and_downloads_what_the_cli_prints(client: TestClient, web_db: Path) -> None:
    login(client, "vic")
    opened = client.get("/spread")
    assert opened.status_code == 303
    assert opened.headers["location"] == "/spread?since=2024-06-01&until=2024-06-30"
    page = client.get(opened.headers["location"])
    assert page.status_code == 200
    assert page.text.count('<td class="num">3</td>') >= 2  # 3 posts in 3 channels
    assert "ИГИЛ берёт на себя ответственность" in page.text
    got = client.get("/spread.csv?since=2024-06-01&until=2024-06-30").content
    expected = subprocess.run([*MONITOR, "report", "spread", "--since", "2024-06-01", "--until", "2024-06-30",
                               "--format", "csv", "--db", str(web_db)], capture_output=True, timeout=120,
                              check=True).stdout
    assert got == expected and expected.count(b"\n") >= 2


def test_top_and_reach_pages_link_their_downloads_and_refuse_what_the_cli_refuses(client: TestClient) -> None:
    login(client, "vic")
    page = client.get("/top?what=posts-by-views&limit=5")
    assert page.status_code == 200
    table = page.text.split('<table id="top">', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 6  # header and the five posts
    assert 'href="/top.csv?what=posts-by-views&amp;limit=5"' in page.text
    reach = client.get("/reach?ages=1,6")
    assert reach.status_code == 200 and 'href="/reach.csv?ages=1%2C6"' in reach.text
    assert "monitor report reach --ages 1,6" in reach.text
    for bad, message in (("/top?what=groups&per_subscriber=1", "per_subscriber has no effect on top groups"),
                         ("/top?what=channels&deleted=mark", "deleted has no effect on top channels"),
                         ("/top?what=colours", "what &#39;colours&#39;"), ("/reach?ages=1,x", "whole hours"),
                         ("/top.csv?limit=0", "limit 0")):
        response = client.get(bad)
        assert response.status_code == 400 and message in response.text, bad
        assert "Traceback" not in response.text


def test_the_network_page_draws_the_graph_it_offers_as_gexf(client: TestClient) -> None:
    import xml.etree.ElementTree as ET

    login(client, "vic")
    page = client.get("/network").text
    svg = page.split('<figure class="network">', 1)[1].split("<figcaption>", 1)[0]
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    gexf = ET.fromstring(client.get("/network.gexf").content)
    g = {"g": "http://gexf.net/1.2"} if gexf.tag.startswith("{http://gexf.net/1.2}") else \
        {"g": gexf.tag.split("}", 1)[0][1:]}
    gexf_nodes = {n.get("id") for n in gexf.iterfind(".//g:node", g)}
    gexf_edges = gexf.findall(".//g:edge", g)
    drawn = {n.get("data-id") for n in root.iterfind(".//s:g[@class='node']", ns)}
    assert drawn == gexf_nodes and len(drawn) >= 2  # the same channels (fewer than the drawing's limit)
    edges = root.findall(".//s:line[@class='edge']", ns)
    assert len(edges) == len(gexf_edges) >= 1
    assert sorted(int(e.get("data-forwards") or 0) for e in edges) == sorted(
        int(float(e.get("weight") or 0)) for e in gexf_edges)
    assert client.get("/network").text == page  # deterministic: the same picture for the same data
    # the page title is plain text: the discovery queue (and its CSRF token) is drawn once, in the page body
    assert "<title>Network and discovery · monitor</title>" in page and page.count('<table id="queue">') == 1


def test_the_network_page_lists_a_page_of_edges_and_the_csv_holds_them_all(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared database has one edge; this one has three (two more sources forwarded by one channel)."""
    from datetime import timedelta

    from webdata import DEMO_CHANNELS, START, _tags, build

    from monitor.models import ForwardOrigin, Post, TaggedPost
    from monitor.web.views import channels

    db = tmp_path / "monitor.db"

    async def fill() -> None:
        await build(str(db), channels=4, days=20)
        store = open_store(str(db))
        await store.open()
        try:
            target = DEMO_CHANNELS[3]
            posts = [TaggedPost(post=Post(channel_id=target.id, message_id=800_000 + k, posted_at=START + timedelta(days=3),
                                          text="x", views=1, forwards=0,
                                          forward=ForwardOrigin(channel_id=source, name=f"Source {source}",
                                                                message_id=k, date=START)),
                                tags=_tags("x", "ru", "Cyrl"), tagger_version="web-test@1")
                     for k, source in enumerate((DEMO_CHANNELS[1].id, 4242, 4242))]
            await store.save_posts(target.id, posts, at=START, store_text=True)
        finally:
            await store.close()

    asyncio.run(fill())
    monkeypatch.setattr(channels, "EDGES", 1)
    app = create_app(WebConfig(database=str(db), secret=SECRET))
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        login(client, "vic")
        csv_rows = client.get("/network.csv").text.strip().splitlines()[1:]
        assert len(csv_rows) >= 3
        shown, at = [], "/network"
        while at:
            page = client.get(at).text
            table = page.split('<table id="edges">', 1)[1].split("</table>", 1)[0]
            rows = re.findall(r'<tr><td>(.*?)</td><td>(.*?)</td><td class="num">(\d+)</td>', table)
            assert len(rows) == 1 and f"of {len(csv_rows)}, the busiest first" in page
            shown += rows
            found = re.search(r'<a href="([^"]*edges_from=\d+)">next</a>', page)
            at = found.group(1).replace("&amp;", "&") if found else ""
        assert len(shown) == len(csv_rows)  # every edge once, in the report's order (the busiest first)
        assert [int(r[2]) for r in shown] == [int(r.split(",")[4]) for r in csv_rows]


def test_reach_downloads_are_the_clis_bytes_over_resampled_views(tmp_path: Path) -> None:
    """The shared database has no re-samples; this one has views at 1, 6 and 24 hours of every post."""
    from datetime import UTC, datetime, timedelta

    from webdata import build

    from monitor.models import MetricSample

    db = tmp_path / "monitor.db"

    async def fill() -> None:
        await build(str(db), channels=2, days=12)
        store = open_store(str(db))
        await store.open()
        try:
            rows = await store.report_top_posts(since_day=0, until_day=10**6, order="views", limit=500)
            samples = [MetricSample(channel_id=int(r["channel_id"]), message_id=int(r["message_id"]),
                                    sampled_at=datetime.fromtimestamp(int(r["posted_at"]), UTC) + timedelta(hours=h), views=(k + 1) * 10 * h, forwards=0)
                       for k, r in enumerate(rows) for h in (1, 6, 24)]
            await store.record_samples(samples)
        finally:
            await store.close()

    asyncio.run(fill())
    app = create_app(WebConfig(database=str(db), secret=SECRET))
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as c:
        login(c, "vic")
        page = c.get("/reach?ages=1,24,6&by=channel")
        assert page.status_code == 200 and page.text.split('<table id="reach">', 1)[1].count("<tr>") == 7
        for fmt in ("csv", "json"):
            got = c.get(f"/reach.{fmt}?ages=1,24,6&by=channel").content
            expected = subprocess.run([*MONITOR, "report", "reach", "--ages", "1,24,6", "--by", "channel",
                                       "--format", fmt, "--db", str(db)], capture_output=True, timeout=120,
                                      check=True).stdout
            assert got == expected and expected.count(b"\n") >= 6
