#!/usr/bin/env python3
"""Benchmarks this engine against Hugging Face transformers (torch, f32) and CTranslate2 (f32, int8) in one run.

Same checkpoint, same prompt ids as `t5 bench` (row b of length L: ids[i] = 3 + (i*7919 + b*104729 + 13) % 32000
for i < L-1, then EOS), greedy, exactly --new-tokens tokens per row (EOS is not allowed to stop a peer early),
the same thread count for everyone. With --int8-model, this engine runs it twice: the default (decode steps with
16-bit activations on AVX-512 VNNI, f32 activations elsewhere and in long prompts) and with --int8-activations (W8A8,
CTranslate2 int8's scheme). Writes a markdown table and a PNG plot.

Definitions (identical for every engine):
  decode tok/s (batch 1)  = (N-1) / (T(N) - T(1)), T(n) = wall time of a generate call producing n tokens
                            (t5 bench measures the same quantity directly from its steps);
  batch-8 tok/s           = 8*N / T(N) at batch 8, encoder included;
  encoder ms              = the encoder alone (CTranslate2 exposes no encoder call: its T(1) is shown instead);
  peak RSS                = ru_maxrss of the process that ran the engine (each peer runs in its own process).
Optionally (--reference JSON from `Scripts/make_fixtures.py --large`), teacher-forced top-1 agreement of the int8
engines with the reference greedy ids.

Setup (pinned; .venv*/ is git-ignored):
  python3 -m venv .venv-peers
  .venv-peers/bin/pip install "torch==2.13.0+cpu" "transformers==4.57.6" "ctranslate2==4.8.5" \
      "matplotlib==3.11.2" "numpy==2.4.6"
Usage:
  swift build -c release --product t5      # the README's build: its kernels are chosen by CPUID at run time
  .build/release/t5 convert --model M --out M-int8 --dtype int8
  .build/release/t5 convert --model M --out M-bf16 --dtype bf16
  .venv-peers/bin/python Scripts/bench_peers.py --model M --int8-model M-int8 --bf16-model M-bf16 \
      --reference M.json --out bench-out/small
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time


def prompt_ids(length, row, eos):
    return [3 + (i * 7919 + row * 104729 + 13) % 32000 for i in range(length - 1)] + [eos]


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ----------------------------------------------------------------------------------------------- workers


def worker_transformers(args):
    import torch
    from transformers import T5ForConditionalGeneration
    from transformers.cache_utils import DynamicCache, EncoderDecoderCache

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = T5ForConditionalGeneration.from_pretrained(args.model, dtype=torch.float32).eval()
    load_ms = (time.perf_counter() - t0) * 1000
    eos = model.config.eos_token_id

    def batch(length, b):
        ids = torch.tensor([prompt_ids(length, r, eos) for r in range(b)])
        return ids, torch.ones_like(ids)

    def generate(ids, mask, n):
        # A fresh cache per call (transformers 4.57 sizes its default cache by the encoder's depth).
        with torch.inference_mode():
            t = time.perf_counter()
            model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                           num_beams=1, past_key_values=EncoderDecoderCache(DynamicCache(), DynamicCache()))
            return time.perf_counter() - t

    def encoder(ids, mask):
        with torch.inference_mode():
            t = time.perf_counter()
            model.encoder(input_ids=ids, attention_mask=mask)
            return time.perf_counter() - t

    return run_protocol(args, load_ms, batch, generate, encoder)


def ct2_model_dir(args, quantization):
    """Converts the checkpoint for CTranslate2 once (cached next to --out). The random checkpoints have no tokenizer:
    a stand-in vocabulary ('<pad>', '</s>', '<unk>', 't3', ...) maps ids to tokens one to one."""
    import ctranslate2
    from ctranslate2.converters import transformers as ct2t

    out = os.path.join(args.cache, f"ct2-{os.path.basename(os.path.normpath(args.model))}-{quantization}")
    if os.path.isdir(out):
        return out

    class StandInTokenizer:
        def __init__(self, size):
            self.size = size
            self.pad_token, self.eos_token, self.unk_token = "<pad>", "</s>", "<unk>"

        def get_vocab(self):
            return {token_of(i): i for i in range(self.size)}

        def convert_ids_to_tokens(self, i):
            return token_of(i)

    cfg = json.load(open(os.path.join(args.model, "config.json")))
    ct2t.TransformersConverter.load_tokenizer = lambda self, cls, path, **kw: StandInTokenizer(cfg["vocab_size"])
    ct2t.TransformersConverter(args.model).convert(out, quantization=quantization, force=True)
    return out


def token_of(i):
    return {0: "<pad>", 1: "</s>", 2: "<unk>"}.get(i, f"t{i}")


def worker_ct2(args):
    import ctranslate2

    compute = args.worker.split(":")[1]
    path = ct2_model_dir(args, compute)
    t0 = time.perf_counter()
    translator = ctranslate2.Translator(path, device="cpu", compute_type=compute, inter_threads=1,
                                        intra_threads=args.threads)
    load_ms = (time.perf_counter() - t0) * 1000
    eos = 1

    def batch(length, b):
        return [[token_of(i) for i in prompt_ids(length, r, eos)] for r in range(b)], None

    def generate(tokens, _mask, n):
        t = time.perf_counter()
        translator.translate_batch(tokens, beam_size=1, max_decoding_length=n, min_decoding_length=n,
                                   max_batch_size=len(tokens))
        return time.perf_counter() - t

    result = run_protocol(args, load_ms, batch, generate, None)
    # One translation per reference prefix: slow (minutes), so only for the int8 model the issue compares.
    if args.reference and compute == "int8":
        result["agreement"] = ct2_agreement(translator, args.reference)
    return result


def ct2_agreement(translator, reference_path):
    """Teacher-forced top-1: for every prefix of each reference greedy sequence, the next token CTranslate2 picks."""
    ref = json.load(open(reference_path))
    agree = total = 0
    for prompt, single in zip(ref["prompts"], ref["single"]):
        target = single["greedy_ids"]
        source = [token_of(i) for i in prompt]
        prefixes = [[token_of(i) for i in target[:t]] for t in range(len(target))]
        out = translator.translate_batch([source] * len(prefixes), target_prefix=prefixes, beam_size=1,
                                         max_decoding_length=len(target) + 1, min_decoding_length=0,
                                         max_batch_size=32, return_end_token=True)
        for t, r in enumerate(out):
            hyp = r.hypotheses[0]
            picked = hyp[t] if len(hyp) > t else "</s>"
            agree += int(picked == token_of(target[t]))
            total += 1
    return {"agree": agree, "steps": total}


def run_protocol(args, load_ms, batch, generate, encoder):
    n = args.new_tokens
    res = {"load_ms": load_ms}
    ids, mask = batch(args.prompt_len, 1)
    for _ in range(args.warmup):
        generate(ids, mask, n)
    t1 = [generate(ids, mask, 1) for _ in range(args.reps)]
    tn = [generate(ids, mask, n) for _ in range(args.reps)]
    res["first_token_ms"] = median(t1) * 1000
    res["decode_tok_s"] = (n - 1) / (median(tn) - median(t1))
    if encoder:
        res["encoder_ms"] = median([encoder(ids, mask) for _ in range(args.reps)]) * 1000
        ids256, mask256 = batch(256, 1)
        encoder(ids256, mask256)
        res["encoder256_ms"] = median([encoder(ids256, mask256) for _ in range(args.reps)]) * 1000
    else:
        ids256, mask256 = batch(256, 1)
        generate(ids256, mask256, 1)
        res["first_token256_ms"] = median([generate(ids256, mask256, 1) for _ in range(args.reps)]) * 1000
    ids8, mask8 = batch(args.prompt_len, 8)
    generate(ids8, mask8, n)
    res["batch8_tok_s"] = 8 * n / median([generate(ids8, mask8, n) for _ in range(args.reps)])
    res["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return res


# ----------------------------------------------------------------------------------------------- this engine


def run_engine(args, model, label, options=()):
    """`options`: extra model options for every t5 call (e.g. --int8-activations)."""
    def bench(extra):
        cmd = [args.t5, "bench", "--model", model, "--threads", str(args.threads), "--new-tokens", str(args.new_tokens),
               "--warmup", str(args.warmup), "--reps", str(args.reps), "--json"] + list(options) + extra
        return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)

    small = bench(["--prompt-len", str(args.prompt_len), "--batch", "1,8"])
    long = bench(["--prompt-len", "256", "--batch", "1"])
    by = {(r["prompt_len"], r["batch"]): r for r in small["results"] + long["results"]}
    b1, b8, l256 = by[(args.prompt_len, 1)], by[(args.prompt_len, 8)], by[(256, 1)]
    res = {
        "load_ms": small["load_ms"]["median"], "encoder_ms": b1["encoder_ms"]["median"],
        "first_token_ms": b1["first_token_ms"]["median"], "decode_tok_s": b1["decode_tok_s"]["median"],
        "batch8_tok_s": b8["total_tok_s"]["median"], "encoder256_ms": l256["encoder_ms"]["median"],
        "peak_rss_bytes": small["peak_rss_bytes"], "weight_bytes": small["weight_bytes"],
        "openblas_core": small["openblas_core"], "build": small["build"],
    }
    # The bench's roofline (measured in each bench process): fractions of the bound reached, same runs as the figures.
    if "roofline" in b1:
        res["roofline"] = {
            "machine": small["machine"],
            "decode_b1": b1["roofline"]["decode"], "decode_b8": b8["roofline"]["decode"],
            "encoder256": l256["roofline"]["encoder"], "encoder64": b1["roofline"]["encoder"],
        }
    if args.reference:
        out = subprocess.run([args.t5, "teacher-forced", "--model", model, "--input", args.reference] + list(options),
                             check=True, capture_output=True, text=True).stdout
        ref = json.load(open(args.reference))
        argmax = json.loads(out)["argmax"]
        pairs = [(a, b) for s, row in zip(ref["single"], argmax) for a, b in zip(s["greedy_ids"], row)]
        res["agreement"] = {"agree": sum(a == b for a, b in pairs), "steps": len(pairs)}
    return res


# ----------------------------------------------------------------------------------------------- report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="Hugging Face T5 folder (f32)")
    ap.add_argument("--int8-model", help="the same model converted by `t5 convert --dtype int8`")
    ap.add_argument("--bf16-model", help="the same model converted by `t5 convert --dtype bf16` (held half width)")
    ap.add_argument("--t5", default=".build/release/t5", help="the t5 executable (release build)")
    ap.add_argument("--reference", help="make_fixtures.py --large JSON, for teacher-forced int8 agreement")
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default="bench-out/peers", help="output prefix: writes OUT.md, OUT.json and OUT.png")
    ap.add_argument("--cache", default="/tmp/t5-bench-peers", help="where CTranslate2 conversions are kept")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)

    if args.worker:
        fn = worker_transformers if args.worker == "transformers" else worker_ct2
        print(json.dumps(fn(args)))
        return

    def peer(worker):
        cmd = [sys.executable, __file__, "--worker", worker] + [a for a in sys.argv[1:]]
        # Passive OpenMP waiting: on a machine shared with other jobs, torch's default spinning barriers were measured
        # 25x slower (0.8 vs 20 tok/s); with the machine idle the policy makes little difference.
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="PASSIVE")
        return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout.splitlines()[-1])

    def timed(fn, *a):
        # The machine may be shared: the 1-minute load average before and after each engine goes with its figures.
        before = os.getloadavg()[0]
        r = fn(*a)
        r["load_before_after"] = [before, os.getloadavg()[0]]
        return r

    rows = {}
    rows["swift-t5 f32"] = timed(run_engine, args, args.model, "f32")
    if args.int8_model:
        rows["swift-t5 int8"] = timed(run_engine, args, args.int8_model, "int8")
        # int8 activations too (W8A8, opt-in): the scheme CTranslate2's int8 uses.
        rows["swift-t5 int8 W8A8"] = timed(run_engine, args, args.int8_model, "int8-w8a8", ["--int8-activations"])
    if args.bf16_model:
        rows["swift-t5 bf16"] = timed(run_engine, args, args.bf16_model, "bf16")
    rows["transformers f32"] = timed(peer, "transformers")
    rows["ctranslate2 f32"] = timed(peer, "ct2:float32")
    rows["ctranslate2 int8"] = timed(peer, "ct2:int8")
    write_report(args, rows)


def write_report(args, rows):
    import ctranslate2
    import torch
    import transformers

    eng = rows["swift-t5 f32"]
    head = (f"CPU: {cpu_model()}; OpenBLAS core: {eng['openblas_core']}; threads: {args.threads}; "
            f"swift-t5 build: {eng['build']}; peers with OMP_WAIT_POLICY=PASSIVE; "
            f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)\n"
            f"Model: {args.model}; prompt {args.prompt_len} tokens, {args.new_tokens} new tokens, greedy; "
            f"medians of {args.reps}.\n"
            f"Peers: torch {torch.__version__}, transformers {transformers.__version__}, "
            f"ctranslate2 {ctranslate2.__version__}.\n")
    cols = ["engine", "load ms", "encoder ms (64)", "first token ms (64)", "decode tok/s b1", "tok/s b8",
            "encoder ms (256)", "peak RSS MB", "top-1 agreement", "load avg before/after"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    f = lambda v, d=1: "-" if v is None else f"{v:.{d}f}"
    for name, r in rows.items():
        enc256 = r.get("encoder256_ms")
        enc256 = f(enc256) if enc256 is not None else f"({f(r.get('first_token256_ms'))} first token)"
        ag = r.get("agreement")
        ag = f"{ag['agree']}/{ag['steps']} = {100 * ag['agree'] / ag['steps']:.1f}%" if ag else "-"
        lines.append(f"| {name} | {f(r['load_ms'])} | {f(r.get('encoder_ms'))} | {f(r['first_token_ms'])} | "
                     f"{f(r['decode_tok_s'])} | {f(r['batch8_tok_s'])} | {enc256} | {f(r['peak_rss_bytes'] / 1e6, 0)} | {ag} | "
                     f"{r['load_before_after'][0]:.1f} / {r['load_before_after'][1]:.1f} |")
    roof = ["", "Roofline (`t5 bench`'s own measurement in each run; fraction of the bound reached):", "",
            "| engine | read GB/s | sgemm GFLOP/s | kernels GFLOP/s | step weight MB | decode b1 (bound tok/s, reached) | "
            "decode b8 (bound tok/s, limit, reached) | encoder 64 (bound ms, reached) | encoder 256 (bound ms, reached) |",
            "|" + "---|" * 9]
    for name, r in rows.items():
        rl = r.get("roofline")
        if not rl:
            continue
        m, d1, d8, e64, e256 = rl["machine"], rl["decode_b1"], rl["decode_b8"], rl["encoder64"], rl["encoder256"]
        # W8A8 rows are bounded by the int8 kernels' rate (GOP/s), shown in the kernels column after the f32 one.
        int8 = m.get("int8_kernel_ops_per_s")
        kernels = f"{m['kernel_flops_per_s'] / 1e9:.0f}" + (f" (int8 {int8 / 1e9:.0f})" if int8 else "")
        roof.append(f"| {name} | {m['read_bytes_per_s'] / 1e9:.1f} | {m['sgemm_flops_per_s'] / 1e9:.0f} | "
                    f"{kernels} | {m['decode_step_weight_bytes'] / 1e6:.1f} | "
                    f"{d1['bound_tok_s']:.0f}, {100 * d1['fraction']:.0f}% | "
                    f"{d8['bound_tok_s']:.0f}, {d8['limit']}, {100 * d8['fraction']:.0f}% | "
                    f"{e64['bound_ms']:.1f}, {100 * e64['fraction']:.0f}% | {e256['bound_ms']:.1f}, {100 * e256['fraction']:.0f}% |")
    if len(roof) > 5:
        lines += roof
    tf, ct8 = rows["transformers f32"], rows["ctranslate2 int8"]
    ratios = [f"f32 decode b1 vs transformers: {eng['decode_tok_s'] / tf['decode_tok_s']:.2f}x",
              f"tok/s b8 vs transformers: {eng['batch8_tok_s'] / tf['batch8_tok_s']:.2f}x",
              f"encoder(256) / transformers: {eng['encoder256_ms'] / tf['encoder256_ms']:.2f}",
              f"peak RSS / weight bytes: {eng['peak_rss_bytes'] / eng['weight_bytes']:.2f}",
              f"load + first token: {eng['load_ms'] + eng['first_token_ms']:.1f} ms"]
    if "swift-t5 int8" in rows:
        i8 = rows["swift-t5 int8"]
        ratios += [f"int8 decode b1 vs ctranslate2 int8: {i8['decode_tok_s'] / ct8['decode_tok_s']:.2f}x",
                   f"int8 tok/s b8 vs transformers: {i8['batch8_tok_s'] / tf['batch8_tok_s']:.2f}x",
                   f"int8 peak RSS / weight bytes: {i8['peak_rss_bytes'] / i8['weight_bytes']:.2f}"]
    if "swift-t5 int8 W8A8" in rows:
        w8 = rows["swift-t5 int8 W8A8"]
        ratios += [f"W8A8 decode b1 vs ctranslate2 int8: {w8['decode_tok_s'] / ct8['decode_tok_s']:.2f}x",
                   f"W8A8 tok/s b8 vs ctranslate2 int8: {w8['batch8_tok_s'] / ct8['batch8_tok_s']:.2f}x",
                   f"W8A8 tok/s b8 vs transformers: {w8['batch8_tok_s'] / tf['batch8_tok_s']:.2f}x"]
    if "swift-t5 bf16" in rows:
        h = rows["swift-t5 bf16"]
        ratios += [f"bf16 decode b1 vs transformers: {h['decode_tok_s'] / tf['decode_tok_s']:.2f}x",
                   f"bf16 peak RSS / weight bytes: {h['peak_rss_bytes'] / h['weight_bytes']:.2f}"]
    text = head + "\n" + "\n".join(lines) + "\n\nRatios (same run): " + "; ".join(ratios) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    open(args.out + ".md", "w").write(text)
    json.dump({"rows": rows, "cpu": cpu_model(), "threads": args.threads}, open(args.out + ".json", "w"), indent=1)
    print(text)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(rows)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, title in [(axes[0], "decode_tok_s", "batch-1 decode tok/s"), (axes[1], "batch8_tok_s", "batch-8 tok/s")]:
        ax.barh(names, [rows[n][key] for n in names], color=["C0" if n.startswith("swift") else "C7" for n in names])
        ax.set_title(title)
        ax.invert_yaxis()
    fig.suptitle(f"{os.path.basename(os.path.normpath(args.model))}: {cpu_model()}, {args.threads} threads, "
                 f"OpenBLAS {eng['openblas_core']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out + ".png", dpi=110)


if __name__ == "__main__":
    main()
