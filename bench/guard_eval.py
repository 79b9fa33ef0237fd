"""The reply guard measured on a labelled set, not on its own tests: recall (requests that block) and
false-positive rate (safe replies that block) per language, on the held-out part of
bench/data/guard_eval/<lang>.jsonl ({"text", "label": "block"|"safe", "split": "dev"|"held"}; the
held-out lines were not looked at while the lexicons were tuned). Then the time to guard a
2,000-character reply, beside a plain str.casefold pass over the same text in the same run.

Run: python bench/guard_eval.py [--split dev|held|all]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agent_tui.macros.guard import check_reply  # noqa: E402

DATA = REPO / "bench" / "data" / "guard_eval"
RECALL_GOAL = 0.98
FPR_GOAL = 0.01


def load(split: str = "held") -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for path in sorted(DATA.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        out[path.stem] = [r for r in rows if split == "all" or r["split"] == split]
    return out


def score(rows: list[dict]) -> tuple[float, float, list[str], list[str]]:
    """(recall, false-positive rate, missed requests, blocked safe replies)."""
    missed = [r["text"] for r in rows if r["label"] == "block" and not check_reply(r["text"]).blocked]
    false = [r["text"] for r in rows if r["label"] == "safe" and check_reply(r["text"]).blocked]
    n_block = sum(r["label"] == "block" for r in rows) or 1
    n_safe = sum(r["label"] == "safe" for r in rows) or 1
    return 1 - len(missed) / n_block, len(false) / n_safe, missed, false


def reply_2000() -> str:
    rows = [r["text"] for rows in load("all").values() for r in rows if r["label"] == "safe"]
    text = ""
    i = 0
    while len(text) < 2000:
        text += rows[(i * 37) % len(rows)] + " "
        i += 1
    return text[:2000]


def timed(fn, runs: int = 200) -> float:
    samples = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(runs):
            fn()
        samples.append((time.perf_counter() - t) / runs)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="held", choices=["dev", "held", "all"])
    ap.add_argument("--show", action="store_true", help="list the misses and false positives")
    args = ap.parse_args()
    results = {}
    for lang, rows in load(args.split).items():
        recall, fpr, missed, false = score(rows)
        results[lang] = (recall, fpr)
        n_b = sum(r["label"] == "block" for r in rows)
        n_s = sum(r["label"] == "safe" for r in rows)
        print(f"{lang:8} recall {recall:.3f} ({n_b} requests)  false positives {fpr:.3f} ({n_s} safe)")
        if args.show:
            for t in missed:
                print(f"    missed: {t}")
            for t in false:
                print(f"    false:  {t}")
    text = reply_2000()
    check_reply(text)
    guard = timed(lambda: check_reply(text, allowed_domains=["exchange.example"]))
    base = timed(lambda: text.casefold(), runs=2000)
    print(f"guard a 2,000-character reply: {guard * 1000:.3f} ms; str.casefold of it: {base * 1000:.4f} ms "
          f"({guard / base:.0f}x)")
    for lang, (recall, fpr) in results.items():
        print(f"guard_recall_{lang}: {recall:.3f} ratio (goal >= {RECALL_GOAL})")
        print(f"guard_fpr_{lang}: {fpr:.3f} ratio (goal <= {FPR_GOAL})")
    print(f"guard_ms_2000_chars: {guard * 1000:.3f} ms (goal <= 5)")


if __name__ == "__main__":
    main()
