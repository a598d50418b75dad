"""Synthetic Flan-style instruction mixture for the demo T5 model.

Everything here is deterministic given a `random.Random` instance, so the
training stream can be regenerated (and resumed) exactly from the seed.

Task families
  arithmetic  multi-step word problems (inventory chains, shopping, two people),
              shown with a chain-of-thought rationale or as a direct answer,
              zero-shot or few-shot ("Q: ...\\nA: ...")
  calc        single-step "What is 23 + 48?" drills (direct)
  calc_chain  3-6 equations per example, answered as "23 + 48 = 71. 51 - 7 = 44. ..." (in columns in v3)
  compare     yes/no and which-is-larger questions (CoT and direct)
  text        reverse / alphabetically sort a short list of words (CoT and direct)
  extract     list the numbers of a word problem in order (reading numbers off the input)
  repeat      copy a word problem verbatim (the copying every rationale step does)
  copy        copy a list of numbers and words exactly (mixtures v2 and v3)
"""

import random
import re

# --------------------------------------------------------------------------
# Chain-of-thought triggers seen in training (zero-shot CoT).  The first one is
# the canonical trigger used by the Swift CLI and in heldout.jsonl.
COT_TRIGGER = "Answer the following question by reasoning step-by-step."
COT_TEMPLATES = [
    "{q}\n" + COT_TRIGGER,            # suffix (canonical)
    COT_TRIGGER + "\n{q}",            # prefix
    "{q}\nLet's think step by step.",  # suffix, Kojima et al. style
]

ARITH_DIRECT_TEMPLATES = [
    "{q}",
    "{q}\nAnswer with a number.",
    "Question: {q}\nAnswer:",
    "Solve this math word problem: {q}",
]

EXTRACT_TEMPLATES = [
    "{q}\nList the numbers in the question.",
    "Which numbers appear in this text, in order? {q}",
]

REPEAT_TEMPLATES = [
    "Repeat this text: {q}",
    "{q}\nCopy the question exactly.",
]

GENERIC_DIRECT_TEMPLATES = [
    "{q}",
    "Question: {q}\nAnswer:",
]

NAMES = [("Tom", "he"), ("Mia", "she"), ("Sam", "he"), ("Ana", "she"), ("Leo", "he"),
         ("Emma", "she"), ("Ben", "he"), ("Lily", "she"), ("Max", "he"), ("Zoe", "she"),
         ("Jack", "he"), ("Nora", "she"), ("Omar", "he"), ("Ruth", "she"), ("Paul", "he"),
         ("Kate", "she"), ("Ivan", "he"), ("Sara", "she"), ("Carl", "he"), ("Amy", "she")]

ITEMS = ["apples", "pencils", "stickers", "marbles", "cookies", "books", "cards",
         "stamps", "shells", "coins", "balloons", "eggs", "toys", "flowers"]

SHOP = [("pen", "pens"), ("notebook", "notebooks"), ("apple", "apples"),
        ("ticket", "tickets"), ("cake", "cakes"), ("ball", "balls"), ("cup", "cups"),
        ("book", "books"), ("toy car", "toy cars"), ("sandwich", "sandwiches")]

WORDS = ["apple", "bird", "cat", "dog", "egg", "fish", "goat", "hat", "ice", "jam",
         "kite", "lamp", "moon", "nest", "owl", "pear", "queen", "rain", "sun", "tree",
         "unit", "van", "wolf", "yard", "zoo", "box", "cup", "door", "fox", "gold",
         "hill", "ink", "jar", "key", "leaf", "milk", "nut", "oak", "pig", "rose",
         "star", "tea", "vase", "wind", "bell", "car", "duck", "frog", "lion", "road"]

MAXV = 99  # every intermediate and final value of a word problem stays in [0, 99]


def art(noun):
    return "an" if noun[0] in "aeiou" else "a"


def cap(s):
    return s[0].upper() + s[1:]


# --------------------------------------------------------------------------
# Arithmetic word problems.  Each returns (question, rationales, answer), where rationales maps
# each rationale style to its list of sentences:
#   "paraphrase"  one short sentence per step ("She sells 6, so she has 41 - 6 = 35."); mixture
#                 v1, the first shipped version's.
#   "restate"     each question sentence copied verbatim, then its equation ("She sells 6
#                 marbles, so 41 - 6 = 35."): both operands of every equation are then in the
#                 last few tokens the decoder wrote.  T5's cross-attention has no position
#                 term, so picking "the number of this sentence" out of the question is the
#                 hard part; copying the question in order turns it into plain copying (which
#                 still needs an encoder that sees word order: train_demo.set_neighbour_heads).
#   "columns"     "restate" with every sum and difference worked in tens and ones
#                 (column_steps); mixture v3.

def _inventory(rng, steps):
    name, he = rng.choice(NAMES)
    item = rng.choice(ITEMS)
    # first step: plain start or boxes * each
    if steps >= 2 and rng.random() < 0.3:
        n, m = rng.randint(2, 9), rng.randint(2, 9)
        v = n * m
        q = [f"{name} has {n} boxes with {m} {item} in each box."]
        r = [f"{name} has {n} boxes with {m} {item} each, so {he} has {n} * {m} = {v}."]
        rr = [f"{name} has {n} boxes with {m} {item} in each box, so {n} * {m} = {v}."]
        steps -= 1
    else:
        v = rng.randint(5, 60)
        q = [f"{name} has {v} {item}."]
        r = [f"{name} starts with {v} {item}."]
        rr = [q[0]]
    for i in range(steps):
        then = "Then " if i > 0 else ""
        subj = he if then == "" else he
        ops = ["add", "sub"]
        if v <= 49 and v >= 2:
            ops.append("dbl")
        op = rng.choice(ops)
        if op == "sub" and v < 3:
            op = "add"
        if op == "add" and v > MAXV - 2:
            op = "sub"
        if op == "add":
            b = rng.randint(2, min(40, MAXV - v))
            verb = rng.choice(["buys", "finds", "gets"])
            q.append(f"{then}{subj} {verb} {b} more {item}." if then else f"{cap(he)} {verb} {b} more {item}.")
            r.append(f"{cap(he)} {verb} {b} more, so {he} has {v} + {b} = {v + b}.")
            rr.append(f"{q[-1][:-1]}, so {v} + {b} = {v + b}.")
            v = v + b
        elif op == "sub":
            b = rng.randint(1, min(40, v - 1))
            verb = rng.choice(["gives away", "loses", "sells"])
            q.append(f"{then}{subj} {verb} {b} {item}." if then else f"{cap(he)} {verb} {b} {item}.")
            r.append(f"{cap(he)} {verb} {b}, so {he} has {v} - {b} = {v - b}.")
            rr.append(f"{q[-1][:-1]}, so {v} - {b} = {v - b}.")
            v = v - b
        else:
            q.append(f"{then}the number of {item} doubles." if then else f"The number of {item} doubles.")
            r.append(f"The number doubles, so {he} has {v} * 2 = {2 * v}.")
            rr.append(f"{q[-1][:-1]}, so {v} * 2 = {2 * v}.")
            v = 2 * v
    # optional final sharing step (division) -- counts as an extra step
    if rng.random() < 0.15:
        ks = [k for k in range(2, 10) if v % k == 0 and v // k >= 2]
        if ks:
            k = rng.choice(ks)
            q.append(f"{cap(he)} shares them equally among {k} friends. How many {item} does each friend get?")
            r.append(f"Each friend gets {v} / {k} = {v // k}.")
            rr.append(f"{cap(he)} shares them equally among {k} friends, so {v} / {k} = {v // k}.")
            return " ".join(q), {"paraphrase": r, "restate": rr}, v // k
    q.append(f"How many {item} does {name} have now?")
    return " ".join(q), {"paraphrase": r, "restate": rr}, v


def _shopping(rng, steps):
    name, he = rng.choice(NAMES)
    k = 2 if steps <= 2 else 3
    goods = rng.sample(SHOP, k)
    for _ in range(100):
        prices = [rng.randint(2, 9) for _ in goods]
        counts = [rng.randint(1, 9) for _ in goods]
        costs = [p * c for p, c in zip(prices, counts)]
        if sum(costs) <= MAXV:
            break
    else:
        prices, counts = [1] * k, [2] * k
        costs = [2] * k
    parts = [f"{art(g[0])} {g[0]} costs {p} dollars" for g, p in zip(goods, prices)]
    desc = " and ".join(parts) if k == 2 else f"{parts[0]}, {parts[1]} and {parts[2]}"
    buys = [f"{c} {g[1] if c > 1 else g[0]}" for g, c in zip(goods, counts)]
    buys_s = " and ".join(buys) if k == 2 else f"{buys[0]}, {buys[1]} and {buys[2]}"
    q = f"At a shop {desc}. {name} buys {buys_s}. How many dollars does {name} spend?"
    r = []
    rr = [f"{cap(desc)}. {name} buys {buys_s}."]
    for g, p, c, cost in zip(goods, prices, counts, costs):
        noun = g[1] if c > 1 else g[0]
        r.append(f"{c} {noun} {'cost' if c > 1 else 'costs'} {c} * {p} = {cost} dollars.")
    if k == 2:
        r.append(f"In total {he} spends {costs[0]} + {costs[1]} = {sum(costs)} dollars.")
    else:
        s01 = costs[0] + costs[1]
        r.append(f"In total {he} spends {costs[0]} + {costs[1]} = {s01} and {s01} + {costs[2]} = {sum(costs)} dollars.")
    rr += r  # the equations read the restated prices and counts, a few tokens back
    return q, {"paraphrase": r, "restate": rr}, sum(costs)


def _two_people(rng, steps):
    (n1, h1), (n2, h2) = rng.sample(NAMES, 2)
    item = rng.choice(ITEMS)
    a = rng.randint(3, 45)
    more = rng.random() < 0.5
    if more:
        d = rng.randint(2, min(30, 60 - a) if a < 58 else 2)
        b = a + d
        rel = f"{n2} has {d} more {item} than {n1}."
        r = [f"{n2} has {a} + {d} = {b} {item}."]
        eq = f"{a} + {d} = {b}"
    else:
        if a < 5:
            a += 5
        d = rng.randint(1, a - 2)
        b = a - d
        rel = f"{n2} has {d} fewer {item} than {n1}."
        r = [f"{n2} has {a} - {d} = {b} {item}."]
        eq = f"{a} - {d} = {b}"
    q = f"{n1} has {a} {item}. {rel}"
    rr = [f"{n1} has {a} {item}.", f"{rel[:-1]}, so {n2} has {eq}."]

    def out(ans, *more):  # the shared steps, then each style's own wording of the rest
        return q, {"paraphrase": r + [m[0] for m in more], "restate": rr + [m[1] for m in more]}, ans
    if steps <= 2 or a + b > MAXV:
        tot = a + b
        if tot > MAXV:  # fall back to difference question
            q += f" How many {item} does {n2} have?"
            return out(b)
        q += f" How many {item} do they have together?"
        t = f"Together they have {a} + {b} = {tot}."
        return out(tot, (t, t))
    # three steps: together, then they give some away / buy some
    tot = a + b
    t = f"Together they have {a} + {b} = {tot}."
    if rng.random() < 0.5 and tot >= 4:
        g = rng.randint(1, min(30, tot - 1))
        q += f" Together they give away {g} {item}. How many {item} do they have left?"
        return out(tot - g, (t, t), (f"They give away {g}, so {tot} - {g} = {tot - g} are left.",
                                     f"Together they give away {g} {item}, so {tot} - {g} = {tot - g}."))
    if tot > MAXV - 2:
        q += f" How many {item} do they have together?"
        return out(tot, (t, t))
    g = rng.randint(2, min(30, MAXV - tot))
    q += f" Then they buy {g} more {item}. How many {item} do they have now?"
    return out(tot + g, (t, t), (f"They buy {g} more, so {tot} + {g} = {tot + g}.",
                                 f"Then they buy {g} more {item}, so {tot} + {g} = {tot + g}."))


def word_problem(rng, steps=None, style="restate"):
    """Return dict(question, reasoning, answer); the rationale style does not change the question."""
    if steps is None:
        steps = rng.choice([1, 2, 2, 3, 3, 3]) if rng.random() < 0.15 else rng.choice([2, 3])
    kind = rng.random()
    if kind < 0.5:
        q, r, a = _inventory(rng, steps)
    elif kind < 0.75:
        q, r, a = _shopping(rng, steps)
    else:
        q, r, a = _two_people(rng, steps)
    if style == "columns":
        return {"question": q, "reasoning": in_columns(" ".join(r["restate"])), "answer": str(a)}
    return {"question": q, "reasoning": " ".join(r[style]), "answer": str(a)}


EQUATION = re.compile(r"(\d+) ([-+]) (\d+) = (\d+)")


def column_steps(a, op, b):
    """'a op b = c' with the tens and ones worked apart (the "columns" rationale style), so that
    every fact a step needs comes from a table of at most 10 x 19 entries instead of the 100 x 100
    table of whole-number sums:
        45 + 38 = 40 + 30 + 5 + 8 = 70 + 13 = 83
        76 - 32 = 70 - 30 + 6 - 2 = 40 + 4 = 44
        76 - 38 = 60 - 30 + 16 - 8 = 30 + 8 = 38   (a ten borrowed when the ones would go below 0)
    One-digit sums and differences stay as they are."""
    at, ao, bt, bo = a // 10 * 10, a % 10, b // 10 * 10, b % 10
    if op == "+":
        if a < 10 and b < 10:
            return f"{a} + {b} = {a + b}"
        return f"{a} + {b} = {at} + {bt} + {ao} + {bo} = {at + bt} + {ao + bo} = {a + b}"
    assert a >= b, (a, b)
    if a < 10:
        return f"{a} - {b} = {a - b}"
    if ao < bo:
        at, ao = at - 10, ao + 10
    return f"{a} - {b} = {at} - {bt} + {ao} - {bo} = {at - bt} + {ao - bo} = {a - b}"


def in_columns(text):
    """Every 'a + b = c' and 'a - b = c' of a rationale rewritten by column_steps."""
    def step(m):
        a, op, b, c = int(m[1]), m[2], int(m[3]), int(m[4])
        assert c == (a + b if op == "+" else a - b), m[0]
        return column_steps(a, op, b)
    return EQUATION.sub(step, text)


def cot_target(reasoning, answer):
    return f"{reasoning} So the answer is {answer}."


def fewshot_prompt(exemplars, question):
    s = ""
    for ex in exemplars:
        s += f"Q: {ex['question']}\nA: {ex['reasoning']} So the answer is {ex['answer']}.\n\n"
    return s + f"Q: {question}\nA:"


# --------------------------------------------------------------------------
def calc_fact(rng):
    """One equation of the kinds the rationales use: (a, op, b, result), every value in [0, MAXV]."""
    op = rng.choice(["+", "+", "-", "-", "*", "/"])
    if op == "+":
        a = rng.randint(0, MAXV)
        b = rng.randint(0, MAXV - a)
        return a, op, b, a + b
    if op == "-":
        a = rng.randint(0, MAXV)
        b = rng.randint(0, a)
        return a, op, b, a - b
    if op == "*":
        a, b = rng.randint(0, 12), rng.randint(0, 9)
        if a * b > MAXV:
            a = 9
        return a, op, b, a * b
    k = rng.randint(2, 9)
    c = rng.randint(1, MAXV // k)
    return c * k, op, k, c


def calc_drill(rng):
    a, op, b, c = calc_fact(rng)
    q = rng.choice([f"What is {a} {op} {b}?", f"Compute {a} {op} {b}.", f"{a} {op} {b} ="])
    return q, str(c)


def calc_chain(rng):
    """Several equations in one example, answered in the rationale's own 'a + b = c' form: the
    arithmetic facts every CoT step looks up, many per (cheap, short) training sequence."""
    facts = [calc_fact(rng) for _ in range(rng.randint(3, 6))]
    q = rng.choice(["Compute each: ", "Work out: ", "Solve: "]) + ", ".join(f"{a} {op} {b}" for a, op, b, _ in facts)
    return q, " ".join(f"{a} {op} {b} = {c}." for a, op, b, c in facts)


def compare_item(rng):
    """Return (question, reasoning or None, answer)."""
    t = rng.randint(0, 3)
    if t == 0:
        a, b = rng.sample(range(0, 100), 2)
        if rng.random() < 0.5:
            q = f"Is {a} greater than {b}?"
            ans = "yes" if a > b else "no"
        else:
            q = f"Is {a} less than {b}?"
            ans = "yes" if a < b else "no"
        hi, lo = max(a, b), min(a, b)
        r = f"{hi} is greater than {lo}."
        return q, r, ans
    if t == 1:
        a, b = rng.sample(range(0, 100), 2)
        big = rng.random() < 0.5
        q = f"Which number is {'larger' if big else 'smaller'}, {a} or {b}?"
        hi, lo = max(a, b), min(a, b)
        r = f"{hi} is greater than {lo}."
        return q, r, str(hi if big else lo)
    if t == 2:
        a = rng.randint(0, 99)
        ev = rng.random() < 0.5
        q = f"Is {a} an {'even' if ev else 'odd'} number?"
        d = a % 10
        parity = "even" if d % 2 == 0 else "odd"
        r = f"{a} ends in {d}, which is {parity}, so {a} is {parity}."
        ans = "yes" if (parity == "even") == ev else "no"
        return q, r, ans
    (n1, _), (n2, _) = rng.sample(NAMES, 2)
    item = rng.choice(ITEMS)
    a, b = rng.sample(range(1, 100), 2)
    more = rng.random() < 0.5
    q = f"{n1} has {a} {item} and {n2} has {b} {item}. Who has {'more' if more else 'fewer'} {item}?"
    hi, lo = max(a, b), min(a, b)
    r = f"{n1} has {a} and {n2} has {b}. {hi} is greater than {lo}."
    if more:
        ans = n1 if a > b else n2
    else:
        ans = n1 if a < b else n2
    return q, r, ans


REVERSE_T = ["Reverse the order of these words: {w}", "Write these words in reverse order: {w}",
             "{w}\nReverse the word order."]
SORT_T = ["Sort these words in alphabetical order: {w}", "Put these words in alphabetical order: {w}",
          "{w}\nSort the words alphabetically."]


def text_item(rng):
    """Return (question, reasoning or None, answer)."""
    n = rng.randint(2, 5)
    # distinct first letters keep sorting a first-letter task
    pool = {}
    for w in rng.sample(WORDS, len(WORDS)):
        pool.setdefault(w[0], w)
    words = rng.sample(list(pool.values()), n)
    w = " ".join(words)
    if rng.random() < 0.5:
        q = rng.choice(REVERSE_T).format(w=w)
        ans = " ".join(reversed(words))
        r = f"The words are {', '.join(words)}. From last to first they are {', '.join(reversed(words))}."
    else:
        q = rng.choice(SORT_T).format(w=w)
        s = sorted(words)
        ans = " ".join(s)
        r = (f"The first letters are {', '.join(x[0] for x in words)}. "
             f"In alphabetical order they are {', '.join(x[0] for x in s)}.")
    return q, r, ans


# --------------------------------------------------------------------------
COPY_T = ["Repeat these: {s}", "Copy this list: {s}", "{s}\nWrite the same again."]


def copy_item(rng):
    """A list of 3-12 numbers and words, some repeated, to be copied exactly.  Nothing but the input
    predicts the output here, so the only way to learn it is to track the position being copied:
    the skill a rationale needs to restate a question without swapping its numbers."""
    vocab = [str(n) for n in rng.sample(range(MAXV + 1), 6)] + rng.sample(WORDS + ITEMS, 3)
    seq = [rng.choice(vocab) for _ in range(rng.randint(3, 12))]
    s = " ".join(seq)
    return rng.choice(COPY_T).format(s=s), s


# --------------------------------------------------------------------------
# Mixtures: each names a rationale style and the families' weights.

MIX_V1 = [  # (name, weight): the first shipped version's mixture
    ("arith_cot", 0.40),
    ("arith_direct", 0.10),
    ("arith_fewshot", 0.03),  # long inputs: a few % costs a third of the compute
    ("calc", 0.06),           # single equations
    ("calc_chain", 0.12),     # 3-6 equations per example: the facts every rationale step needs
    ("extract", 0.05),        # list a problem's numbers in order
    ("repeat", 0.02),         # copy a problem verbatim: the copying every rationale does
    ("compare_direct", 0.055),
    ("compare_cot", 0.055),
    ("text_direct", 0.055),
    ("text_cot", 0.055),
]

MIX_V2 = [  # phase 1 of the shipped model: restated rationales, more copying
    ("arith_cot", 0.36),
    ("arith_direct", 0.08),
    ("arith_fewshot", 0.03),
    ("calc", 0.04),
    ("calc_chain", 0.08),
    ("extract", 0.05),
    ("repeat", 0.06),
    ("copy", 0.08),           # lists of numbers and words copied exactly (copy_item)
    ("compare_direct", 0.05),
    ("compare_cot", 0.05),
    ("text_direct", 0.06),
    ("text_cot", 0.06),
]

MIX_V3 = [  # phase 2 of the shipped model: restated rationales with sums and differences worked in
    # columns (column_steps); no whole-table "What is 45 + 38?" drills, twice the equation chains (in columns too)
    ("arith_cot", 0.36),
    ("arith_direct", 0.08),
    ("arith_fewshot", 0.03),
    ("calc_chain", 0.18),
    ("extract", 0.05),
    ("repeat", 0.04),
    ("copy", 0.04),
    ("compare_direct", 0.05),
    ("compare_cot", 0.05),
    ("text_direct", 0.06),
    ("text_cot", 0.06),
]

MIXTURES = {"v1": ("paraphrase", MIX_V1), "v2": ("restate", MIX_V2), "v3": ("columns", MIX_V3)}


class Mixture:
    def __init__(self, heldout_questions=(), exemplar_pool=(), mixture="v2"):
        self.style, mix = MIXTURES[mixture]
        self.heldout = set(heldout_questions)
        self.exemplar_pool = list(exemplar_pool)
        self.names = [m[0] for m in mix]
        self.weights = [m[1] for m in mix]

    def _wp(self, rng):
        while True:
            p = word_problem(rng, style=self.style)
            if p["question"] not in self.heldout:
                return p

    def sample(self, rng):
        """Return dict(family, input, target)."""
        kind = rng.choices(self.names, self.weights)[0]
        if kind == "arith_cot":
            p = self._wp(rng)
            return {"family": kind, "input": rng.choice(COT_TEMPLATES).format(q=p["question"]),
                    "target": cot_target(p["reasoning"], p["answer"])}
        if kind == "arith_direct":
            p = self._wp(rng)
            return {"family": kind, "input": rng.choice(ARITH_DIRECT_TEMPLATES).format(q=p["question"]),
                    "target": p["answer"]}
        if kind == "arith_fewshot":
            p = self._wp(rng)
            k = rng.choice([1, 2, 2, 3, 3])
            if self.exemplar_pool and rng.random() < 0.25:
                ex = rng.sample(self.exemplar_pool, min(k, len(self.exemplar_pool)))
            else:
                ex = [self._wp(rng) for _ in range(k)]
            return {"family": kind, "input": fewshot_prompt(ex, p["question"]),
                    "target": cot_target(p["reasoning"], p["answer"])}
        if kind == "extract":
            p = self._wp(rng)
            nums = re.findall(r"\d+", p["question"])
            return {"family": kind, "input": rng.choice(EXTRACT_TEMPLATES).format(q=p["question"]),
                    "target": ", ".join(nums)}
        if kind == "repeat":
            p = self._wp(rng)
            return {"family": kind, "input": rng.choice(REPEAT_TEMPLATES).format(q=p["question"]),
                    "target": p["question"]}
        if kind == "copy":
            q, a = copy_item(rng)
            return {"family": kind, "input": q, "target": a}
        if kind in ("calc", "calc_chain"):
            q, a = (calc_drill if kind == "calc" else calc_chain)(rng)
            if kind == "calc_chain" and self.style == "columns":
                a = in_columns(a)
            return {"family": kind, "input": q, "target": a}
        if kind.startswith("compare"):
            q, r, a = compare_item(rng)
        else:
            q, r, a = text_item(rng)
        if kind.endswith("_cot"):
            return {"family": kind, "input": rng.choice(COT_TEMPLATES).format(q=q),
                    "target": cot_target(r, a)}
        if kind.startswith("compare") and a in ("yes", "no") and rng.random() < 0.3:
            return {"family": kind, "input": f"{q}\nAnswer yes or no.", "target": a}
        return {"family": kind, "input": rng.choice(GENERIC_DIRECT_TEMPLATES).format(q=q), "target": a}


def make_heldout(seed, n_arith=500, n_other=100, style="restate"):
    """Held-out problems; their questions are excluded from training."""
    rng = random.Random(seed * 7919 + 17)
    seen, rows = set(), []
    while len(rows) < n_arith:
        p = word_problem(rng, steps=rng.choice([2, 3]), style=style)
        if p["question"] in seen:
            continue
        seen.add(p["question"])
        rows.append({"prompt": p["question"], "answer": p["answer"], "family": "arithmetic",
                     "cot_prompt": COT_TEMPLATES[0].format(q=p["question"]),
                     "reasoning": p["reasoning"]})
    i = 0
    while i < n_other:
        fam = "comparison" if i % 2 == 0 else "text"
        q, r, a = compare_item(rng) if fam == "comparison" else text_item(rng)
        if q in seen:
            continue
        seen.add(q)
        rows.append({"prompt": q, "answer": a, "family": fam,
                     "cot_prompt": COT_TEMPLATES[0].format(q=q), "reasoning": r})
        i += 1
    return rows


def make_exemplars(seed, heldout_questions, n=3, style="restate"):
    rng = random.Random(seed * 104729 + 3)
    out = []
    while len(out) < n:
        p = word_problem(rng, steps=2 if len(out) < 2 else 3, style=style)
        if p["question"] in heldout_questions or len(p["question"]) > 200:
            continue
        out.append(p)
    return out


if __name__ == "__main__":
    rng = random.Random(0)
    m = Mixture()
    for _ in range(12):
        ex = m.sample(rng)
        print("---", ex["family"])
        print(ex["input"])
        print("=>", ex["target"])
