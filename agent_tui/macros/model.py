"""The macro: a canned reply in several languages plus ticket actions (Zendesk-style).

Pure data: never imports textual, widgets or themes. The cache row (storage.models.Macro)
stores `bodies` and `actions` as JSON text; `from_dict` accepts either the JSON text or the
decoded objects, `to_dict` gives decoded objects and `to_row` gives the row's JSON columns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

from agent_tui.vocabulary import PRIORITIES, STATUSES, VISIBILITIES

ACTION_TYPES = (
    "set_status",
    "set_priority",
    "set_queue",
    "add_tags",
    "remove_tags",
    "assign_me",
    "pending_reminder",  # value: hours until the ticket pops back up (number > 0)
)

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
SHORTCUT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
TAG_RE = re.compile(r"^[\w:.-]{1,64}$")
MAX_BODY_CHARS = 20_000


class MacroError(ValueError):
    """A macro that cannot be used; the message is one line naming the macro and the field."""


@dataclass
class Macro:
    id: str
    key: str
    title: str
    category: str = ""
    bodies: dict[str, str] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    shortcut: str = ""  # typed as `::shortcut`; stored without the colons
    visibility: str = "shared"
    owner_id: Optional[int] = None
    usage_count: int = 0

    # --- validation ---------------------------------------------------------------------

    def validate(self, *, check_templates: bool = True) -> "Macro":
        """Raise MacroError (one line) if anything is wrong; return self so calls chain."""
        name = self.key if isinstance(self.key, str) and self.key else repr(self.id)

        def bad(what: str) -> MacroError:
            return MacroError(f"macro {name}: {what}")

        if not isinstance(self.id, str) or not self.id.strip():
            raise bad("id must be a non-empty string")
        if not isinstance(self.key, str) or not KEY_RE.match(self.key):
            raise bad(f"key {self.key!r} must be lower_snake_case (a-z, 0-9, _), starting with a letter")
        if not isinstance(self.title, str) or not self.title.strip():
            raise bad("title must be a non-empty string")
        if not isinstance(self.category, str):
            raise bad("category must be a string")
        if not isinstance(self.shortcut, str) or (self.shortcut and not SHORTCUT_RE.match(self.shortcut)):
            raise bad(f"shortcut {self.shortcut!r} must be a-z, 0-9, _ or - (typed as ::shortcut)")
        if self.visibility not in VISIBILITIES:
            raise bad(f"visibility {self.visibility!r} must be one of {', '.join(VISIBILITIES)}")
        if self.visibility == "personal" and self.owner_id is None:
            raise bad("a personal macro needs an owner_id")
        if self.owner_id is not None and (isinstance(self.owner_id, bool) or not isinstance(self.owner_id, int)):
            raise bad(f"owner_id {self.owner_id!r} must be an integer agent id")
        if isinstance(self.usage_count, bool) or not isinstance(self.usage_count, int) or self.usage_count < 0:
            raise bad(f"usage_count {self.usage_count!r} must be a non-negative integer")
        if not isinstance(self.bodies, dict) or (not self.bodies and not self.actions):
            raise bad("bodies must map at least one language code to text, e.g. {\"en\": \"...\"}, "
                      "unless the macro is actions alone")
        for lang, text in self.bodies.items():
            if not isinstance(lang, str) or not LANG_RE.match(lang):
                raise bad(f"body language {lang!r} is not a language code such as en, ru, zh, pt-BR")
            if not isinstance(text, str) or not text.strip():
                raise bad(f"body [{lang}] must be non-empty text")
            if len(text) > MAX_BODY_CHARS:
                raise bad(f"body [{lang}] is {len(text)} characters; the limit is {MAX_BODY_CHARS}")
        if not isinstance(self.actions, list):
            raise bad("actions must be a list of {\"type\": ..., \"value\": ...}")
        for i, action in enumerate(self.actions):
            problem = _action_problem(action)
            if problem:
                raise bad(f"actions[{i}]: {problem}")
        if check_templates:
            from agent_tui.macros.render import MacroTemplateError, check_template

            for lang, text in self.bodies.items():
                try:
                    check_template(text)
                except MacroTemplateError as exc:
                    raise bad(f"body [{lang}]: {exc}") from None
        return self

    # --- conversion ---------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, validate: bool = True) -> "Macro":
        """From a JSON-friendly dict or a cache row's fields (bodies/actions may be JSON text)."""
        if not isinstance(data, Mapping):
            raise MacroError(f"macro: expected an object, got {type(data).__name__}")
        label = data.get("key") or data.get("id") or "?"
        unknown = set(data) - _FIELDS - {"updated_at", "version"}
        if unknown:
            raise MacroError(f"macro {label}: unknown field(s) {', '.join(sorted(unknown))}")
        missing = [f for f in ("id", "key", "title") if f not in data]
        if missing:
            raise MacroError(f"macro {label}: missing field(s) {', '.join(missing)}")
        bodies = _json_field(data.get("bodies", {}), "bodies", label)
        actions = _json_field(data.get("actions", []), "actions", label)
        if isinstance(actions, list):
            actions = [dict(a) if isinstance(a, Mapping) else a for a in actions]
        shortcut = data.get("shortcut") or ""
        if isinstance(shortcut, str):
            shortcut = shortcut.strip().lstrip(":/").lower()
        macro = cls(
            id=str(data["id"]) if isinstance(data["id"], int) and not isinstance(data["id"], bool) else data["id"],
            key=data["key"],
            title=data["title"],
            category=data.get("category") or "",
            bodies=dict(bodies) if isinstance(bodies, Mapping) else bodies,
            actions=actions,
            shortcut=shortcut,
            visibility=data.get("visibility") or "shared",
            owner_id=data.get("owner_id"),
            usage_count=data.get("usage_count") or 0,
        )
        return macro.validate() if validate else macro

    @classmethod
    def from_row(cls, row: Any, *, validate: bool = True) -> "Macro":
        """From a storage.models.Macro (or anything with the same attributes)."""
        return cls.from_dict({f: getattr(row, f) for f in _FIELDS if hasattr(row, f)}, validate=validate)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "title": self.title,
            "category": self.category,
            "bodies": dict(self.bodies),
            "actions": [dict(a) for a in self.actions],
            "shortcut": self.shortcut,
            "visibility": self.visibility,
            "owner_id": self.owner_id,
            "usage_count": self.usage_count,
        }

    def to_row(self) -> dict[str, Any]:
        """Keyword arguments for storage.models.Macro: bodies and actions as JSON text."""
        d = self.to_dict()
        d["bodies"] = json.dumps(d["bodies"], ensure_ascii=False, sort_keys=True)
        d["actions"] = json.dumps(d["actions"], ensure_ascii=False)
        return d

    # --- helpers -------------------------------------------------------------------------

    def visible_to(self, agent_id: Optional[int]) -> bool:
        return self.visibility == "shared" or (agent_id is not None and self.owner_id == agent_id)

    @property
    def languages(self) -> list[str]:
        return list(self.bodies)


_FIELDS = {"id", "key", "title", "category", "bodies", "actions", "shortcut", "visibility", "owner_id", "usage_count"}


def visible_macros(macros: Iterable[Macro], agent_id: Optional[int]) -> list[Macro]:
    """Shared macros plus the agent's own personal ones."""
    return [m for m in macros if m.visible_to(agent_id)]


def _json_field(value: Any, name: str, label: Any) -> Any:
    if isinstance(value, (bytes, str)):
        try:
            return json.loads(value or ("{}" if name == "bodies" else "[]"))
        except json.JSONDecodeError as exc:
            raise MacroError(f"macro {label}: {name} is not valid JSON ({exc.msg} at char {exc.pos})") from None
        except ValueError as exc:  # bytes that are not UTF-8 text: UnicodeDecodeError has no msg or pos
            raise MacroError(f"macro {label}: {name} is not valid JSON (not UTF-8 text at byte "
                             f"{getattr(exc, 'start', '?')})") from None
    return value


def _action_problem(action: Any) -> Optional[str]:
    if not isinstance(action, Mapping):
        return f"expected {{\"type\": ..., \"value\": ...}}, got {type(action).__name__}"
    extra = set(action) - {"type", "value"}
    if extra:
        return f"unknown field(s) {', '.join(sorted(map(str, extra)))}"
    kind = action.get("type")
    value = action.get("value")
    if kind not in ACTION_TYPES:
        return f"type {kind!r} is not one of {', '.join(ACTION_TYPES)}"
    if kind == "set_status" and value not in STATUSES:
        return f"set_status value {value!r} is not one of {', '.join(STATUSES)}"
    if kind == "set_priority" and value not in PRIORITIES:
        return f"set_priority value {value!r} is not one of {', '.join(PRIORITIES)}"
    if kind == "set_queue" and (not isinstance(value, str) or not value.strip()):
        return "set_queue value must be a queue id such as \"deposits\""
    if kind in ("add_tags", "remove_tags"):
        if not isinstance(value, list) or not value:
            return f"{kind} value must be a non-empty list of tags"
        for tag in value:
            if not isinstance(tag, str) or not TAG_RE.match(tag):
                return f"{kind}: tag {tag!r} must be 1-64 letters, digits, _ : . or -"
    if kind == "assign_me" and value not in (None, True):
        return "assign_me takes no value (or true)"
    if kind == "pending_reminder" and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 24 * 90
    ):
        return f"pending_reminder value {value!r} must be hours, a number between 0 and 2160"
    return None
