"""The search path of the hunt's config file.

This module imports only the standard library, so the console script can tell
whether a config file applies before it imports pandas.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_ENV = "H056_CONFIG"
LOCAL_CONFIG = Path("h056.toml")


def find_config_file(explicit: Path | None) -> Path | None:
    """Return the config file to read, following the documented search path."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    if LOCAL_CONFIG.is_file():
        return LOCAL_CONFIG
    user_file = user_config_file()
    return user_file if user_file.is_file() else None


def user_config_file() -> Path:
    """Return the user's config file path, whether or not it exists.

    It is ``h056hunt/config.toml`` under ``$XDG_CONFIG_HOME`` when that is set and
    not empty, else under ``~/.config``.
    """
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "h056hunt" / "config.toml"
