#!/usr/bin/env python3
"""Writes the small seed corpora in Fuzz/seeds/ (run once; the outputs are committed).
Pinned: sentencepiece 0.2.3, transformers 4.57.6, tokenizers 0.22.x, safetensors 0.x, numpy.
Usage: python Scripts/make_fuzz_seeds.py   (from the repository root)
"""
import json, os, struct, tempfile
import numpy as np
import sentencepiece as spm
from safetensors.numpy import save
from transformers import T5TokenizerFast

root = os.path.join(os.path.dirname(__file__), "..", "Fuzz", "seeds")

def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

# safetensors: minimal valid files of each readable dtype, metadata, scalar and zero-size tensors.
put("safetensors", "f32-2x3", save({"w": np.arange(6, dtype=np.float32).reshape(2, 3)}))
put("safetensors", "mixed", save({"a": np.ones((2, 2), np.float16), "b": np.zeros(3, np.float32),
                                  "i": np.arange(4, dtype=np.int64)}, metadata={"format": "pt"}))
put("safetensors", "scalar-and-empty", save({"s": np.array(1.5, np.float32), "z": np.zeros((0, 4), np.float32)}))
put("safetensors", "empty-header", struct.pack("<Q", 2) + b"{}")
hdr = json.dumps({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
put("safetensors", "bf16-hand", struct.pack("<Q", len(hdr)) + hdr + b"\x80\x3f\x00\x40")

# config: flan-t5-small, t5-small (relu, tied) and a v1.1 shape with lists and nulls.
put("config", "flan-t5-small.json", json.dumps({
    "architectures": ["T5ForConditionalGeneration"], "d_ff": 1024, "d_kv": 64, "d_model": 512,
    "decoder_start_token_id": 0, "dropout_rate": 0.1, "eos_token_id": 1, "feed_forward_proj": "gated-gelu",
    "initializer_factor": 1.0, "is_encoder_decoder": True, "layer_norm_epsilon": 1e-06, "model_type": "t5",
    "n_positions": 512, "num_decoder_layers": 8, "num_heads": 6, "num_layers": 8, "output_past": True,
    "pad_token_id": 0, "relative_attention_max_distance": 128, "relative_attention_num_buckets": 32,
    "tie_word_embeddings": False, "transformers_version": "4.23.1", "use_cache": True, "vocab_size": 32128}, indent=2))
put("config", "t5-small.json", json.dumps({"d_ff": 2048, "d_kv": 64, "d_model": 512, "num_layers": 6,
    "num_heads": 8, "vocab_size": 32128, "feed_forward_proj": "relu", "model_type": "t5"}))
put("config", "eos-list.json", json.dumps({"d_ff": 8, "d_kv": 4, "d_model": 8, "num_layers": 1, "num_heads": 2,
    "vocab_size": 16, "eos_token_id": [1, 2], "decoder_start_token_id": None, "layer_norm_epsilon": 1e-5,
    "feed_forward_proj": "gated-silu", "model_type": "mt5"}))

# spiece.model / tokenizer.json: a tiny Unigram model with a custom normalization rule set, so the
# precompiled charsmap (double-array trie + replacement strings) is small but real.
text = ("Hello world. That is good. translate English to German: the house is wonderful.\n"
        "Das Haus ist wunderbar. fine office ① ② ③ Ｆｕｌｌ Ａ\n") * 50
with tempfile.TemporaryDirectory() as tmp:
    corpus = os.path.join(tmp, "corpus.txt")
    rules = os.path.join(tmp, "rules.tsv")
    open(corpus, "w").write(text)
    # input code points (hex) TAB output code points
    open(rules, "w").write("FF21\t41\nFF26\t46\nFF55\t75\nFF4C\t6C\n2460\t31\n2461\t32\n2462\t33\nFB01\t66 69\n3000\t20\n")
    prefix = os.path.join(tmp, "sp")
    spm.SentencePieceTrainer.train(input=corpus, model_prefix=prefix, vocab_size=45, model_type="unigram",
                                   normalization_rule_tsv=rules, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                                   character_coverage=1.0, minloglevel=2)
    model = open(prefix + ".model", "rb").read()
    put("spiece", "tiny-unigram.model", model)
    tok = T5TokenizerFast(vocab_file=prefix + ".model", extra_ids=3, from_slow=True)
    tok.save_pretrained(tmp)
    data = json.load(open(os.path.join(tmp, "tokenizer.json")))
    put("tokenizer-json", "tiny-unigram.json", json.dumps(data, ensure_ascii=False))

# encode-decode: bytes taken as UTF-8 text and as little-endian Int32 ids.
put("encode-decode", "ascii", "translate English to German: That is good.")
put("encode-decode", "unicode", "Ｆｕｌｌｗｉｄｔｈ ﬁ ① é e\u0301 日本語 👩‍👩‍👧 <extra_id_0></s>")
put("encode-decode", "controls", "a\u0000b\u0007c\td\ne\r\u200b\u00a0")
put("encode-decode", "invalid-utf8", b"ok \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 \xff")
put("encode-decode", "ids", struct.pack("<8i", 0, 1, 2, 32099, 32100, 32127, -1, 2147483647))
