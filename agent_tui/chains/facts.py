"""Normalised on-chain facts, the same shape for every chain family."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

PENDING = "pending"
CONFIRMED = "confirmed"
FAILED = "failed"
# in no block of the best chain and not waiting to be mined: reorganised out and its coins spent by another
# transaction, or replaced by another transaction with the same sender nonce. It will not arrive.
DROPPED = "dropped"


@dataclass
class Transfer:
    """One value movement inside a transaction: a UTXO output, an ERC-20/TRC-20 log, a native send."""

    recipient: str
    asset: Optional[str] = None  # native symbol; None for a token until the asset config names it
    contract: Optional[str] = None  # token contract (EVM lower-case 0x..., Tron T..., XRP "CUR.issuer")
    amount: Optional[str] = None  # Decimal string in whole units, when the decimals are known
    raw_amount: Optional[str] = None  # integer base units (tokens whose decimals the provider cannot know)
    memo: Optional[str] = None  # XRP DestinationTag and the like
    index: Optional[int] = None  # output index (UTXO) or log index (EVM/Tron)
    sender: Optional[str] = None
    kind: str = "native"  # native | token
    change: bool = False  # pays back an address that funded the transaction (the sender's change, UTXO)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Transfer":
        kw: dict[str, Any] = {k: d.get(k) for k in cls.__dataclass_fields__ if k in d}
        return cls(**kw)


@dataclass
class ChainFacts:
    network: str
    txid: str
    found: bool
    status: Optional[str] = None  # pending | confirmed | failed
    block: Optional[int] = None
    tip: Optional[int] = None
    confirmations: Optional[int] = None  # tip - block + 1
    final: bool = False
    transfers: list[Transfer] = field(default_factory=list)
    failure_reason: Optional[str] = None
    chain_id: Optional[int] = None
    error: Optional[str] = None  # set when the probe itself failed (endpoint down...)
    invalid_data: bool = False  # the probe failed because the source answered values no chain has
    block_hash: Optional[str] = None  # the block the transaction is in, as the source named it

    def to_dict(self) -> dict:
        d = asdict(self)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ChainFacts":
        kw: dict[str, Any] = {k: d.get(k) for k in cls.__dataclass_fields__ if k in d}
        kw["transfers"] = [Transfer.from_dict(t) for t in d.get("transfers") or []]
        return cls(**kw)


def tip_at_least_block(tip: Optional[int], block: Optional[int]) -> Optional[int]:
    """A tip asked for beside the transaction may predate the block the transaction is in (it arrived
    between the two answers): the chain is at least as high as that block."""
    if tip is None or block is None:
        return tip
    return max(tip, block)


def confirmations(tip: Optional[int], block: Optional[int]) -> Optional[int]:
    if tip is None or block is None:
        return None
    return max(0, tip - block + 1)
