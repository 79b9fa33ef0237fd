"""Which networks to probe for a txid, from its format, the claimed network and the deposit address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

from .addresses import ParsedTxid, parse_address, parse_txid
from .config import NetworkDef, env_name
from .errors import InvalidInput, clean


@dataclass(frozen=True)
class Candidates:
    txid: ParsedTxid
    primary: tuple[str, ...]  # probed first, in parallel
    fallback: tuple[str, ...]  # probed (in parallel) only when nothing was found in primary


def candidate_networks(
    txid: str,
    networks: Mapping[str, NetworkDef],
    *,
    claimed: Optional[str] = None,
    address: Optional[str] = None,
    available: Optional[Iterable[str]] = None,
) -> Candidates:
    """Pure: no I/O. Raises InvalidInput for a malformed txid/address or an unknown network."""
    parsed = parse_txid(txid)
    avail = set(networks if available is None else available)
    claimed_def = None
    if claimed is not None:
        key = str(claimed).strip().lower()
        claimed_def = networks.get(key)
        if claimed_def is None:
            raise InvalidInput(f"unknown network {clean(claimed, 40)!r}; known: {', '.join(sorted(networks))}")
        if key not in avail:
            raise InvalidInput(f"no endpoint configured for {key} (set {env_name(key)})")
    addr_fams: tuple[str, ...] = parse_address(address).families if address else ()

    if parsed.kind == "evm":
        # 0x + 64 hex is an EVM hash; a claimed non-EVM network still gets probed (pasted with 0x)
        fams = {"evm"} | ({claimed_def.family} if claimed_def else set())
    else:
        fams = {"bitcoin", "litecoin", "dogecoin", "tron", "xrp"}
        # a bare 64-hex could be an EVM hash without 0x: only worth probing when something points to EVM
        if (claimed_def and claimed_def.family == "evm") or "evm" in addr_fams:
            fams.add("evm")
    compat = [n for n, d in networks.items() if d.family in fams and n in avail]

    if claimed_def is not None:
        # the claimed network, its siblings (an EVM hash may be on any EVM chain: wrong network),
        # and whatever the deposit address points to
        want = {claimed_def.family} if claimed_def.family == "evm" else set()
        primary = [n for n in compat if n == claimed_def.name or networks[n].family in want or networks[n].family in addr_fams]
    elif addr_fams:
        primary = [n for n in compat if networks[n].family in addr_fams]
    else:
        primary = list(compat)
    if claimed_def is not None and claimed_def.name in primary:  # the claim first
        primary.remove(claimed_def.name)
        primary.insert(0, claimed_def.name)
    fallback = [n for n in compat if n not in primary]
    if not primary and not fallback:
        raise InvalidInput("no configured endpoint for any network this txid could be on")
    if not primary:
        primary, fallback = fallback, []
    return Candidates(parsed, tuple(primary), tuple(fallback))
