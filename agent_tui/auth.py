"""The API token: in the OS keyring, never in a config file or a log. AGENT_TUI_TOKEN wins for headless use."""

from __future__ import annotations

import os
from typing import Optional

SERVICE = "agent-tui"


class AuthError(Exception):
    """A sign-in problem, said in one line with what to do."""


def _keyring():
    import keyring
    from keyring.errors import KeyringError

    return keyring, KeyringError


class NoKeyring(AuthError):
    """No OS keyring to keep the token in; `cause` names what the keyring library raised."""

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


def _no_backend(exc: Exception) -> NoKeyring:
    return NoKeyring(
        "No OS keyring is available to store the token (" + type(exc).__name__ + "); "
        "set AGENT_TUI_TOKEN in the environment instead, or start a Secret Service (e.g. gnome-keyring).",
        type(exc).__name__,
    )


def store_token(server_url: str, token: str) -> None:
    keyring, KeyringError = _keyring()
    try:
        keyring.set_password(SERVICE, server_url, token)
    except (KeyringError, RuntimeError) as exc:
        raise _no_backend(exc) from None


def get_token(server_url: str) -> Optional[str]:
    env = os.environ.get("AGENT_TUI_TOKEN")
    if env:
        return env
    if not server_url:
        return None
    keyring, KeyringError = _keyring()
    try:
        return keyring.get_password(SERVICE, server_url)
    except (KeyringError, RuntimeError) as exc:
        raise _no_backend(exc) from None


def delete_token(server_url: str) -> bool:
    keyring, KeyringError = _keyring()
    try:
        keyring.delete_password(SERVICE, server_url)
        return True
    except keyring.errors.PasswordDeleteError:
        return False
    except (KeyringError, RuntimeError) as exc:
        raise _no_backend(exc) from None


def server_and_token(settings) -> tuple[str, str]:
    """The configured server and its token, or AuthError saying how to sign in."""
    url = (settings.server_url or "").rstrip("/")
    if not url:
        raise AuthError("no server configured; run `agent-tui login URL` (or set AGENT_TUI_SERVER_URL)")
    token = get_token(url)
    if not token:
        raise AuthError(f"not signed in to {url}; run `agent-tui login {url}` (or set AGENT_TUI_TOKEN)")
    return url, token
