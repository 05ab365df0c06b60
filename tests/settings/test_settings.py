"""Settings: every problem found at once, with file and key; env overrides; the documented example."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.config_file import channel_entries, write_channels
from monitor.settings import (
    ARRAYS,
    SECTIONS,
    ConnectionSettings,
    check,
    field_specs,
    load,
    reference_rows,
    setting_fields,
)

REPO = Path(__file__).resolve().parents[2]

EXAMPLE = REPO / "config" / "channels.example.toml"


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def wheres(problems: list) -> set[str]:
    return {p.where.split(": ", 1)[1] if ": " in p.where else p.where for p in problems}


def test_check_collects_every_problem_with_its_key(tmp_path: Path) -> None:
    config = write(
        tmp_path / "m.toml",
        """
bogus = 1
[monitor]
database = "missing_dir/m.db"
store_text = "yes"
heartbeat_intervall = 3
[polling]
interval = -1
batch_size = 0
[source]
kind = "telegraph"
[telegram.connection]
host = "10.0.0.1"
port = 70000
rsa_key_file = "absent.pub"
[[channels]]
handle = "@ozod_sado"
[[channels]]
handle = "https://t.me/ozod_sado"
[[channels]]
handle = "@ab"
[[channels]]
handle = "-12345"
[[channels]]
handle = "@good_name"
poll_interval = "often"
[[keywords]]
term = "("
mode = "pattern"
[[keywords]]
term = "hijrat"
mode = "wordy"
""",
    )
    problems = check(config, env={})
    assert all(p.where.startswith(str(config)) for p in problems)
    assert {
        "bogus",
        "monitor.store_text",
        "monitor.heartbeat_intervall",
        "polling.interval",
        "polling.batch_size",
        "source.kind",
        "telegram.connection.port",
        "channels[1].handle",
        "channels[2].handle",
        "channels[3].handle",
        "channels[4].poll_interval",
        "keywords[0].term",
        "keywords[1].mode",
        "monitor.database",
    } <= wheres(problems)
    with pytest.raises(ConfigError) as err:
        load(config, env={}, telegram=True)
    assert len(err.value.problems) == len(problems)


def test_telegram_needs_credentials_and_a_readable_rsa_key(tmp_path: Path) -> None:
    config = write(tmp_path / "m.toml", '[telegram.connection]\nhost = "10.0.0.1"\nrsa_key_file = "k.pub"\n')
    assert {"telegram", "telegram.connection.rsa_key_file"} <= wheres(check(config, env={}))
    write(tmp_path / "k.pub", "-----BEGIN RSA PUBLIC KEY-----\nMIIB\n-----END RSA PUBLIC KEY-----\n")
    env = {"MONITOR_API_ID": "12345", "MONITOR_API_HASH": "0123456789abcdef"}
    settings = load(config, env=env, telegram=True)
    assert settings.credentials is not None and settings.credentials.api_id == 12345
    assert "0123456789abcdef" not in repr(settings.credentials) and "0123456789abcdef" not in repr(settings)
    assert settings.telegram.connection == ConnectionSettings(host="10.0.0.1", rsa_key_file="k.pub")
    assert wheres(check(config, env={"MONITOR_API_ID": "abc", "MONITOR_API_HASH": "x"})) == {
        "environment MONITOR_API_ID"
    }


def test_only_commands_that_talk_to_telegram_read_credentials(tmp_path: Path) -> None:
    config = write(tmp_path / "m.toml", '[telegram]\ncredentials_file = "missing.toml"\n')
    settings = load(config, env={})  # reports, import, alerts...: no credentials asked for
    assert settings.credentials is None and settings.source.kind == "telegram"
    with pytest.raises(ConfigError) as err:
        load(config, env={}, telegram=True)  # run, login
    assert wheres(err.value.problems) == {"telegram.credentials_file"}


def test_credentials_file_must_live_outside_a_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    inside = write(repo / "creds.toml", 'api_id = 1\napi_hash = "h"\n')
    outside = write(tmp_path / "creds.toml", 'api_id = 1\napi_hash = "h"\n')
    config = write(repo / "m.toml", f'[telegram]\ncredentials_file = "{inside}"\n')
    assert any("outside" in p.message for p in check(config, env={}))
    write(config, f'[telegram]\ncredentials_file = "{outside}"\n')
    assert check(config, env={}) == []
    assert load(config, env={}, telegram=True).credentials.origin == str(outside)  # type: ignore[union-attr]


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = write(
        tmp_path / "m.toml", '[polling]\ninterval = 300\n[source]\nkind = "scenario"\nscenario = "s.json"\n'
    )
    write(tmp_path / "s.json", "{}")
    settings = load(
        config,
        env={"MONITOR_POLLING_INTERVAL": "45", "MONITOR_DATABASE": "other.db", "MONITOR_STORE_TEXT": "true"},
    )
    assert settings.polling.interval == 45.0
    assert settings.monitor.store_text is True
    assert settings.database_url == str(tmp_path / "other.db")
    assert wheres(check(config, env={"MONITOR_POLLING_MAX_CONCURRENT": "many"})) == {
        "environment MONITOR_POLLING_MAX_CONCURRENT"
    }


def test_every_setting_is_documented_in_the_example_with_unit_and_reason() -> None:
    text = EXAMPLE.read_text("utf-8")
    # commented-out tables count: uncomment them to check their keys too
    for key in ("[telegram.connection]", "dc_id", "host", "port", "rsa_key_file"):
        text = text.replace(f"# {key}", key)
    data = tomllib.loads(text)
    for table, names in setting_fields().items():
        if table in ARRAYS:
            documented = set().union(*(set(entry) for entry in data[table]))
        elif table == "telegram.connection":
            documented = set(data["telegram"]["connection"])
        else:
            documented = set(data[table])
        assert set(names) <= documented, f"[{table}] lacks {set(names) - documented} in {EXAMPLE.name}"
    for cls in [*SECTIONS.values(), ConnectionSettings, *ARRAYS.values()]:
        for name, spec in field_specs(cls).items():
            if name == "connection":
                continue
            assert spec.unit and spec.doc, f"{cls.__name__}.{name} is undocumented"
            if spec.base in (int, float):
                assert "le" in spec.bounds or "lt" in spec.bounds, f"{cls.__name__}.{name} has no upper bound"


def test_example_config_checks_clean_apart_from_credentials() -> None:
    problems = check(EXAMPLE, env={})
    assert wheres(problems) == {"telegram"}  # no credentials in a repository file, by design


def test_write_channels_rewrites_only_the_channel_tables(tmp_path: Path) -> None:
    original = (
        '# keep me\n[monitor]\ndatabase = "x.db"  # and me\n\n[[channels]]\nhandle = "@ozod_sado"\n'
        'labels = { country = "UZ" }\n\n[[channels]]\nhandle = 12345\n[channels.labels]\na = "b"\n\n'
        "[polling]\ninterval = 60\n"
    )
    config = write(tmp_path / "m.toml", original)
    entries = channel_entries(config)
    write_channels(
        config, [*entries, {"handle": "@new_one", "labels": {"k y": 'v"q'}, "poll_interval": 30.0}]
    )
    text = config.read_text("utf-8")
    assert text.startswith('# keep me\n[monitor]\ndatabase = "x.db"  # and me\n')
    assert text.rstrip().endswith("[polling]\ninterval = 60")
    data = tomllib.loads(text)
    assert data["channels"][-1] == {"handle": "@new_one", "labels": {"k y": 'v"q'}, "poll_interval": 30.0}
    assert data["channels"][1] == {"handle": 12345, "labels": {"a": "b"}}
    write_channels(config, [])
    assert "channels" not in tomllib.loads(config.read_text("utf-8"))
    assert tomllib.loads(config.read_text("utf-8"))["polling"] == {"interval": 60}


ODD = """\
# My watch list -- keep these notes!
[monitor]
database   =  "x.db"      # odd spacing stays

[[ channels ]]   # the first
handle = '@ozod_sado'
labels = {country="UZ",   affiliation = 'x'}

# the second one, numeric
[[channels]]
handle = 12345
  [channels.labels]
  a = "b"   # nested table, indented

[polling]
interval = 60 # seconds
"""


def test_channels_add_then_remove_leaves_the_file_byte_for_byte(tmp_path: Path) -> None:
    config = write(tmp_path / "m.toml", ODD)
    entries = channel_entries(config)
    new = {"handle": "@new_one", "labels": {"k y": 'v"q'}, "poll_interval": 30.0}
    write_channels(config, [*entries, new])
    added = config.read_text("utf-8")
    assert added.startswith(ODD.split("[polling]")[0].rstrip("\n"))  # everything before is untouched
    assert added.endswith("[polling]\ninterval = 60 # seconds\n")
    assert tomllib.loads(added)["channels"][-1] == new
    write_channels(config, entries)
    assert config.read_text("utf-8") == ODD


def test_removing_one_channel_changes_only_its_lines(tmp_path: Path) -> None:
    config = write(tmp_path / "m.toml", ODD)
    entries = channel_entries(config)
    write_channels(config, [entries[1]])
    text = config.read_text("utf-8")
    assert "ozod_sado" not in text
    assert "# My watch list -- keep these notes!" in text and "# the second one, numeric" in text
    assert text == ODD.split("[[ channels ]]")[0] + ODD.split("\n\n", 2)[2]


def test_channels_edit_into_a_file_without_channels_and_back(tmp_path: Path) -> None:
    original = "# only polling\n[polling]\ninterval = 60\n"
    config = write(tmp_path / "m.toml", original)
    write_channels(config, [{"handle": "@first_one"}])
    assert tomllib.loads(config.read_text("utf-8"))["channels"] == [{"handle": "@first_one"}]
    write_channels(config, [])
    assert config.read_text("utf-8") == original


def test_the_settings_reference_lists_every_setting_with_its_range() -> None:
    reference = (REPO / "docs" / "settings.md").read_text("utf-8")
    missing = [row for row in reference_rows() if row not in reference]
    assert missing == [], "docs/settings.md is out of date; regenerate its table from reference_rows():\n" + "\n".join(
        missing
    )


def test_a_monitor_session_that_is_not_a_string_session_is_refused_without_showing_it(tmp_path: Path) -> None:
    """It used to become a session file name: the secret in a file name, and a fresh unauthorised session."""
    import base64

    from monitor.settings import check, is_string_session, load

    config = tmp_path / "monitor.toml"
    config.write_text('[monitor]\ndatabase = "monitor.db"\n[[channels]]\nhandle = "@ozod_sado"\n', "utf-8")
    base = {"MONITOR_API_ID": "12345", "MONITOR_API_HASH": "0123456789abcdef0123456789abcdef"}
    for bad in ("my-secret-session-name", "1" + "x" * 40, "/var/lib/monitor/alerts.session", "1" + "!" * 351):
        problems = check(config, env={**base, "MONITOR_SESSION": bad})
        assert [p.where.endswith("environment MONITOR_SESSION") for p in problems] == [True], problems
        assert "not a string session" in problems[0].message and bad not in str(problems[0])
        assert not list(tmp_path.glob("*.session"))
    good = "1" + base64.urlsafe_b64encode(bytes([2, 149, 154, 167, 51, 1, 187]) + bytes(256)).decode()
    assert is_string_session(good)
    settings = load(config, env={**base, "MONITOR_SESSION": good}, telegram=True)
    assert settings.credentials is not None and settings.credentials.session == good
    creds = tmp_path.parent / f"{tmp_path.name}-creds.toml"
    creds.write_text('api_id = 12345\napi_hash = "0123456789abcdef0123456789abcdef"\nsession_string = "short"\n')
    config.write_text(config.read_text() + f'[telegram]\ncredentials_file = "{creds}"\n', "utf-8")
    problems = check(config, env={})
    assert any("session_string is not a string session" in p.message for p in problems), problems
