"""A filter value that matches nothing known is refused (exit 2, did-you-mean), never a report of zeros."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from reports.reportdata import Dataset, fill

from storefill import build_database
from monitor.cli.report import report
from monitor.errors import ConfigError
from monitor.reports.spec import ReportSpec, resolve
from monitor.reports.volume import volume


async def test_group_ids_are_case_insensitive(dataset: Dataset) -> None:
    lower = await volume(dataset.store, ReportSpec(every="month", groups=("iskp",)))
    upper = await volume(dataset.store, ReportSpec(every="month", groups=("ISKP",)))
    assert lower.rows == upper.rows
    assert sum(r["posts"] for r in lower.as_dicts()) > 0
    assert lower.meta["filters"]["group"] == ["ISKP"]


@pytest.mark.parametrize(
    ("filters", "option", "suggestion"),
    [
        ({"groups": ("ISKPP",)}, "--group 'ISKPP'", "ISKP"),
        ({"groups": ("NOPE",)}, "--group 'NOPE'", None),
        ({"langs": ("xx",)}, "--lang 'xx'", None),
        ({"langs": ("ru-Latn",)}, "--lang 'ru-Latn'", None),
        ({"scripts": ("Grek",)}, "--script 'Grek'", None),
        ({"labels": ("countri=UZ",)}, "--label 'countri'", "country"),
        ({"labels": ("country=ZZ",)}, "--label 'country=ZZ'", None),
        ({"keywords": ("hijraa",)}, "--keyword 'hijraa'", "hijra"),
        ({"people": ("nobody_at_all",)}, "--person 'nobody_at_all'", None),
    ],
)
async def test_unknown_filter_values_are_refused_with_the_known_ones(
    dataset: Dataset, filters: dict, option: str, suggestion: str | None
) -> None:
    with pytest.raises(ConfigError) as caught:
        await resolve(dataset.store, ReportSpec(every="month", **filters))
    message = str(caught.value)
    assert message.startswith(option + ":"), message
    assert "Known: " in message or "none in this database" in message
    if suggestion is not None:
        assert f"did you mean {suggestion}" in message


async def test_known_values_from_the_lexicon_tagger_and_data_pass(dataset: Dataset) -> None:
    # a lexicon group with no posts is known (a real zero), so are the tagger's languages and the data's labels
    res = await resolve(dataset.store, ReportSpec(every="month", groups=("HT",), langs=("kk",), scripts=("latn",),
                                                  labels=("country=uz",), keywords=("HIJRA",)))
    assert res.tags == {"group": ("HT",), "keyword": ("hijra",)}
    assert res.scripts == ("Latn",) and res.langs == (("kk", None),)
    assert res.channel_ids == (1001,)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("filters") / "monitor.db"

    build_database(path, fill)
    return path


@pytest.mark.parametrize("args", [("--group", "NOPE"), ("--lang", "xx"), ("--label", "country=ZZ"),
                                  ("--keyword", "nothing"), ("--person", "nobody")])
@pytest.mark.parametrize("command", ["volume", "trend", "top", "reach", "spread"])
def test_cli_exits_2_with_one_line(db: Path, command: str, args: tuple[str, str]) -> None:
    result = CliRunner().invoke(report, [command, *args, "--db", str(db)])
    assert result.exit_code == 2, result.output
    [error] = [line for line in result.output.splitlines() if line.lower().startswith("error")]
    assert "no such" in error and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["network", "discovery"])
def test_channel_scoped_reports_refuse_unknown_labels(db: Path, command: str) -> None:
    result = CliRunner().invoke(report, [command, "--label", "country=ZZ", "--db", str(db)])
    assert result.exit_code == 2 and "did you mean" not in result.output and "Known: RU, TJ, UZ." in result.output
