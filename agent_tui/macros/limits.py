"""Bounds on one macro render: time, memory and output, enforced BEFORE and WHILE it runs.

A template is macro text, so hostile: `'%999999999d'|format(1)` asked for 4 GB, `indent(10**9)` for
2 GB, two nested loops over a 10,000-character string for 10^8 iterations. Checking the output's
length afterwards is too late, so:

* every allowed filter is wrapped: its input and arguments must be of a size a macro can use
  (:data:`MAX_VALUE_CHARS` as text), filters that can make large text from small input
  (format, indent, center, wordwrap, replace, join, sum, round) work out the size of their result
  from their arguments before they run, and every result is charged to the render's budget;
* the operators that can do the same (`*` repetition and big-int products, `+` concatenation,
  `%` formatting, `**`, `~`) are checked the same way (`intercepted_binops` and a code generator
  that sends `~` through :func:`concat`);
* everything written out, constant template text included, is charged to a budget of produced
  text (:data:`MAX_WORK_CHARS`), so captures (`{% set x %}...{% endset %}`) are bounded too;
* loops count their iterations (all loops of a render together, so nested loops multiply);
* the wall clock is checked at each of those points: past :data:`MAX_RENDER_SECONDS` the render
  stops with "took too long".

A limit that is hit raises :class:`RenderLimit`; render.py turns it into a one-line
MacroTemplateError (kind runtime). Never imports textual, widgets or themes.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import re
import time
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import TemplateRuntimeError
from jinja2.filters import FILTERS as _JINJA_FILTERS
from jinja2.runtime import Undefined
from jinja2.utils import pass_context

MAX_OUTPUT_CHARS = 50_000  # the rendered text
MAX_VALUE_CHARS = 200_000  # any one value a template makes or hands to a filter, as text
MAX_WORK_CHARS = 2_000_000  # all text (and sequence items) one render produces, intermediate results included
MAX_REPEAT_CHARS = 10_000  # `'ab' * n` and friends
MAX_LOOP_ITERATIONS = 10_000  # all loops of one render together
MAX_INT_BITS = 4_096  # about 1,233 digits: `2 ** 64 ** 64`, products of big ints
MAX_EXPONENT = 64
MAX_ROUND_DIGITS = 100
MAX_RENDER_SECONDS = 0.5

LOOP_FILTER = "macro_loop_guard"  # wrapped around every `{% for %}` iterable by guard_loops()


class RenderLimit(TemplateRuntimeError):
    """A render went past one of the limits above. `str(exc)` is one line."""


class _Budget:
    __slots__ = ("deadline", "work", "iterations")

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.work = MAX_WORK_CHARS
        self.iterations = MAX_LOOP_ITERATIONS


_budget: contextvars.ContextVar[Optional[_Budget]] = contextvars.ContextVar("macro_budget", default=None)


class budget:
    """`with budget():` around one render. Outside one (compiling), size checks still apply."""

    def __init__(self, seconds: Optional[float] = None) -> None:
        self.seconds = MAX_RENDER_SECONDS if seconds is None else seconds

    def __enter__(self) -> "budget":
        self._token = _budget.set(_Budget(self.seconds))
        return self

    def __exit__(self, *exc: Any) -> None:
        _budget.reset(self._token)


def tick() -> None:
    """Check the wall clock (cheap; called at every checked operation and loop iteration)."""
    b = _budget.get()
    if b is not None and time.monotonic() > b.deadline:
        raise RenderLimit(f"took too long (over {MAX_RENDER_SECONDS:g} s); simplify the template")


def charge(n: int) -> None:
    """`n` more characters (or sequence items) produced by this render."""
    b = _budget.get()
    if b is None:
        return
    b.work -= n
    if b.work < 0:
        raise RenderLimit(f"makes too much text (over {MAX_WORK_CHARS:,} characters while rendering)")
    if time.monotonic() > b.deadline:
        raise RenderLimit(f"took too long (over {MAX_RENDER_SECONDS:g} s); simplify the template")


# --- sizes ------------------------------------------------------------------------------------------


def text_size(value: Any, limit: int = MAX_VALUE_CHARS) -> int:
    """An upper bound on len(str(value)), found without building it; stops counting past `limit`.

    Strings inside containers count 10 per character (repr escapes such as `\\U000e0041`)."""
    total = 0
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        v, inner = stack.pop()
        if isinstance(v, str):
            total += (10 * len(v) + 2) if inner else len(v)
        elif isinstance(v, bool) or v is None:
            total += 5
        elif isinstance(v, int):
            total += v.bit_length() * 31 // 100 + 2
        elif isinstance(v, float):
            total += 32
        elif isinstance(v, Decimal):
            t = v.as_tuple()
            total += len(t.digits) + abs(t.exponent if isinstance(t.exponent, int) else 0) + 3
        elif isinstance(v, Undefined):
            total += len(str(getattr(v, "_undefined_name", "") or "")) + 8
        elif isinstance(v, Mapping):
            total += 2 + 4 * len(v)
            stack.extend((k, True) for k in v.keys())
            stack.extend((x, True) for x in v.values())
        elif isinstance(v, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(v)
            stack.extend((x, True) for x in v)
        elif isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
            total += 40
        else:
            total += 200
        if total > limit:
            return total
    return total


def _value(value: Any, what: str = "a value") -> Any:
    """`value` if its text is of a size a macro can use."""
    if text_size(value) > MAX_VALUE_CHARS:
        raise RenderLimit(f"{what} is too large for a macro (over {MAX_VALUE_CHARS:,} characters)")
    return value


def _result(value: Any) -> Any:
    """Charge a result to the budget (and refuse one that is too large)."""
    if isinstance(value, str):
        n = len(value)
    elif isinstance(value, (list, tuple)):
        n = len(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INT_BITS:
            raise RenderLimit(f"a number is too large for a macro (over {MAX_INT_BITS} bits)")
        n = 1
    else:
        n = 1
    if n > MAX_VALUE_CHARS:
        raise RenderLimit(f"a value is too large for a macro ({n:,} characters; the limit is {MAX_VALUE_CHARS:,})")
    charge(n)
    return value


def as_text(value: Any) -> str:
    """str(value), refused before it is built when it would be too large; charged."""
    if isinstance(value, str):
        return value
    _value(value)
    return _result(str(value))


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise RenderLimit(message)


# --- printf-style formatting (`format` filter, `str % args`) ---------------------------------------------

_SPEC = re.compile(r"%(?:\((?P<key>[^)]*)\))?(?P<flags>[-#0 +]*)(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d*))?[hlL]?(?P<conv>.?)", re.S)


def _number(digits: Optional[str], what: str) -> int:
    if not digits:
        return 0
    _need(len(digits) <= 7 and int(digits) <= MAX_VALUE_CHARS, f"{what} {digits[:12]} in a format is too large for a macro")
    return int(digits)


def check_printf(fmt: str, args: Any) -> None:
    """Refuse `fmt % args` before it runs when its result could exceed MAX_VALUE_CHARS."""
    positional = list(args) if isinstance(args, tuple) else [args]
    mapping = args if isinstance(args, Mapping) else None
    estimate = len(fmt)
    i = 0
    for m in _SPEC.finditer(fmt):
        if m.group("conv") == "%" and not (m.group("key") or m.group("flags") or m.group("width") or m.group("prec")):
            continue
        _need(m.group("width") != "*" and m.group("prec") != "*", "'*' widths are not allowed in a macro's format")
        width = _number(m.group("width"), "width")
        prec = _number(m.group("prec"), "precision")
        if m.group("key") is not None and mapping is not None:
            arg = mapping.get(m.group("key"), "")
        else:
            arg = positional[i] if i < len(positional) else ""
            i += 1
        size = text_size(arg)
        if m.group("conv") not in ("s", "r", "a"):
            size = max(size, 330) + prec  # a float's digits in %f, plus the precision
        estimate += max(width, size)
        _need(estimate <= MAX_VALUE_CHARS, f"formatted text would be too large for a macro (over {MAX_VALUE_CHARS:,} characters)")


# --- the operators ------------------------------------------------------------------------------------------


def _bits(v: Any) -> int:
    return abs(v).bit_length() if isinstance(v, int) else 0


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too large, before it runs."""
    tick()
    if operator == "**":
        if isinstance(right, (int, float)) and not isinstance(right, bool) and abs(right) > MAX_EXPONENT:
            raise RenderLimit(f"exponent too large in a macro (the limit is {MAX_EXPONENT})")
        if isinstance(left, int) and isinstance(right, int) and right > 0:
            _need(_bits(left) * right <= MAX_INT_BITS, f"a number is too large for a macro (over {MAX_INT_BITS} bits)")
    elif operator == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (str, tuple, list)) and isinstance(n, int):
                _need(len(seq) * n <= MAX_REPEAT_CHARS, f"repetition too large in a macro (the limit is {MAX_REPEAT_CHARS:,})")
        if isinstance(left, int) and isinstance(right, int):
            _need(_bits(left) + _bits(right) <= MAX_INT_BITS, f"a number is too large for a macro (over {MAX_INT_BITS} bits)")
    elif operator == "+":
        if isinstance(left, (str, tuple, list)) and isinstance(right, (str, tuple, list)):
            _need(len(left) + len(right) <= MAX_VALUE_CHARS, f"joined text is too large for a macro (over {MAX_VALUE_CHARS:,})")
    elif operator == "%":
        if isinstance(left, str):
            check_printf(left, right)


def concat(parts: Iterable[Any]) -> str:
    """`a ~ b ~ c`: each part as text, the total checked before the join."""
    texts = [as_text(p) for p in parts]
    total = sum(len(t) for t in texts)
    _need(total <= MAX_VALUE_CHARS, f"joined text is too large for a macro (over {MAX_VALUE_CHARS:,} characters)")
    return _result("".join(texts))


def const(text: str, n: int) -> str:
    """Constant template text being written out: charged like any other output."""
    charge(n)
    return text


def loop_guard(iterable: Any) -> Iterator[Any]:
    """Every `{% for %}` iterates through this: each iteration counts against the render's total."""
    if isinstance(iterable, Undefined):
        yield from iterable
        return
    for item in iterable:
        b = _budget.get()
        if b is not None:
            b.iterations -= 1
            if b.iterations < 0:
                raise RenderLimit(f"loops too much (over {MAX_LOOP_ITERATIONS:,} iterations in one macro)")
        tick()
        yield item


def guard_loops(tree: nodes.Template) -> nodes.Template:
    """Route every loop's iterable through LOOP_FILTER (the tree was audited already)."""
    for node in tree.find_all(nodes.For):
        node.iter = nodes.Filter(node.iter, LOOP_FILTER, [], [], None, None, lineno=node.lineno)
    return tree


class MacroCodeGenerator(CodeGenerator):
    """Jinja's code generator with `~` sent through :func:`concat` and constant output charged."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.macro_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        group = list(group)
        n = sum(len(str(g)) for g in group)
        return f"environment.macro_const({super()._output_const_repr(group)}, {n})"


# --- the filters --------------------------------------------------------------------------------------------


def _center(value: Any, width: int = 80) -> str:
    _need(not isinstance(width, int) or width <= MAX_VALUE_CHARS, f"center width {width} is too large for a macro")
    return _JINJA_FILTERS["center"](as_text(value), width)


def _indent(value: Any, width: Any = 4, first: bool = False, blank: bool = False) -> str:
    text = as_text(value)
    step = len(width) if isinstance(width, str) else width
    if isinstance(step, int):
        lines = text.count("\n") + 1
        _need(step <= MAX_VALUE_CHARS and len(text) + lines * max(step, 0) <= MAX_VALUE_CHARS,
              "indented text would be too large for a macro")
    return _JINJA_FILTERS["indent"](text, width, first, blank)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    fmt = as_text(value)
    for a in (*args, *kwargs.values()):
        _value(a, "a format argument")
    check_printf(fmt, kwargs if kwargs else tuple(args))
    return _JINJA_FILTERS["format"](fmt, *args, **kwargs)


@pass_context
def _replace(context: Any, value: Any, old: Any, new: Any, count: Optional[int] = None) -> str:
    text, old_s, new_s = as_text(value), as_text(old), as_text(new)
    hits = text.count(old_s) if old_s else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    _need(len(text) + hits * max(0, len(new_s) - len(old_s)) <= MAX_VALUE_CHARS, "replaced text would be too large for a macro")
    return _JINJA_FILTERS["replace"](context.eval_ctx, text, old_s, new_s, count)


@pass_context
def _wordwrap(context: Any, value: Any, width: int = 79, break_long_words: bool = True, wrapstring: Optional[str] = None,
              break_on_hyphens: bool = True) -> str:
    text = as_text(value)
    wrap = as_text(wrapstring) if wrapstring is not None else "\n"
    if isinstance(width, int) and width > 0:
        lines = sum(1 for c in text if c.isspace() or c == "-") + len(text) // width + 1
        _need(len(text) + lines * len(wrap) <= MAX_VALUE_CHARS, "wrapped text would be too large for a macro")
    return _JINJA_FILTERS["wordwrap"](context.environment, text, width, break_long_words, wrapstring, break_on_hyphens)


@pass_context
def _join(context: Any, value: Any, d: Any = "", attribute: Any = None) -> str:
    items = list(_value(value, "the list to join"))
    if attribute is not None:
        from jinja2.filters import make_attrgetter

        getter = make_attrgetter(context.environment, attribute)
        items = [getter(x) for x in items]
    sep = as_text(d)
    texts = [as_text(x) for x in items]
    total = sum(len(t) for t in texts) + max(0, len(texts) - 1) * len(sep)
    _need(total <= MAX_VALUE_CHARS, "joined text would be too large for a macro")
    return sep.join(texts)


@pass_context
def _sum(context: Any, value: Any, attribute: Any = None, start: Any = 0) -> Any:
    items = list(_value(value, "the list to sum"))
    if isinstance(start, (str, tuple, list)) or any(isinstance(x, (str, tuple, list)) for x in items):
        total = (len(start) if isinstance(start, (str, tuple, list)) else 0) + sum(
            len(x) for x in items if isinstance(x, (str, tuple, list)))
        _need(total <= MAX_VALUE_CHARS, "the sum is too large for a macro")
    return _JINJA_FILTERS["sum"](context.environment, items, attribute, start)


def _round(value: Any, precision: int = 0, method: str = "common") -> Any:
    _need(not isinstance(precision, int) or abs(precision) <= MAX_ROUND_DIGITS,
          f"round precision {precision} is out of range for a macro (at most {MAX_ROUND_DIGITS})")
    return _JINJA_FILTERS["round"](value, precision, method)


_CHECKED: dict[str, Callable[..., Any]] = {
    "center": _center, "indent": _indent, "format": _format, "replace": _replace, "wordwrap": _wordwrap,
    "join": _join, "sum": _sum, "round": _round,
}

def _bounded(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Any filter: input and arguments of a usable size, the wall clock checked, the result charged.
    pass_context so that Jinja never runs it while compiling (constant folding has no budget)."""

    @pass_context
    def bounded(context: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        tick()
        _value(value, f"the value given to {name}")
        for a in (*args, *kwargs.values()):
            _value(a, f"an argument of {name}")
        result = fn(context, value, *args, **kwargs)
        if hasattr(result, "__next__"):  # unique, ... hand out generators: made a list, bounded
            result = list(result)
        return _result(result)

    bounded.__name__ = f"bounded_{name}"
    return bounded


def bounded_filters(names: Iterable[str], extra: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """A filter table: Jinja's `names` and the `extra` ones, each bounded, and the loop guard."""
    from jinja2.utils import _PassArg

    table: dict[str, Callable[..., Any]] = {}
    for name in names:
        table[name] = _CHECKED.get(name, _JINJA_FILTERS[name])
    table.update(extra)
    out: dict[str, Callable[..., Any]] = {}
    for name, fn in table.items():
        kind = _PassArg.from_obj(fn)
        if kind is _PassArg.context:
            call = fn
        elif kind is _PassArg.eval_context:
            call = (lambda f: lambda ctx, *a, **k: f(ctx.eval_ctx, *a, **k))(fn)
        elif kind is _PassArg.environment:
            call = (lambda f: lambda ctx, *a, **k: f(ctx.environment, *a, **k))(fn)
        else:
            call = (lambda f: lambda ctx, *a, **k: f(*a, **k))(fn)
        out[name] = _bounded(name, call)
    out[LOOP_FILTER] = loop_guard
    return out
