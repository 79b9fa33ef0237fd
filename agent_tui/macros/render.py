"""Rendering macros: placeholders, fallbacks, missing fields, `::shortcut` expansion, search.

Templates are Jinja (Liquid-like, as in Zendesk: `{{ ticket.id }}`, `{{ customer.first_name |
default("there") }}`) rendered in an ImmutableSandboxedEnvironment that sees ONLY the given
context, and only as data:

* context values are plain dicts/lists/scalars, copied; a value is never rendered as a template;
* attribute access on a dict reads its keys and nothing else (no methods, no Python attributes);
* no globals (no range, cycler, joiner, namespace, lipsum), no calls, no include/import/extends,
  no names or attributes starting with `_`, and only a list of harmless filters: an escape attempt
  such as `{{ ''.__class__.__mro__ }}` is refused before anything runs (MacroTemplateError);
* a placeholder with no value (absent, None or blank) is *missing*: it is reported in
  `RenderResult.missing` and shown as `⟦deposit.txid⟧` in the text, unless the template gives a
  fallback (`| default("there")`) or the caller supplies it in `fills` (the agent was prompted).

Never imports textual, widgets or themes.
"""

from __future__ import annotations

import contextvars
import copy
import datetime as _dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional, Sequence

from jinja2 import TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateRuntimeError, UndefinedError
from jinja2.runtime import LoopContext, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from agent_tui.macros import limits
from agent_tui.macros.limits import MAX_OUTPUT_CHARS, MAX_REPEAT_CHARS, RenderLimit  # noqa: F401 (re-exported)
from agent_tui.macros.model import Macro
from agent_tui.textsafe import clean, one_line

MISSING_OPEN = "⟦"
MISSING_CLOSE = "⟧"
FALLBACK_LANGUAGE = "en"


class MacroTemplateError(ValueError):
    """A template that cannot be rendered. `str(exc)` is one line; `kind` is syntax, unsafe or runtime."""

    def __init__(self, message: str, kind: str = "syntax") -> None:
        super().__init__(message)
        self.kind = kind


class _FieldError(TemplateRuntimeError):
    pass


def missing_marker(path: str) -> str:
    return f"{MISSING_OPEN}{path}{MISSING_CLOSE}"


# --- the undefined value that records what is missing --------------------------------------------

_missing_sink: contextvars.ContextVar[Optional[list[str]]] = contextvars.ContextVar("macro_missing", default=None)


def _chain(self: "_Missing", *args: Any, **kwargs: Any) -> "_Missing":
    return self


class _Missing(Undefined):
    """A placeholder with no value. Printing it records its path and yields a visible marker."""

    __slots__ = ()

    @property
    def path(self) -> str:
        return str(self._undefined_name or "?")

    def _child(self, name: Any) -> "_Missing":
        if self._undefined_exception is not UndefinedError:
            return self  # keeps the security / field error for when it is used
        suffix = f".{name}" if isinstance(name, str) else f"[{name!r}]"
        return _Missing(name=self.path + suffix)

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__" and name[-2:] == "__":
            raise AttributeError(name)
        return self._child(name)

    def __getitem__(self, name: Any) -> Any:
        return self._child(name)

    def __str__(self) -> str:
        if self._undefined_exception is not UndefinedError:
            self._fail_with_undefined_error()
        path = clean(self.path)  # `x["<ESC>[2J"]`: the path is macro text, shown in the picker and the CLI
        sink = _missing_sink.get()
        if sink is not None and path not in sink:
            sink.append(path)
        return missing_marker(path)

    # Arithmetic and comparisons on a missing value stay missing (printed as its marker);
    # a condition on it is simply false.
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _chain  # type: ignore[assignment]  # jinja2 types them as always raising
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _chain  # type: ignore[assignment]  # jinja2 types them as always raising
    __pos__ = __neg__ = __pow__ = __rpow__ = _chain  # type: ignore[assignment]  # jinja2 types them as always raising
    __lt__ = __le__ = __gt__ = __ge__ = _chain  # type: ignore[assignment]  # jinja2 types them as always raising

    def __repr__(self) -> str:
        return f"Missing({self.path!r})"


# --- context: plain data only -------------------------------------------------------------------


class _Node(dict):
    """A copied context mapping that knows its dotted path (for naming missing fields)."""

    __slots__ = ("path",)
    path: str


_SCALARS = (str, int, float, Decimal, bool, _dt.datetime, _dt.date)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _wrap(value: Any, path: str) -> Any:
    if isinstance(value, Mapping):
        node = _Node()
        node.path = path
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"context key {k!r} under {path or 'the context'} must be a string")
            if _is_blank(v):
                continue
            node[k] = _wrap(v, f"{path}.{k}" if path else k)
        return node
    if isinstance(value, (list, tuple)):
        return tuple(_wrap(v, f"{path}[{i}]") for i, v in enumerate(value) if v is not None)
    if isinstance(value, _SCALARS):
        return value
    raise TypeError(
        f"context value at {path or 'the top'} is a {type(value).__name__}: pass plain dicts, lists and scalars"
    )


def _merge_fills(context: Mapping[str, Any], fills: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = copy.deepcopy(dict(context))
    for path, value in (fills or {}).items():
        if _is_blank(value):
            continue
        parts = [p for p in str(path).split(".") if p]
        if not parts:
            continue
        target = merged
        for part in parts[:-1]:
            nxt = target.get(part)
            if not isinstance(nxt, dict):
                nxt = {} if not isinstance(nxt, Mapping) else dict(nxt)
                target[part] = nxt
            target = nxt
        target[parts[-1]] = str(value) if not isinstance(value, _SCALARS) else value
    return merged


# --- the environment --------------------------------------------------------------------------------


def _finalize(value: Any) -> str:
    """What `{{ ... }}` writes: as text, refused before it is built when too large, and charged."""
    if isinstance(value, Undefined):
        text = str(value)  # records a missing field (or raises the security / field error it carries)
    elif value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    elif isinstance(value, _dt.datetime):
        text = _format_datetime(value)
    elif isinstance(value, (list, tuple)):
        limits.as_text(value)  # the size check, before the parts are made
        return ", ".join(_finalize(v) for v in value)
    else:
        text = value if isinstance(value, str) else limits.as_text(value)
    limits.charge(len(text))
    return text


def _format_datetime(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, Decimal)):
        value = _dt.datetime.fromtimestamp(float(value), tz=_dt.timezone.utc)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def _filter_datetime(value: Any) -> Any:
    """Epoch seconds (the cache's time format) or a datetime -> `2024-06-10 14:00 UTC`."""
    if isinstance(value, Undefined):
        return value
    if isinstance(value, str):
        try:
            return _format_datetime(float(value))
        except ValueError:
            return value
    return _format_datetime(value)


def _filter_short(value: Any, keep: int = 6) -> Any:
    """`0x5c50…9a3f`: a long txid or address shortened in the middle."""
    if isinstance(value, Undefined):
        return value
    s = str(value)
    keep = max(2, min(int(keep), 32))
    return s if len(s) <= 2 * keep + 1 else f"{s[:keep]}…{s[-keep:]}"


_SAFE_FILTERS = (
    "abs capitalize center count d default dictsort first float format indent int join last length "
    "lower max min replace reverse round sort string sum title trim truncate unique upper wordcount wordwrap"
).split()


class _MacroEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = limits.MacroCodeGenerator
    macro_concat = staticmethod(limits.concat)  # `~`, from the generated code
    macro_const = staticmethod(limits.const)  # constant template text being written out

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self._lookup(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        return self._lookup(obj, argument)

    def _lookup(self, obj: Any, key: Any) -> Any:
        if isinstance(obj, _Missing):
            return obj._child(key)
        if isinstance(key, str) and key.startswith("_"):
            return self.undefined(f"{key!r} is not allowed in a macro", name=key, exc=SecurityError)
        if isinstance(obj, Mapping):
            if isinstance(key, str) and key in obj:
                return obj[key]
            base = getattr(obj, "path", "")
            name = (f"{base}.{key}" if base else key) if isinstance(key, str) else f"{base}[{key!r}]"
            return self.undefined(name=name)
        if isinstance(obj, LoopContext) and isinstance(key, str):
            return super().getattr(obj, key)
        if isinstance(obj, (tuple, str)) and isinstance(key, (int, slice)) and not isinstance(key, bool):
            try:
                return obj[key]
            except IndexError:
                return self.undefined(name=f"[{key}]")
        return self.undefined(
            f"{key!r} is not a field: macros can only use fields of the context (ticket, customer, ...)",
            name=str(key),
            exc=_FieldError,
        )

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        limits.check_binop(operator, left, right)
        result = super().call_binop(context, operator, left, right)
        return result if isinstance(result, Undefined) else limits._result(result)


def _make_env() -> _MacroEnvironment:
    env = _MacroEnvironment(
        autoescape=False,
        undefined=_Missing,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # no constant folding: it ran filters while compiling and wrote some results back as Python
        # source (`'nan'|float` became the name `nan`, a NameError at render time)
        optimized=False,
    )
    env.globals.clear()
    env.filters = limits.bounded_filters(_SAFE_FILTERS, {"datetime": _filter_datetime, "short": _filter_short})
    return env


_ENV = _make_env()

_FORBIDDEN_NODES = {
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
    nodes.Extends: "{% extends %}",
    nodes.Call: "calling a function",
    nodes.CallBlock: "{% call %}",
    nodes.ImportedName: "imported names",
    nodes.InternalName: "internal names",
    nodes.ExtensionAttribute: "extension attributes",
}


def _audit(tree: nodes.Template) -> None:
    """Refuse anything that is not plain data access before it can run."""
    for node in tree.find_all(nodes.Node):
        lineno = getattr(node, "lineno", None) or 1
        for kind, what in _FORBIDDEN_NODES.items():
            if isinstance(node, kind):
                raise MacroTemplateError(f"unsafe template: {what} is not allowed (line {lineno})", "unsafe")
        name = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            name = node.arg.value
        elif isinstance(node, nodes.Name):
            name = node.name
        if name is not None and name.startswith("_"):
            raise MacroTemplateError(f"unsafe template: {name!r} is not allowed (line {lineno})", "unsafe")
        if isinstance(node, nodes.Filter) and (node.name not in _ENV.filters or node.name == limits.LOOP_FILTER):
            raise MacroTemplateError(f"unknown filter {node.name!r} on line {lineno}", "syntax")
        if isinstance(node, nodes.Test) and node.name not in _ENV.tests:
            raise MacroTemplateError(f"unknown test {node.name!r} on line {lineno}", "syntax")


@lru_cache(maxsize=1024)
def _compile(source: str) -> Any:
    try:
        tree = _ENV.parse(source)
        _audit(tree)
        return _ENV.from_string(limits.guard_loops(tree))
    except MacroTemplateError:
        raise
    except TemplateSyntaxError as exc:
        raise MacroTemplateError(f"template syntax error on line {exc.lineno}: {exc.message}", "syntax") from None
    except Exception as exc:  # RecursionError on deep nesting, MemoryError, a bug in Jinja: never past here
        raise MacroTemplateError(f"template error: {_one_line(exc)}", "syntax") from None


def _one_line(exc: BaseException) -> str:
    return one_line(str(exc)) or type(exc).__name__


def check_template(source: str) -> None:
    """Raise MacroTemplateError (one line) for a syntax error or an unsafe construct."""
    if not isinstance(source, str):
        raise MacroTemplateError(f"a template must be text, not {type(source).__name__}")
    _compile(source)


def render_string(
    source: str, context: Mapping[str, Any], *, fills: Optional[Mapping[str, Any]] = None
) -> tuple[str, list[str]]:
    """Render one template; returns (text with ⟦markers⟧, missing paths in order of appearance)."""
    template = _compile(source) if isinstance(source, str) else check_template(source)
    data = _wrap(_merge_fills(context or {}, fills), "")
    sink: list[str] = []
    token = _missing_sink.set(sink)
    try:
        with limits.budget():
            text = template.render(data)
    except MacroTemplateError:
        raise
    except RenderLimit as exc:
        raise MacroTemplateError(f"cannot render: {_one_line(exc)}", "runtime") from None
    except SecurityError as exc:
        raise MacroTemplateError(f"unsafe template: {_one_line(exc)}", "unsafe") from None
    except Exception as exc:  # a filter's AssertionError, AttributeError, ...: whatever a template does, one line
        raise MacroTemplateError(f"cannot render: {_one_line(exc)}", "runtime") from None
    finally:
        _missing_sink.reset(token)
    if len(text) > MAX_OUTPUT_CHARS:
        raise MacroTemplateError(f"rendered text is {len(text)} characters; the limit is {MAX_OUTPUT_CHARS}", "runtime")
    return text.strip(), sink


# --- macros ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderResult:
    text: str
    language: str
    missing: list[str] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    macro_key: str = ""

    @property
    def complete(self) -> bool:
        return not self.missing


def _base(lang: str) -> str:
    return lang.replace("_", "-").split("-")[0].lower()


def pick_body(bodies: Mapping[str, str], language: Optional[str]) -> tuple[str, str]:
    """(language, text): the customer's language, then its base (pt-BR -> pt), then en, then the first."""
    if not bodies:  # a macro of actions alone: no reply text
        return (language or FALLBACK_LANGUAGE), ""
    if language:
        if language in bodies:
            return language, bodies[language]
        lowered = {k.lower().replace("_", "-"): k for k in bodies}
        norm = language.lower().replace("_", "-")
        if norm in lowered:
            return lowered[norm], bodies[lowered[norm]]
        base = _base(language)
        if base in bodies:
            return base, bodies[base]
        for k in bodies:
            if _base(k) == base:
                return k, bodies[k]
    if FALLBACK_LANGUAGE in bodies:
        return FALLBACK_LANGUAGE, bodies[FALLBACK_LANGUAGE]
    first = next(iter(bodies))
    return first, bodies[first]


def context_language(context: Mapping[str, Any]) -> Optional[str]:
    for scope in ("customer", "ticket"):
        value = context.get(scope) if isinstance(context, Mapping) else None
        if isinstance(value, Mapping) and isinstance(value.get("language"), str) and value["language"].strip():
            return value["language"].strip()
    return None


def render(
    macro: Macro,
    context: Mapping[str, Any],
    *,
    language: Optional[str] = None,
    fills: Optional[Mapping[str, Any]] = None,
) -> RenderResult:
    """Render a macro's body in the customer's language (default: context customer.language)."""
    lang, source = pick_body(macro.bodies, language or context_language(context))
    try:
        text, missing = render_string(source, context, fills=fills)
    except MacroTemplateError as exc:
        raise MacroTemplateError(f"macro {macro.key} [{lang}]: {exc}", exc.kind) from None
    return RenderResult(
        text=text, language=lang, missing=missing, actions=copy.deepcopy(list(macro.actions)), macro_key=macro.key
    )


# --- `::shortcut` inline expansion (Zammad text modules) -------------------------------------------------

SHORTCUT_TOKEN = re.compile(r"(?<![\w:])::([A-Za-z0-9][A-Za-z0-9_-]*)(?![\w-])")


@dataclass(frozen=True)
class ShortcutMatch:
    start: int
    end: int
    macro: Macro


def shortcut_index(macros: Iterable[Macro]) -> dict[str, Macro]:
    """Macros by lower-cased `::shortcut`; an agent's personal macro wins over a shared one."""
    index: dict[str, Macro] = {}
    for m in macros:
        if not m.shortcut:
            continue
        key = m.shortcut.lower()
        # an agent's personal macro wins over a shared one with the same shortcut
        if key not in index or (m.visibility == "personal" and index[key].visibility != "personal"):
            index[key] = m
    return index


def find_shortcut(text: str, macros: Iterable[Macro], cursor: Optional[int] = None) -> Optional[ShortcutMatch]:
    """The `::name` token to expand: the one ending at the cursor, else the last known one."""
    index = shortcut_index(macros)
    found = [
        ShortcutMatch(m.start(), m.end(), index[m.group(1).lower()])
        for m in SHORTCUT_TOKEN.finditer(text)
        if m.group(1).lower() in index
    ]
    if not found:
        return None
    if cursor is not None:
        for match in found:
            if match.end == cursor:
                return match
    return found[-1]


def expand_shortcuts(
    text: str,
    macros: Sequence[Macro],
    context: Mapping[str, Any],
    *,
    cursor: Optional[int] = None,
    language: Optional[str] = None,
    fills: Optional[Mapping[str, Any]] = None,
) -> tuple[str, Optional[Macro]]:
    """Replace one `::shortcut` token by its rendered macro body; (text, macro) or (text, None)."""
    match = find_shortcut(text, macros, cursor)
    if match is None:
        return text, None
    result = render(match.macro, context, language=language, fills=fills)
    return text[: match.start] + result.text + text[match.end :], match.macro


# --- fuzzy search --------------------------------------------------------------------------------------

SEARCH_CUTOFF = 55.0


def _norm(s: str) -> str:
    return default_process(s or "")


def search(macros: Sequence[Macro], query: str, limit: int = 20) -> list[Macro]:
    """Rank macros for a palette: exact shortcut, shortcut prefix, title prefix, then fuzzy.

    Fuzzy scores look at the title, the key, the shortcut, the category and every body. Ties
    break on usage (most used first), then title, then the given order: the order is stable.
    """
    q_raw = (query or "").strip()
    shortcut_query = q_raw.startswith("::") or q_raw.startswith("/")
    q = _norm(q_raw.lstrip(":/"))
    ranked: list[tuple[tuple[Any, ...], Macro]] = []
    for pos, m in enumerate(macros):
        title = _norm(m.title)
        shortcut = (m.shortcut or "").lower()
        if not q:
            ranked.append(((0, 0.0, -m.usage_count, title, pos), m))
            continue
        if shortcut and shortcut == q:
            tier = 0
        elif shortcut and shortcut.startswith(q):
            tier = 1
        elif not shortcut_query and (title.startswith(q) or _norm(m.key).startswith(q)):
            tier = 2
        elif not shortcut_query and any(w.startswith(q) for w in title.split()):
            tier = 3
        else:
            tier = 4
        score = _fuzzy_score(q, m, title, shortcut, shortcut_query)
        if tier == 4 and score < SEARCH_CUTOFF:
            continue
        ranked.append(((tier, -score, -m.usage_count, title, pos), m))
    ranked.sort(key=lambda item: item[0])
    return [m for _, m in ranked[: max(0, limit)]]


def _fuzzy_score(q: str, m: Macro, title: str, shortcut: str, shortcut_only: bool) -> float:
    scores = [fuzz.ratio(q, shortcut) if shortcut else 0.0]
    if shortcut_only:
        return max(scores)
    scores.append(fuzz.WRatio(q, title))
    scores.append(fuzz.WRatio(q, _norm(m.key.replace("_", " "))) * 0.95)
    if m.category:
        scores.append(fuzz.WRatio(q, _norm(m.category)) * 0.8)
    if len(q) >= 3:
        for body in m.bodies.values():
            scores.append(fuzz.partial_ratio(q, _norm(body)) * 0.85)
    return max(scores)
