"""The macro picker: fuzzy search, a live preview against the ticket, prompts for missing fields.

    inputs = picker_inputs(cache, ticket_id, agent=..., now=...)  # agent_tui.services.macros, in a worker
    app.push_screen(MacroPicker(**inputs), callback)   # callback(MacroPick | MacroManage | None)

* Typing filters (`agent_tui.macros.render.search`: title, key, `::shortcut`, category, bodies).
* The macro a deposit look-up suggested (its verdict's `macro` key) is listed first, marked ★.
* Favourites carry their number; `1`-`9` pick one directly (while the search box is empty or the
  list has focus: to search for something starting with a digit, type a space or `::` first).
* The preview renders the highlighted macro in the customer's language; a placeholder without a
  value shows as `⟦deposit.txid⟧` (highlighted) and is listed under the preview, with the
  macro's ticket actions.
* `enter` on a macro with missing fields opens one input per field; `enter` moves to the next,
  and on the last re-renders with what was typed. A field left blank stays missing;
  `ctrl+o` inserts the text with the markers left in (the reply guard warns before sending).
  `esc` goes back to the list; `esc` in the list cancels (dismisses with None).
* Everything drawn from macro or ticket text goes through `agent_tui.textsafe.safe_text`: never
  parsed as markup.

* `e` / `d` (or `delete`) on the highlighted macro, with the list focused (`tab` from the search
  box): edit or delete it. Agents manage their own personal macros; shared ones only supervisors
  (`can_manage_shared`): otherwise one line says so and nothing happens.

Dismisses with `MacroPick(macro, text, language, fills, actions, missing)`, or with
`MacroManage("edit" | "delete", macro, language, query)` for the host to edit or delete it.
Binding ids: macro.pick, macro.cancel, macro.up, macro.down, macro.search, macro.insert_anyway,
macro.edit, macro.delete, macro.fav_1 ... macro.fav_9.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from agent_tui.macros.actions import describe_actions, favourites
from agent_tui.macros.model import Macro
from agent_tui.macros.render import MacroTemplateError, RenderResult, context_language, render, search
from agent_tui.textsafe import one_line, safe_text

__all__ = ["MacroManage", "MacroPick", "MacroPicker", "manage_refusal"]

MISSING_RE = r"⟦[^⟧\n]*⟧"
SEARCH_LIMIT = 60


@dataclass(frozen=True)
class MacroPick:
    """What the agent chose: the rendered text to insert and the macro's actions to apply."""

    macro: Macro
    text: str
    language: str
    fills: dict[str, str] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # non-empty only after ctrl+o (insert as is)


@dataclass(frozen=True)
class MacroManage:
    """The agent asked to edit or delete a macro they may manage; the host does it (and may reopen the picker)."""

    action: str  # "edit" | "delete"
    macro: Macro
    language: Optional[str] = None  # the language the picker showed (the body an edit starts from)
    query: str = ""  # the search, to reopen the picker where it was


def manage_refusal(macro: Macro, agent_id: Optional[int], can_manage_shared: bool) -> Optional[str]:
    """None if this agent may edit or delete the macro here, else the one line that says why not."""
    if macro.visibility == "personal":
        if agent_id is not None and macro.owner_id == agent_id:
            return None
        return "This is another agent's personal macro; only its owner can change it."
    if can_manage_shared:
        return None
    return "Shared macros are managed by supervisors; you can edit or delete your own (personal) macros."


class _SearchInput(Input):
    """The search box: a digit typed into an empty box picks that favourite."""

    async def _on_key(self, event: events.Key) -> None:
        char = event.character
        if not self.value and char and char in "123456789":
            screen = self.screen
            if isinstance(screen, MacroPicker):
                event.stop()
                event.prevent_default()  # Input's own handler would type the digit
                screen.action_favourite(int(char))


class MacroPicker(ModalScreen[Optional[MacroPick]]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel / back", id="macro.cancel"),
        Binding("enter", "pick", "Insert", id="macro.pick"),
        Binding("down,ctrl+n", "move(1)", "Down", show=False, id="macro.down"),
        Binding("up,ctrl+p", "move(-1)", "Up", show=False, id="macro.up"),
        Binding("slash", "focus_search", "Search", show=False, id="macro.search"),
        Binding("ctrl+o", "insert_anyway", "Insert with blanks", show=False, id="macro.insert_anyway"),
        Binding("e", "manage('edit')", "Edit", id="macro.edit", tooltip="Edit your highlighted macro"),
        Binding("d,delete", "manage('delete')", "Delete", id="macro.delete", tooltip="Delete your highlighted macro"),
    ] + [
        Binding(str(n), f"favourite({n})", f"Favourite {n}", show=False, id=f"macro.fav_{n}") for n in range(1, 10)
    ]

    DEFAULT_CSS = """
    MacroPicker { align: center middle; }
    MacroPicker #macro-dialog { width: 92%; height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    MacroPicker #macro-title { height: 1; text-style: bold; }
    MacroPicker #macro-body { height: 1fr; }
    MacroPicker #macro-list { width: 2fr; height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    MacroPicker #macro-right { width: 3fr; height: 1fr; padding-left: 1; }
    MacroPicker #macro-preview-box { height: 1fr; border: round $secondary; padding: 0 1; }
    MacroPicker #macro-info { height: auto; max-height: 6; }
    MacroPicker #macro-fills { height: auto; max-height: 14; display: none; border: round $warning; padding: 0 1; }
    MacroPicker #macro-fills.-shown { display: block; }
    MacroPicker .fill-label { height: 1; }
    MacroPicker #macro-help { height: 1; color: $text-muted; }
    """

    def __init__(
        self,
        context: Mapping[str, Any],
        *,
        macros: Optional[Sequence[Macro]] = None,
        favourites: Optional[Sequence[Macro]] = None,
        favourite_keys: Optional[Sequence[str]] = None,
        suggested: Optional[str] = None,
        language: Optional[str] = None,
        agent_id: Optional[int] = None,
        query: str = "",
        can_manage_shared: bool = False,
    ) -> None:
        """`macros`: the agent's macros, shared plus their personal ones, as the screen read them
        (`agent_tui.services.macros.picker_inputs`; the picker never reads the cache). `favourites`:
        the macros on keys 1-9 (default: `agent_tui.macros.actions.favourites(macros, favourite_keys)`). `suggested`: a macro key
        to list first (a look-up verdict's `macro`). `language`: overrides the customer's."""
        super().__init__()
        self.context = context
        self._macros: list[Macro] = list(macros or ())
        self._favourites_given = list(favourites) if favourites is not None else None
        self.favourite_keys = list(favourite_keys) if favourite_keys else None
        self.suggested_key = suggested
        self.language = language or context_language(context)
        self.agent_id = agent_id
        self.initial_query = query
        self.can_manage_shared = can_manage_shared
        self.favourites: list[Macro] = []
        self.shown: list[Macro] = []  # the list's macros, in order
        self.current: Optional[Macro] = None
        self.current_result: Optional[RenderResult] = None
        self.filling: Optional[Macro] = None
        self.fill_paths: list[str] = []

    # --- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="macro-dialog"):
            yield Static(self._title(), id="macro-title")
            yield _SearchInput(value=self.initial_query, placeholder="Search macros: words, ::shortcut, text…", id="macro-search")
            with Horizontal(id="macro-body"):
                yield OptionList(id="macro-list")
                with Vertical(id="macro-right"):
                    with VerticalScroll(id="macro-preview-box"):
                        yield Static("", id="macro-preview")
                    yield Static("", id="macro-info")
            yield VerticalScroll(id="macro-fills")
            yield Static(Text("enter insert · ↑↓ choose · 1-9 favourite · / search · tab list: e edit, d delete yours · esc cancel"),
                         id="macro-help")

    def _title(self) -> Text:
        ticket = self.context.get("ticket") if isinstance(self.context, Mapping) else None
        title = Text("Macros", style="bold")
        if isinstance(ticket, Mapping) and ticket.get("id") is not None:
            title.append(f" · #{ticket.get('id')} ")
            title.append_text(safe_text(one_line(str(ticket.get("subject") or ""), 60)))
        if self.language:
            title.append(f" · {self.language}")
        return title

    def on_mount(self) -> None:
        if self._favourites_given is not None:
            self.favourites = self._favourites_given[:9]
        else:
            self.favourites = favourites(self._macros, self.favourite_keys)
        self.refresh_list(self.initial_query)
        self.query_one("#macro-search", Input).focus()

    @property
    def macros(self) -> list[Macro]:
        return list(self._macros or [])

    # --- the list -------------------------------------------------------------------------------

    def ordered(self, query: str) -> list[Macro]:
        """The list for a query: the suggested macro first, then favourites (empty query) or matches."""
        macros = self.macros
        if query.strip():
            found = search(macros, query, limit=SEARCH_LIMIT)
        else:
            fav_keys = [f.key for f in self.favourites]
            by_key = {m.key: m for m in macros}
            rest = [m for m in search(macros, "", limit=len(macros)) if m.key not in fav_keys]
            found = [by_key[k] for k in fav_keys if k in by_key] + rest
        suggested = next((m for m in found if m.key == self.suggested_key), None)
        if suggested is None and not query.strip():
            suggested = next((m for m in macros if m.key == self.suggested_key), None)
        if suggested is not None:
            found = [suggested] + [m for m in found if m is not suggested]
        return found

    def _label(self, macro: Macro) -> Text:
        mark = "★ " if macro.key == self.suggested_key else "  "
        slot = next((i + 1 for i, f in enumerate(self.favourites) if f.key == macro.key), None)
        label = Text(mark, style="bold")
        label.append(f"{slot} " if slot else "  ", style="bold")
        label.append_text(safe_text(one_line(macro.title, 48)))
        if macro.shortcut:
            label.append_text(safe_text(f"  ::{macro.shortcut}", style="dim"))
        return label

    def refresh_list(self, query: str) -> None:
        option_list = self.query_one("#macro-list", OptionList)
        self.shown = self.ordered(query)
        option_list.clear_options()
        option_list.add_options([Option(self._label(m), id=f"m{i}") for i, m in enumerate(self.shown)])
        if self.shown:
            option_list.highlighted = 0
            self.show_preview(self.shown[0])
        else:
            self.show_preview(None)

    @on(Input.Changed, "#macro-search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self.filling is None:
            self.refresh_list(event.value)

    @on(OptionList.OptionHighlighted, "#macro-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.shown):
            self.show_preview(self.shown[event.option_index])

    @on(OptionList.OptionSelected, "#macro-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.shown):
            self.pick(self.shown[event.option_index])

    # --- the preview ----------------------------------------------------------------------------

    def render_macro(self, macro: Macro, fills: Optional[Mapping[str, str]] = None) -> RenderResult:
        return render(macro, self.context, language=self.language, fills=fills)

    def show_preview(self, macro: Optional[Macro]) -> None:
        self.current = macro
        self.current_result = None
        preview = self.query_one("#macro-preview", Static)
        info = self.query_one("#macro-info", Static)
        if macro is None:
            preview.update(Text("No macro matches.", style="italic"))
            info.update("")
            return
        try:
            result = self.render_macro(macro)
        except MacroTemplateError as exc:
            preview.update(safe_text(f"This macro cannot be rendered: {exc}", style="bold red"))
            info.update("")
            return
        self.current_result = result
        body = safe_text(result.text)
        body.highlight_regex(MISSING_RE, "bold reverse")
        preview.update(body)
        lines = Text()
        lines.append(f"[{result.language}] ", style="bold")
        if result.missing:
            lines.append("missing: ", style="bold")
            lines.append_text(safe_text(", ".join(result.missing)))
        else:
            lines.append("all fields filled")
        actions = describe_actions(macro.actions)
        if actions:
            lines.append("\nactions: ", style="bold")
            lines.append_text(safe_text(" · ".join(actions)))
        info.update(lines)

    # --- picking --------------------------------------------------------------------------------

    def pick(self, macro: Macro) -> None:
        try:
            result = self.render_macro(macro)
        except MacroTemplateError as exc:
            self.notify(f"Cannot use this macro: {exc}", severity="error", markup=False)
            return
        if result.missing:
            self.ask_for(macro, result.missing)
            return
        self.dismiss(MacroPick(macro, result.text, result.language, {}, list(result.actions), []))

    def ask_for(self, macro: Macro, missing: Sequence[str]) -> None:
        """Show one input per missing field."""
        self.filling = macro
        self.fill_paths = list(missing)
        box = self.query_one("#macro-fills", VerticalScroll)
        box.remove_children()
        widgets: list[Any] = [Static(safe_text(f"Fill in what “{one_line(macro.title, 50)}” needs "
                                               "(enter: next · ctrl+o: insert with blanks · esc: back)", style="bold"))]
        for i, path in enumerate(self.fill_paths):
            widgets.append(Label(safe_text(path), classes="fill-label"))
            widgets.append(Input(placeholder=path, id=f"fill-{i}", classes="fill-input"))
        box.mount_all(widgets)
        box.add_class("-shown")
        self.call_after_refresh(self._focus_fill, 0)

    def _focus_fill(self, index: int) -> None:
        try:
            self.query_one(f"#fill-{index}", Input).focus()
        except Exception:
            pass

    def fills(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for i, path in enumerate(self.fill_paths):
            try:
                value = self.query_one(f"#fill-{i}", Input).value.strip()
            except Exception:
                value = ""
            if value:
                out[path] = value
        return out

    @on(Input.Submitted, "#macro-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_pick()

    @on(Input.Submitted, ".fill-input")
    def _fill_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        index = int((event.input.id or "fill-0").split("-")[1])
        if index + 1 < len(self.fill_paths):
            self._focus_fill(index + 1)
        else:
            self.finish_fills()

    def finish_fills(self, *, anyway: bool = False) -> None:
        macro = self.filling
        if macro is None:
            return
        fills = self.fills()
        try:
            result = self.render_macro(macro, fills)
        except MacroTemplateError as exc:
            self.notify(f"Cannot use this macro: {exc}", severity="error", markup=False)
            return
        if result.missing and not anyway:
            blank = next((i for i, p in enumerate(self.fill_paths) if p in result.missing), 0)
            self.notify(f"Still missing: {', '.join(result.missing)} (ctrl+o inserts with blanks)", severity="warning",
                        markup=False)
            self._focus_fill(blank)
            return
        self.dismiss(MacroPick(macro, result.text, result.language, fills, list(result.actions), list(result.missing)))

    def close_fills(self) -> None:
        self.filling = None
        self.fill_paths = []
        box = self.query_one("#macro-fills", VerticalScroll)
        box.remove_children()
        box.remove_class("-shown")
        self.query_one("#macro-list", OptionList).focus()

    # --- actions --------------------------------------------------------------------------------

    def action_pick(self) -> None:
        if self.filling is not None:
            self.finish_fills()
            return
        option_list = self.query_one("#macro-list", OptionList)
        index = option_list.highlighted
        if index is not None and 0 <= index < len(self.shown):
            self.pick(self.shown[index])

    def action_cancel(self) -> None:
        if self.filling is not None:
            self.close_fills()
        else:
            self.dismiss(None)

    def action_move(self, step: int) -> None:
        if self.filling is not None:
            return
        option_list = self.query_one("#macro-list", OptionList)
        if step > 0:
            option_list.action_cursor_down()
        else:
            option_list.action_cursor_up()

    def action_focus_search(self) -> None:
        if self.filling is None:
            self.query_one("#macro-search", Input).focus()

    def action_favourite(self, slot: int) -> None:
        if self.filling is not None:
            return
        if 1 <= slot <= len(self.favourites):
            self.pick(self.favourites[slot - 1])
        else:
            self.notify(f"No favourite on {slot}.", severity="warning")

    def action_manage(self, action: str) -> None:
        """`e` / `d` on the highlighted macro: hand it to the host to edit or delete, if it is ours to change."""
        if self.filling is not None:
            return
        option_list = self.query_one("#macro-list", OptionList)
        index = option_list.highlighted
        if index is None or not 0 <= index < len(self.shown):
            self.notify("No macro highlighted.", severity="warning")
            return
        macro = self.shown[index]
        why = manage_refusal(macro, self.agent_id, self.can_manage_shared)
        if why:
            self.notify(why, severity="warning", markup=False)
            return
        query = self.query_one("#macro-search", Input).value
        self.dismiss(MacroManage(action, macro, self.language, query))

    def action_insert_anyway(self) -> None:
        if self.filling is not None:
            self.finish_fills(anyway=True)
