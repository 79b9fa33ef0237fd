"""The one render boundary: nothing the app draws reaches the terminal as a control.

Every line any widget renders (Line API lists, Static text, inputs, the footer, toasts, the
command palette: whatever field its text came from, and any added later) passes through the
App's line filters (`App.get_line_filters`, Textual's hook for post-processing rendered
lines) on its way to the terminal. :class:`InertFilter` is one of them:

* characters that a terminal would act on or that reorder or hide text (C0/C1 controls, ESC,
  DEL, bidi embeddings/overrides/isolates, zero-width and tag characters, lone surrogates) are
  replaced by spaces of their width, most of them by nothing (textsafe.inert): an OSC 52
  clipboard write or a CSI 2J in a tag, a language code or a chain's answer arrives as inert text;
* hyperlinks are dropped from styles, so no OSC 8 link is ever written: a link in hostile text
  (`[link=...]` markup that slipped through, a Markdown link) shows as its text and is never
  something a click opens.

Cleaning at the data (textsafe.clean, safe_text, one_line) stays where text is prepared, to drop
an escape sequence together with its payload and keep Rich markup literal; this filter is what
makes a field that was not cleaned harmless anyway.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from agent_tui.textsafe import UNSAFE, inert


class InertFilter(LineFilter):
    """Makes every rendered segment inert text (see the module docstring). Segments are left as
    they are when they need nothing, which is almost always: one regex search each."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        out: list[Segment] | None = None
        for i, seg in enumerate(segments):
            text, style, control = seg
            if control:  # a control segment carries terminal codes, never text of ours: dropped
                fixed = None
            elif (style is not None and style.link) or UNSAFE.search(text):
                fixed = Segment(inert(text), style.update_link(None) if style is not None and style.link else style)
            else:
                if out is not None:
                    out.append(seg)
                continue
            if out is None:
                out = list(segments[:i])
            if fixed is not None and fixed.text:
                out.append(fixed)
        return segments if out is None else out
