"""Table-driven tests of the pure diagnosis."""

import json

import pytest

from agent_tui.chains import ChainFacts, Transfer, Verdict, default_asset_config, diagnose
from agent_tui.chains.diagnose import CODES, MACROS

USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
BSC_USDT = "0x55d398326f99059ff775485246999027b3197955"
CUST = "0x2ae6d1401af58f9fbe2eda032b8494d519af5813"
OTHER = "0x1111111111111111111111111111111111111111"
TX = "0x" + "ab" * 32
XRP_HOT = "rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w"


def usdt(recipient=CUST, raw="1000000000", contract=USDT, index=0):
    return Transfer(recipient=recipient, contract=contract, raw_amount=raw, index=index, kind="token")


def eth_facts(network="ethereum", status="confirmed", confs=20, transfers=None, chain_id=1, found=True, failure=None):
    block = None if status in ("pending", "dropped") else 100
    return ChainFacts(network=network, txid=TX, found=found, status=status if found else None, block=block if found else None,
                      tip=block + confs - 1 if block is not None else 120, confirmations=confs if block is not None else None,
                      final=bool(block is not None and confs >= 64), transfers=[usdt()] if transfers is None else transfers,
                      failure_reason=failure, chain_id=chain_id)


def xrp_facts(tag="42", amount="100"):
    return ChainFacts(network="xrp", txid="AB" * 32, found=True, status="confirmed", block=57112010, confirmations=1, final=True,
                      transfers=[Transfer(recipient=XRP_HOT, asset="XRP", amount=amount, memo=tag, index=0)])


def cust(network="ethereum", address=CUST, memo=None, ledger=()):
    return {"addresses": [{"network": network, "asset": "USDT", "address": address, "memo": memo}], "ledger": list(ledger)}


NF = lambda n: ChainFacts(network=n, txid=TX, found=False)

# one P2SH script in Litecoin's old (3..., shared with Bitcoin) and new (M...) encodings, one P2WPKH in
# bech32 lower and upper case, one EVM address checksummed (EIP-55) and lower-case
LTC_P2SH_OLD, LTC_P2SH_NEW = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "MQMHBtvnBfxTzt3K2bdxgSE7qZPHSXWsGM"
LTC_BECH32 = "ltc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysn3s44dy"
LTC_TX = "cd" * 32


def ltc_facts(recipient, amount="1.5"):
    return ChainFacts(network="litecoin", txid=LTC_TX, found=True, status="confirmed", block=100, tip=119, confirmations=20,
                      transfers=[Transfer(recipient=recipient, asset="LTC", amount=amount, index=0)])

CASES = [
    # id, facts, customer, claimed, expected code
    ("credited", {"ethereum": eth_facts()}, cust(ledger=[{"txid": TX, "network": "ethereum", "asset": "USDT", "amount": "1000", "output_index": 0, "status": "credited"}]), "ethereum", "credited"),
    ("manual_credit", {"ethereum": eth_facts()}, cust(), "ethereum", "needs_manual_credit"),
    ("ledger_other_log_index", {"ethereum": eth_facts()}, cust(ledger=[{"txid": TX, "network": "ethereum", "output_index": 5, "status": "credited"}]), None, "needs_manual_credit"),
    ("pending", {"ethereum": eth_facts(status="pending")}, cust(), "ethereum", "pending"),
    ("few_confirmations", {"ethereum": eth_facts(confs=3)}, cust(), "ethereum", "insufficient_confirmations"),
    ("failed", {"ethereum": eth_facts(status="failed", failure="reverted")}, cust(), "ethereum", "failed"),
    ("wrong_address", {"ethereum": eth_facts(transfers=[usdt(recipient=OTHER)])}, cust(), "ethereum", "wrong_address"),
    ("unlisted_token", {"ethereum": eth_facts(transfers=[usdt(contract="0x" + "99" * 20)])}, cust(), "ethereum", "unsupported_token"),
    ("below_minimum", {"ethereum": eth_facts(transfers=[usdt(raw="5000000")])}, cust(), "ethereum", "below_minimum"),
    ("not_found", {"ethereum": NF("ethereum"), "bsc": NF("bsc")}, cust(), "ethereum", "not_found"),
    ("wrong_network_bsc", {"ethereum": NF("ethereum"), "bsc": eth_facts(network="bsc", chain_id=56, transfers=[usdt(contract=BSC_USDT, raw="1000" + "0" * 18)])}, cust(), "ethereum", "wrong_network"),
    ("other_chain_contract", {"ethereum": eth_facts(transfers=[usdt(contract=BSC_USDT)])}, cust(), "ethereum", "wrong_network"),
    ("unsupported_network", {"polygon": eth_facts(network="polygon", chain_id=137)}, cust(), None, "wrong_network"),
    ("xrp_missing_tag", {"xrp": xrp_facts(tag=None)}, cust("xrp", XRP_HOT, "42"), "xrp", "missing_memo"),
    ("xrp_wrong_tag", {"xrp": xrp_facts(tag="7")}, cust("xrp", XRP_HOT, "42"), "xrp", "wrong_memo"),
    ("xrp_ok_tag", {"xrp": xrp_facts(tag="42")}, cust("xrp", XRP_HOT, "42"), "xrp", "needs_manual_credit"),
    ("xrp_below_min", {"xrp": xrp_facts(amount="1")}, cust("xrp", XRP_HOT, "42"), "xrp", "below_minimum"),
    ("ltc_p2sh_new_form_paid_old_form_registered", {"litecoin": ltc_facts(LTC_P2SH_NEW)}, cust("litecoin", LTC_P2SH_OLD), "litecoin", "needs_manual_credit"),
    ("ltc_p2sh_old_form_paid_new_form_registered", {"litecoin": ltc_facts(LTC_P2SH_OLD)}, cust("litecoin", LTC_P2SH_NEW), "litecoin", "needs_manual_credit"),
    ("ltc_bech32_upper_case_registered", {"litecoin": ltc_facts(LTC_BECH32)}, cust("litecoin", LTC_BECH32.upper()), "litecoin", "needs_manual_credit"),
    ("ltc_other_script_is_still_wrong", {"litecoin": ltc_facts(LTC_BECH32)}, cust("litecoin", LTC_P2SH_NEW), "litecoin", "wrong_address"),
    ("evm_checksum_case_registered", {"ethereum": eth_facts()}, cust(address="0x2ae6D1401Af58F9fBe2EDa032b8494D519Af5813"), "ethereum", "needs_manual_credit"),
    ("dropped", {"ethereum": eth_facts(status="dropped")}, cust(), "ethereum", "dropped"),
    ("dropped_whoever_it_paid", {"litecoin": ChainFacts(**{**ltc_facts(LTC_BECH32).__dict__, "status": "dropped", "block": None, "confirmations": None})}, cust("litecoin", LTC_P2SH_NEW), "litecoin", "dropped"),
    ("ledger_not_checked", {"ethereum": eth_facts()}, dict(cust(), ledger=None), "ethereum", "check_ledger"),
    ("no_customer_no_ledger", {"ethereum": eth_facts()}, None, "ethereum", "check_ledger"),
    ("no_customer_ledger_from_the_server", {"ethereum": eth_facts()}, {"ledger": [{"txid": TX.upper(), "network": "ethereum", "output_index": 0, "status": "credited"}]}, None, "credited"),
    ("no_customer_checked_ledger_no_row", {"ethereum": eth_facts()}, {"ledger": []}, None, "needs_manual_credit"),
    ("ledger_row_of_another_customer", {"ethereum": eth_facts()}, dict(cust(ledger=[{"txid": TX, "network": "ethereum", "output_index": 0, "status": "credited", "customer_id": 9}]), id=3), "ethereum", "check_ledger"),
    ("ledger_row_of_this_customer", {"ethereum": eth_facts()}, dict(cust(ledger=[{"txid": TX, "network": "ethereum", "output_index": 0, "status": "credited", "customer_id": 3}]), id=3), "ethereum", "credited"),
    ("no_customer_claim_mismatch", {"bsc": eth_facts(network="bsc", chain_id=56)}, None, "ethereum", "wrong_network"),
]


@pytest.mark.parametrize("facts,customer,claimed,code", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_verdict_table(facts, customer, claimed, code):
    v = diagnose(facts, default_asset_config(), customer, claimed)
    assert v.code == code, v.explanation
    assert v.macro == MACROS[code]
    assert isinstance(v.recoverable, bool) and v.recoverable_note
    d = v.to_dict()
    json.dumps(d)  # JSON-serialisable as documented
    assert Verdict.from_dict(json.loads(json.dumps(d))).to_dict() == d
    for key in ("network", "block", "confirmations", "required_confirmations", "asset", "contract", "amount", "recipient", "memo"):
        assert key in d["evidence"]


def test_evidence_of_a_manual_credit():
    v = diagnose({"ethereum": eth_facts(confs=20)}, default_asset_config(), cust(), "ethereum")
    e = v.evidence
    assert (e.network, e.block, e.confirmations, e.required_confirmations) == ("ethereum", 100, 20, 12)
    assert (e.asset, e.contract, e.amount, e.recipient) == ("USDT", USDT, "1000", CUST)
    assert v.recoverable is True


def test_a_ledger_record_stuck_short_of_credited_is_named_in_the_note():
    ledger = [{"txid": TX, "network": "ethereum", "asset": "USDT", "amount": "1000", "output_index": 0, "status": "pending"}]
    v = diagnose({"ethereum": eth_facts()}, default_asset_config(), cust(ledger=ledger), "ethereum")
    assert v.code == "needs_manual_credit" and v.evidence.ledger_status == "pending"
    assert "'pending'" in v.explanation and "'pending'" in v.recoverable_note and "no ledger record" not in v.recoverable_note
    assert "no ledger record" in diagnose({"ethereum": eth_facts()}, default_asset_config(), cust(), "ethereum").recoverable_note


def test_several_transfers_reports_the_actionable_one():
    fake = usdt(contract="0x" + "77" * 20, index=1)
    v = diagnose({"ethereum": eth_facts(transfers=[fake, usdt(index=2)])}, default_asset_config(), cust(), "ethereum")
    assert v.code == "needs_manual_credit" and v.evidence.index == 2
    assert len(v.transfers) == 2


def test_every_code_has_a_stable_macro():
    assert set(CODES) == set(MACROS) and len(set(MACROS.values())) == len(CODES)
    assert all(m.startswith("deposit_") for m in MACROS.values())


def test_hostile_strings_are_cleaned():
    evil = Transfer(recipient=CUST, contract="0x" + "99" * 20, raw_amount="1\x1b[31m[bold]x\u202e", index=0, kind="token")
    f = eth_facts(transfers=[evil])
    f.failure_reason = "boom\x00\x07"
    v = diagnose({"ethereum": f}, default_asset_config(), cust(), "ethereum")
    assert "\x1b" not in v.explanation and "\u202e" not in v.explanation
    assert all(ord(c) >= 32 for c in v.explanation)


def test_escape_sequences_go_with_their_payloads():
    # an OSC 8 link / OSC 52 clipboard write in chain data: no trace of the URL or the payload, lines folded
    f = eth_facts(status="failed", failure="\x1b]8;;https://phish.example\x1b\\revert\x1b]8;;\x1b\\\n\x1b]52;c;cGF3bmVk\x07ed\ufeff\U000e0041")
    v = diagnose({"ethereum": f}, default_asset_config(), cust(), "ethereum")
    assert v.code == "failed" and v.evidence.failure_reason == "revert ed"
    assert "phish" not in v.explanation and "cGF3bmVk" not in v.explanation and "revert ed" in v.explanation


def test_final_flag_only_for_settled_facts():
    assert diagnose({"ethereum": eth_facts(confs=100)}, default_asset_config(), cust(), "ethereum").final is True
    assert diagnose({"ethereum": eth_facts(confs=3)}, default_asset_config(), cust(), "ethereum").final is False
    assert diagnose({"ethereum": eth_facts(status="pending")}, default_asset_config(), cust(), "ethereum").final is False


def test_not_found_mentions_unreachable_networks():
    f = ChainFacts(network="bsc", txid=TX, found=False, error="bsc: cannot connect")
    v = diagnose({"ethereum": NF("ethereum"), "bsc": f}, default_asset_config(), None, None)
    assert v.code == "not_found" and "bsc" in v.explanation and v.probes["bsc"].startswith("error:")


def test_every_verdict_names_a_macro_that_exists():
    from agent_tui.chains.diagnose import CODES, MACROS
    from agent_tui.macros.defaults import default_macros

    keys = {m.key for m in default_macros()}
    assert {MACROS[c][0] if isinstance(MACROS[c], tuple) else MACROS[c] for c in CODES} <= keys


def test_listed_token_transfers_carry_asset_and_whole_units_as_the_readme_says():
    from agent_tui.chains.config import default_asset_config
    from agent_tui.chains.diagnose import diagnose
    from agent_tui.chains.facts import ChainFacts, Transfer

    usdt = "0xdac17f958d2ee523a2206206994597c13d831ec7"
    to = "0x2ae6d1401af58f9fbe2eda032b8494d519af5813"
    facts = ChainFacts(network="ethereum", txid="0x" + "ab" * 32, found=True, status="confirmed", block=100, tip=200,
                       confirmations=101, final=True,
                       transfers=[Transfer(recipient=to, contract=usdt, raw_amount="1000000000", index=3, kind="token")])
    v = diagnose({"ethereum": facts}, default_asset_config(), {"addresses": [{"network": "ethereum", "address": to}], "ledger": []})
    assert v.to_dict()["transfers"][0]["asset"] == "USDT" and v.to_dict()["transfers"][0]["amount"] == "1000"


def test_wrong_address_evidence_is_the_payment_not_the_senders_change():
    # output 0 is change back to the address that funded the tx, output 1 the payment to a stranger
    change = Transfer(recipient=LTC_P2SH_NEW, asset="LTC", amount="3.2", index=0, change=True)
    paid = Transfer(recipient=LTC_BECH32, asset="LTC", amount="0.5", index=1)
    f = ltc_facts(LTC_P2SH_NEW)
    f.transfers = [change, paid]
    v = diagnose({"litecoin": f}, default_asset_config(), cust("litecoin", "ltc1q" + "q" * 38), "litecoin")
    assert v.code == "wrong_address"
    assert (v.evidence.recipient, v.evidence.amount, v.evidence.index) == (LTC_BECH32, "0.5", 1)
    assert f"pays 0.5 LTC to {LTC_BECH32};" in v.explanation
    assert f"3.2 LTC to {LTC_P2SH_NEW} goes back to the sender as change" in v.explanation
    assert [t["change"] for t in v.transfers] == [True, False]


def test_without_an_address_the_senders_change_is_not_judged_a_deposit():
    change = Transfer(recipient=LTC_P2SH_NEW, asset="LTC", amount="3.2", index=0, change=True)
    paid = Transfer(recipient=LTC_BECH32, asset="LTC", amount="0.0005", index=1)
    f = ltc_facts(LTC_P2SH_NEW)
    f.transfers = [change, paid]
    v = diagnose({"litecoin": f}, default_asset_config(), None, "litecoin")
    assert v.code == "below_minimum" and v.evidence.recipient == LTC_BECH32  # not the 3.2 LTC of change


@pytest.mark.parametrize("facts,customer,claimed,code", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_verdict_without_the_ledger_never_suggests_a_credit(facts, customer, claimed, code):
    v = diagnose(facts, default_asset_config(), customer, claimed)
    assert v.ledger_checked == ((customer or {}).get("ledger") is not None)
    if not v.ledger_checked:
        assert v.code not in ("needs_manual_credit", "credited")
        if v.code == "check_ledger":
            assert v.recoverable is False and "before" in v.explanation and "credit" in v.recoverable_note
