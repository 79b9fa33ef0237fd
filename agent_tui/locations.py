"""The one module that owns file locations (config, cache, logs)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir, user_log_dir

APP = "agent-tui"


def config_dir() -> Path:
    return Path(os.environ.get("AGENT_TUI_CONFIG_DIR") or user_config_dir(APP, appauthor=False))


def config_file() -> Path:
    env = os.environ.get("AGENT_TUI_CONFIG")
    return Path(env).expanduser() if env else config_dir() / "config.toml"


def data_dir() -> Path:
    return Path(os.environ.get("AGENT_TUI_DATA_DIR") or user_data_dir(APP, appauthor=False))


def log_dir() -> Path:
    return Path(os.environ.get("AGENT_TUI_LOG_DIR") or user_log_dir(APP, appauthor=False))
