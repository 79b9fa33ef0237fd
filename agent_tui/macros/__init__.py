"""Macros (canned replies with ticket actions) and the reply safety guard: the pure core.

Never imports textual, widgets or themes.
"""

from agent_tui.macros.context import (
    build_context,
    customer_addresses,
    deposit_context,
    exchange_addresses,
    guard_reply,
    last_lookup,
)
from agent_tui.macros.guard import Finding, GuardReport, check_reply, record_override
from agent_tui.macros.model import ACTION_TYPES, Macro, MacroError, visible_macros
from agent_tui.macros.render import (
    MacroTemplateError,
    RenderResult,
    check_template,
    expand_shortcuts,
    find_shortcut,
    pick_body,
    render,
    render_string,
    search,
)
from agent_tui.macros.store import (
    Applied,
    UndoError,
    apply_actions,
    describe_actions,
    favourites,
    load_macros,
    log_override,
    plan_changes,
    undo,
)

__all__ = [
    "ACTION_TYPES",
    "Applied",
    "UndoError",
    "apply_actions",
    "build_context",
    "customer_addresses",
    "deposit_context",
    "describe_actions",
    "exchange_addresses",
    "favourites",
    "guard_reply",
    "last_lookup",
    "load_macros",
    "log_override",
    "plan_changes",
    "undo",
    "Finding",
    "GuardReport",
    "Macro",
    "MacroError",
    "MacroTemplateError",
    "RenderResult",
    "check_reply",
    "check_template",
    "expand_shortcuts",
    "find_shortcut",
    "pick_body",
    "record_override",
    "render",
    "render_string",
    "search",
    "visible_macros",
]
