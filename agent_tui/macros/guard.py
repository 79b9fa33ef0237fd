"""The reply safety guard: run on the rendered text before any public reply is sent.

BLOCK  the reply asks the customer for a seed/recovery phrase, a private key, a 2FA/SMS/
       authenticator code or a password (the lexicon is data: one TOML file per language in
       lexicons/, extended from the desk's config). A warning such as "we will never ask for your seed phrase" is not
       a request: negations and scam-warning sentences are recognised per language.
WARN   a link outside the allowed domains (look-alikes named as such), a crypto address that is
       neither the customer's nor the exchange's, an unfilled placeholder.

Sending anyway needs an explicit override, logged with `record_override`.
Never imports textual, widgets or themes.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import re
import time
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional
from urllib.parse import urlsplit

BLOCK = "block"
WARN = "warn"

SECRET_LABELS = {
    "seed_phrase": "seed/recovery phrase",
    "private_key": "private key",
    "otp_code": "2FA/SMS/authenticator code",
    "password": "password",
}

# --- the lexicon ----------------------------------------------------------------------------------
#
# The lexicon is data: one TOML file per language in agent_tui/macros/lexicons/ (<code>.toml; the
# format is documented in lexicons/README.md), read once when this module is imported. A desk
# extends it from its config: `guard_lexicon` (a table, same shape) and `guard_lexicon_paths` (TOML
# files, or directories of <code>.toml files), merged over the defaults by `desk_lexicon`.
# Merging: dicts merge, a list replaces the default list, and a key ending in "+" ("requests+")
# appends to it.

LEXICON_DIR = Path(__file__).with_name("lexicons")
_LANG_CODE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?")  # a file named like a language holds that language


def _read_lexicon_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"lexicon file {path}: {' '.join(str(exc).split())}") from None


def read_lexicon_dir(directory: Path) -> dict[str, dict[str, Any]]:
    """{code: entry} for every <code>.toml in `directory`, in name order."""
    return {p.stem: _read_lexicon_file(p) for p in sorted(Path(directory).glob("*.toml"))}


def _lexicon_layers(paths: Iterable[Any]) -> list[dict[str, Any]]:
    """Lexicon overrides from files: a directory holds <code>.toml files (one language each, the
    package's own format); a single file named <code>.toml is that language; any other .toml file
    maps language codes to entries ([de] with requests+ = [...])."""
    layers: list[dict[str, Any]] = []
    for raw in paths or ():
        path = Path(str(raw)).expanduser()
        if path.is_dir():
            layers.append(read_lexicon_dir(path))
        elif not path.is_file():
            raise ValueError(f"lexicon file {path}: not found")
        elif _LANG_CODE.fullmatch(path.stem):
            layers.append({path.stem: _read_lexicon_file(path)})
        else:
            layers.append(_read_lexicon_file(path))
    return layers

DEFAULT_LEXICON: dict[str, dict[str, Any]] = read_lexicon_dir(LEXICON_DIR)


def desk_lexicon(table: Optional[Mapping[str, Any]] = None, paths: Iterable[Any] = ()) -> Optional[dict[str, Any]]:
    """The whole lexicon a desk's config asks for: the defaults, its lexicon files over them in
    order, then its `guard_lexicon` table. None when the config adds nothing (the defaults apply).
    Raises ValueError (one line) for a file that cannot be read."""
    layers = _lexicon_layers(paths)
    if table:
        layers.append(dict(table))
    if not layers:
        return None
    merged = DEFAULT_LEXICON
    for layer in layers:
        merged = merge_lexicon(layer, merged)
    return merged


def settings_lexicon(settings: Any) -> Optional[dict[str, Any]]:
    """The lexicon a Settings object asks for (`guard_lexicon`, `guard_lexicon_paths`): what the app and
    `agent-tui check-reply` both pass to the guard, so the two never disagree."""
    table = getattr(settings, "guard_lexicon", None) or None
    paths = tuple(str(p) for p in (getattr(settings, "guard_lexicon_paths", None) or ()))
    if not table and not paths:
        return None
    return desk_lexicon(table, paths)


_LIST_KEYS = ("exclusions", "requests", "negations", "strong_negations", "warnings")
_NUMBER_KEYS = ("window", "strong_window", "proximity")


def merge_lexicon(overrides: Optional[Mapping[str, Any]], base: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """The default lexicon with `overrides` merged over it (dicts merge, lists replace, "key+" appends)."""
    merged = copy.deepcopy(dict(DEFAULT_LEXICON if base is None else base))

    def merge(dst: dict[str, Any], src: Mapping[str, Any], where: str) -> None:
        for key, value in src.items():
            if isinstance(key, str) and key.endswith("+"):
                real = key[:-1]
                if not isinstance(value, list):
                    raise ValueError(f"lexicon {where}{key}: expected a list of patterns")
                dst[real] = list(dst.get(real, [])) + list(value)
            elif isinstance(value, Mapping):
                sub = dst.get(key)
                if not isinstance(sub, dict):
                    sub = {}
                    dst[key] = sub
                merge(sub, value, f"{where}{key}.")
            else:
                dst[key] = copy.deepcopy(value)

    if overrides:
        if not isinstance(overrides, Mapping):
            raise ValueError("lexicon must map language codes to {secrets, requests, negations, ...}")
        merge(merged, overrides, "")
    return merged


@dataclass(frozen=True)
class _Lang:
    code: str
    secrets: tuple[tuple[str, re.Pattern[str]], ...]
    exclusions: tuple[re.Pattern[str], ...]
    requests: tuple[re.Pattern[str], ...]
    negations: tuple[re.Pattern[str], ...]
    strong_negations: tuple[re.Pattern[str], ...]
    warnings: tuple[re.Pattern[str], ...]
    window: int
    strong_window: int
    proximity: int


def _compile_pattern(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"lexicon {where}: a pattern must be a non-empty string")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"lexicon {where}: bad pattern {pattern!r} ({exc})") from None


def _compile_lexicon(lexicon: Mapping[str, Any]) -> tuple[_Lang, ...]:
    langs = []
    for code, entry in lexicon.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"lexicon {code}: expected an object")
        secrets = []
        for kind, patterns in (entry.get("secrets") or {}).items():
            if kind not in SECRET_LABELS:
                raise ValueError(f"lexicon {code}.secrets: unknown kind {kind!r} (one of {', '.join(SECRET_LABELS)})")
            for i, p in enumerate(patterns or []):
                secrets.append((kind, _compile_pattern(p, f"{code}.secrets.{kind}[{i}]")))
        lists: dict[str, Any] = {}
        for key in _LIST_KEYS:
            value = entry.get(key) or []
            if not isinstance(value, list):
                raise ValueError(f"lexicon {code}.{key}: expected a list of patterns")
            lists[key] = tuple(_compile_pattern(p, f"{code}.{key}[{i}]") for i, p in enumerate(value))
        numbers: dict[str, Any] = {}
        for key, default in zip(_NUMBER_KEYS, (30, 60, 120)):
            value = entry.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"lexicon {code}.{key}: expected a non-negative integer")
            numbers[key] = value
        langs.append(_Lang(code, tuple(secrets), **lists, **numbers))
    return tuple(langs)


@lru_cache(maxsize=1)
def _default_langs() -> tuple[_Lang, ...]:
    return _compile_lexicon(DEFAULT_LEXICON)


@lru_cache(maxsize=32)
def _compiled(lexicon_json: str) -> tuple[_Lang, ...]:
    return _compile_lexicon(json.loads(lexicon_json))


def _lexicon_for(lexicon: Optional[Mapping[str, Any]]) -> tuple[_Lang, ...]:
    if not lexicon:
        return _default_langs()
    merged = merge_lexicon(lexicon)
    return _compiled(json.dumps(merged, sort_keys=True, ensure_ascii=False))


# --- findings and the report -------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    level: str  # block | warn
    code: str
    reason: str  # one line, names what was found
    match: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "code": self.code, "reason": self.reason, "match": self.match}


@dataclass(frozen=True)
class GuardReport:
    findings: tuple[Finding, ...] = ()
    text_sha256: str = ""

    @property
    def blocked(self) -> bool:
        return any(f.level == BLOCK for f in self.findings)

    @property
    def blocks(self) -> list[Finding]:
        return [f for f in self.findings if f.level == BLOCK]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARN]

    @property
    def ok(self) -> bool:
        """Nothing found: the reply can be sent without confirmation."""
        return not self.findings

    @property
    def needs_override(self) -> bool:
        return bool(self.findings)

    @property
    def codes(self) -> list[str]:
        seen: list[str] = []
        for f in self.findings:
            if f.code not in seen:
                seen.append(f.code)
        return seen

    def lines(self) -> list[str]:
        return [f"{f.level.upper()} {f.code}: {f.reason}" for f in self.findings]


def record_override(report: GuardReport, agent_id: Any, reason: str, *, now: Optional[float] = None) -> dict[str, Any]:
    """The audit-log entry for sending a reply despite the guard. The caller stores it.

    Raises ValueError if there is nothing to override, no agent or no reason: an override is an
    explicit, explained decision.
    """
    if not isinstance(report, GuardReport):
        raise TypeError("record_override needs the GuardReport the agent is overriding")
    if not report.findings:
        raise ValueError("nothing to override: the reply passed the guard")
    if agent_id is None or (isinstance(agent_id, str) and not agent_id.strip()):
        raise ValueError("an override must name the agent")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("an override needs a reason")
    at = time.time() if now is None else float(now)
    return {
        "kind": "guard_override",
        "at": at,
        "time": _dt.datetime.fromtimestamp(at, tz=_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "agent_id": agent_id,
        "reason": " ".join(reason.split()),
        "codes": report.codes,
        "blocked": report.blocked,
        "findings": [f.to_dict() for f in report.findings],
        "text_sha256": report.text_sha256,
    }


# --- text helpers --------------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"
                                       "\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u202a\u202b\u202c\u202d\u202e"
                                       "\u2066\u2067\u2068\u2069\u3164\uffa0"), None)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"})
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+|[\n\r。！？!?]+")
_CLAUSE_BREAK = re.compile(r"[,;，；、]|\b(but|however|pero|sino|но|однако|але|проте|ama|fakat|ancak)\b|但是?|不过|然而", re.I)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_QUOTES)


# What the lexicons are matched against, built from the normalised text: case folded (NFKC again
# after it, and Turkish İ's dot dropped), letters joined across a hyphen/underscore ("seed-phrase"
# -> "seed phrase"), spaced-out letters joined ("s e e d" -> "seed"), and in a word that mixes
# scripts the look-alike letters mapped to the word's own script ("sеed" with a Cyrillic е ->
# "seed"; "пaроль" with a Latin a -> "пароль"); digits standing for letters inside a Latin word
# ("p4ssw0rd") too. Only the secrets check reads it: links and addresses keep their case.

_TO_LATIN = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ѕ": "s", "ԛ": "q", "ԝ": "w", "ӏ": "l", "һ": "h",
    "ԍ": "g", "ѵ": "v", "ү": "y", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ω": "w", "ϲ": "c", "μ": "u", "ς": "s", "ϳ": "j",
}
_TO_CYRILLIC = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "k": "к", "m": "м", "t": "т",
                "h": "н", "b": "в", "i": "і"}
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_JOINER = re.compile(r"(?<=[^\W\d_])[-_‐‑‒–—]+(?=[^\W_])|(?<=\d)[-_‐‑‒–—]+(?=[^\W\d_])")
_SPACED = re.compile(r"(?<![^\W_])(?:[a-zа-яёіїєґα-ω][ \t._*·•'-]{1,2}){2,}[a-zа-яёіїєґα-ω](?![^\W_])")
_SPACED_GAP = re.compile(r"[ \t._*·•'-]")
_ONLY_LOOKALIKE = "ѕԁԛԝӏһԍѵүјϲϳ"  # Cyrillic/Greek letters no Russian, Ukrainian or Greek word needs: a disguise
_MIXED_WORD = re.compile(r"[\w@$]*(?:[\u0370-\u052f][\w@$]*[a-z]|[a-z][\w@$]*[\u0370-\u052f]|[" + _ONLY_LOOKALIKE + r"]|"
                         r"[a-z][a-z@$]*[013457@$][a-z0-9@$]*[a-z]|[a-z][013457@$]+(?![\w@$]))[\w@$]*")


def _script_word(m: re.Match[str]) -> str:
    word = m.group(0)
    if not any("\u0370" <= c <= "\u052f" for c in word):  # Latin with digits for letters: p4ssw0rd, s33d
        if sum(c.isdigit() for c in word) * 2 > len(word):
            return word
        return word.translate(_LEET)
    foreign = [c for c in word if "\u0370" <= c <= "\u052f"]
    latin = [c for c in word if "a" <= c <= "z"]
    disguised = any(c in _ONLY_LOOKALIKE for c in foreign)
    if all(c in _TO_LATIN for c in foreign) and (disguised or len(latin) >= len(foreign)
                                                  or not all(c in _TO_CYRILLIC for c in latin)):
        return "".join(_TO_LATIN.get(c, c) for c in word)
    if all(c in _TO_CYRILLIC for c in latin):
        return "".join(_TO_CYRILLIC.get(c, c) for c in word)
    return word


def _lexical(text: str) -> str:
    s = unicodedata.normalize("NFKC", text.casefold()).replace("i\u0307", "i")
    s = _JOINER.sub(" ", s)
    s = _SPACED.sub(lambda m: _SPACED_GAP.sub("", m.group(0)), s)
    return _MIXED_WORD.sub(_script_word, s)


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_SPLIT.split(text) if s and s.strip()]


def _snippet(s: str, limit: int = 90) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


# --- secrets -------------------------------------------------------------------------------------------

_FORM_FIELD = r"\s*[:：]\s*(?:_{2,}|\.{3,}|…|\[[^\]]*\]|<[^>]*>|\?+\s*$|$)"


def _secret_findings(text: str, langs: tuple[_Lang, ...]) -> list[Finding]:
    found: dict[str, Finding] = {}
    for sentence in _sentences(text):
        if any(p.search(sentence) for lang in langs for p in lang.warnings):
            continue
        excluded = [m.span() for lang in langs for p in lang.exclusions for m in p.finditer(sentence)]
        secrets = [
            (kind, m)
            for lang in langs
            for kind, p in lang.secrets
            for m in p.finditer(sentence)
            if not any(a <= m.start() < b for a, b in excluded)
        ]
        if not secrets:
            continue
        # a form to fill in: "Seed phrase: ______"
        for kind, m in secrets:
            if re.match(_FORM_FIELD, sentence[m.end() :]):
                found.setdefault(kind, _secret_finding(kind, sentence))
        requests = sorted(
            ((m.start(), m.end(), lang) for lang in langs for p in lang.requests for m in p.finditer(sentence)),
            key=lambda r: r[0],
        )
        if not requests:
            continue
        negations = [(m.start(), m.end(), False) for lang in langs for p in lang.negations for m in p.finditer(sentence)]
        negations += [(m.start(), m.end(), True) for lang in langs for p in lang.strong_negations for m in p.finditer(sentence)]
        breaks = [m.start() for m in _CLAUSE_BREAK.finditer(sentence)]
        for i, (start, end, lang) in enumerate(requests):
            if _negated(start, negations, breaks, sentence, lang):
                continue
            clause_start = max([b for b in breaks if b < start], default=0)
            later = [r[0] for r in requests[i + 1 :] if r[0] >= end]
            region_end = min(later) if later else len(sentence)
            for kind, m in secrets:
                if kind in found:
                    continue
                if clause_start <= m.start() < region_end:
                    gap = max(m.start() - end, start - m.end(), 0)
                    if gap <= lang.proximity:
                        found[kind] = _secret_finding(kind, sentence)
    return [found[k] for k in SECRET_LABELS if k in found]


def _negated(start: int, negations: list[tuple[int, int, bool]], breaks: list[int], sentence: str, lang: _Lang) -> bool:
    for _n_start, n_end, strong in negations:
        if n_end > start:
            continue
        gap = start - n_end
        if strong:
            if gap <= lang.strong_window:
                return True
        elif gap <= lang.window and not any(n_end <= b < start for b in breaks):
            return True
    return False


def _secret_finding(kind: str, sentence: str) -> Finding:
    return Finding(BLOCK, f"asks_for_{kind}", f"asks the customer for their {SECRET_LABELS[kind]}: \"{_snippet(sentence)}\"",
                   _snippet(sentence))


# --- links and look-alike domains ------------------------------------------------------------------------

_URL = re.compile(r"(?:\b(?:https?|hxxps?)://|\bwww\.)[^\s<>\"'`«»“”]+", re.I)
_LABEL_CHARS = "A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
_COMMON_TLDS = {
    "com", "net", "org", "io", "co", "app", "dev", "xyz", "info", "biz", "top", "site", "online", "live",
    "pro", "finance", "exchange", "money", "support", "help", "link", "click", "me", "ly", "gg", "cc", "ws",
    "tech", "cloud", "store", "shop", "vip", "club", "global", "network", "services", "trade", "market",
    "wallet", "crypto", "bet", "win", "icu", "buzz", "today", "world", "email", "page", "website",
}
_BARE = re.compile(
    rf"(?<![{_LABEL_CHARS}@./\-])((?:[{_LABEL_CHARS}](?:[{_LABEL_CHARS}\-]{{0,61}}[{_LABEL_CHARS}])?\.)+"
    rf"(?:xn--[a-z0-9\-]{{2,59}}|[a-z]{{2,24}}))(?![{_LABEL_CHARS}\-]|\.[{_LABEL_CHARS}])"
)
_EMAIL = re.compile(rf"[\w.+\-]+@((?:[{_LABEL_CHARS}\-]+\.)+[A-Za-z\-]{{2,}})")
_FILE_EXTENSIONS = {"pdf", "png", "jpg", "jpeg", "gif", "txt", "doc", "docx", "csv", "zip", "webp", "heic", "mp4",
                    "mov", "json", "xml", "xls", "xlsx", "html", "htm", "js", "py", "exe"}
_SECOND_LEVEL = {"co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "gen"}

_CONFUSABLES = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ѕ": "s", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g",
    "һ": "h", "ո": "n", "ս": "u",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ω": "w",
    # digits and look-alike latin
    "0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "i": "l", "|": "l", "ı": "l",
    "ℓ": "l",
})


def _skeleton(s: str) -> str:
    s = unicodedata.normalize("NFKD", s.casefold())
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.translate(_CONFUSABLES)
    return s.replace("rn", "m").replace("vv", "w")


def _to_ascii(host: str) -> str:
    host = host.strip().strip(".").lower()
    if host.isascii():
        return host
    try:
        import idna

        return idna.encode(host, uts46=True).decode("ascii")
    except Exception:
        try:
            return host.encode("idna").decode("ascii")
        except Exception:
            return host


def _to_unicode(host: str) -> str:
    if "xn--" not in host:
        return host
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label = label[4:].encode("ascii").decode("punycode")
            except Exception:
                pass
        labels.append(label)
    return ".".join(labels)


def _registrable(labels: list[str]) -> tuple[str, str]:
    """(name, suffix): example.co.uk -> (example, co.uk); a.example.com -> (example, com)."""
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3], ".".join(labels[-2:])
    if len(labels) >= 2:
        return labels[-2], labels[-1]
    return labels[0] if labels else "", ""


def _osa(a: str, b: str) -> int:
    from rapidfuzz.distance import OSA

    return OSA.distance(a, b)


def _is_allowed(host_ascii: str, allowed: list[str]) -> bool:
    return any(host_ascii == d or host_ascii.endswith("." + d) for d in allowed)


def lookalike_of(host: str, allowed_domains: Iterable[str]) -> Optional[tuple[str, str]]:
    """(allowed domain, why) if `host` imitates one of the allowed domains, else None."""
    host_ascii = _to_ascii(host)
    host_uni = _to_unicode(host_ascii) if host.isascii() else host.lower().strip(".")
    labels = host_uni.split(".")
    name, suffix = _registrable(labels)
    idn = "xn--" in host_ascii or not host_uni.isascii()
    for d in _normalise_domains(allowed_domains):
        d_labels = d.split(".")
        d_name, d_suffix = _registrable(d_labels)
        if not d_name:
            continue
        # example.com.evil.io: the real domain is embedded as a prefix
        n = len(d_labels)
        for i in range(len(labels) - n):
            if labels[i : i + n] == d_labels:
                return d, f"contains {d} but is really {'.'.join(labels[-2:])}"
        if idn and (_skeleton(host_uni) == _skeleton(d) or _skeleton(name) == _skeleton(d_name)):
            return d, "internationalised (punycode) look-alike characters"
        if name == d_name and suffix != d_suffix:
            return d, f"the same name on another domain ending (.{suffix})"
        if name != d_name and _skeleton(name) == _skeleton(d_name):
            return d, "look-alike letters or digits (e.g. 1 for l, 0 for o)"
        if len(d_name) >= 5 and name != d_name and _osa(name, d_name) <= (2 if len(d_name) >= 10 else 1):
            return d, "a misspelling of it"
        if len(d_name) >= 4 and name != d_name and (d_name in name or _skeleton(d_name) in _skeleton(name)):
            return d, f"adds words to {d_name}"
        if idn and len(d_name) >= 4 and _skeleton(d_name) in _skeleton(host_uni):
            return d, "internationalised (punycode) look-alike characters"
    return None


def _normalise_domains(domains: Iterable[str]) -> list[str]:
    out = []
    for d in domains or ():
        d = _to_ascii(str(d).strip().lower().lstrip("*").lstrip("."))
        if d and d not in out:
            out.append(d)
    return out


def _link_hosts(text: str) -> list[tuple[str, str]]:
    """(host, how it appeared) for every link and bare domain in the text."""
    hosts: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = [m.span() for m in _PLACEHOLDERS.finditer(text)]
    for m in _URL.finditer(text):
        raw = m.group(0).rstrip(".,;:!?)]}>'\"")
        spans.append((m.start(), m.start() + len(raw)))
        url = raw
        if url.lower().startswith("www."):
            url = "http://" + url
        url = re.sub(r"^hxxp", "http", url, flags=re.I)
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        if host:
            userinfo = urlsplit(url).netloc.rpartition("@")[0] if "@" in raw else ""
            if userinfo:  # https://example.com@evil.io/ goes to evil.io
                hosts.append((host, "@" + userinfo))
            hosts.append((host, raw))
    for m in _BARE.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        host = m.group(1)
        tld = host.rsplit(".", 1)[-1]
        if tld in _FILE_EXTENSIONS or not (tld.startswith("xn--") or len(tld) == 2 or tld in _COMMON_TLDS):
            continue
        hosts.append((host, host))
    return hosts


def _link_findings(text: str, allowed_domains: Iterable[str]) -> list[Finding]:
    allowed = _normalise_domains(allowed_domains)
    findings: list[Finding] = []
    seen: set[str] = set()
    for host, raw in _link_hosts(text):
        host_ascii = _to_ascii(host)
        if host_ascii in seen or _is_allowed(host_ascii, allowed):
            continue
        seen.add(host_ascii)
        shown = _to_unicode(host_ascii)
        if shown != host_ascii:
            shown = f"{shown} ({host_ascii})"
        look = lookalike_of(host, allowed)
        if raw.startswith("@"):
            disguise = raw[1:].split(":")[0].lower()
            if any(disguise == d or disguise.endswith("." + d) for d in allowed):
                look = (disguise, f"the part before @ is a disguise; the link really goes to {host_ascii}")
        if look:
            findings.append(Finding(WARN, "lookalike_domain", f"link to {shown} imitates {look[0]}: {look[1]}", raw))
        elif re.fullmatch(r"[0-9.]+|\[?[0-9a-f:]+\]?", host_ascii):
            findings.append(Finding(WARN, "foreign_link", f"link to a bare IP address {host_ascii}", raw))
        else:
            note = " (an internationalised domain)" if "xn--" in host_ascii else ""
            findings.append(Finding(WARN, "foreign_link", f"link to {shown} is outside the allowed domains{note}", raw))
    for m in _EMAIL.finditer(text):
        host_ascii = _to_ascii(m.group(1))
        if host_ascii in seen or _is_allowed(host_ascii, allowed):
            continue
        look = lookalike_of(m.group(1), allowed)
        if look:
            seen.add(host_ascii)
            findings.append(Finding(WARN, "lookalike_domain", f"e-mail address {m.group(0)} imitates {look[0]}: {look[1]}", m.group(0)))
    return findings


# --- crypto addresses ------------------------------------------------------------------------------------

_CHAIN_LABEL = {"evm": "EVM", "tron": "Tron", "bitcoin": "Bitcoin", "litecoin": "Litecoin", "xrp": "XRP"}


def find_addresses(text: str) -> list[tuple[str, str]]:
    """(chain, address as written) for each crypto address in the text, checksums verified: the
    look-up's own detection (chains.extract), so the guard and the look-up see the same addresses."""
    from agent_tui.chains.extract import addresses

    out = []
    for found in addresses(text):
        family = found.families[0] if found.families else ""
        out.append((_CHAIN_LABEL.get(family, family.title()), found.text))
    return out


def _address_key(addr: str) -> str:
    """The form two addresses are compared in: the look-up's (chains.addresses), so every encoding of
    one script (Litecoin's 3.../M..., bech32 in either case) and an EVM address in any checksum case
    are one address, and the guard and the look-up never disagree on whose address it is."""
    from agent_tui.chains.addresses import parse_address
    from agent_tui.chains.errors import InvalidInput

    addr = addr.strip()
    try:
        return parse_address(addr).key
    except InvalidInput:
        low = addr.lower()
        return low if low.startswith(("0x", "bc1", "tb1", "ltc1", "tltc1")) else addr


def _address_set(addresses: Iterable[Any]) -> set[str]:
    out = set()
    for a in addresses or ():
        if isinstance(a, Mapping):
            a = a.get("address")
        elif not isinstance(a, str):
            a = getattr(a, "address", None)
        if isinstance(a, str) and a.strip():
            out.add(_address_key(a))
    return out


def _short(addr: str) -> str:
    return addr if len(addr) <= 16 else f"{addr[:8]}…{addr[-6:]}"


def _address_findings(text: str, customer_addresses: Iterable[Any], exchange_addresses: Iterable[Any]) -> list[Finding]:
    known = _address_set(customer_addresses) | _address_set(exchange_addresses)
    findings: list[Finding] = []
    seen: set[str] = set()
    for chain, addr in find_addresses(text):
        key = _address_key(addr)
        if key in known or key in seen:
            continue
        seen.add(key)
        findings.append(Finding(
            WARN, "unknown_address",
            f"{chain} address {_short(addr)} is neither this customer's deposit address nor a published exchange address",
            addr,
        ))
    return findings


# --- placeholders ----------------------------------------------------------------------------------------

_PLACEHOLDERS = re.compile(r"⟦[^⟧\n]{0,100}⟧|\{\{.{0,100}?\}\}|\{%.{0,100}?%\}|\{\{|#\{[^}\n]{0,100}\}")


def _placeholder_findings(text: str) -> list[Finding]:
    findings = []
    seen = set()
    for m in _PLACEHOLDERS.finditer(text):
        token = m.group(0)
        if token in seen:
            continue
        seen.add(token)
        findings.append(Finding(WARN, "unfilled_placeholder", f"unfilled placeholder {token}", token))
    return findings


# --- the check -------------------------------------------------------------------------------------------


def check_reply(
    text: str,
    *,
    customer_addresses: Iterable[Any] = (),
    exchange_addresses: Iterable[Any] = (),
    allowed_domains: Iterable[str] = (),
    lexicon: Optional[Mapping[str, Any]] = None,
) -> GuardReport:
    """Check a rendered public reply. Blocks come first, then warnings in the order found."""
    if not isinstance(text, str):
        raise TypeError("check_reply needs the reply text")
    norm = _normalise(text)
    findings = _secret_findings(_lexical(norm), _lexicon_for(lexicon))
    findings += _link_findings(norm, allowed_domains)
    findings += _address_findings(norm, customer_addresses, exchange_addresses)
    findings += _placeholder_findings(norm)
    return GuardReport(tuple(findings), hashlib.sha256(text.encode("utf-8")).hexdigest())
