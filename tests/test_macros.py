"""Macros: the model, rendering (fallbacks, missing, fills, languages, sandbox), shortcuts, search."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_tui.macros.model import Macro, MacroError, visible_macros
from agent_tui.macros.render import (
    MacroTemplateError,
    check_template,
    expand_shortcuts,
    find_shortcut,
    pick_body,
    render,
    render_string,
    search,
)


def mk(key="deposit_missing_memo", title="Deposit: missing memo", shortcut="memo", bodies=None, actions=None, **kw):
    return Macro(
        id=kw.pop("id", key),
        key=key,
        title=title,
        category=kw.pop("category", "deposits"),
        bodies=bodies if bodies is not None else {"en": "Hi {{ customer.first_name | default('there') }}"},
        actions=actions if actions is not None else [{"type": "set_status", "value": "pending"}],
        shortcut=shortcut,
        **kw,
    )


CTX = {
    "ticket": {"id": 4711, "subject": "Where is my USDT?"},
    "customer": {"first_name": "Ana", "language": "es"},
    "agent": {"name": "Kim"},
    "deposit": {"txid": "0xabc123", "network": "TRC20", "confirmations": 3, "required_confirmations": 20},
    "sla": {"first_reply_due": 1718028000.0},
}


# --- model ------------------------------------------------------------------------------------------


def test_round_trip_dict_and_row():
    m = mk(bodies={"en": "Hello", "ru": "Привет"}, actions=[{"type": "add_tags", "value": ["memo", "deposit"]}])
    assert Macro.from_dict(m.to_dict()) == m
    row = m.to_row()
    assert isinstance(row["bodies"], str) and isinstance(row["actions"], str)
    assert json.loads(row["bodies"])["ru"] == "Привет"
    assert Macro.from_dict(row) == m
    json.dumps(m.to_dict())  # JSON-friendly


def test_from_row_reads_a_storage_macro():
    from storage.models import Macro as Row

    row = Row(**mk().to_row())
    assert Macro.from_row(row) == mk()


def test_shortcut_is_normalised():
    d = mk().to_dict()
    d["shortcut"] = "::Memo"
    assert Macro.from_dict(d).shortcut == "memo"


def test_a_macro_of_actions_alone_has_no_text_and_renders_to_nothing():
    from agent_tui.macros.render import pick_body

    m = Macro.from_dict({**mk().to_dict(), "bodies": {}})
    assert m.bodies == {} and m.actions
    assert pick_body(m.bodies, "ru") == ("ru", "")


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"key": "Deposit Memo"}, "key"),
        ({"title": "  "}, "title"),
        ({"bodies": {}, "actions": []}, "bodies"),  # neither text nor actions
        ({"bodies": {"english": "x"}}, "language"),
        ({"bodies": {"en": ""}}, "body [en]"),
        ({"bodies": "{not json"}, "not valid JSON"),
        ({"bodies": b"\xff\xfe{"}, "not valid JSON"),  # a cache row's bytes that are not UTF-8 (was AttributeError)
        ({"actions": [{"type": "explode", "value": 1}]}, "actions[0]"),
        ({"actions": [{"type": "set_status", "value": "archived"}]}, "set_status"),
        ({"actions": [{"type": "set_priority", "value": "asap"}]}, "set_priority"),
        ({"actions": [{"type": "add_tags", "value": "memo"}]}, "add_tags"),
        ({"actions": [{"type": "add_tags", "value": ["has space"]}]}, "tag"),
        ({"actions": [{"type": "pending_reminder", "value": -1}]}, "pending_reminder"),
        ({"actions": [{"type": "set_status", "value": "open", "extra": 1}]}, "unknown field"),
        ({"visibility": "team"}, "visibility"),
        ({"visibility": "personal", "owner_id": None}, "owner_id"),
        ({"shortcut": "bad shortcut!"}, "shortcut"),
        ({"usage_count": -3}, "usage_count"),
        ({"bodies": {"en": "Hi {{ customer.first_name "}}, "template syntax error"),
        ({"bodies": {"en": "{{ ''.__class__ }}"}}, "unsafe"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_validation_gives_one_clear_line(change, fragment):
    d = mk().to_dict()
    d.update(change)
    with pytest.raises(MacroError) as err:
        Macro.from_dict(d)
    message = str(err.value)
    assert "\n" not in message
    assert fragment in message
    assert message.startswith("macro ")


def test_missing_required_field():
    with pytest.raises(MacroError, match="missing field"):
        Macro.from_dict({"id": "x", "key": "x"})


def test_visibility():
    shared = mk(key="a", shortcut="a")
    mine = mk(key="b", shortcut="b", visibility="personal", owner_id=7)
    theirs = mk(key="c", shortcut="c", visibility="personal", owner_id=8)
    assert visible_macros([shared, mine, theirs], 7) == [shared, mine]


# --- rendering ----------------------------------------------------------------------------------------


def test_placeholders_render():
    src = (
        "#{{ticket.id}} {{customer.first_name}} {{agent.name}} {{deposit.txid}} {{deposit.network}} "
        "{{deposit.confirmations}}/{{deposit.required_confirmations}} {{ sla.first_reply_due | datetime }}"
    )
    text, missing = render_string(src, CTX)
    assert text == "#4711 Ana Kim 0xabc123 TRC20 3/20 2024-06-10 14:00 UTC"
    assert missing == []


def test_fallback_is_not_missing():
    text, missing = render_string('Hi {{ customer.first_name | default("there") }}', {"customer": {}})
    assert (text, missing) == ("Hi there", [])


@pytest.mark.parametrize("value", [None, "", "   "])
def test_blank_values_take_the_fallback(value):
    text, missing = render_string('Hi {{ customer.first_name | default("there") }}', {"customer": {"first_name": value}})
    assert text == "Hi there" and missing == []


def test_missing_is_reported_and_marked():
    text, missing = render_string("TxID: {{deposit.txid}}, net {{ deposit.network }}, {{deposit.txid}}", {"deposit": {"network": "ERC20"}})
    assert missing == ["deposit.txid"]
    assert text == "TxID: ⟦deposit.txid⟧, net ERC20, ⟦deposit.txid⟧"


def test_missing_whole_scope_gives_full_path():
    text, missing = render_string("{{ deposit.txid }} {{ sla.first_reply_due }}", {})
    assert missing == ["deposit.txid", "sla.first_reply_due"]
    assert "⟦sla.first_reply_due⟧" in text


def test_missing_inside_conditions_is_not_missing():
    text, missing = render_string("{% if deposit.txid %}tx {{deposit.txid}}{% else %}no tx{% endif %}", {})
    assert (text, missing) == ("no tx", [])


def test_arithmetic_on_missing_stays_missing():
    text, missing = render_string("{{ deposit.required_confirmations - deposit.confirmations }} left", {"deposit": {"confirmations": 3}})
    assert missing == ["deposit.required_confirmations"] and "⟦deposit.required_confirmations⟧" in text


def test_fills_supply_missing_fields():
    text, missing = render_string("{{deposit.txid}} for {{customer.first_name}}", {"customer": {}}, fills={"deposit.txid": "0xfeed", "customer.first_name": "Bo"})
    assert (text, missing) == ("0xfeed for Bo", [])


def test_fills_are_text_not_templates():
    text, missing = render_string("{{deposit.txid}}", {}, fills={"deposit.txid": "{{ 7*7 }}"})
    assert text == "{{ 7*7 }}" and missing == []


def test_fills_do_not_touch_the_callers_context():
    ctx = {"deposit": {"network": "TRC20"}}
    render_string("{{deposit.txid}}", ctx, fills={"deposit.txid": "0x1"})
    assert ctx == {"deposit": {"network": "TRC20"}}


@pytest.mark.parametrize(
    "value, shown",
    [(3, "3"), (20.0, "20"), (0.5, "0.5"), (True, "yes"), (["a", "b"], "a, b"), ("12.50", "12.50")],
)
def test_non_string_values(value, shown):
    assert render_string("{{ x.v }}", {"x": {"v": value}})[0] == shown


def test_datetime_filter_on_epoch():
    assert render_string("{{ sla.first_reply_due | datetime }}", CTX)[0] == "2024-06-10 14:00 UTC"


def test_short_filter():
    assert render_string("{{ deposit.txid | short(3) }}", {"deposit": {"txid": "0x1234567890"}})[0] == "0x1…890"


def test_loops_over_lists():
    ctx = {"deposits": [{"txid": "a"}, {"txid": "b"}]}
    assert render_string("{% for d in deposits %}{{ loop.index }}:{{ d.txid }} {% endfor %}", ctx)[0] == "1:a 2:b"


@pytest.mark.parametrize(
    "hostile",
    [
        "{{ 7*7 }}",
        "{% for x in ().__class__.__base__.__subclasses__() %}{{x}}{% endfor %}",
        "{{ ''.__class__.__mro__ }}",
        "{% raw %}x",
        "⟦agent.name⟧",
        "}}{{",
    ],
)
def test_context_values_are_never_templates(hostile):
    text, missing = render_string("Hi {{ customer.first_name }}!", {"customer": {"first_name": hostile}})
    assert text == f"Hi {hostile}!"
    assert missing == []


@given(st.text(max_size=60))
@settings(max_examples=200, deadline=None)
def test_any_value_renders_verbatim(value):
    text, _ = render_string("[{{ customer.name }}]", {"customer": {"name": value}})
    expected = f"[{value}]".strip() if value.strip() else "[⟦customer.name⟧]"
    assert text == expected


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
        "{{ customer['__class__'] }}",
        "{{ customer.__dict__ }}",
        "{{ self.__init__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ range(10) }}",
        "{{ customer.first_name.upper() }}",
        "{{ x | attr('__class__') }}",
        "{{ x | map(attribute='__class__') | list }}",
        "{% include 'secrets.txt' %}",
        "{% import 'os' as os %}",
        "{% extends 'base' %}",
        "{{ _private }}",
        "{{ 'a' * 100000000 }}",
        "{{ 10 ** 1000 }}",
    ],
)
def test_sandbox_escapes_fail_safely(source):
    with pytest.raises(MacroTemplateError) as err:
        render_string(source, {"customer": {"first_name": "Ana"}, "x": {}})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ticket.subject|truncate(-1) }}",  # AssertionError inside the filter
        "{{ ticket.subject|truncate(3, leeway=-5) }}",
        "{{ 'nan'|float / 0 }}",  # was folded at compile time into the Python name `nan`: NameError
        "{{ 'inf'|float|int }}",
        "{{ ticket.tags|dictsort }}",  # AttributeError: a list is not a mapping
        "{{ ticket.tags|sum }}",
    ],
)
def test_every_runtime_failure_is_a_one_line_template_error(source):
    ctx = {"ticket": {"subject": "Where is my USDT?", "tags": ["vip", "deposit"]}}
    with pytest.raises(MacroTemplateError) as err:
        render(mk(bodies={"en": source}), ctx, language="en")
    assert err.value.kind == "runtime" and "\n" not in str(err.value)
    assert str(err.value).startswith("macro deposit_missing_memo [en]: cannot render: ")


@pytest.mark.parametrize("source", ["{{ " + "(" * 400 + "1" + ")" * 400 + " }}", "{{ " + "-" * 5000 + "1 }}",
                                    "{% if 1 %}" * 300 + "x" + "{% endif %}" * 300], ids=["parens", "minus", "ifs"])
def test_a_template_too_deep_to_compile_is_a_template_error(source):
    with pytest.raises(MacroTemplateError) as err:
        check_template(source)
    assert "\n" not in str(err.value)


def test_dynamic_dunder_key_is_refused_at_runtime():
    with pytest.raises(MacroTemplateError, match="unsafe"):
        render_string("{% set k = '__cla' ~ 'ss__' %}{{ customer[k] }}", {"customer": {"first_name": "A"}})


def test_dict_methods_are_not_reachable():
    text, missing = render_string("{{ customer.items }}{{ customer.keys }}", {"customer": {"first_name": "A"}})
    assert "built-in" not in text and "method" not in text
    assert missing == ["customer.items", "customer.keys"]


def test_no_globals():
    for name in ("range", "cycler", "joiner", "namespace", "lipsum", "dict"):
        _, missing = render_string("{{ %s }}" % name, {})
        assert missing == [name]


def test_context_objects_must_be_plain():
    class Secret:
        password = "hunter2"

    with pytest.raises(TypeError, match="plain dicts"):
        render_string("{{ customer.password }}", {"customer": Secret()})


def test_syntax_error_is_one_line():
    with pytest.raises(MacroTemplateError) as err:
        check_template("Hello {{ customer.first_name\nsecond line {% endif %}")
    assert err.value.kind == "syntax"
    assert "line" in str(err.value) and "\n" not in str(err.value)


# --- languages ----------------------------------------------------------------------------------------


BODIES = {"en": "Hello", "ru": "Привет", "zh": "您好", "pt-BR": "Olá"}


@pytest.mark.parametrize(
    "language, expected",
    [("ru", "ru"), ("RU", "ru"), ("zh-CN", "zh"), ("pt", "pt-BR"), ("pt_BR", "pt-BR"), ("de", "en"), (None, "en"), ("", "en")],
)
def test_language_choice(language, expected):
    assert pick_body(BODIES, language)[0] == expected


def test_language_falls_back_to_first_without_english():
    assert pick_body({"tr": "Merhaba", "es": "Hola"}, "de") == ("tr", "Merhaba")


def test_render_uses_customer_language_and_returns_actions():
    m = mk(bodies={"en": "Hi {{customer.first_name}}", "es": "Hola {{customer.first_name}}"},
           actions=[{"type": "add_tags", "value": ["memo"]}])
    result = render(m, CTX)
    assert (result.text, result.language, result.missing, result.macro_key) == ("Hola Ana", "es", [], m.key)
    assert result.actions == [{"type": "add_tags", "value": ["memo"]}]
    result.actions[0]["value"].append("x")
    assert m.actions == [{"type": "add_tags", "value": ["memo"]}]
    assert render(m, CTX, language="de").language == "en"


def test_render_error_names_macro_and_language():
    m = mk(bodies={"en": "{{ x + }}"})
    with pytest.raises(MacroTemplateError, match=r"macro deposit_missing_memo \[en\]"):
        render(m, {})


# --- shortcuts -------------------------------------------------------------------------------------------


MACROS = [
    mk(key="greeting", title="Greeting", shortcut="hi", bodies={"en": "Hello {{ customer.first_name | default('there') }},", "es": "Hola {{ customer.first_name | default('') }},"}),
    mk(key="deposit_missing_memo", title="Deposit: missing memo", shortcut="memo", bodies={"en": "Your deposit {{ deposit.txid }} had no memo."}),
    mk(key="close_solved", title="Close as solved", shortcut="bye", bodies={"en": "Have a nice day!"}),
]


def test_shortcut_at_end():
    text, macro = expand_shortcuts("Thanks. ::bye", MACROS, {"customer": {"language": "en"}})
    assert text == "Thanks. Have a nice day!" and macro.key == "close_solved"


def test_shortcut_in_middle_and_language():
    text, macro = expand_shortcuts("::hi we are checking.", MACROS, CTX)
    assert text == "Hola Ana, we are checking." and macro.key == "greeting"


def test_shortcut_missing_field_is_marked():
    text, macro = expand_shortcuts("::memo", MACROS, {})
    assert text == "Your deposit ⟦deposit.txid⟧ had no memo."


@pytest.mark.parametrize("text", ["no shortcut", "a::bye", "::byes", "::unknown", "see ::bye-now", "mail::bye"])
def test_shortcut_must_be_whole_word_and_known(text):
    assert expand_shortcuts(text, MACROS, {}) == (text, None)


def test_shortcut_at_cursor_wins():
    text = "::hi and ::bye"
    assert find_shortcut(text, MACROS, cursor=4).macro.key == "greeting"
    assert find_shortcut(text, MACROS).macro.key == "close_solved"  # no cursor: the last one
    new, macro = expand_shortcuts(text, MACROS, {"customer": {"first_name": "Li"}}, cursor=4)
    assert new == "Hello Li, and ::bye" and macro.key == "greeting"


def test_personal_shortcut_beats_shared():
    mine = mk(key="my_bye", title="My bye", shortcut="bye", bodies={"en": "Cheers!"}, visibility="personal", owner_id=1)
    assert expand_shortcuts("::bye", MACROS + [mine], {})[1].key == "my_bye"


# --- search ---------------------------------------------------------------------------------------------


SEARCHABLE = [
    mk(key="greeting", title="Greeting", shortcut="hi", bodies={"en": "Hello, thanks for contacting us."}),
    mk(key="withdrawal_delay", title="Withdrawal delayed", shortcut="wd", bodies={"en": "Your withdrawal is under review."}),
    mk(key="deposit_missing_memo", title="Deposit: missing memo/tag", shortcut="memo", bodies={"en": "The deposit arrived without a memo."}),
    mk(key="deposit_wrong_memo", title="Deposit: wrong memo/tag", shortcut="wmemo", bodies={"en": "The memo does not match."}),
    mk(key="deposit_wrong_network", title="Deposit: wrong network", shortcut="net", bodies={"en": "Sent on another chain."}),
    mk(key="kyc_documents_request", title="KYC documents request", shortcut="kyc", bodies={"en": "Please upload a photo of your ID.", "ru": "Загрузите фото паспорта."}),
]


def keys(ms):
    return [m.key for m in ms]


def test_exact_shortcut_first():
    assert keys(search(SEARCHABLE, "memo"))[0] == "deposit_missing_memo"
    assert keys(search(SEARCHABLE, "::wmemo"))[0] == "deposit_wrong_memo"


def test_shortcut_prefix_then_title_prefix():
    assert keys(search(SEARCHABLE, "wm"))[0] == "deposit_wrong_memo"
    result = keys(search(SEARCHABLE, "dep"))
    assert set(result[:3]) == {"deposit_missing_memo", "deposit_wrong_memo", "deposit_wrong_network"}


def test_typo_finds_title():
    assert keys(search(SEARCHABLE, "withdrawl"))[0] == "withdrawal_delay"


def test_body_text_is_searched_in_any_language():
    assert keys(search(SEARCHABLE, "паспорта"))[0] == "kyc_documents_request"
    assert keys(search(SEARCHABLE, "another chain"))[0] == "deposit_wrong_network"


def test_nonsense_finds_nothing():
    assert search(SEARCHABLE, "zzqxv") == []


def test_empty_query_lists_by_usage_then_title():
    ms = [mk(key="b", title="B", shortcut="b", usage_count=1), mk(key="a", title="A", shortcut="a", usage_count=1),
          mk(key="c", title="C", shortcut="c", usage_count=9)]
    assert keys(search(ms, "")) == ["c", "a", "b"]


def test_limit_and_stable_order():
    twins = [mk(key=f"m{i}", title="Same title", shortcut=f"s{i}") for i in range(30)]
    result = search(twins, "same title", limit=20)
    assert keys(result) == [f"m{i}" for i in range(20)]


def test_usage_breaks_ties():
    a = mk(key="a", title="Deposit pending", shortcut="x1", usage_count=1)
    b = mk(key="b", title="Deposit pending", shortcut="x2", usage_count=50)
    assert keys(search([a, b], "deposit pending")) == ["b", "a"]


def test_pure_core_never_imports_ui():
    import subprocess

    code = (
        "import sys, agent_tui.macros, agent_tui.macros.defaults;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('textual','widgets','themes')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# --- seed macros ----------------------------------------------------------------------------------------


def test_default_macros_are_valid_and_complete():
    from agent_tui.macros.defaults import DEPOSIT_VERDICT_CODES, default_macros

    ms = default_macros()
    assert len(ms) >= 12
    by_key = {m.key: m for m in ms}
    for code in DEPOSIT_VERDICT_CODES:
        assert f"deposit_{code}" in by_key, code
    for m in ms:
        assert {"en", "ru", "es", "tr", "zh"} <= set(m.bodies), m.key
        assert m.shortcut and m.actions and m.visibility == "shared"
        assert Macro.from_dict(m.to_row()) == m
    shortcuts = [m.shortcut for m in ms]
    assert len(shortcuts) == len(set(shortcuts))


def test_default_deposit_macros_cover_the_lookup_verdicts():
    from agent_tui.chains.diagnose import CODES
    from agent_tui.macros.defaults import DEPOSIT_VERDICT_CODES, default_macros

    assert set(CODES) == set(DEPOSIT_VERDICT_CODES)
    keys_ = {m.key for m in default_macros()}
    assert {f"deposit_{c}" for c in CODES} <= keys_


@pytest.mark.parametrize("lang", ["en", "ru", "es", "tr", "zh"])
def test_default_macros_render_fully_with_a_full_context(lang):
    from agent_tui.macros.defaults import default_macros

    for m in default_macros():
        result = render(m, CTX, language=lang)
        assert result.language == lang
        assert result.missing == [], (m.key, result.missing)
        assert "⟦" not in result.text and "{{" not in result.text


def test_a_missing_path_built_from_hostile_macro_text_is_inert() -> None:
    text, missing = render_string('Hi {{ customer["\x1b[2J\x1b]52;c;eA==\x07name"] }}', {"customer": {}})
    assert missing == ["customer.name"] and text == "Hi ⟦customer.name⟧"


# --- bounds: time, memory and size, enforced before and while a template runs ---------------------------

BOMBS = [
    "{{ '%999999999d'|format(1) }}",  # asked for 4 GB and 15 s
    "{{ '%.999999999f'|format(1.5) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '%(a)999999999s' % {'a': 1} }}",
    "{{ '%*d'|format(999999999, 1) }}",
    "{{ 'x'|indent(10**9) }}",  # 2 GB
    "{{ 'x'|indent(999999999) }}",
    "{{ 'x'|center(10**9) }}",  # 1 GB
    "{{ ('x' * 10000)|replace('x', 'y' * 10000) }}",
    "{{ 'ab'|replace('', 'x' * 10000)|replace('x', 'y' * 10000) }}",
    "{{ ('x' * 10000)|wordwrap(1, wrapstring='y' * 10000) }}",
    "{{ (['x' * 10000] * 10000)|join(',') }}",
    "{{ ['x' * 10000] * 10000 }}",
    "{{ (['x' * 10000] * 10000)|string }}",
    "{{ (['x' * 10000] * 10000)|upper }}",
    "{{ ([[1] * 10000] * 10000)|sum(start=[])|length }}",
    "{{ 10|round(-999999999) }}",
    "{{ 2 ** 64 ** 64 ** 64 }}",
    "{% set a = 2 ** 60 %}{% set b = a * a %}{% set c = b * b %}{% set d = c * c %}{% set e = d * d %}"
    "{% set f = e * e %}{% set g = f * f %}{% set h = g * g %}{% set i = h * h %}{{ i }}",
    "{% set a = 'x' * 10000 %}{% set b = a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a %}{% set c = b ~ b ~ b ~ b ~ b ~ b %}"
    "{% set d = c ~ c ~ c ~ c ~ c ~ c ~ c ~ c ~ c ~ c %}{{ d|length }}",
    "{% set a = 'x' * 10000 %}{% set b = a + a + a + a + a + a + a + a + a + a %}{% set c = b + b + b + b + b + b %}"
    "{{ c|length }}",
    "{% for a in 'x' * 10000 %}{% for b in 'x' * 10000 %}{% endfor %}{% endfor %}",  # 10^8 iterations
    "{% set s %}{% for a in 'x' * 10000 %}{{ 'y'|center(100000) }}{% endfor %}{% endset %}{{ s|length }}",
    "{% set s %}{% for a in 'x' * 9000 %}{{ ticket.tags }}" + "x" * 5000 + "{% endfor %}{% endset %}{{ s|length }}",
]

LIMIT_WORDS = ("too large", "too much", "too long", "loops too much", "not allowed", "out of range")

CHILD = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
sys.path.insert(0, sys.argv[1])
from agent_tui.macros.render import MacroTemplateError, MAX_OUTPUT_CHARS, render_string
ctx = {"ticket": {"id": 7, "subject": "Where is my USDT?", "tags": ["vip", "deposit"]}, "customer": {"first_name": "Ana"}}
out = []
for source in json.loads(sys.stdin.read()):
    try:
        text, _ = render_string(source, ctx)
        out.append({"ok": len(text) <= MAX_OUTPUT_CHARS, "len": len(text)})
    except MacroTemplateError as exc:
        out.append({"kind": exc.kind, "message": str(exc)})
    except BaseException as exc:
        out.append({"escaped": type(exc).__name__, "message": str(exc)[:200]})
print(json.dumps(out))
"""


def render_in_child(sources: list[str], timeout: float = 120) -> list[dict]:
    """Render each source in a child process limited to 1 GB of address space."""
    import subprocess
    from pathlib import Path

    repo = str(Path(__file__).resolve().parents[1])
    p = subprocess.run([sys.executable, "-c", CHILD, repo], input=json.dumps(sources), capture_output=True, text=True,
                       timeout=timeout, cwd=repo)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


def test_template_bombs_are_refused_before_they_take_memory_or_time():
    results = render_in_child(BOMBS)
    for source, r in zip(BOMBS, results):
        assert r.get("kind") == "runtime", (source, r)
        message = r["message"]
        assert any(w in message for w in LIMIT_WORDS) and "MemoryError" not in message, (source, message)
        assert "\n" not in message


def test_nested_loops_count_together():
    # 200 x 200 = 40,000 iterations, each writing one character: under the output limit, over the loop limit
    with pytest.raises(MacroTemplateError, match="loops too much") as err:
        render_string("{% for a in 'x' * 200 %}{% for b in 'x' * 200 %}.{% endfor %}{% endfor %}", {})
    assert err.value.kind == "runtime"
    text, _ = render_string("{% for a in 'x' * 90 %}{% for b in 'x' * 100 %}.{% endfor %}{% endfor %}", {})
    assert text == "." * 9000


def test_a_render_past_its_time_budget_stops(monkeypatch):
    from agent_tui.macros import limits

    monkeypatch.setattr(limits, "MAX_RENDER_SECONDS", 0.0)
    with pytest.raises(MacroTemplateError, match="took too long") as err:
        render_string("{% for t in ticket.tags %}{{ t|upper }}{% endfor %}", {"ticket": {"tags": ["a", "b"]}})
    assert err.value.kind == "runtime"


@pytest.mark.parametrize("source, expected", [
    ("{{ '%5.2f'|format(3.14159) }}", "3.14"),
    ("{{ '%s has %d tags'|format(customer.first_name, ticket.tags|length) }}", "Ana has 2 tags"),
    ("{{ '%(n)s!' % {'n': customer.first_name} }}", "Ana!"),
    ("{{ '100%' }} {{ '%d%%' % 5 }}", "100% 5%"),
    ("{{ ticket.tags|join(', ') }}", "vip, deposit"),
    ("{{ customer.first_name|center(9) }}|", "Ana   |"),
    ("{{ 'a b c'|replace(' ', '-') }}", "a-b-c"),
    ("{{ ticket.subject|wordwrap(6) }}", "Where\nis my\nUSDT?"),
    ("{{ 'x'|indent(2, first=True) }}", "x"),
    ("{{ ticket.id ~ '/' ~ ticket.tags|length }}", "7/2"),
    ("{{ 2 ** 10 }} {{ 3 * 4 }} {{ 'ab' * 3 }} {{ 1 + 2 }} {{ 7 % 3 }}", "1024 12 ababab 3 1"),
    ("{{ ticket.tags|reverse }}", "deposit, vip"),
    ("{{ ticket.tags|unique }}", "vip, deposit"),
    ("{{ [1, 2, 3]|sum }} {{ 2.25|round(1) }}", "6 2.2"),
    ("{% for t in ticket.tags %}{{ loop.index }}:{{ t }} {% endfor %}", "1:vip 2:deposit"),
])
def test_ordinary_templates_still_work(source, expected):
    ctx = {"ticket": {"id": 7, "subject": "Where is my USDT?", "tags": ["vip", "deposit"]}, "customer": {"first_name": "Ana"}}
    assert render_string(source, ctx)[0] == expected
