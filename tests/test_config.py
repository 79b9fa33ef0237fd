"""The config file: read with pydantic-settings' TOML source, written with tomlkit so that what the
user wrote (comments, order, other keys and tables) survives `agent-tui login`."""

from __future__ import annotations

import tomllib

import pytest

from agent_tui import config, locations

HAND_WRITTEN = '''# my desk
theme = "agent-light"   # easier on the eyes

[keymap]
# claim with ctrl+k
"queue.claim" = "ctrl+k"

[rpc]
bitcoin = "http://127.0.0.1:8332"

[views.mine]
server_url_note = "a key of a table that only starts like the top-level one"
'''


def write(text: str) -> None:
    p = locations.config_file()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")


def test_settings_come_from_the_file_under_the_environment(monkeypatch):
    write(HAND_WRITTEN)
    s = config.load()
    assert s.theme == "agent-light" and s.keymap == {"queue.claim": "ctrl+k"} and s.rpc["bitcoin"].endswith(":8332")
    monkeypatch.setenv("AGENT_TUI_THEME", "agent-high-contrast")
    assert config.load().theme == "agent-high-contrast"


def test_saving_the_server_url_keeps_comments_keys_and_tables():
    write(HAND_WRITTEN)
    config.save_server_url("https://desk.example.com")
    text = locations.config_file().read_text(encoding="utf-8")
    for kept in ("# my desk", "# easier on the eyes", "# claim with ctrl+k", '"queue.claim" = "ctrl+k"', "[rpc]"):
        assert kept in text
    data = tomllib.loads(text)
    assert data["server_url"] == "https://desk.example.com"  # top level, not inside [rpc]
    assert "server_url" not in data["rpc"] and "server_url" not in data["keymap"]
    assert data["views"]["mine"]["server_url_note"].startswith("a key of a table")  # the old rewrite dropped it
    config.save_server_url("https://other.example.com")  # again: replaced in place, not added twice
    text = locations.config_file().read_text(encoding="utf-8")
    assert text.count("server_url =") == 1 and tomllib.loads(text)["server_url"] == "https://other.example.com"
    assert "# my desk" in text and config.load().server_url == "https://other.example.com"


def test_a_url_with_quotes_and_backslashes_is_written_as_valid_toml():
    config.save_server_url('https://desk.example.com/"x"\\y')
    assert config.load().server_url == 'https://desk.example.com/"x"\\y'


@pytest.mark.parametrize("text", ["theme = ", "[keymap\nx = 1", "at_risk_minutes = 'soon'"])
def test_a_broken_config_is_one_line_naming_the_file(text):
    write(text)
    with pytest.raises(config.ConfigError) as err:
        config.load()
    assert "\n" not in str(err.value) and str(locations.config_file()) in str(err.value)


def test_login_refuses_to_rewrite_a_file_it_cannot_parse():
    write("theme = \n# keep me")
    with pytest.raises(config.ConfigError):
        config.save_server_url("https://desk.example.com")
    assert "# keep me" in locations.config_file().read_text(encoding="utf-8")


def test_a_config_file_that_is_not_utf8_is_one_line_and_login_leaves_it_alone():
    p = locations.config_file()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b'theme = "agent-light"\n# caf\xff\n')
    with pytest.raises(config.ConfigError) as err:
        config.load()
    assert "\n" not in str(err.value) and str(p) in str(err.value)
    with pytest.raises(config.ConfigError):
        config.save_server_url("https://desk.example.com")
    assert p.read_bytes().endswith(b"\xff\n")
