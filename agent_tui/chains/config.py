"""Network definitions, the exchange's asset config and the endpoint per network.

Endpoints come from a config dict or JSON file, and AGENT_TUI_RPC_<NETWORK> overrides them
(e.g. AGENT_TUI_RPC_ETHEREUM=https://...). A value may name the provider kind before the URL,
"bitcoin_rpc+http://user:pass@host:port/", or be a dict {"url": ..., "kind": ...} in the config.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from .errors import InvalidInput

KINDS = ("evm", "esplora", "bitcoin_rpc", "tron", "xrpl")
ENV_PREFIX = "AGENT_TUI_RPC_"


@dataclass(frozen=True)
class NetworkDef:
    name: str
    kind: str  # default provider kind
    family: str  # address/txid family: evm | bitcoin | litecoin | dogecoin | tron | xrp
    native_asset: str
    decimals: int
    chain_id: Optional[int] = None
    final_depth: int = 64  # confirmations after which a block is treated as final (reorg-safe)


_DEFAULT_NETWORKS = [
    NetworkDef("bitcoin", "esplora", "bitcoin", "BTC", 8, None, 6),
    NetworkDef("litecoin", "esplora", "litecoin", "LTC", 8, None, 12),
    NetworkDef("dogecoin", "bitcoin_rpc", "dogecoin", "DOGE", 8, None, 40),
    NetworkDef("ethereum", "evm", "evm", "ETH", 18, 1),
    NetworkDef("bsc", "evm", "evm", "BNB", 18, 56),
    NetworkDef("polygon", "evm", "evm", "POL", 18, 137),
    NetworkDef("arbitrum", "evm", "evm", "ETH", 18, 42161),
    NetworkDef("base", "evm", "evm", "ETH", 18, 8453),
    NetworkDef("optimism", "evm", "evm", "ETH", 18, 10),
    NetworkDef("avalanche", "evm", "evm", "AVAX", 18, 43114),
    NetworkDef("tron", "tron", "tron", "TRX", 6, None, 20),  # ~solidified
    NetworkDef("xrp", "xrpl", "xrp", "XRP", 6, None, 1),  # validated = final
]

_FAMILY_OF_KIND = {"evm": "evm", "tron": "tron", "xrpl": "xrp"}


def default_networks() -> dict[str, NetworkDef]:
    return {n.name: n for n in _DEFAULT_NETWORKS}


def networks_from(asset_config: Optional[Mapping[str, Any]] = None) -> dict[str, NetworkDef]:
    """The default definitions, overridden/extended by the asset config's networks."""
    nets = default_networks()
    for entry in (asset_config or {}).get("networks") or []:
        name = str(entry.get("network") or "").strip().lower()
        if not name:
            continue
        base = nets.get(name)
        kind = entry.get("kind") or (base.kind if base else None)
        if kind not in KINDS:
            continue
        family = (base.family if base else None) or _FAMILY_OF_KIND.get(kind) or name
        nets[name] = NetworkDef(
            name=name,
            kind=kind,
            family=family,
            native_asset=entry.get("native_asset") or (base.native_asset if base else name.upper()),
            decimals=int(entry.get("decimals") if entry.get("decimals") is not None else (base.decimals if base else 18)),
            chain_id=entry.get("chain_id") if entry.get("chain_id") is not None else (base.chain_id if base else None),
            final_depth=int(entry.get("final_depth") or (base.final_depth if base else 64)),
        )
    return nets


def default_asset_config() -> dict:
    """A realistic listing, in the JSON shape the backend serves (used by the demo seed and tests)."""
    return copy.deepcopy(_DEFAULT_ASSET_CONFIG)


_DEFAULT_ASSET_CONFIG = {
    "networks": [
        {
            "network": "bitcoin", "kind": "esplora", "chain_id": None, "native_asset": "BTC", "decimals": 8,
            "required_confirmations": 2, "memo_required": False,
            "assets": [{"asset": "BTC", "contract": None, "decimals": 8, "min_deposit": "0.0001"}],
        },
        {
            "network": "litecoin", "kind": "esplora", "chain_id": None, "native_asset": "LTC", "decimals": 8,
            "required_confirmations": 6, "memo_required": False,
            "assets": [{"asset": "LTC", "contract": None, "decimals": 8, "min_deposit": "0.001"}],
        },
        {
            "network": "ethereum", "kind": "evm", "chain_id": 1, "native_asset": "ETH", "decimals": 18,
            "required_confirmations": 12, "memo_required": False,
            "assets": [
                {"asset": "ETH", "contract": None, "decimals": 18, "min_deposit": "0.005"},
                {"asset": "USDT", "contract": "0xdac17f958d2ee523a2206206994597c13d831ec7", "decimals": 6, "min_deposit": "10"},
                {"asset": "USDC", "contract": "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", "decimals": 6, "min_deposit": "10"},
            ],
        },
        {
            "network": "bsc", "kind": "evm", "chain_id": 56, "native_asset": "BNB", "decimals": 18,
            "required_confirmations": 15, "memo_required": False,
            "assets": [
                {"asset": "BNB", "contract": None, "decimals": 18, "min_deposit": "0.01"},
                {"asset": "USDT", "contract": "0x55d398326f99059ff775485246999027b3197955", "decimals": 18, "min_deposit": "10"},
            ],
        },
        {
            "network": "tron", "kind": "tron", "chain_id": None, "native_asset": "TRX", "decimals": 6,
            "required_confirmations": 20, "memo_required": False,
            "assets": [
                {"asset": "TRX", "contract": None, "decimals": 6, "min_deposit": "10"},
                {"asset": "USDT", "contract": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "decimals": 6, "min_deposit": "1"},
            ],
        },
        {
            "network": "xrp", "kind": "xrpl", "chain_id": None, "native_asset": "XRP", "decimals": 6,
            "required_confirmations": 1, "memo_required": True,
            "assets": [{"asset": "XRP", "contract": None, "decimals": 6, "min_deposit": "20"}],
        },
    ]
}


# --- endpoints ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    url: str
    kind: Optional[str] = None  # None: the network's default kind


def redact(url: str) -> str:
    """The URL without user:password@ and without a query string (API keys live there)."""
    s = re.sub(r"//[^/@]*@", "//", str(url))
    return s.split("?", 1)[0]


def _parse_endpoint(value: Any, where: str) -> Endpoint:
    if isinstance(value, Endpoint):
        return value
    if isinstance(value, Mapping):
        url, kind = value.get("url"), value.get("kind")
    elif isinstance(value, str):
        url, kind = value.strip(), None
        m = re.match(r"^([a-z_]+)\+(https?://.*)$", url)
        if m:
            kind, url = m.group(1), m.group(2)
    else:
        raise InvalidInput(f"endpoint for {where} must be a URL")
    if not isinstance(url, str) or not re.match(r"^https?://", url):
        raise InvalidInput(f"endpoint for {where} must be an http(s) URL")
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"endpoint kind for {where} must be one of {', '.join(KINDS)}")
    return Endpoint(url=url, kind=kind)


def env_name(network: str) -> str:
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", network.upper())


def load_endpoints(config: Any = None, env: Optional[Mapping[str, str]] = None) -> dict[str, Endpoint]:
    """One endpoint per network from a dict / JSON file path, then AGENT_TUI_RPC_<NETWORK> overrides."""
    env = os.environ if env is None else env
    raw: Mapping[str, Any] = {}
    if isinstance(config, (str, Path)):
        try:
            raw = json.loads(Path(config).read_text())
        except (OSError, ValueError) as e:
            raise InvalidInput(f"cannot read endpoint config {config}: {e.__class__.__name__}") from None
    elif config is not None:
        raw = config
    if isinstance(raw, Mapping) and isinstance(raw.get("endpoints"), Mapping):
        raw = raw["endpoints"]
    out: dict[str, Endpoint] = {}
    for net, value in (raw or {}).items():
        out[str(net).lower()] = _parse_endpoint(value, str(net))
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and value:
            net = key[len(ENV_PREFIX):].lower()
            if net:
                out[net] = _parse_endpoint(value, net)
    return out


def network_entry(asset_config: Optional[Mapping[str, Any]], network: str) -> Optional[Mapping[str, Any]]:
    for entry in (asset_config or {}).get("networks") or []:
        if str(entry.get("network") or "").lower() == network:
            return entry
    return None
