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

import bisect
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


_TARGET_KEYS = ("remote_tools", "fund_moves", "fund_transfers")  # besides secrets.*: what a request may be after
_LIST_KEYS = ("exclusions", "requests", "actions", "negations", "strong_negations", "not_negations", "warnings",
              "clause_breaks") + _TARGET_KEYS
_NUMBER_KEYS = ("window", "strong_window", "proximity", "pre_window")
_NUMBER_DEFAULTS = (30, 60, 120, 12)
_OTHER_KEYS = ("spaceless",)
TARGET_LABELS = {**SECRET_LABELS, "remote_access": "remote-access software", "fund_move": "funds moved",
                 "fund_transfer": "funds moved"}
_TARGET_KIND = {"remote_tools": "remote_access", "fund_moves": "fund_move", "fund_transfers": "fund_transfer"}

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
    window: int
    strong_window: int
    proximity: int
    pre_window: int


@dataclass(frozen=True)
class _Rule:
    lang: int  # index into _Compiled.langs: its windows apply
    key: str  # the lexicon key: "secrets", "requests", "negations", ... (targets: "target")
    kind: str  # a target's kind (seed_phrase ... fund_transfer); a request's: "ask" (requests) or "act" (actions)
    pattern: re.Pattern[str]
    literals: Optional[frozenset[str]]  # every match contains one of these (None: not known, always run)


class _Literals:
    """Which of many literal strings occur in a text, fast: the text's trigrams (one set, built once)
    meet the literals' first trigrams (a set intersection, in C), and only those few are checked."""

    def __init__(self, literals: Iterable[str]) -> None:
        self.by_key: dict[str, list[str]] = {}
        self.short: list[str] = []
        for lit in sorted(set(literals)):
            if len(lit) >= 3:
                self.by_key.setdefault(lit[:3], []).append(lit)
            else:
                self.short.append(lit)
        self.keys = frozenset(self.by_key)

    def present(self, text: str, trigrams: set[str]) -> set[str]:
        hits = {lit for lit in self.short if lit in text}
        for key in self.keys & trigrams:
            hits.update(lit for lit in self.by_key[key] if lit in text)
        return hits


@dataclass(frozen=True)
class _Compiled:
    langs: tuple[_Lang, ...]
    targets: tuple[_Rule, ...]
    others: tuple[_Rule, ...]
    target_literals: _Literals
    other_literals: _Literals


def _compile_pattern(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"lexicon {where}: a pattern must be a non-empty string")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"lexicon {where}: bad pattern {pattern!r} ({exc})") from None


# The fast path: from each pattern, the literal strings one of which every match must contain (found
# by walking the parsed regex). A reply is scanned for these with `in` (fast, C), and only the patterns
# whose literals occur run as regexes: most replies ask for nothing, and cost a few substring checks.

def _literals_of(items: Any) -> Optional[frozenset[str]]:
    from re import _constants as C  # type: ignore[attr-defined]

    best: Optional[frozenset[str]] = None

    def score(s: frozenset[str]) -> tuple[int, int]:
        return (min(len(x) for x in s), -len(s))

    def offer(s: Optional[frozenset[str]]) -> None:
        nonlocal best
        if s and all(s) and (best is None or score(s) > score(best)):
            best = s

    run = ""
    for op, av in items:
        if op is C.LITERAL:
            run += chr(av).casefold()
            continue
        offer(frozenset([run]) if run else None)
        run = ""
        if op is C.SUBPATTERN:
            offer(_literals_of(av[-1]))
        elif op is C.BRANCH:
            alts = [_literals_of(alt) for alt in av[1]]
            if all(alts):
                offer(frozenset().union(*[a for a in alts if a]))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1:
            offer(_literals_of(av[2]))
        elif op is C.ATOMIC_GROUP:
            offer(_literals_of(av))
    offer(frozenset([run]) if run else None)
    return best


def _pattern_literals(pattern: str) -> Optional[frozenset[str]]:
    from re import _parser  # type: ignore[attr-defined]

    try:
        lits = _literals_of(_parser.parse(pattern, re.IGNORECASE))
    except Exception:  # the regex compiled, so this only means "not known"
        return None
    if not lits or any(len(x) < 2 and x.isascii() for x in lits):
        return None
    return lits


def _compile_lexicon(lexicon: Mapping[str, Any]) -> _Compiled:
    langs: list[_Lang] = []
    targets: list[_Rule] = []
    others: list[_Rule] = []
    for code, entry in lexicon.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"lexicon {code}: expected an object")
        li = len(langs)

        def rule(key: str, kind: str, p: Any, where: str, li: int = li) -> _Rule:
            compiled = _compile_pattern(p, where)
            return _Rule(li, key, kind, compiled, _pattern_literals(compiled.pattern))

        secrets = entry.get("secrets") or {}
        if not isinstance(secrets, Mapping):
            raise ValueError(f"lexicon {code}.secrets: expected a table of kind = [patterns]")
        for kind, patterns in secrets.items():
            if kind not in SECRET_LABELS:
                raise ValueError(f"lexicon {code}.secrets: unknown kind {kind!r} (one of {', '.join(SECRET_LABELS)})")
            if not isinstance(patterns, list):
                raise ValueError(f"lexicon {code}.secrets.{kind}: expected a list of patterns")
            targets += [rule("target", kind, p, f"{code}.secrets.{kind}[{i}]") for i, p in enumerate(patterns)]
        for key in _LIST_KEYS:
            value = entry.get(key) or []
            if not isinstance(value, list):
                raise ValueError(f"lexicon {code}.{key}: expected a list of patterns")
            for i, p in enumerate(value):
                where = f"{code}.{key}[{i}]"
                if key in _TARGET_KIND:
                    targets.append(rule("target", _TARGET_KIND[key], p, where))
                elif key in ("requests", "actions"):
                    others.append(rule("requests", "ask" if key == "requests" else "act", p, where))
                else:
                    others.append(rule(key, "", p, where))
        numbers: dict[str, int] = {}
        spaceless = entry.get("spaceless", False)
        if not isinstance(spaceless, bool):
            raise ValueError(f"lexicon {code}.spaceless: expected true or false")
        for key, default in zip(_NUMBER_KEYS, _NUMBER_DEFAULTS):
            value = entry.get(key, max(3, default // 4) if spaceless and key == "pre_window" else default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"lexicon {code}.{key}: expected a non-negative integer")
            numbers[key] = value
        langs.append(_Lang(code, **numbers))

    def literals(rules: list[_Rule]) -> _Literals:
        return _Literals(x for r in rules if r.literals for x in r.literals)

    return _Compiled(tuple(langs), tuple(targets), tuple(others), literals(targets), literals(others))


@lru_cache(maxsize=1)
def _default_langs() -> _Compiled:
    return _compile_lexicon(DEFAULT_LEXICON)


@lru_cache(maxsize=32)
def _compiled(lexicon_json: str) -> _Compiled:
    return _compile_lexicon(json.loads(lexicon_json))


def _lexicon_for(lexicon: Optional[Mapping[str, Any]]) -> _Compiled:
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
_SENTENCE = re.compile(r"(?:[^.!?…\n\r。！？؟।｡]|[.!?…](?!\s))+[.!?…。！？؟।｡]*")


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
_MIX_HINT = re.compile(r"[a-z][\u0370-\u052f]|[\u0370-\u052f][a-z]|[" + _ONLY_LOOKALIKE + r"]|[a-z][013457@$]|[013457@$][a-z]")


def _mixed_words(s: str) -> str:
    """Each word where scripts meet, or digits meet Latin letters, through _script_word."""
    out = []
    last = 0
    n = len(s)
    for m in _MIX_HINT.finditer(s):
        if m.start() < last:
            continue
        a, b = m.start(), m.end()
        while a > last and (s[a - 1].isalnum() or s[a - 1] in "@$"):
            a -= 1
        while b < n and (s[b].isalnum() or s[b] in "@$"):
            b += 1
        out += [s[last:a], _script_word(s[a:b])]
        last = b
    if not out:
        return s
    out.append(s[last:])
    return "".join(out)


def _script_word(word: str) -> str:
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
    return _mixed_words(s)


def _snippet(s: str, limit: int = 90) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


# --- requests for secrets, remote access and fund moves ---------------------------------------------------

_FORM_FIELD = re.compile(r"\s*[:：]\s*(?:_{2,}|\.{3,}|…|\[[^\]]*\]|<[^>]*>|\?+\s*$|$)")
_FIELD_LABEL = re.compile(r"\s+[^\W\d_]{1,12}")
_LIST_GAP = 8  # characters between two targets of one list ("x or y", "x, y", "x и y")
_PUNCT_BREAK = re.compile(r"[,;，；、،؛()（）]")


def _matches(rules: Iterable[_Rule], text: str, hits: set[str], sentences: list[tuple[int, int]],
             only: Optional[set[int]] = None) -> list[tuple[int, int, _Rule]]:
    """(start, end, rule) of each match of the rules whose literals occur, searched only in the sentences
    where one of its literals is (and, given `only`, among those)."""
    starts = [s for s, _ in sentences]
    where_lit: dict[str, set[int]] = {}

    def sentences_of(lit: str) -> set[int]:
        found = where_lit.get(lit)
        if found is None:
            found = set()
            i = text.find(lit)
            while i != -1:
                found.add(bisect.bisect_right(starts, i) - 1)
                i = text.find(lit, i + 1)
            where_lit[lit] = found
        return found

    out = []
    for r in rules:
        if r.literals is None:
            idx = set(range(len(sentences)))
        elif r.literals.isdisjoint(hits):
            continue
        else:
            idx = set().union(*[sentences_of(lit) for lit in r.literals & hits])
        if only is not None:
            idx &= only
        for i in sorted(idx):
            if i < 0:
                continue
            a, b = sentences[i]
            out += [(m.start(), m.end(), r) for m in r.pattern.finditer(text, a, b) if m.end() > m.start()]
    return out


def _secret_findings(text: str, lexicon: _Compiled, unknown_address: bool = False) -> list[Finding]:
    """BLOCK findings for each kind of target (a secret, remote access, a fund move) that the text asks for."""
    trigrams = {text[i : i + 3] for i in range(len(text) - 2)}
    hits = lexicon.target_literals.present(text, trigrams)
    if not hits and all(r.literals is not None for r in lexicon.targets):
        return []
    sentences = [m.span() for m in _SENTENCE.finditer(text)]
    starts = [s for s, _ in sentences]
    targets = _matches(lexicon.targets, text, hits, sentences)
    if not targets:
        return []
    with_target = {bisect.bisect_right(starts, a) - 1 for a, _, _ in targets}
    others = _matches(lexicon.others, text, lexicon.other_literals.present(text, trigrams), sentences, with_target)
    by_sentence: dict[int, dict[str, list[tuple[int, int, _Rule]]]] = {}

    def place(start: int, end: int, r: _Rule) -> None:
        i = bisect.bisect_right(starts, start) - 1
        if i >= 0 and end <= sentences[i][1]:
            by_sentence.setdefault(i, {}).setdefault(r.key, []).append((start, end, r))

    for start, end, r in targets:
        place(start, end, r)
    if not by_sentence:
        return []
    for start, end, r in others:
        place(start, end, r)
    found: dict[str, Finding] = {}
    for i, groups in sorted(by_sentence.items()):
        if "target" not in groups or "warnings" in groups:  # a sentence about scams is a warning, never a request
            continue
        s_start, s_end = sentences[i]
        sentence = text[s_start:s_end]
        excluded = [(a, b) for a, b, _ in groups.get("exclusions", ())]
        tgts = [t for t in groups["target"] if not any(a <= t[0] < b for a, b in excluded)]
        if not tgts:
            continue
        fake = [(a, b) for a, b, _ in groups.get("not_negations", ())]  # "never mind", "no problem"
        negations = [(a, b, r.key == "strong_negations", r) for a, b, r in groups.get("negations", []) + groups.get("strong_negations", [])
                     if not any(fa <= a < fb for fa, fb in fake)]
        breaks = sorted([s_start + m.start() for m in _PUNCT_BREAK.finditer(sentence)]
                        + [a for a, _, _ in groups.get("clause_breaks", ())])
        # "(no private keys needed)", "without your password": a negation right before the target cancels it
        # ... and a list joined to a cancelled one: "no seed phrase or password required"
        live = []
        cancelled_end: Optional[int] = None
        for tg in sorted(tgts, key=lambda x: x[0]):
            if _negated_target(tg, negations, breaks, lexicon.langs) or (cancelled_end is not None and tg[0] - cancelled_end <= _LIST_GAP):
                cancelled_end = max(cancelled_end or 0, tg[1])
            else:
                live.append(tg)
        # a form to fill in: "Seed phrase: ______"
        for _a, b, r in live:
            if r.kind in SECRET_LABELS or r.kind == "remote_access":
                if r.kind == "remote_access":  # "AnyDesk ID: ____"
                    label = _FIELD_LABEL.match(text, b, s_end)
                    b = label.end() if label else b
                if _FORM_FIELD.match(text, b, s_end):
                    found.setdefault(r.kind, _target_finding(r.kind, sentence))
        # "move your funds to ...": the phrase is the request; it blocks when the reply names an unknown address
        for a, _b, r in live:
            if r.kind == "fund_transfer" and unknown_address and not _negated(a, negations, breaks, lexicon.langs[r.lang]):
                found.setdefault(r.kind, _target_finding(r.kind, sentence))
        requests = sorted(groups.get("requests", ()), key=lambda x: x[0])
        for j, (start, end, req) in enumerate(requests):
            lang = lexicon.langs[req.lang]
            if _negated(start, negations, breaks, lang) or _negation_follows(end, negations, breaks, lang):
                continue
            clause_start = max([b for b in breaks if b < start], default=s_start)
            later = [x[0] for x in requests[j + 1 :] if x[0] >= end and x[2].kind == req.kind]
            region_end = min(later) if later else s_end
            for a, b, r in live:
                if r.kind in found or (r.kind in SECRET_LABELS and req.kind != "ask") or r.kind == "fund_transfer":
                    continue
                if clause_start <= a < region_end and max(a - end, start - b, 0) <= lang.proximity:
                    found[r.kind] = _target_finding(r.kind, sentence)
    if "fund_transfer" in found:
        found.setdefault("fund_move", found.pop("fund_transfer"))
    return [found[k] for k in TARGET_LABELS if k in found]


def _negated_target(target: tuple[int, int, _Rule], negations: list[tuple[int, int, bool, _Rule]], breaks: list[int],
                    langs: tuple[_Lang, ...]) -> bool:
    start = target[0]
    for _n_start, n_end, _strong, r in negations:
        if n_end <= start and start - n_end <= langs[r.lang].pre_window and not any(n_end <= b < start for b in breaks):
            return True
    return False


def _negation_follows(end: int, negations: list[tuple[int, int, bool, _Rule]], breaks: list[int], lang: _Lang) -> bool:
    """"Please do not ...", "mohon jangan", "vui lòng không": a negation right after a polite request word."""
    return any(end <= n_start <= end + lang.pre_window and not any(end <= b < n_start for b in breaks)
               for n_start, _n_end, _strong, _r in negations)


def _negated(start: int, negations: list[tuple[int, int, bool, _Rule]], breaks: list[int], lang: _Lang) -> bool:
    for _n_start, n_end, strong, _r in negations:
        if n_end > start:
            continue
        gap = start - n_end
        if strong:
            if gap <= lang.strong_window:
                return True
        elif gap <= lang.window and not any(n_end <= b < start for b in breaks):
            return True
    return False


_TARGET_REASON = {
    "remote_access": "asks the customer to install or use remote-access software, or for its id",
    "fund_move": "asks the customer to move funds to a wallet or address that is not theirs nor the exchange's",
}


def _target_finding(kind: str, sentence: str) -> Finding:
    if kind in SECRET_LABELS:
        reason = f"asks the customer for their {SECRET_LABELS[kind]}"
        code = f"asks_for_{kind}"
    else:
        kind = "fund_move" if kind == "fund_transfer" else kind
        reason = _TARGET_REASON[kind]
        code = "asks_for_remote_access" if kind == "remote_access" else "asks_to_move_funds"
    return Finding(BLOCK, code, f"{reason}: \"{_snippet(sentence)}\"", _snippet(sentence))


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
    addresses = _address_findings(norm, customer_addresses, exchange_addresses)
    findings = _secret_findings(_lexical(norm), _lexicon_for(lexicon), unknown_address=bool(addresses))
    findings += _link_findings(norm, allowed_domains)
    findings += addresses
    findings += _placeholder_findings(norm)
    return GuardReport(tuple(findings), hashlib.sha256(text.encode("utf-8")).hexdigest())
