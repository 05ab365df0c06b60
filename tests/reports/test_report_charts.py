"""Options have an effect or are refused; every report that a picture helps draws one; charts a reader trusts."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from reports.reportdata import fill

from storefill import build_database
from monitor.cli.report import report
from monitor.reports.charts import MAX_SERIES, PALETTE, write_chart
from monitor.reports.spec import ReportSpec
from monitor.reports.table import Report
from monitor.reports.trend import trend


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("charts") / "monitor.db"

    build_database(path, fill)
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(report, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["top", "--every", "week"], "--every"),
        (["top", "--by", "group"], "--by"),
        (["top", "--what", "pairs", "--group", "IS"], "--group"),
        (["reach", "--every", "day"], "--every"),
        (["spread", "--by", "channel"], "--by"),
        (["spread", "--every", "week"], "--every"),
        (["network", "--by", "group"], "--by"),
        (["network", "--group", "IS"], "--group"),
        (["discovery", "--lang", "ru"], "--lang"),
        (["discovery", "--every", "month"], "--every"),
    ],
)
def test_options_without_effect_are_refused(db: Path, args: list[str], option: str) -> None:
    code, out = run(*args, "--db", str(db))
    assert code == 2, out
    assert f"{option}: has no effect on the" in out


def test_options_with_effect_still_work(db: Path) -> None:
    for args in (["reach", "--by", "group"], ["top", "--what", "groups", "--lang", "ru"],
                 ["network", "--label", "country=UZ"], ["spread", "--group", "ISKP"]):
        code, out = run(*args, "--db", str(db))
        assert code == 0, (args, out)


@pytest.mark.parametrize(
    ("name", "message"),
    [("out.jpg", "ends in .png or .svg"), ("no/such/folder/out.png", "no folder"), (".", "is a directory")],
)
def test_bad_chart_file_refused_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                                message: str) -> None:
    """The database does not even exist: the chart error comes first, on one line, exit 2."""
    monkeypatch.chdir(tmp_path)
    code, out = run("volume", "--chart", name, "--db", str(tmp_path / "missing.db"))
    assert code == 2, out
    [line] = [ln for ln in out.splitlines() if ln.lower().startswith("error")]
    assert message in line and "--chart" in line


def test_chart_folder_refused(tmp_path: Path) -> None:
    (tmp_path / "c.png").mkdir()
    code, out = run("top", "--chart", str(tmp_path / "c.png"), "--db", str(tmp_path / "missing.db"))
    assert code == 2 and "is a directory" in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_chart_folder_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    code, out = run("volume", "--chart", str(folder / "c.png"), "--db", str(tmp_path / "missing.db"))
    assert code == 2 and "permission" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["top", "--what", "channels"], "@alpha_news"),
        (["top", "--what", "pairs"], "groups named together"),
        (["top", "--what", "posts-by-views"], "top posts-by-views by views"),
        (["reach", "--by", "group"], "median views"),
        (["spread"], "spread: the same item"),
        (["network"], "network: arrow from a channel"),
        (["volume", "--by", "group"], "volume: posts"),
        (["trend", "--every", "week"], "trend: posts per week"),
    ],
)
def test_every_report_draws_its_picture_with_text_as_text(db: Path, tmp_path: Path, args: list[str],
                                                          expected: str) -> None:
    svg, png = tmp_path / "c.svg", tmp_path / "c.png"
    for chart in (svg, png):
        code, out = run(*args, "--chart", str(chart), "--db", str(db))
        assert code == 0, out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text("utf-8")
    ET.fromstring(text)
    texts = " ".join(t.text or "" for t in ET.fromstring(text).iter("{http://www.w3.org/2000/svg}text"))
    assert expected in texts  # searchable text, not glyph outlines
    assert "data: monitor.db" in texts and "(UTC)" in texts and "filters: none" in texts


def _series_report(n: int) -> Report:
    rows = [(f"2021-0{m}", f"series{i:02d}", (i + 1) * m) for m in range(1, 7) for i in range(n)]
    return Report(name="volume", columns=("period", "group", "posts"), rows=rows,
                  meta={"since": "2021-01-01", "until": "2021-06-30", "every": "month",
                        "filters": {"group": ["X"]}})


def _line_colours(svg: Path) -> list[str]:
    return re.findall(r"stroke: (#[0-9a-f]{6}); stroke-width: 1\.6", svg.read_text("utf-8"))


def test_a_distinct_colour_per_series_then_small_multiples(tmp_path: Path) -> None:
    svg = tmp_path / "twelve.svg"
    write_chart(_series_report(MAX_SERIES), svg)
    colours = _line_colours(svg)  # each line, then its legend sample
    assert len(set(colours)) == MAX_SERIES and set(colours) <= set(PALETTE)
    text = svg.read_text("utf-8")
    assert "filters: group=X" in text and "2021-01-01 to 2021-06-30 (UTC)" in text
    write_chart(_series_report(MAX_SERIES + 3), svg)
    text = svg.read_text("utf-8")
    assert "15 panels, one per series" in text
    assert all(f">series{i:02d}<" in text for i in range(MAX_SERIES + 3))  # none folded into "other"


async def test_trend_chart_marks_the_flagged_periods_and_the_threshold(dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rep = await trend(dataset.store, ReportSpec(since=date(2021, 1, 1), until=date(2021, 4, 30), every="day"),
                      threshold=1.0)
    flagged = sum(1 for r in rep.as_dicts() if r["flag"] == "spike")
    assert flagged
    svg = tmp_path / "t.svg"
    write_chart(rep, svg)
    text = svg.read_text("utf-8")
    assert f"spike ({flagged}): robust z ≥ 1.0" in text
    assert "spike threshold (baseline median + 1 x 1.4826 MAD)" in text


def test_reach_by_group_keeps_to_the_filtered_groups(db: Path) -> None:
    code, out = run("reach", "--by", "group", "--group", "ISKP", "--format", "csv", "--db", str(db))
    assert code == 0, out
    groups = {line.split(",")[0] for line in out.splitlines()[1:] if line}
    assert groups == {"ISKP"}
