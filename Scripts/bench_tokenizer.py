#!/usr/bin/env python3
"""Encode throughput of `t5 tokenize` vs Hugging Face `tokenizers` (Rust), one thread each.

Builds a deterministic mixed-language text (English, punctuation, numbers, non-Latin scripts),
checks that both give identical ids on every line (and on adversarial fuzz strings with --fuzz),
then times both on the same lines in the same run and prints a table.

    python3 -m venv .venv-tokbench
    .venv-tokbench/bin/pip install -r Scripts/requirements-tokenizer-bench.txt
    swift build -c release --scratch-path .build-tok
    .venv-tokbench/bin/python Scripts/bench_tokenizer.py [--mb 4] [--fuzz 20000]

HF runs single-threaded: RAYON_NUM_THREADS=1 and TOKENIZERS_PARALLELISM=false are set before
`tokenizers` is imported. It is timed two ways: `encode(line)` per line from a Python loop
(includes the Python call overhead) and `encode_batch(lines)` (one call, serial). The Swift
figure is `T5Tokenizer.encode(line)` per line, timed inside the process. Both include the `</s>`.
"""
import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORDS = """the of and to in a is that for it as was with be by on not he I this are or his from at
which but have an they you were her she there been one all we their has would when if so no will
more can out up about who what some time into its them only new other could said these two may
first any like then now my such over our way even most after also made many before must through
years where much your down should because each just those people how too little state good very
make world still own see men work long here get both between life being under never day same
another know while last might us great old year off come since against go came right used take
three states himself few house use during without again place american around however home small
found thought went say part once general high upon school every don does got united left number
course war until always away something fact though water less public put think almost hand enough
far took head yet government system better set told nothing night end why called didn eyes find
going look asked later knew point next program city business give group toward young days let room
president side social given present several order national possible rather second face per among
form important often things looking early white case john become large big need four within felt
children along saw best church ever least power development light thank translate summarize
question answer premise hypothesis sentiment review movie product German French Romanian English
""".split()

SNIPPETS = [
    "Привет, как дела? Сегодня хорошая погода.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
    "東京は日本の首都です。人口は約1400万人。",
    "我们今天去公园散步，天气很好。",
    "서울은 대한민국의 수도입니다.",
    "مرحبا بالعالم، كيف حالك اليوم؟",
    "नमस्ते दुनिया, आज मौसम अच्छा है।",
    "Ça va très bien, merci ! L'été dernier à Paris…",
    "Größere Übersetzungen für Straßen und Flüsse in München.",
    "¿Dónde está la biblioteca? ¡Mañana será otro día!",
    "The café served crème brûlée and a naïve piña colada.",
    "Emoji: 😀 👍🏽 👨‍👩‍👧 ❤️ 🇫🇷 ✓",
    "Full-width: ＡＢＣ１２３ ｈｅｌｌｏ！ ①②③ ﬁnance ㍿",
    "Math: x² + y² = z², ½ ≤ ¾, α→β, ∑ᵢ aᵢ",
]


def make_text(megabytes: float, seed: int = 20240601) -> list[str]:
    """Deterministic lines totalling about `megabytes` MB of UTF-8."""
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    lines, total = [], 0
    while total < target:
        parts = []
        for _ in range(rng.randint(1, 8)):
            kind = rng.random()
            if kind < 0.72:
                words = [rng.choice(WORDS) for _ in range(rng.randint(4, 22))]
                words[0] = words[0].capitalize()
                for k in range(len(words)):
                    r = rng.random()
                    if r < 0.06:
                        words[k] += ","
                    elif r < 0.08:
                        words[k] = f'"{words[k]}"'
                    elif r < 0.10:
                        words[k] = f"({words[k]})"
                parts.append(" ".join(words) + rng.choice([".", ".", ".", "?", "!", ";", ":"]))
            elif kind < 0.82:
                parts.append(rng.choice([
                    f"{rng.randint(0, 10**6):,}", f"{rng.uniform(0, 1000):.2f}%",
                    f"${rng.randint(1, 9999)}.{rng.randint(0, 99):02d}",
                    f"{rng.randint(1900, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    f"+1 ({rng.randint(200, 999)}) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                    f"https://example.com/{rng.choice(WORDS)}?id={rng.randint(1, 99999)}",
                    f"def f(x): return x**{rng.randint(2, 9)} - {rng.randint(0, 99)}  # ok",
                ]))
            else:
                parts.append(rng.choice(SNIPPETS))
        line = " ".join(parts)
        lines.append(line)
        total += len(line.encode())
    return lines


FUZZ_POOL = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"()[]{}<>/\\-_=+*&^%$#@~`|")
    + [" ", " ", "  ", "\t", "\n", "\r", "\r\n", "\x00", "\x01", "\x0b", "\x0c", "\x1f", "\x7f", "\x85",
       "\xa0", "\u1680", "\u2002", "\u200b", "\u200c", "\u200d", "\u2028", "\u2029", "\u202f", "\u3000",
       "\ufeff", "\u2581", "\u2581\u2581"]
    + [chr(c) for c in range(0x300, 0x370, 7)] + ["\u0301", "\u0308", "\u20dd", "\u0e31", "\u093f"]
    + list("éèêëñçßæøåÆØÅœŒĳﬁﬂ№™℃℉Ωµ") + list("ＡＢＣａｂｃ０１２！？＜＞（）／［］")
    + list("①②⑳㈱㍿½¼¾²³¹ᵃ₁") + list("あいうアイウｱｲｳﾞﾟ漢字中国語한국어") + ["\u1100\u1161", "\u1100\u1161\u11a8"]
    + list("αβγδΑΒΓабвгдАБВГ") + list("مرحبا") + list("नमस्ते") + ["\u0915\u094d\u0937"]
    + ["😀", "👍", "🏽", "👨\u200d👩\u200d👧", "❤\ufe0f", "🇫🇷", "🇺", "#\ufe0f\u20e3", "\u0600", "\u0600a"]
    + ["<pad>", "</s>", "<unk>", "<extra_id_0>", "<extra_id_99>", "<extra_id_42>", "<extra_id_", "＜pad＞",
       "＜/s＞", "﹤unk﹥", "<extra_id_１>", "<<pad>>", "</s></s>"]
    # Grapheme-cluster edges: Extend / SpacingMark / ZWJ / variation selectors, Prepend, Hangul jamo,
    # halfwidth voiced marks: where HF's per-cluster charsmap rule differs from per-scalar.
    + [chr(c) for c in (0x483, 0x591, 0x64B, 0x670, 0x903, 0x93B, 0x93C, 0x94D, 0x9BE, 0xE31, 0x1160, 0x11A8,
                        0x200C, 0x20D0, 0x20E3, 0x302A, 0x3099, 0x309A, 0xFE00, 0xFE0F, 0xFF9E, 0xFF9F)]
    + [chr(c) for c in (0x601, 0x605, 0x6DD, 0x70F, 0x890, 0x8E2, 0xD4E, 0x1100, 0x1161, 0xAC00, 0xD7B0)]
    + list("ＡＡ\u0301ｶ\uff9eｼ\uff9f") + ["\U0001F1EB\U0001F1F7\U0001F1E9", "\U0001F3FB", "\u2764\ufe0f"]
)


def make_fuzz(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(FUZZ_POOL) for _ in range(rng.randint(0, 24))) for _ in range(n)]


def swift_annotate(binary: str, tokenizer_path: str, texts: list[str]) -> list[dict]:
    payload = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
    out = subprocess.run([binary, "tokenize", "--tokenizer", tokenizer_path, "--jsonl"],
                         input=payload.encode(), capture_output=True, check=True)
    # Not splitlines(): decoded text may hold U+2028 or U+0085, which it would also split on.
    return [json.loads(line) for line in out.stdout.decode().split("\n") if line]


def verify(binary: str, tokenizer_path: str, hf: Tokenizer, texts: list[str], label: str) -> int:
    # JSON lines cannot carry lone surrogates and `readLine` splits on \n: pass texts intact.
    ours = swift_annotate(binary, tokenizer_path, texts)
    assert len(ours) == len(texts), f"{label}: {len(ours)} outputs for {len(texts)} inputs"
    bad = 0
    for text, got in zip(texts, ours):
        ids = hf.encode(text).ids
        decoded = hf.decode(ids, skip_special_tokens=True)
        if got["text"] != text or got["ids"] != ids or got["decoded"] != decoded:
            bad += 1
            if bad <= 5:
                print(f"  MISMATCH {label}: {text!r}\n    hf    {ids} {decoded!r}\n"
                      f"    swift {got['ids']} {got['decoded']!r}", file=sys.stderr)
    print(f"verify {label}: {len(texts) - bad}/{len(texts)} identical (ids and decoded)")
    return bad


def time_hf(hf: Tokenizer, lines: list[str], repeats: int, batch: bool) -> tuple[list[float], list[float]]:
    """MB/s per timed pass, by wall clock and by process CPU time (steadier on a shared machine)."""
    nbytes = sum(len(line.encode()) for line in lines)
    wall, cpu = [], []
    for k in range(repeats + 1):  # first pass is a warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        if batch:
            hf.encode_batch(lines)
        else:
            for line in lines:
                hf.encode(line)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if k > 0:
            wall.append(nbytes / dt / 1e6)
            cpu.append(nbytes / dc / 1e6)
    return wall, cpu


def fmt(rates: list[float]) -> str:
    sd = statistics.stdev(rates) if len(rates) > 1 else 0.0
    return f"{statistics.mean(rates):.2f} ± {sd:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build-tok/release/t5"))
    # The standard T5 tokenizer.json, the repository's one copy (the text-tiny test model's).
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "Tests/T5EngineTests/Fixtures/models/text-tiny/tokenizer.json"))
    ap.add_argument("--mb", type=float, default=4.0, help="size of the benchmark text in MB")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--fuzz", type=int, default=0, help="also compare N adversarial strings")
    ap.add_argument("--keep", help="write the benchmark text to this file")
    args = ap.parse_args()

    hf = Tokenizer.from_file(args.tokenizer)
    lines = make_text(args.mb)
    nbytes = sum(len(line.encode()) for line in lines)
    path = args.keep or os.path.join(tempfile.mkdtemp(prefix="tokbench"), "bench.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

    bad = verify(args.binary, args.tokenizer, hf, lines, "bench text")
    if args.fuzz:
        bad += verify(args.binary, args.tokenizer, hf, make_fuzz(args.fuzz), "fuzz")

    swift = json.loads(subprocess.run(
        [args.binary, "tokenize", "--tokenizer", args.tokenizer, "--bench", path, "--repeats", str(args.repeats)],
        capture_output=True, check=True, text=True).stdout)
    per_line = time_hf(hf, lines, args.repeats, batch=False)
    batch = time_hf(hf, lines, args.repeats, batch=True)

    hf_best_cpu = max(statistics.mean(per_line[1]), statistics.mean(batch[1]))
    print(f"\ntext: {len(lines)} lines, {nbytes / 1e6:.2f} MB UTF-8 ({sum(not l.isascii() for l in lines)} lines non-ASCII)")
    print(f"cpu: {swift['cpu']} ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}); "
          f"python {platform.python_version()}, tokenizers {tokenizers.__version__}; "
          f"RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false; {args.repeats} timed passes after 1 warm-up\n")
    print("| engine | how | MB/s wall | MB/s CPU time | CPU-time speed vs best HF |")
    print("| --- | --- | ---: | ---: | ---: |")
    print(f"| swift-t5 T5Tokenizer | encode(line) per line, in process | "
          f"{swift['mb_per_s']:.2f} ± {swift['mb_per_s_stddev']:.2f} | "
          f"{swift['cpu_mb_per_s']:.2f} ± {swift['cpu_mb_per_s_stddev']:.2f} | "
          f"{swift['cpu_mb_per_s'] / hf_best_cpu:.2f}x |")
    for name, (wall, cpu) in [("encode(line) per line, Python loop", per_line), ("encode_batch(lines), serial", batch)]:
        print(f"| HF tokenizers {tokenizers.__version__} | {name} | {fmt(wall)} | {fmt(cpu)} | "
              f"{statistics.mean(cpu) / hf_best_cpu:.2f}x |")
    print(f"\nswift tokenizer load: {swift['load_ms']} ms; tokens per pass: {swift['tokens']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
