#!/usr/bin/env python3
"""Check `t5 serve` with the official OpenAI Python client (the `openai` package, pinned in
Scripts/requirements-server.txt): standard clients must work against it unchanged.

    python3 -m venv .venv-server
    .venv-server/bin/pip install -r Scripts/requirements-server.txt
    swift build -c release && .build/release/t5 serve --model Models/demo-t5 --port 8080 &
    .venv-server/bin/python Scripts/openai_compat.py --base-url http://127.0.0.1:8080/v1

or all in one (venv, build, server on a free port, this script, server stopped): `bash Scripts/check-openai-compat.sh`.

What it checks, each through the client's own types (a mismatch prints FAIL and the script exits 1):
  models       models.list() names the served model
  completions  greedy text, finish_reason, usage arithmetic; a prompt array gives one choice per prompt, each equal
               to that prompt alone; max_tokens=1 stops with "length"; a stop string cuts the text before it;
               seeded sampling (n=2) repeats exactly; the T5 extensions (num_beams, top_k, cot, ...) go through
               `extra_body`
  streaming    stream=True chunks joined == the non-streamed text, the same finish_reason, usage in the last chunk
               with stream_options={"include_usage": True}
  chat         messages -> one assistant message; a single user turn answers like the same text sent as a
               completion (the server's documented rule); streamed deltas joined == the non-streamed content
  embeddings   one vector per input, all of the model's width; the client's default (base64) and "float" agree
               exactly; with --reference-model DIR the vectors equal transformers' mean-pooled encoder states
               (T5EncoderModel, float32) within 1e-4
  errors       bad values (temperature -1, max_tokens 10^9, n 10^6, a prompt of the wrong type) raise
               openai.BadRequestError (400) with OpenAI's error object; an unknown path raises NotFoundError (404);
               a streamed request with a bad value fails before any chunk; with --api-key, a wrong key raises
               AuthenticationError (401)

It takes about 5 s against the demo model (Models/demo-t5) with a release build.
"""

import argparse
import math
import os
import sys
import time

import openai
from openai import OpenAI

PROMPTS = [
    "Nora has 30 flowers. She loses 26 flowers. Then she gives away 2 flowers. How many flowers does Nora have now?",
    "Emma has 41 marbles. She sells 6 marbles. Then she loses 14 marbles. How many marbles does Emma have now?",
]

failures = []


def check(ok, what, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}{(': ' + detail) if detail and not ok else ''}")
    if not ok:
        failures.append(what)
    return ok


def expect_error(kind, status, what, call):
    """`call` must raise openai error `kind` with HTTP `status` and an OpenAI error object in the body."""
    try:
        call()
    except kind as e:
        body = e.body if isinstance(e.body, dict) else {}
        error = body.get("error", body) if isinstance(body, dict) else {}
        shape = isinstance(error, dict) and isinstance(error.get("message"), str) and "type" in error
        check(e.status_code == status and shape, f"{what} -> {status} {kind.__name__}",
              f"status {e.status_code}, body {e.body!r}")
        print(f"       {e.status_code} {error.get('type')!s}: {error.get('message')!s}"
              + (f" (param {error.get('param')})" if error.get("param") else ""))
        return e
    except openai.APIStatusError as e:
        check(False, f"{what} -> {status} {kind.__name__}", f"got {type(e).__name__} {e.status_code}: {e.body!r}")
    except Exception as e:  # noqa: BLE001 - any other outcome is a mismatch to report
        check(False, f"{what} -> {status} {kind.__name__}", f"got {type(e).__name__}: {e}")
    else:
        check(False, f"{what} -> {status} {kind.__name__}", "no error raised")
    return None


def check_usage(usage, what, max_completion=None):
    ok = (usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens >= 0
          and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
          and (max_completion is None or usage.completion_tokens <= max_completion))
    return check(ok, f"{what}: usage adds up", repr(usage))


def completions(client, model):
    print("== completions")
    r = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=24, temperature=0)
    text = r.choices[0].text
    print(f"       greedy: {text!r} finish_reason={r.choices[0].finish_reason} usage={r.usage}")
    check(r.object == "text_completion" and len(r.choices) == 1 and isinstance(text, str), "one text_completion choice")
    check(r.choices[0].finish_reason in ("stop", "length"), "finish_reason is stop or length")
    check_usage(r.usage, "greedy", 24)
    check(len(text) > 0, "greedy text is not empty")
    again = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=24, temperature=0)
    check(again.choices[0].text == text, "greedy repeats exactly")

    singles = [client.completions.create(model=model, prompt=p, max_tokens=24, temperature=0).choices[0].text
               for p in PROMPTS]
    batch = client.completions.create(model=model, prompt=PROMPTS, max_tokens=24, temperature=0)
    by_index = {c.index: c.text for c in batch.choices}
    check(len(batch.choices) == len(PROMPTS) and [by_index.get(i) for i in range(len(PROMPTS))] == singles,
          "a prompt array gives one choice per prompt, each equal to the prompt alone",
          f"{by_index} vs {singles}")

    one = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=1, temperature=0)
    check(one.usage.completion_tokens == 1 and (one.choices[0].finish_reason == "length"
                                                or one.choices[0].text == ""),
          "max_tokens=1 gives one token, finish_reason length", f"{one.choices[0]} {one.usage}")

    # A stop string taken from the greedy text: the text ends right before its first occurrence.
    # A one-word answer (the demo model's) has nothing to stop at: then the chain-of-thought answer is cut instead.
    base, extra, tokens = text, {}, 24
    stop = next((w for w in base.split()[1:] if len(w) >= 2 and base.find(w) > 0), None)
    if stop is None:
        extra, tokens = {"cot": "zero-shot"}, 48
        base = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=tokens, temperature=0,
                                         extra_body=extra).choices[0].text
        stop = next((w for w in base.split()[1:] if len(w) >= 2 and base.find(w) > 0), None)
    if check(stop is not None, "the greedy text has a word to stop at", repr(base)):
        cut = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=tokens, temperature=0, stop=[stop],
                                        extra_body=extra)
        expected = base[:base.find(stop)]
        check(cut.choices[0].text == expected and cut.choices[0].finish_reason == "stop",
              f"stop={[stop]!r} cuts the text before it with finish_reason stop",
              f"got {cut.choices[0].text!r} ({cut.choices[0].finish_reason}), expected {expected!r}")

    sampled = [client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=16, temperature=0.9,
                                         top_p=0.95, n=2, seed=1234) for _ in range(2)]
    texts = [[c.text for c in sorted(s.choices, key=lambda c: c.index)] for s in sampled]
    print(f"       sampled n=2 seed=1234: {texts[0]}")
    check(len(texts[0]) == 2 and texts[0] == texts[1], "seeded sampling with n=2 repeats exactly", f"{texts}")

    ext = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=24, temperature=0,
                                    extra_body={"num_beams": 3, "length_penalty": 1.0, "repetition_penalty": 1.0,
                                                "no_repeat_ngram_size": 0, "min_tokens": 1})
    print(f"       beam search (num_beams 3): {ext.choices[0].text!r}")
    check(len(ext.choices) == 1 and ext.usage.completion_tokens >= 1, "T5 extensions via extra_body (num_beams 3)")
    topk = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=8, temperature=0.7, seed=5,
                                     extra_body={"top_k": 1})
    greedy8 = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=8, temperature=0)
    check(topk.choices[0].text == greedy8.choices[0].text, "top_k=1 sampling equals greedy",
          f"{topk.choices[0].text!r} vs {greedy8.choices[0].text!r}")
    cot = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=128, temperature=0,
                                    extra_body={"cot": "zero-shot"})
    print(f"       cot zero-shot: {cot.choices[0].text!r}")
    check(cot.usage.prompt_tokens > r.usage.prompt_tokens, "cot zero-shot adds the trigger to the prompt",
          f"{cot.usage.prompt_tokens} vs {r.usage.prompt_tokens} prompt tokens")
    return text, r


def streaming(client, model, text, full):
    print("== streaming")
    t0 = time.perf_counter()
    stream = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=24, temperature=0, stream=True,
                                       stream_options={"include_usage": True})
    pieces, finish, usage, first, chunks = [], None, None, None, 0
    for chunk in stream:
        chunks += 1
        if chunk.usage is not None:
            usage = chunk.usage
        for c in chunk.choices:
            if c.text and first is None:
                first = time.perf_counter() - t0
            pieces.append(c.text or "")
            finish = c.finish_reason or finish
    joined = "".join(pieces)
    print(f"       {chunks} chunks, first text after {first if first is None else round(first, 3)} s")
    check(joined == text, "stream chunks joined == the non-streamed text", f"{joined!r} vs {text!r}")
    check(finish == full.choices[0].finish_reason, "the same finish_reason", f"{finish} vs {full.choices[0].finish_reason}")
    check(usage is not None and usage.completion_tokens == full.usage.completion_tokens
          and usage.prompt_tokens == full.usage.prompt_tokens,
          "include_usage: the last chunk carries the same usage", f"{usage} vs {full.usage}")
    check(chunks >= 3, "the text came in several chunks", f"{chunks}")


def chat(client, model):
    print("== chat")
    r = client.chat.completions.create(model=model, temperature=0, max_tokens=24,
                                       messages=[{"role": "user", "content": PROMPTS[0]}])
    msg = r.choices[0].message
    print(f"       assistant: {msg.content!r} finish_reason={r.choices[0].finish_reason}")
    check(r.object == "chat.completion" and msg.role == "assistant" and isinstance(msg.content, str),
          "one assistant message")
    check_usage(r.usage, "chat", 24)
    plain = client.completions.create(model=model, prompt=PROMPTS[0], max_tokens=24, temperature=0)
    check(msg.content == plain.choices[0].text, "a single user turn answers like the same text as a completion",
          f"{msg.content!r} vs {plain.choices[0].text!r}")
    with_system = client.chat.completions.create(
        model=model, temperature=0, max_tokens=24,
        messages=[{"role": "system", "content": "Answer with a number."},
                  {"role": "user", "content": PROMPTS[1]}])
    check(with_system.usage.prompt_tokens > 0 and isinstance(with_system.choices[0].message.content, str),
          "system + user turns are accepted")
    stream = client.chat.completions.create(model=model, temperature=0, max_tokens=24, stream=True,
                                            messages=[{"role": "user", "content": PROMPTS[0]}])
    pieces, roles, finish = [], set(), None
    for chunk in stream:
        for c in chunk.choices:
            if c.delta.role:
                roles.add(c.delta.role)
            pieces.append(c.delta.content or "")
            finish = c.finish_reason or finish
    check("".join(pieces) == msg.content and roles == {"assistant"} and finish == r.choices[0].finish_reason,
          "streamed chat deltas joined == the non-streamed message",
          f"{''.join(pieces)!r} roles {roles} finish {finish}")


def embeddings(client, model, reference_model):
    print("== embeddings")
    texts = ["The quick brown fox.", "Nora has 30 flowers."]
    default = client.embeddings.create(model=model, input=texts)  # the client asks for base64 and decodes it
    floats = client.embeddings.create(model=model, input=texts, encoding_format="float")
    single = client.embeddings.create(model=model, input=texts[0], encoding_format="float")
    vectors = [d.embedding for d in sorted(floats.data, key=lambda d: d.index)]
    width = len(vectors[0]) if vectors else 0
    print(f"       {len(vectors)} vectors of width {width}; usage {floats.usage}")
    check(len(vectors) == 2 and width > 0 and all(len(v) == width for v in vectors), "one vector per input, one width")
    check(all(isinstance(x, float) and math.isfinite(x) for v in vectors for x in v), "finite floats")
    check([d.embedding for d in sorted(default.data, key=lambda d: d.index)] == vectors,
          "base64 (the client's default) == float, exactly")
    check(single.data[0].embedding == vectors[0], "a single string == the same string in an array")
    check(floats.usage is not None and floats.usage.prompt_tokens > 0, "embeddings usage counts prompt tokens")
    if reference_model:
        import torch
        from tokenizers import Tokenizer
        from transformers import T5EncoderModel
        # The folder's tokenizer.json, as the server reads it. AutoTokenizer would rebuild it from the slow
        # SentencePiece tokenizer (sentencepiece + protobuf) when tokenizer_config.json sets add_prefix_space.
        tok = Tokenizer.from_file(os.path.join(reference_model, "tokenizer.json"))
        enc = T5EncoderModel.from_pretrained(reference_model, torch_dtype=torch.float32).eval()
        worst = 0.0
        with torch.no_grad():
            for text, vec in zip(texts, vectors):
                ids = torch.tensor([tok.encode(text).ids])
                ref = enc(input_ids=ids).last_hidden_state[0].mean(0)
                worst = max(worst, (ref - torch.tensor(vec)).abs().max().item())
        check(worst < 1e-4, f"== transformers' mean-pooled encoder states (max |diff| {worst:.2e})", f"{worst}")


def errors(client, model, base_url, api_key):
    print("== errors")
    expect_error(openai.BadRequestError, 400, "temperature -1",
                 lambda: client.completions.create(model=model, prompt="hi", temperature=-1))
    expect_error(openai.BadRequestError, 400, "max_tokens 10^9",
                 lambda: client.completions.create(model=model, prompt="hi", max_tokens=10**9))
    expect_error(openai.BadRequestError, 400, "n 10^6",
                 lambda: client.completions.create(model=model, prompt="hi", n=10**6, max_tokens=4))
    expect_error(openai.BadRequestError, 400, "prompt of the wrong type (a number)",
                 lambda: client.completions.create(model=model, prompt=12345, max_tokens=4))
    expect_error(openai.BadRequestError, 400, "chat without messages",
                 lambda: client.chat.completions.create(model=model, messages=[]))
    expect_error(openai.BadRequestError, 400, "embeddings with an input of the wrong type",
                 lambda: client.embeddings.create(model=model, input=[{"not": "text"}]))

    def bad_stream():
        for _ in client.completions.create(model=model, prompt="hi", temperature=-1, stream=True):
            raise AssertionError("a chunk arrived for an invalid request")
    expect_error(openai.BadRequestError, 400, "streamed request with temperature -1 (fails before any chunk)", bad_stream)
    expect_error(openai.NotFoundError, 404, "unknown path",
                 lambda: client.post("/no-such-endpoint", body={}, cast_to=object))
    if api_key:
        wrong = OpenAI(base_url=base_url, api_key=api_key + "-wrong", max_retries=0, timeout=30)
        expect_error(openai.AuthenticationError, 401, "a wrong API key",
                     lambda: wrong.completions.create(model=model, prompt="hi", max_tokens=2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    ap.add_argument("--api-key", help="the server's --api-key (also checks that a wrong key gets 401)")
    ap.add_argument("--reference-model", metavar="DIR",
                    help="the served model folder: compare embeddings with transformers' encoder (needs torch)")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()

    print(f"openai {openai.__version__}, server {args.base_url}")
    t0 = time.perf_counter()
    # max_retries=0: a failure must show, not be hidden by the client's retries.
    client = OpenAI(base_url=args.base_url, api_key=args.api_key or "none", max_retries=0, timeout=args.timeout)
    print("== models")
    models = client.models.list().data
    check(len(models) >= 1 and all(m.object == "model" for m in models), "models.list() names a model",
          repr(models))
    model = models[0].id if models else "t5"
    print(f"       model: {model}")
    sections = [lambda: streaming(client, model, *completions(client, model)),
                lambda: chat(client, model),
                lambda: embeddings(client, model, args.reference_model),
                lambda: errors(client, model, args.base_url, args.api_key)]
    for section in sections:
        try:
            section()
        except Exception as e:  # noqa: BLE001 - an unexpected exception is a failed check, and the rest still run
            check(False, f"unexpected {type(e).__name__}", str(e)[:500])
    took = time.perf_counter() - t0
    print(f"openai compatibility: {'all passed' if not failures else f'{len(failures)} FAILED: ' + '; '.join(failures)}"
          f" ({took:.1f} s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
