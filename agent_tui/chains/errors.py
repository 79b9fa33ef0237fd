"""The one error type the chain look-up raises, with a one-line message fit to show a support agent."""

from __future__ import annotations

from agent_tui.textsafe import one_line


def clean(text: object, limit: int = 200) -> str:
    """One line of plain text, length bounded: agent_tui.textsafe.one_line (escape sequences dropped
    with their payloads, control, bidi and invisible characters removed, whitespace folded).

    Chain data and customer text are hostile; anything that goes into an explanation or an
    error message passes through here. (We never render Rich markup; callers that do must escape.)
    """
    s = one_line(str(text))
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


class InvalidChainData(EndpointError):
    """The chain source answered in the right shape but with a value no chain has (a recipient that is no
    address, a negative amount or height, a hash that is not hex): nothing it said is judged."""
