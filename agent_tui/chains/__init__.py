"""Deposit investigation core: on-chain look-ups and a verdict with evidence. No UI here.

Never imports textual, widgets or themes.
"""

from .addresses import parse_address, parse_txid, to_checksum_address
from .candidates import candidate_networks
from .config import Endpoint, default_asset_config, default_networks, load_endpoints, networks_from
from .diagnose import CODES, MACROS, Evidence, Verdict, diagnose
from .errors import ChainError, EndpointError, InvalidInput
from .extract import Found, extract, network_hints
from .facts import ChainFacts, Transfer
from .lookup import lookup

__all__ = [
    "CODES", "MACROS", "ChainError", "ChainFacts", "Endpoint", "EndpointError", "Evidence", "Found", "InvalidInput", "Transfer",
    "Verdict", "candidate_networks", "default_asset_config", "default_networks", "diagnose", "extract", "load_endpoints", "lookup",
    "network_hints", "networks_from", "parse_address", "parse_txid", "to_checksum_address",
]
