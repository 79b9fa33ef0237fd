"""The macro picker driven with Pilot: search, preview, missing fields, favourites, the suggestion, a snapshot."""

from __future__ import annotations

from typing import Any, Optional

import pytest
from textual.app import App
from textual.widgets import Input, OptionList, Static

from agent_tui.macros.defaults import default_macros
from agent_tui.macros.model import Macro
from tests.desk import FROZEN, seeded_cache
from widgets.macro_picker import MacroPick, MacroPicker

SIZE = (120, 36)

CONTEXT = {
    "ticket": {"id": 4711, "subject": "Where is my USDT? [bold red]NOW[/]", "status": "open", "language": "en"},
    "customer": {"name": "Ana [link=https://evil.example]López[/link]", "first_name": "Ana", "language": "en"},
    "agent": {"id": 1, "name": "Kim Lee", "first_name": "Kim"},
    "deposit": {"txid": None, "network": "tron", "confirmations": 3, "required_confirmations": 20},
    "sla": {},
}


class PickerApp(App):
    """A tiny host: has a `cache` (like AgentApp) and pushes the picker on mount."""

    def __init__(self, picker_factory, cache: Any = None) -> None:
        super().__init__()
        self.cache = cache
        self.picker_factory = picker_factory
        self.results: list[Optional[MacroPick]] = []

    def on_mount(self) -> None:
        self.push_screen(self.picker_factory(), self.results.append)


def fixed_picker(**kw) -> MacroPicker:
    macros = default_macros()
    kw.setdefault("favourite_keys", ["greeting_ack", "close_solved", "deposit_pending"])
    return MacroPicker(CONTEXT, macros=macros, **kw)


def listed(picker: MacroPicker) -> list[str]:
    return [m.key for m in picker.shown]


def preview_text(picker: MacroPicker) -> str:
    return str(picker.query_one("#macro-preview", Static).render())


async def test_search_filters_and_the_preview_follows(tmp_path):
    app = PickerApp(fixed_picker)
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        assert isinstance(picker, MacroPicker)
        assert len(picker.shown) == 19
        await pilot.press(*"memo")
        await pilot.pause()
        assert listed(picker)[0] == "deposit_missing_memo"
        assert "deposit_credited" not in listed(picker)[:2]
        assert "memo" in preview_text(picker).lower()
        await pilot.press("down")
        await pilot.pause()
        assert picker.current is picker.shown[1]
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"::bye")
        await pilot.pause()
        assert listed(picker)[0] == "close_solved"


async def test_enter_on_a_complete_macro_dismisses_with_the_text_and_actions():
    app = PickerApp(fixed_picker)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"::bye", "enter")
        await pilot.pause()
        assert len(app.results) == 1
        pick = app.results[0]
        assert isinstance(pick, MacroPick) and pick.macro.key == "close_solved"
        assert "Kim Lee" in pick.text and "4711" in pick.text and pick.missing == []
        assert pick.actions == [{"type": "set_status", "value": "solved"}]


async def test_missing_fields_are_marked_listed_and_prompted_for():
    app = PickerApp(fixed_picker)
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        await pilot.press(*"::dconf")
        await pilot.pause()
        assert "⟦deposit.txid⟧" in preview_text(picker)
        assert "deposit.txid" in str(picker.query_one("#macro-info", Static).render())
        await pilot.press("enter")
        await pilot.pause()
        assert picker.filling is not None and picker.fill_paths == ["deposit.txid"]
        assert app.results == []  # not dismissed: asked first
        await pilot.press("enter")  # left blank: still missing, stays open
        await pilot.pause()
        assert app.results == [] and isinstance(app.focused, Input) and app.focused.id == "fill-0"
        await pilot.press(*"0xfeed01", "enter")
        await pilot.pause()
        pick = app.results[0]
        assert pick.macro.key == "deposit_insufficient_confirmations"
        assert pick.fills == {"deposit.txid": "0xfeed01"} and "0xfeed01" in pick.text and "⟦" not in pick.text


async def test_escape_in_the_prompt_goes_back_and_ctrl_o_inserts_with_blanks():
    app = PickerApp(fixed_picker)
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        await pilot.press(*"::dconf", "enter")
        await pilot.pause()
        assert picker.filling is not None
        await pilot.press("escape")
        await pilot.pause()
        assert picker.filling is None and app.screen is picker and app.results == []
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.results[0].missing == ["deposit.txid"] and "⟦deposit.txid⟧" in app.results[0].text


async def test_escape_in_the_list_cancels():
    app = PickerApp(fixed_picker)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None] and not isinstance(app.screen, MacroPicker)


async def test_number_keys_pick_favourites():
    app = PickerApp(fixed_picker)
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        assert [m.key for m in picker.favourites] == ["greeting_ack", "close_solved", "deposit_pending"]
        assert listed(picker)[:3] == ["greeting_ack", "close_solved", "deposit_pending"]
        await pilot.press("2")  # the search box is empty: a digit picks
        await pilot.pause()
        assert app.results[0].macro.key == "close_solved"


async def test_a_digit_after_text_is_typed_and_the_list_takes_digits_too():
    app = PickerApp(fixed_picker)
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        await pilot.press("space", "2")
        await pilot.pause()
        assert picker.query_one("#macro-search", Input).value == " 2" and app.results == []
        picker.query_one("#macro-list", OptionList).focus()
        await pilot.press("1")
        await pilot.pause()
        assert app.results[0].macro.key == "greeting_ack"


async def test_the_suggested_macro_comes_first():
    app = PickerApp(lambda: fixed_picker(suggested="deposit_wrong_network"))
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        assert listed(picker)[0] == "deposit_wrong_network"
        assert listed(picker)[1:4] == ["greeting_ack", "close_solved", "deposit_pending"]
        assert picker.current.key == "deposit_wrong_network"
        await pilot.press("enter")
        await pilot.pause()
        assert picker.filling is not None  # the txid is missing in CONTEXT


async def test_customer_text_is_inert():
    app = PickerApp(fixed_picker)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        svg = app.export_screenshot()
        assert "[bold&#160;red]NOW[/]" in svg  # the subject's markup shown as text


async def test_picker_inputs_read_the_cache_and_suggest_the_verdicts_macro(tmp_path):
    from agent_tui.services.macros import picker_inputs

    cache = seeded_cache(tmp_path)
    try:
        verdict = {"code": "not_found", "macro": "deposit_not_found", "txid": "0x" + "ab" * 32, "network": None,
                   "claimed_network": "bsc", "evidence": {}}
        inputs = picker_inputs(cache, 3, agent={"id": 1, "name": "Alex Morgan"}, deposit=verdict, now=FROZEN)
        app = PickerApp(lambda: MacroPicker(**inputs), cache=cache)
        async with app.run_test(size=SIZE) as pilot:
            picker = app.screen
            assert listed(picker)[0] == "deposit_not_found" and len(picker.shown) == 19
            assert picker.language == cache.customer(cache.ticket(3)["requester_id"])["language"]
            await pilot.press("enter")
            await pilot.pause()
            pick = app.results[0]
            assert pick.macro.key == "deposit_not_found" and "0xabab" in pick.text and not pick.missing
    finally:
        cache.close()


async def test_the_agents_macros_and_favourites_come_from_the_screens_read_of_the_cache(tmp_path):
    from agent_tui.services.macros import picker_inputs

    cache = seeded_cache(tmp_path)
    try:
        inputs = picker_inputs(cache, 1, agent={"id": 1, "name": "Alex Morgan"}, now=FROZEN)
        app = PickerApp(lambda: MacroPicker(**inputs), cache=cache)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            picker = app.screen
            assert len(picker.macros) == 19 and len(picker.favourites) == 9
    finally:
        cache.close()


def test_picker_snapshot(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.press(*"deposit")
        await pilot.pause()

    app = PickerApp(lambda: fixed_picker(suggested="deposit_insufficient_confirmations"))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# --- the guard's override confirmation -----------------------------------------------------------------

from agent_tui.macros.guard import check_reply  # noqa: E402
from widgets.guard_override import GuardOverrideScreen  # noqa: E402


async def test_override_needs_a_reason_and_escape_sends_nothing():
    report = check_reply("Open https://evil.example/[b]x[/b] now", allowed_domains=["desk.example"])
    app = PickerApp(lambda: GuardOverrideScreen(report))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")  # no reason yet
        await pilot.pause()
        assert app.results == [] and isinstance(app.screen, GuardOverrideScreen)
        await pilot.press(*"customer asked for it", "enter")
        await pilot.pause()
        assert app.results == ["customer asked for it"]
    app = PickerApp(lambda: GuardOverrideScreen(report))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


async def test_a_blocked_reply_needs_a_longer_reason():
    report = check_reply("Please send us your [b]seed phrase[/b].")
    app = PickerApp(lambda: GuardOverrideScreen(report))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "[b]seed&#160;phrase[/b]" in app.export_screenshot()  # the finding quotes the reply inertly
        await pilot.press(*"because", "enter")
        await pilot.pause()
        assert app.results == []
        await pilot.press(*" the customer insisted", "enter")
        await pilot.pause()
        assert app.results == ["because the customer insisted"]


# --- e / d: managing your own macros ------------------------------------------------------------------

from widgets.macro_picker import MacroManage  # noqa: E402

MINE = Macro(id="p-1", key="personal_shot", title="Ask for the screenshot", category="personal",
             bodies={"en": "Please send a screenshot, {{customer.first_name}}."}, shortcut="shot",
             visibility="personal", owner_id=1)


def managing_picker(**kw) -> MacroPicker:
    return MacroPicker(CONTEXT, macros=default_macros() + [MINE], favourite_keys=["greeting_ack"], agent_id=1, **kw)


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


@pytest.mark.parametrize("key,action", [("e", "edit"), ("d", "delete"), ("delete", "delete")])
async def test_e_and_d_on_your_own_macro_hand_it_over_to_edit_or_delete(key, action):
    app = PickerApp(managing_picker)
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        await pilot.press(*"screenshot")
        await pilot.pause()
        assert picker.current is not None and picker.current.id == "p-1"
        assert picker.query_one("#macro-search", Input).value == "screenshot"  # typed, not taken as keys
        await pilot.press("tab")  # to the list
        await pilot.pause()
        assert isinstance(app.focused, OptionList)
        await pilot.press(key)
        await pilot.pause()
        assert app.results == [MacroManage(action, MINE, "en", "screenshot")]


async def test_e_and_d_on_a_shared_macro_say_in_one_line_who_manages_it():
    app = PickerApp(managing_picker)
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        await pilot.press(*"::bye", "tab")
        await pilot.pause()
        assert picker.current.key == "close_solved"
        await pilot.press("e", "d")
        await pilot.pause()
        assert app.results == [] and app.screen is picker  # nothing happened to it
        said = [n for n in notes(app) if "supervisors" in n]
        assert len(said) == 2 and all("\n" not in n for n in said)


async def test_a_supervisor_may_manage_shared_macros():
    app = PickerApp(lambda: managing_picker(can_manage_shared=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"::bye", "tab", "e")
        await pilot.pause()
        assert [(r.action, r.macro.key) for r in app.results] == [("edit", "close_solved")]


# --- a macro that cannot be rendered ---------------------------------------------------------------------

BROKEN_BODIES = {
    "broken_truncate": "Hi {{ ticket.subject|truncate(-1) }}",
    "broken_nan": "Rate {{ 'nan'|float / 0 }}",
    "broken_dictsort": "Tags {{ ticket.tags|dictsort }}",
    "broken_leeway": "Hi {{ ticket.subject|truncate(3, leeway=-5) }}",
}


async def test_highlighting_a_macro_that_cannot_render_shows_its_error_and_the_app_keeps_running():
    broken = [Macro(id=key, key=key, title=f"Broken {key}", bodies={"en": body}) for key, body in BROKEN_BODIES.items()]
    context = {**CONTEXT, "ticket": {**CONTEXT["ticket"], "tags": ["vip", "deposit"]}}
    app = PickerApp(lambda: MacroPicker(context, macros=default_macros() + broken))
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        await pilot.press(*"broken")
        await pilot.pause()
        assert sorted(listed(picker)[:4]) == sorted(BROKEN_BODIES)
        seen = []
        for i in range(4):
            if i:
                await pilot.press("down")
                await pilot.pause()
            assert app.is_running and app.screen is picker
            seen.append(picker.current.key)
            shown = preview_text(picker)
            assert "This macro cannot be rendered" in shown and picker.current.key in shown, shown
            assert "\n" not in shown.strip() and "Traceback" not in shown
        await pilot.press("enter")  # using it says why, once, and keeps the picker
        await pilot.pause()
        assert app.is_running and app.screen is picker and app.results == []
    assert sorted(seen) == sorted(BROKEN_BODIES)
