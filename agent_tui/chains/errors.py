"""The one error type the chain look-up raises, with a one-line message fit to show a support agent."""

from __future__ import annotations

import re

_CTRL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def clean(text: object, limit: int = 200) -> str:
    """One line of plain text: control and bidi characters removed, length bounded.

    Chain data and customer text are hostile; anything that goes into an explanation or an
    error message passes through here. (We never render Rich markup; callers that do must escape.)
    """
    s = _CTRL.sub("", str(text))
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


class ChainError(Exception):
    """A look-up could not be done: bad input, an unreachable, slow, malformed or hostile endpoint."""

    def __init__(self, message: str):
        super().__init__(clean(message, 300))

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(ChainError):
    """The txid, address or network given is malformed or unknown."""


class EndpointError(ChainError):
    """The endpoint could not be reached, timed out, rate-limited us or answered something we cannot use."""
