"""An editor adds a discovery candidate to the watch list from the dashboard, over HTTP: the config file
is edited as `monitor discovery accept` edits it (comments kept), the store watches the channel, the
decision and an audit entry are recorded; a viewer, a missing CSRF token, or no config are refused."""

from __future__ import annotations

import asyncio
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webdata import START, _tags, build
from webhelpers import SECRET, login

from monitor.demo import DEMO_CHANNELS
from monitor.models import Post, TaggedPost
from monitor.store import open_store
from monitor.web.app import create_app
from monitor.web.common import WebConfig

CONFIG = """\
# Our team's watch list: keep this comment.
[monitor]
database = "monitor.db"   # next to this file

# first channel, from the 2024 review
[[channels]]
handle = "@{first}"
labels = {{ country = "UZ" }}  # kept as written

# the end of the channels
"""


async def _fill(url: str) -> None:
    await build(url, channels=2, days=20)
    store = open_store(url)
    await store.open()
    try:  # a watched channel mentions one that nobody watches yet: a discovery candidate
        ch = DEMO_CHANNELS[0]
        text = "Подписывайтесь на @fresh_voice ИГИЛ"
        post = Post(channel_id=ch.id, message_id=777_001, posted_at=START + timedelta(days=3), text=text, views=5,
                    forwards=0, mentions=("fresh_voice",))
        await store.save_posts(ch.id, [TaggedPost(post=post, tags=_tags(text, "ru", "Cyrl"),
                                                  tagger_version="web-test@1")], at=START, store_text=True)
    finally:
        await store.close()


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "monitor.db"
    asyncio.run(_fill(str(db)))
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG.format(first=DEMO_CHANNELS[0].username), "utf-8")
    return db, config


def _client(db: Path, config: Path | None) -> TestClient:
    app = create_app(WebConfig(database=str(db), secret=SECRET, source_name="monitor.db", config_path=config))
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)


def _csrf(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_an_editor_watches_a_candidate_and_the_config_keeps_its_comments(site: tuple[Path, Path]) -> None:
    db, config = site
    before = config.read_text("utf-8")
    with _client(db, config) as c:
        login(c, "ana")
        page = c.get("/network")
        assert page.status_code == 200
        assert 'name="candidate" value="@fresh_voice"' in page.text  # the editor sees a Watch button
        token = _csrf(page.text)
        response = c.post("/discovery/accept", data={"csrf": token, "candidate": "@fresh_voice"})
        assert response.status_code == 303 and response.headers["location"] == "/channels"
        assert "fresh_voice" in c.get("/channels").text
        audit = c.get("/audit").text
        assert "watch.add" in audit and "fresh_voice" in audit
        again = c.post("/discovery/accept", data={"csrf": token, "candidate": "@fresh_voice"})
        # once only: watched now, it has left the queue, and nothing is written twice
        assert again.status_code == 404 and "is not in the discovery queue" in again.text
        unknown = c.post("/discovery/accept", data={"csrf": token, "candidate": '@x"><b>'})
        assert unknown.status_code == 404 and "<b>" not in unknown.text
    after = config.read_text("utf-8")
    assert after.startswith(before.rsplit("# the end of the channels", 1)[0])  # every line before, byte for byte
    assert "# Our team's watch list: keep this comment." in after and "# kept as written" in after
    assert "# the end of the channels" in after
    channels = tomllib.loads(after)["channels"]
    assert [c["handle"] for c in channels] == [f"@{DEMO_CHANNELS[0].username}", "@fresh_voice"]
    assert channels[1]["labels"]["discovery_depth"] == "1"
    assert channels[1]["labels"]["discovered"].startswith("mentioned by ")

    async def stored() -> tuple[list[str], list[tuple[str, str]]]:
        store = open_store(str(db))
        await store.open()
        try:
            watched = [s.key for s in await store.watch_states()]
            log = [(e.action, e.target) for e in await store.audit_log()]
            return watched, log
        finally:
            await store.close()

    watched, log = asyncio.run(stored())
    assert "fresh_voice" in watched
    assert ("watch.add", "fresh_voice") in log


def test_a_viewer_or_a_missing_csrf_token_changes_nothing(site: tuple[Path, Path]) -> None:
    db, config = site
    before = config.read_text("utf-8")
    with _client(db, config) as c:
        login(c, "vic")
        page = c.get("/network")
        assert "@fresh_voice" in page.text and 'action="/discovery/accept"' not in page.text  # no button
        refused = c.post("/discovery/accept", data={"csrf": _csrf(page.text), "candidate": "@fresh_voice"})
        assert refused.status_code == 403 and "viewer" in refused.text
    with _client(db, config) as c:
        login(c, "ana")
        assert c.post("/discovery/accept", data={"candidate": "@fresh_voice"}).status_code == 403
        assert c.post("/discovery/accept", data={"csrf": "forged", "candidate": "@fresh_voice"}).status_code == 403
        assert "watch.add" not in c.get("/audit").text
    with _client(db, config) as c:  # not logged in at all
        assert c.post("/discovery/accept", data={"candidate": "@fresh_voice"}).status_code == 403
    assert config.read_text("utf-8") == before


def test_without_a_config_file_there_is_no_watch_list_to_add_to(site: tuple[Path, Path]) -> None:
    db, _config = site
    with _client(db, None) as c:
        login(c, "ana")
        page = c.get("/network")
        assert 'action="/discovery/accept"' not in page.text and "--config" in page.text
        response = c.post("/discovery/accept", data={"csrf": _csrf(page.text), "candidate": "@fresh_voice"})
        assert response.status_code == 409 and "--config" in response.text
        unknown = c.post("/discovery/accept", data={"csrf": _csrf(page.text), "candidate": "@nobody_here"})
        assert unknown.status_code == 409  # the config check comes first: nothing to do without one
