#!/usr/bin/env python3
"""Load test of `t5 serve`: N concurrent clients, each sending greedy completions one after another.

    python3 -m venv .venv-server
    .venv-server/bin/pip install -r Scripts/requirements-server.txt
    .venv-fixtures/bin/python Scripts/make_fixtures.py --large fixtures-large   # random-weight flan-t5-small (header)
    swift build -c release
    .build/release/t5 serve --model fixtures-large/flan-t5-small --port 8080 --max-batch 16 &
    .venv-server/bin/python Scripts/load_test.py --base-url http://127.0.0.1:8080 --out load-test

Every request: a prompt of exactly --prompt-tokens tokens (64; the prompts differ, built from a seeded word list and
measured with the server's own tokenizer through `usage.prompt_tokens` before the run), `max_tokens` and the T5
extension `min_tokens` both --new-tokens (64; so no request ends early at EOS and every one generates the same
amount), temperature 0 (greedy). Requests stream (`stream: true`, `stream_options.include_usage`) so the time to
first token is measured: from sending the request to the first chunk that carries a choice.
--stream-fraction 0 sends them unstreamed instead (the nginx failover run of Deploy/, where only unstreamed requests
can be retried); their time to first token is not known.

For each client count (--clients, default 1,2,4,8,16,32), after one warm-up request, every client sends requests
back to back until --duration seconds have passed (each client finishes the request it is in, and sends at least
--min-requests). Reported per client count: requests, failed requests (any HTTP error, broken stream, missing
[DONE], or a completion of the wrong length), total generated tokens per second (all completion tokens / the time
from the first send to the last answer), p50 / p99 time to first token, p50 / p99 request latency.

Writes OUT.md (markdown table), OUT.json (every request's timings, the settings, the server's model) and OUT.png
(throughput and p99 latencies against the client count). The issue's targets are checked and printed:
16-client throughput >= 2.5 x the 1-client throughput, no failed request at 16 clients, p99 time to first token at
16 clients < 1 s; --check-targets makes a missed target exit 1.

The client runs on the same machine as the server: it is light (one thread per client, the standard `requests`
library), but on a 2-core machine its CPU time is taken from the server; the JSON records the machine's core count.
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time

import requests

# Ordinary English words: prompts look like text to the tokenizer (a few pieces per word).
WORDS = ("the a of and to in is was for on that with as by at from it his her they be this are which an or had "
         "not but what all were when we there can more if out so up said about into than them could time these two "
         "may first then do any like my now over such our man me even most made after also did many before must "
         "through back years where much your way well down should because each just those people how too little "
         "state good very make world still own see men work long get here between both life being under never day "
         "same another know while last might us great old year off come since against go came right used take three "
         "river garden teacher window market winter music planet letter doctor engine forest mountain island bridge "
         "question answer number flower marble village kitchen yellow quiet bright travel measure science history").split()


def now():
    return time.perf_counter()


class Server:
    def __init__(self, base_url, api_key, timeout):
        self.base = base_url.rstrip("/")
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.timeout = timeout

    def model(self):
        r = requests.get(self.base + "/v1/models", headers=self.headers, timeout=self.timeout)
        r.raise_for_status()
        return r.json()["data"][0]["id"]

    def prompt_tokens(self, session, model, prompt):
        body = {"model": model, "prompt": prompt, "max_tokens": 1, "temperature": 0}
        r = session.post(self.base + "/v1/completions", json=body, headers=self.headers, timeout=self.timeout)
        r.raise_for_status()
        return r.json()["usage"]["prompt_tokens"]


def make_prompts(server, model, count, target, seed):
    """`count` different prompts of exactly `target` tokens as the server counts them (usage.prompt_tokens)."""
    rng = random.Random(seed)
    session = requests.Session()
    prompts = []
    for i in range(count):
        words = [rng.choice(WORDS) for _ in range(target * 2)]
        lo, hi = 1, len(words)  # the longest word prefix with at most `target` tokens
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if server.prompt_tokens(session, model, " ".join(words[:mid])) <= target:
                lo = mid
            else:
                hi = mid - 1
        text = " ".join(words[:lo])
        n = server.prompt_tokens(session, model, text)
        while n < target:  # pad with one-piece words
            text += " a"
            n = server.prompt_tokens(session, model, text)
        if n != target:
            raise SystemExit(f"could not build a prompt of exactly {target} tokens (got {n}): {text!r}")
        prompts.append(text)
    return prompts


def one_request(server, session, body):
    """Sends one completion; returns a record with its timings, or with `error` set."""
    rec = {"stream": body["stream"], "start": now(), "ttft": None, "latency": None, "tokens": 0, "error": None,
           "status": None}
    try:
        r = session.post(server.base + "/v1/completions", json=body, headers=server.headers, timeout=server.timeout,
                         stream=body["stream"])
        rec["status"] = r.status_code
        if r.status_code != 200:
            rec["error"] = f"HTTP {r.status_code}: {r.text[:300]}"
            return rec
        if not body["stream"]:
            result = r.json()
            rec["latency"] = now() - rec["start"]
            rec["tokens"] = result["usage"]["completion_tokens"]
        else:
            done = False
            for line in r.iter_lines():
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    done = True
                    break
                chunk = json.loads(data)
                if "error" in chunk:
                    rec["error"] = f"error event: {json.dumps(chunk['error'])[:300]}"
                    return rec
                if chunk.get("choices") and rec["ttft"] is None:
                    rec["ttft"] = now() - rec["start"]
                if chunk.get("usage"):
                    rec["tokens"] = chunk["usage"]["completion_tokens"]
            rec["latency"] = now() - rec["start"]
            if not done:
                rec["error"] = "the stream ended without [DONE]"
                return rec
        if rec["tokens"] != body["max_tokens"]:
            rec["error"] = f"{rec['tokens']} completion tokens, expected {body['max_tokens']}"
    except (requests.RequestException, ValueError, KeyError) as e:
        rec["error"] = f"{type(e).__name__}: {e}"[:300]
    return rec


def run_level(server, model, prompts, clients, args, rng_seed):
    """`clients` threads sending requests back to back for args.duration seconds; returns every request's record."""
    records, lock = [], threading.Lock()
    start = now()
    deadline = start + args.duration

    def client(index):
        rng = random.Random(rng_seed * 1000 + index)
        session = requests.Session()
        sent = 0
        while sent < args.min_requests or now() < deadline:
            stream = rng.random() < args.stream_fraction
            body = {"model": model, "prompt": rng.choice(prompts), "max_tokens": args.new_tokens,
                    "min_tokens": args.new_tokens, "temperature": 0, "stream": stream}
            if stream:
                body["stream_options"] = {"include_usage": True}
            rec = one_request(server, session, body)
            rec["client"] = index
            rec["start"] -= start
            with lock:
                records.append(rec)
            sent += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return records, now() - start


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q / 100  # linear interpolation between closest ranks (numpy's default)
    f = int(k)
    c = min(f + 1, len(values) - 1)
    return values[f] + (values[c] - values[f]) * (k - f)


def summarize(clients, records, wall):
    ok = [r for r in records if r["error"] is None]
    ttft = [r["ttft"] for r in ok if r["ttft"] is not None]
    lat = [r["latency"] for r in ok]
    tokens = sum(r["tokens"] for r in ok)
    return {
        "clients": clients,
        "requests": len(records),
        "failed": len(records) - len(ok),
        "streamed": sum(1 for r in records if r["stream"]),
        "wall_s": wall,
        "generated_tokens": tokens,
        "tokens_per_s": tokens / wall if wall > 0 else 0.0,
        "ttft_p50_s": percentile(ttft, 50), "ttft_p99_s": percentile(ttft, 99),
        "latency_p50_s": percentile(lat, 50), "latency_p99_s": percentile(lat, 99),
        "errors": sorted({r["error"] for r in records if r["error"]})[:10],
    }


def fmt(x, digits=3):
    return "–" if x is None else f"{x:.{digits}f}"


def table(levels):
    base = levels[0]["tokens_per_s"] if levels and levels[0]["clients"] == 1 else None
    lines = ["| clients | requests | failed | generated tok/s | vs 1 client | TTFT p50 (s) | TTFT p99 (s) "
             "| latency p50 (s) | latency p99 (s) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in levels:
        ratio = f"{s['tokens_per_s'] / base:.2f}×" if base else "–"
        lines.append(f"| {s['clients']} | {s['requests']} | {s['failed']} | {s['tokens_per_s']:.1f} | {ratio} "
                     f"| {fmt(s['ttft_p50_s'])} | {fmt(s['ttft_p99_s'])} | {fmt(s['latency_p50_s'])} "
                     f"| {fmt(s['latency_p99_s'])} |")
    return "\n".join(lines)


def targets(levels):
    """The issue's targets, as (description, passed or None when not measured)."""
    by = {s["clients"]: s for s in levels}
    one, sixteen = by.get(1), by.get(16)
    out = []
    if one and sixteen:
        ratio = sixteen["tokens_per_s"] / one["tokens_per_s"] if one["tokens_per_s"] else 0.0
        out.append((f"16-client throughput {sixteen['tokens_per_s']:.1f} tok/s = {ratio:.2f}× the 1-client "
                    f"{one['tokens_per_s']:.1f} tok/s (target ≥ 2.5×)", ratio >= 2.5))
    if sixteen:
        out.append((f"failed requests at 16 clients: {sixteen['failed']} (target 0)", sixteen["failed"] == 0))
        if sixteen["ttft_p99_s"] is not None:
            out.append((f"p99 time to first token at 16 clients: {sixteen['ttft_p99_s']:.3f} s (target < 1 s)",
                        sixteen["ttft_p99_s"] < 1.0))
    return out


def plot(levels, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [s["clients"] for s in levels]
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=110)
    ax.plot(xs, [s["tokens_per_s"] for s in levels], "o-", color="tab:blue", label="generated tok/s")
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("generated tokens / s", color="tab:blue")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(xs, [s["latency_p99_s"] or float("nan") for s in levels], "s--", color="tab:red",
             label="p99 request latency")
    if any(s["ttft_p99_s"] is not None for s in levels):
        ax2.plot(xs, [s["ttft_p99_s"] if s["ttft_p99_s"] is not None else float("nan") for s in levels], "^:",
                 color="tab:orange", label="p99 time to first token")
    ax2.set_ylabel("seconds (p99)", color="tab:red")
    ax2.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    ax.legend(lines, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def git_commit():
    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-url", default="http://127.0.0.1:8080", help="the server (or nginx) root")
    ap.add_argument("--api-key")
    ap.add_argument("--clients", default="1,2,4,8,16,32", help="comma-separated client counts")
    ap.add_argument("--duration", type=float, default=30, help="seconds each client count runs (default 30)")
    ap.add_argument("--min-requests", type=int, default=2, help="requests each client sends at least (default 2)")
    ap.add_argument("--prompt-tokens", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--prompts", type=int, default=24, help="how many different prompts (default 24)")
    ap.add_argument("--stream-fraction", type=float, default=1.0,
                    help="share of requests sent with stream=true (default 1: all; 0 for the failover run)")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=300, help="seconds one request may take")
    ap.add_argument("--out", help="write OUT.md, OUT.json and OUT.png")
    ap.add_argument("--title", default="", help="a note for the plot's title (e.g. the commit and machine)")
    ap.add_argument("--check-targets", action="store_true", help="exit 1 when a target of the issue is missed")
    args = ap.parse_args()
    counts = [int(c) for c in args.clients.split(",")]

    server = Server(args.base_url, args.api_key, args.timeout)
    model = server.model()
    print(f"server {server.base}, model {model}; building {args.prompts} prompts of {args.prompt_tokens} tokens",
          flush=True)
    prompts = make_prompts(server, model, args.prompts, args.prompt_tokens, args.seed)
    warm = one_request(server, requests.Session(),
                       {"model": model, "prompt": prompts[0], "max_tokens": args.new_tokens,
                        "min_tokens": args.new_tokens, "temperature": 0, "stream": False})
    if warm["error"]:
        raise SystemExit(f"warm-up request failed: {warm['error']}")
    print(f"warm-up: {warm['latency']:.3f} s for {warm['tokens']} tokens", flush=True)

    levels, raw = [], {}
    for i, clients in enumerate(counts):
        records, wall = run_level(server, model, prompts, clients, args, args.seed + i)
        s = summarize(clients, records, wall)
        levels.append(s)
        raw[str(clients)] = records
        print(f"{clients:3d} clients: {s['requests']:4d} requests, {s['failed']} failed, "
              f"{s['tokens_per_s']:7.1f} tok/s, TTFT p50 {fmt(s['ttft_p50_s'])} p99 {fmt(s['ttft_p99_s'])} s, "
              f"latency p50 {fmt(s['latency_p50_s'])} p99 {fmt(s['latency_p99_s'])} s"
              + (f"; errors: {s['errors'][:3]}" if s["errors"] else ""), flush=True)

    md = table(levels)
    checks = targets(levels)
    print()
    print(md)
    print()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'MISS'} {text}")
    total_failed = sum(s["failed"] for s in levels)
    print(f"failed requests in all: {total_failed} of {sum(s['requests'] for s in levels)}")

    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        meta = {
            "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "commit": git_commit(), "base_url": server.base, "model": model,
            "cpu_count": os.cpu_count(), "platform": platform.platform(),
            "settings": {k: v for k, v in vars(args).items() if k not in ("api_key",)},
        }
        with open(args.out + ".json", "w") as f:
            json.dump({"meta": meta, "levels": levels, "targets": [{"text": t, "passed": ok} for t, ok in checks],
                       "requests": raw}, f, indent=1)
        with open(args.out + ".md", "w") as f:
            f.write(f"Load test of `{model}` at {server.base}, {meta['date_utc']} UTC, commit {meta['commit']}; "
                    f"prompt {args.prompt_tokens} tokens, {args.new_tokens} new tokens, greedy, "
                    f"{'streamed' if args.stream_fraction == 1 else f'{args.stream_fraction:.0%} streamed'}, "
                    f"{args.duration:g} s per client count.\n\n{md}\n\n")
            for text, ok in checks:
                f.write(f"- {'PASS' if ok else 'MISS'}: {text}\n")
        title = f"t5 serve load test: {model}, prompt {args.prompt_tokens} / new {args.new_tokens} tokens, greedy"
        plot(levels, args.out + ".png", title + (f"\n{args.title}" if args.title else ""))
        print(f"wrote {args.out}.md, {args.out}.json, {args.out}.png")

    if args.check_targets and not all(ok for _, ok in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
