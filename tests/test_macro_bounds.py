"""Random templates from the grammar macros allow (every allowed filter with random, huge and
negative arguments, every operator, loops, sets, captures, conditions), rendered in a child process
limited to 1 GB of address space: each one renders within MAX_OUTPUT_CHARS or is refused with a
one-line MacroTemplateError, never another exception, never a MemoryError, never killed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_tui.macros.render import _SAFE_FILTERS

REPO = Path(__file__).resolve().parents[1]
FILTERS = sorted(set(_SAFE_FILTERS) | {"datetime", "short"})

BIG = [0, 1, -1, 2, 3, 7, 64, 65, 100, 1000, 10_000, 99_999, 10 ** 6, 999_999_999, 10 ** 9, -(10 ** 9), 2 ** 63, 10 ** 18]
PATHS = ["ticket.id", "ticket.subject", "ticket.tags", "ticket.status", "customer.first_name", "customer.name",
         "deposit.amount", "deposit.txid", "sla.first_reply_due", "nothing.here", "ticket", "x", "y", "loop.index"]
WORDS = ["", " ", "x", "ab", "%d", "%s", "%999999999d", "%.99999f", "%(a)s", "%*d", "%%", "\\x9b", "\\u202e", "a b c",
         "-", "\\n", "{{", "nan", "inf", "1e308", "9" * 50, "key", "value"]
CONTEXT = {
    "ticket": {"id": 4711, "subject": "Where is my USDT? [bold]now[/]", "status": "open", "tags": ["vip", "deposit", "x" * 64]},
    "customer": {"first_name": "Ana", "name": "Ana López"},
    "deposit": {"amount": "12.5", "txid": "0x" + "ab" * 32},
    "sla": {"first_reply_due": 1718028000.0},
}

ints = st.one_of(st.sampled_from(BIG), st.integers(-(10 ** 12), 10 ** 12)).map(lambda n: f"({n})" if n < 0 else str(n))
floats = st.sampled_from(["0.5", "1.5", "1e308", "-2.25", "3.0", "1e-300"])
strings = st.sampled_from(WORDS).map(lambda w: "'" + w + "'")
paths = st.sampled_from(PATHS)
atoms = st.one_of(ints, floats, strings, paths)


def _compound(inner):
    args = st.lists(inner, max_size=3)
    kwargs = st.lists(st.tuples(st.sampled_from(["attribute", "start", "width", "first", "blank", "leeway", "end",
                                                  "wrapstring", "killwords", "count", "precision", "method", "case_sensitive"]),
                                inner), max_size=2)

    def filtered(parts):
        value, name, a, kw = parts
        call = ", ".join([*a, *(f"{k}={v}" for k, v in dict(kw).items())])
        return f"({value})|{name}({call})" if call else f"({value})|{name}"

    return st.one_of(
        st.tuples(inner, st.sampled_from(FILTERS), args, kwargs).map(filtered),
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "~", "==", "<", "in", "and", "or"]), inner)
        .map(lambda p: f"({p[0]} {p[1]} {p[2]})"),
        st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(inner, inner).map(lambda p: f"{{'a': {p[0]}, 'b': {p[1]}}}"),
        st.tuples(inner, inner).map(lambda p: f"({p[0]})[{p[1]}]"),
        st.tuples(inner, inner, inner).map(lambda p: f"({p[0]} if {p[1]} else {p[2]})"),
        inner.map(lambda e: f"(-{e})"),
        inner.map(lambda e: f"(not {e})"),
    )


expressions = st.recursive(atoms, _compound, max_leaves=10)


def _statements(inner):
    return st.one_of(
        st.tuples(st.sampled_from(["x", "y"]), expressions, inner).map(lambda p: f"{{% for {p[0]} in {p[1]} %}}{p[2]}{{% endfor %}}"),
        st.tuples(expressions, inner, inner).map(lambda p: f"{{% if {p[0]} %}}{p[1]}{{% else %}}{p[2]}{{% endif %}}"),
        st.tuples(st.sampled_from(["x", "y"]), expressions, inner).map(lambda p: f"{{% set {p[0]} = {p[1]} %}}{p[2]}"),
        st.tuples(st.sampled_from(["x", "y"]), inner, inner).map(lambda p: f"{{% set {p[0]} %}}{p[1]}{{% endset %}}{p[2]}"),
        st.lists(inner, min_size=2, max_size=4).map("".join),
    )


outputs = st.one_of(expressions.map(lambda e: "{{ " + e + " }}"), st.sampled_from(["Hi ", "x" * 100, "\n", "%d"]))
templates = st.recursive(outputs, _statements, max_leaves=8)

CHILD = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
sys.path.insert(0, sys.argv[1])
from agent_tui.macros.render import MAX_OUTPUT_CHARS, MacroTemplateError, render_string
data = json.loads(sys.stdin.read())
bad = []
for source in data["sources"]:
    try:
        text, _ = render_string(source, data["context"])
        if len(text) > MAX_OUTPUT_CHARS:
            bad.append([source, f"{len(text)} characters"])
    except MacroTemplateError as exc:
        message = str(exc)
        if "\n" in message or "MemoryError" in message or not message.strip():
            bad.append([source, "MacroTemplateError " + repr(message[:300])])
    except BaseException as exc:
        bad.append([source, f"{type(exc).__name__}: {str(exc)[:300]}"])
print(json.dumps(bad))
"""


def _render_all(sources: list[str]) -> list:
    p = subprocess.run([sys.executable, "-c", CHILD, str(REPO)], input=json.dumps({"sources": sources, "context": CONTEXT}),
                       capture_output=True, text=True, timeout=300, cwd=REPO)
    assert p.returncode == 0, f"the child died ({p.returncode}): {p.stderr[-3000:]}"
    return json.loads(p.stdout)


DANGEROUS = ("|format(", "|indent(", "|center(", "|replace(", "|join(", "|wordwrap(", " ** ", " * ", " ~ ", " % ",
             "{% for ", "{% set ")


def test_random_templates_render_bounded_or_fail_with_one_line():
    seen: set[str] = set()

    @given(st.lists(templates, min_size=40, max_size=40))
    @settings(max_examples=16, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    def run(sources):
        seen.update(n for n in DANGEROUS if any(n in s for s in sources))
        bad = _render_all(sources)
        assert not bad, f"{len(bad)} of {len(sources)} templates misbehaved, e.g. {bad[:3]}"

    run()
    # the grammar really reached the filters, operators and statements the bounds are for
    assert set(DANGEROUS) - seen == set(), set(DANGEROUS) - seen
