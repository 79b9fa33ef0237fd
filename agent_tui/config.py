"""Typed settings: a TOML file (agent_tui.locations.config_file) under AGENT_TUI_* environment variables.

Secrets never live here: the API token is in the OS keyring (agent_tui.auth), or in
AGENT_TUI_TOKEN for headless use.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Optional

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, TomlConfigSettingsSource

from agent_tui import locations
from agent_tui.textsafe import one_line


from agent_tui.errors import ConfigError  # noqa: E402,F401  (it lives where the CLI can catch it cheaply)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENT_TUI_", extra="ignore")

    server_url: str = Field("", description="The helpdesk backend, e.g. https://desk.example.com")
    cache_path: Optional[str] = Field(None, description="The SQLite cache file; default from platformdirs")
    theme: str = Field("agent-dark", description="agent-dark, agent-light or agent-high-contrast")
    at_risk_minutes: float = Field(15, description="An SLA countdown under this many minutes shows as at risk")
    pull_interval: float = Field(30, description="Seconds between pulls when the live stream is down")
    request_timeout: float = Field(10, description="Seconds before an HTTP request to the backend gives up")
    keymap: dict[str, str] = Field(default_factory=dict, description="binding id -> keys, e.g. {'queue.claim': 'ctrl+k'}")
    views: dict[str, dict[str, Any]] = Field(default_factory=dict, description="user views: key -> filter")
    rpc: dict[str, str] = Field(default_factory=dict, description="chain network -> endpoint URL")
    allowed_domains: list[str] = Field(default_factory=lambda: ["desk.example", "exchange.example"],
                                       description="domains a public reply may link to")
    macro_favourites: list[str] = Field(default_factory=list, description="macro keys on 1-9 in the picker (default: most used)")
    guard_lexicon: dict[str, Any] = Field(default_factory=dict, description="extra phrases for the reply guard, merged over the default")
    guard_lexicon_paths: list[str] = Field(default_factory=list,
                                           description="reply-guard lexicon files (<lang>.toml) or directories of them, merged over the default")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        # the file is looked up now, not at import: AGENT_TUI_CONFIG_DIR may be set later (tests, `--config`)
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=locations.config_file()))


def load() -> Settings:
    path = locations.config_file()
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        raise ConfigError(f"Config setting {where!r}: {first.get('msg')}. Fix it in {path}.") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the config file {path}: {one_line(str(exc), 200)}. Fix or remove it.") from None


def save_server_url(url: str) -> Path:
    """Remember the server URL (never the token) in the config file, keeping everything else in it
    (comments, order, other keys and tables) as it was."""
    path = locations.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    import tomlkit  # only login writes the file: not on every start

    try:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        doc = tomlkit.parse(old)
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.ParseError) as exc:
        raise ConfigError(f"Cannot update the config file {path}: {one_line(str(exc), 200)}. Fix or remove it.") from None
    if "server_url" in doc:
        doc["server_url"] = url  # in place: its comment and position stay
        text = tomlkit.dumps(doc)
    else:  # the file's top is always top level (a key added at the end could land inside a table)
        text = tomlkit.dumps({"server_url": url}) + old
    tomllib.loads(text)  # never write a file we could not read back
    path.write_text(text, encoding="utf-8")
    return path
