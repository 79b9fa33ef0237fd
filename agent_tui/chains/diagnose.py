"""Diagnosis: on-chain facts + the exchange's asset config + the customer's context -> one Verdict.

Pure: no I/O, no clock. Verdict codes and macro keys are stable strings (they appear in JSON).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, Optional, Sequence

from .addresses import normalize_address
from .config import network_entry, networks_from
from .errors import clean
from .facts import DROPPED, FAILED, PENDING, ChainFacts, Transfer
from .providers.common import fmt_units

SCHEMA_VERSION = 1

CREDITED = "credited"
PENDING_CODE = "pending"
INSUFFICIENT_CONFIRMATIONS = "insufficient_confirmations"
FAILED_CODE = "failed"
WRONG_ADDRESS = "wrong_address"
MISSING_MEMO = "missing_memo"
WRONG_MEMO = "wrong_memo"
WRONG_NETWORK = "wrong_network"
UNSUPPORTED_TOKEN = "unsupported_token"
BELOW_MINIMUM = "below_minimum"
NOT_FOUND = "not_found"
NEEDS_MANUAL_CREDIT = "needs_manual_credit"
DROPPED_CODE = "dropped"
CHECK_LEDGER = "check_ledger"

# code -> (macro key, recoverable under policy, policy note)
POLICY: dict[str, tuple[str, bool, str]] = {
    CREDITED: ("deposit_credited", False, "Already credited to the customer's account; nothing to recover."),
    PENDING_CODE: ("deposit_pending", True, "Not yet in a block; it credits automatically once confirmed. No action needed."),
    INSUFFICIENT_CONFIRMATIONS: ("deposit_insufficient_confirmations", True, "Credits automatically when the required confirmations are reached. No action needed."),
    FAILED_CODE: ("deposit_failed", False, "The transaction failed on-chain and moved no funds; the sender keeps them (minus the network fee)."),
    WRONG_ADDRESS: ("deposit_wrong_address", False, "Sent to an address that is not the customer's deposit address; recovery is discretionary and only if the address is exchange-controlled."),
    MISSING_MEMO: ("deposit_missing_memo", True, "Recoverable for listed coins with token, sender, amount and txid; a recovery fee may apply."),
    WRONG_MEMO: ("deposit_wrong_memo", True, "Recoverable for listed coins with token, sender, amount and txid; a recovery fee may apply."),
    WRONG_NETWORK: ("deposit_wrong_network", True, "Discretionary recovery by the recovery team if the receiving address is exchange-controlled on that network; a fee applies."),
    UNSUPPORTED_TOKEN: ("deposit_unsupported_token", True, "Unlisted token: recovery is discretionary, case by case, with an admin fee; fake tokens are never credited."),
    BELOW_MINIMUM: ("deposit_below_minimum", False, "Deposits below the minimum are not credited under policy."),
    NOT_FOUND: ("deposit_not_found", False, "Nothing on-chain to recover; ask for the correct txid and network."),
    NEEDS_MANUAL_CREDIT: ("deposit_needs_manual_credit", True, "Valid deposit with no ledger record: credit manually after the back-office check."),
    CHECK_LEDGER: ("deposit_check_ledger", False, "Valid and confirmed on-chain, but the ledger was not checked: check it in the back office before anything is credited (it may already be). Not a credit instruction."),
    DROPPED_CODE: ("deposit_dropped", False, "It will not arrive: the transaction is in no block of the best chain and no longer waiting to be mined (reorganised out and its coins spent elsewhere, or replaced with the same nonce). The sender keeps the funds and must send again; nothing to credit."),
}
CODES = tuple(POLICY)
MACROS = {code: p[0] for code, p in POLICY.items()}

# when several transfers in one tx go to the customer, report the most actionable one
_PRIORITY = [NEEDS_MANUAL_CREDIT, CHECK_LEDGER, INSUFFICIENT_CONFIRMATIONS, PENDING_CODE, MISSING_MEMO, WRONG_MEMO,
             BELOW_MINIMUM, UNSUPPORTED_TOKEN, WRONG_NETWORK, CREDITED]


@dataclass
class Evidence:
    network: Optional[str] = None
    chain_id: Optional[int] = None
    status: Optional[str] = None
    block: Optional[int] = None
    tip: Optional[int] = None
    confirmations: Optional[int] = None
    required_confirmations: Optional[int] = None
    final: bool = False
    asset: Optional[str] = None
    contract: Optional[str] = None
    amount: Optional[str] = None
    min_deposit: Optional[str] = None
    recipient: Optional[str] = None
    memo: Optional[str] = None
    expected_memo: Optional[str] = None
    index: Optional[int] = None
    failure_reason: Optional[str] = None
    ledger_status: Optional[str] = None


@dataclass
class Verdict:
    code: str
    explanation: str
    evidence: Evidence
    recoverable: bool
    recoverable_note: str
    macro: str
    txid: str = ""
    network: Optional[str] = None
    claimed_network: Optional[str] = None
    final: bool = False  # the chain facts behind it cannot change any more (cacheable for good)
    transfers: list[dict] = field(default_factory=list)
    probes: dict[str, str] = field(default_factory=dict)  # network -> found | not_found | error: ...
    ledger_checked: bool = False  # the exchange's deposit ledger was consulted for this verdict
    ledger_note: str = ""  # where the ledger came from, or why it was not checked (one line)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["schema_version"] = SCHEMA_VERSION
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Verdict":
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        kw["evidence"] = Evidence(**{k: v for k, v in (d.get("evidence") or {}).items() if k in Evidence.__dataclass_fields__})
        return cls(**kw)


# --- helpers --------------------------------------------------------------------------------


def _make(code: str, explanation: str, ev: Evidence, *, facts: Optional[ChainFacts] = None, txid: str = "",
          claimed: Optional[str] = None, transfers: Sequence[Transfer] = (), probes: Optional[dict] = None,
          note: Optional[str] = None, recoverable: Optional[bool] = None) -> Verdict:
    macro, rec, default_note = POLICY[code]
    final = bool(facts is not None and facts.found and facts.final and code not in (PENDING_CODE, INSUFFICIENT_CONFIRMATIONS))
    return Verdict(
        code=code,
        explanation=clean(explanation, 600),
        evidence=ev,
        recoverable=rec if recoverable is None else recoverable,
        recoverable_note=clean(note or default_note, 300),
        macro=macro,
        txid=clean(facts.txid if facts else txid, 100),
        network=facts.network if facts else None,
        claimed_network=claimed,
        final=final,
        transfers=[_clean_transfer(t) for t in transfers],
        probes=dict(probes or {}),
    )


def _clean_transfer(t: Transfer) -> dict:
    return {k: (clean(v, 120) if isinstance(v, str) else v) for k, v in t.to_dict().items()}


def _s(v: Any, limit: int = 80) -> str:
    return clean("" if v is None else v, limit)


def _dec(v: Any) -> Optional[Decimal]:
    try:
        d = Decimal(str(v))
        return d if d.is_finite() else None
    except (InvalidOperation, ValueError, TypeError):
        return None


def _norm_txid(t: Any) -> str:
    s = str(t or "").strip().lower()
    return s[2:] if s.startswith("0x") else s


def _contract_key(contract: Optional[str], family: str) -> Optional[str]:
    if contract is None:
        return None
    return contract.lower() if family == "evm" else contract


def _find_asset(entry: Optional[Mapping], t: Transfer, family: str) -> Optional[Mapping]:
    if not entry:
        return None
    for a in entry.get("assets") or []:
        if t.kind == "native" and t.contract is None:
            if a.get("contract") is None and (t.asset is None or a.get("asset") == t.asset):
                return a
        elif a.get("contract") is not None and _contract_key(str(a["contract"]), family) == _contract_key(t.contract, family):
            return a
    return None


def _listed_elsewhere(asset_config: Mapping, network: str, t: Transfer, families: Mapping[str, str]) -> Optional[tuple[str, str]]:
    if t.contract is None:
        return None
    for entry in asset_config.get("networks") or []:
        other = str(entry.get("network") or "").lower()
        if other == network:
            continue
        fam = families.get(other, "")
        for a in entry.get("assets") or []:
            if a.get("contract") is not None and _contract_key(str(a["contract"]), fam) == _contract_key(t.contract, fam):
                return other, str(a.get("asset") or "?")
    return None


def _with_amount(t: Transfer, asset: Optional[Mapping]) -> Transfer:
    """A copy with asset and a whole-unit amount from the listing's decimals (tokens)."""
    if asset is None:
        return t
    amount = t.amount
    if amount is None and t.raw_amount is not None:
        try:
            amount = fmt_units(int(t.raw_amount), int(asset.get("decimals") or 0))
        except (ValueError, TypeError):
            amount = None
    return Transfer(**{**t.to_dict(), "asset": asset.get("asset") or t.asset, "amount": amount})


def _addresses(customer: Mapping, network: str) -> list[Mapping]:
    """The customer's addresses for `network`; a bare --address (no network) fits whatever its format fits."""
    return [a for a in customer.get("addresses") or []
            if a.get("address") and (a.get("network") is None or str(a["network"]).lower() == network)]


def _matches(t: Transfer, addrs: list[Mapping], family: str) -> list[Mapping]:
    r = normalize_address(t.recipient, family)
    return [a for a in addrs if r is not None and normalize_address(str(a["address"]), family) == r]


def _evidence(f: ChainFacts, required: Optional[int], t: Optional[Transfer] = None, **extra: Any) -> Evidence:
    ev = Evidence(network=f.network, chain_id=f.chain_id, status=f.status, block=f.block, tip=f.tip,
                  confirmations=f.confirmations, required_confirmations=required, final=f.final,
                  failure_reason=_s(f.failure_reason, 200) or None)
    if t is not None:
        ev.asset, ev.contract, ev.amount = t.asset, t.contract, t.amount if t.amount is not None else t.raw_amount
        ev.recipient, ev.memo, ev.index = _s(t.recipient, 120), (_s(t.memo, 40) if t.memo is not None else None), t.index
    for k, v in extra.items():
        setattr(ev, k, v)
    return ev


def _payees(transfers: list[Transfer]) -> list[Transfer]:
    """The transfers that pay somebody: not the sender's change (all of them when every one is change)."""
    out = [t for t in transfers if not t.change]
    return out or list(transfers)


def _subject(transfers: list[Transfer]) -> Optional[Transfer]:
    """The payment a verdict about the whole transaction is about: its only payee, else the largest."""
    payees = _payees(transfers)
    if len(payees) <= 1:
        return payees[0] if payees else None
    return max(payees, key=lambda t: (_dec(t.amount) or Decimal(0), _dec(t.raw_amount) or Decimal(0)))


def _payment_text(t: Transfer, entry: Optional[Mapping], family: str) -> str:
    t = _with_amount(t, _find_asset(entry, t, family))
    what = _s(t.asset) if t.asset else (f"token {_s(t.contract, 60)}" if t.contract else "")
    amount = _s(t.amount) if t.amount is not None else (f"{_s(t.raw_amount)} raw units" if t.raw_amount is not None else "")
    return " ".join(x for x in (amount, what) if x) + f" to {_s(t.recipient, 70)}" if (amount or what) else _s(t.recipient, 70)


def _recipients_text(transfers: list[Transfer], entry: Optional[Mapping], family: str, limit: int = 6) -> tuple[str, str]:
    """Who the transaction pays, plainly ("0.5 LTC to X and 1 LTC to Y"), and apart from it the change it
    sends back to the sender ("" when none)."""
    payees = _payees(transfers)
    change = [t for t in transfers if t.change and t not in payees]
    parts = [_payment_text(t, entry, family) for t in payees[:limit]]
    if len(payees) > limit:
        parts.append(f"{len(payees) - limit} more")
    paid = " and ".join(parts) if len(parts) <= 2 else ", ".join(parts[:-1]) + " and " + parts[-1]
    back = " and ".join(_payment_text(t, entry, family) for t in change[:2])
    return paid, (f" {back[0].upper()}{back[1:]} goes back to the sender as change." if back else "")


def _probe_summary(facts_by_network: Mapping[str, ChainFacts]) -> dict[str, str]:
    out = {}
    for n, f in facts_by_network.items():
        out[n] = f"error: {_s(f.error, 160)}" if f.error else ("found" if f.found else "not_found")
    return out


# --- the diagnosis --------------------------------------------------------------------------


def diagnose(
    facts_by_network: Mapping[str, ChainFacts],
    asset_config: Mapping[str, Any],
    customer_context: Optional[Mapping[str, Any]] = None,
    claimed_network: Optional[str] = None,
) -> Verdict:
    """customer_context: {"addresses": [...], "ledger": [...] or None}; a ledger of None was not checked,
    and then no verdict suggests a credit (check_ledger instead of needs_manual_credit)."""
    v = _diagnose(facts_by_network, asset_config, customer_context, claimed_network)
    v.ledger_checked = (customer_context or {}).get("ledger") is not None
    return v


def _diagnose(
    facts_by_network: Mapping[str, ChainFacts],
    asset_config: Mapping[str, Any],
    customer_context: Optional[Mapping[str, Any]],
    claimed_network: Optional[str],
) -> Verdict:
    customer = customer_context or {}
    claimed = str(claimed_network).lower() if claimed_network else None
    nets = networks_from(asset_config)
    families = {n: d.family for n, d in nets.items()}
    probes = _probe_summary(facts_by_network)
    found = [f for f in facts_by_network.values() if f.found and not f.error]
    any_txid = next((f.txid for f in facts_by_network.values() if f.txid), "")

    if not found:
        where = ", ".join(sorted(n for n, f in facts_by_network.items() if not f.error)) or "no network"
        failed = sorted(n for n, f in facts_by_network.items() if f.error)
        more = f" Could not check {', '.join(failed)} (endpoint error)." if failed else ""
        return _make(NOT_FOUND, f"The transaction was not found on {where}.{more} Check the txid and the network the customer used.",
                     Evidence(network=claimed), txid=any_txid, claimed=claimed, probes=probes)

    # the network the tx is on: the claim if it is there, else one where it pays the customer, else the first
    def pays_customer(f: ChainFacts) -> bool:
        fam = families.get(f.network, "")
        return any(_matches(t, _addresses(customer, f.network), fam) for t in f.transfers)

    f = next((x for x in found if x.network == claimed), None) or next((x for x in found if pays_customer(x)), None) or found[0]
    net = f.network
    fam = families.get(net, "")
    entry = network_entry(asset_config, net)
    required = int(entry.get("required_confirmations") or 1) if entry else None
    common: dict[str, Any] = dict(facts=f, claimed=claimed, probes=probes)
    claim_note = f" (the customer said {claimed})" if claimed and claimed != net else ""

    if f.status == FAILED:
        t = _subject(f.transfers)
        return _make(FAILED_CODE, f"The transaction failed on {net}{claim_note}: {_s(f.failure_reason, 160)}. No funds moved to the recipient.",
                     _evidence(f, required, t), transfers=f.transfers, **common)

    addrs = _addresses(customer, net)
    has_addresses = bool(customer.get("addresses"))
    if f.status == DROPPED:
        t = next((x for x in f.transfers if _matches(x, addrs, fam)), None) or _subject(f.transfers)
        return _make(DROPPED_CODE, f"The transaction on {net}{claim_note} will not arrive: it is in no block of the best chain and no longer "
                                   "waiting to be mined (reorganised out and its coins spent by another transaction, or replaced by one "
                                   "with the same nonce). It is not pending; the sender must send again.",
                     _evidence(f, required, t), transfers=f.transfers, **common)
    if entry is None:
        t = _subject(f.transfers)
        own = any(_matches(x, [a for a in customer.get("addresses") or [] if families.get(str(a.get("network") or "").lower(), fam) == fam], fam)
                  for x in f.transfers)
        return _make(WRONG_NETWORK, f"The transaction is on {net}{claim_note}, a network the exchange does not accept deposits on.",
                     _evidence(f, required, t), transfers=f.transfers, recoverable=own,
                     note=None if own else "The exchange does not support this network and the recipient is not a known deposit address: not recoverable by us.", **common)

    if has_addresses:
        paying = [t for t in f.transfers if _matches(t, addrs, fam)]
        if not paying:
            # same address registered for another network of the family (EVM): sent on the wrong chain
            others = [a for a in customer.get("addresses") or [] if a.get("network") and str(a["network"]).lower() != net
                      and families.get(str(a["network"]).lower()) == fam]
            elsewhere = [t for t in f.transfers if _matches(t, others, fam)]
            if elsewhere:
                t = elsewhere[0]
                reg = ", ".join(sorted({str(a["network"]).lower() for a in _matches(t, others, fam)}))
                return _make(WRONG_NETWORK, f"The transaction is on {net}{claim_note} but the customer's address {_s(t.recipient)} is registered for {reg}, not {net}.",
                             _evidence(f, required, t), transfers=f.transfers, **common)
            # the evidence describes the payment the verdict is about, never the sender's change
            t = _subject(f.transfers)
            if t is None:
                return _make(WRONG_ADDRESS, f"The transaction on {net} pays nobody (no transfer in it), so no deposit address of this customer.",
                             _evidence(f, required), **common)
            many = len(_payees(f.transfers)) > 1
            paid, back = _recipients_text(f.transfers, entry, fam)
            return _make(WRONG_ADDRESS, f"The transaction on {net} pays {paid}; "
                                        f"{'none of these is' if many else 'that is not'} a deposit address of this customer.{back}",
                         _evidence(f, required, t), transfers=f.transfers, **common)
    else:
        if claimed and net != claimed:
            t = _subject(f.transfers)
            return _make(WRONG_NETWORK, f"The transaction is on {net}, not on {claimed} as the customer said.",
                         _evidence(f, required, t), transfers=f.transfers, **common)
        paying = _payees(f.transfers)  # the sender's change is no deposit
        if not paying:
            return _make(WRONG_ADDRESS, f"The transaction on {net} transfers nothing to anybody (not a payment).",
                         _evidence(f, required), **common)

    results: list[Verdict] = []
    for t in paying:
        results.append(_judge(t, f, entry, required, customer, addrs, fam, families, asset_config, common, claim_note))
    results.sort(key=lambda v: _PRIORITY.index(v.code) if v.code in _PRIORITY else len(_PRIORITY))
    best = results[0]
    best.transfers = [_clean_transfer(_with_amount(t, _find_asset(entry, t, fam))) for t in paying]  # whole units, as documented
    if not has_addresses:
        best.explanation = clean(best.explanation + " The recipient was not compared with a deposit address (none given).", 700)
    return best


def _judge(t: Transfer, f: ChainFacts, entry: Mapping, required: Optional[int], customer: Mapping, addrs: list[Mapping],
           fam: str, families: Mapping[str, str], asset_config: Mapping, common: dict, claim_note: str) -> Verdict:
    net = f.network
    asset = _find_asset(entry, t, fam)
    if asset is None:
        t_ev = _evidence(f, required, t)
        other = _listed_elsewhere(asset_config, net, t, families)
        if other:
            return _make(WRONG_NETWORK, f"Token contract {_s(t.contract)} is the {other[1]} contract on {other[0]}, not a listed token on {net}.",
                         t_ev, **common)
        what = f"token contract {_s(t.contract)}" if t.contract else f"{_s(t.asset)}"
        return _make(UNSUPPORTED_TOKEN, f"The customer received {what} on {net}, which the exchange does not list (this also catches fake tokens named like listed ones). Amount in raw units: {_s(t.raw_amount or t.amount)}.",
                     t_ev, **common)
    t = _with_amount(t, asset)
    ev = _evidence(f, required, t, min_deposit=str(asset.get("min_deposit")) if asset.get("min_deposit") is not None else None)
    sym = _s(asset.get("asset"))

    if entry.get("memo_required"):
        wanted = [a.get("memo") for a in _matches(t, addrs, fam)] if addrs else []
        known = [str(m) for m in wanted if m not in (None, "")]
        ev.expected_memo = _s(known[0], 40) if known else None
        if t.memo in (None, ""):
            return _make(MISSING_MEMO, f"The {sym} payment on {net} has no memo/destination tag, which this network requires to identify the customer.",
                         ev, **common)
        if known and str(t.memo) not in known:
            return _make(WRONG_MEMO, f"The {sym} payment on {net} carries tag {_s(t.memo, 40)}, but the customer's tag is {_s(known[0], 40)}.",
                         ev, **common)

    amount, minimum = _dec(t.amount), _dec(asset.get("min_deposit"))
    if amount is not None and minimum is not None and amount < minimum:
        return _make(BELOW_MINIMUM, f"{_s(t.amount)} {sym} on {net} is below the minimum deposit of {_s(asset.get('min_deposit'))} {sym}.",
                     ev, **common)

    if f.status == PENDING:
        return _make(PENDING_CODE, f"The {_s(t.amount)} {sym} transfer on {net}{claim_note} is not in a block yet (pending).", ev, **common)

    enough = (f.confirmations >= (required or 1)) if (f.confirmations is not None and f.tip is not None) else f.final
    if not enough:
        have = f.confirmations if f.confirmations is not None else 0
        return _make(INSUFFICIENT_CONFIRMATIONS, f"The {_s(t.amount)} {sym} transfer on {net} has {have} of the {required} confirmations required; it credits automatically when reached.",
                     ev, **common)

    ledger = customer.get("ledger")
    if ledger is not None:
        for rec in ledger:
            if _norm_txid(rec.get("txid")) != _norm_txid(f.txid):
                continue
            if rec.get("network") and str(rec["network"]).lower() != net:
                continue
            idx = rec.get("output_index")
            if idx is not None and t.index is not None and idx != t.index:
                continue
            ev.ledger_status = _s(rec.get("status"), 30)
            owner, me = rec.get("customer_id"), customer.get("id")
            if owner is not None and me is not None and str(owner) != str(me):
                # the server's ledger holds every customer's rows: this one is somebody else's account
                return _make(CHECK_LEDGER, f"The ledger records this {_s(t.amount)} {sym} deposit on {net} as {ev.ledger_status!r} for customer "
                                           f"#{_s(owner, 20)}, not this customer (#{_s(me, 20)}): check in the back office before answering or crediting.",
                             ev, note="Recorded for another customer's account: investigate in the back office; not a credit instruction.", **common)
            if rec.get("status") == "credited":
                return _make(CREDITED, f"{_s(rec.get('amount') or t.amount)} {sym} from this transaction was credited to the customer's account.", ev, **common)
            return _make(NEEDS_MANUAL_CREDIT, f"The {_s(t.amount)} {sym} deposit on {net} is valid and confirmed, but the ledger record is {ev.ledger_status!r}, not credited.",
                         ev, note=f"Valid deposit whose ledger record is stuck at {ev.ledger_status!r}: credit manually after the back-office check.",
                         **common)
        return _make(NEEDS_MANUAL_CREDIT, f"The {_s(t.amount)} {sym} deposit on {net}{claim_note} is valid, to the customer's address and confirmed ({f.confirmations if f.confirmations is not None else 'validated'}), but there is no ledger record of it.",
                     ev, **common)
    return _make(CHECK_LEDGER, f"The {_s(t.amount)} {sym} deposit on {net}{claim_note} is valid and confirmed, but the ledger was not checked: "
                               "check in the back office whether it is already credited before crediting anything.",
                 ev, **common)
