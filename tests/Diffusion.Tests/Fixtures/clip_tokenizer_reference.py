#!/usr/bin/env python3
"""Expected CLIP token ids and ComfyUI prompt chunks for the C# tokenizer tests (tests/Diffusion.Tests/Text).

An independent, standard-library-only statement of the published algorithms, written for this project:
  * the vocabulary derived from CLIP's bpe_simple_vocab_16e6.txt.gz (see shared/models/clip/README.md);
  * two text clean-ups: "comfyui" = transformers' slow CLIPTokenizer without ftfy (its BERT-style basic
    clean-up; what a stock ComfyUI install runs) and "openai" = openai/CLIP simple_tokenizer without ftfy
    (html.unescape twice, whitespace collapse, lower-case);
  * CLIP's pre-tokenisation (contractions, letter runs, single digits, other non-space runs) and BPE;
  * ComfyUI's prompt weights (parentheses, "(text:w)", escapes; Python's own float() parses w) and its
    SDTokenizer chunking (75 tokens + start + end, groups under 8 tokens kept whole, embedding: references).
No third-party package is used, so it runs anywhere:

    python3 clip_tokenizer_reference.py ../../../../shared/models/clip/bpe_simple_vocab_16e6.txt.gz > clip_tokenizer_cases.json
"""
import gzip
import html
import json
import sys
import unicodedata

CLIP_MERGE_COUNT = 49152 - 256 - 2
START, END = "<|startoftext|>", "<|endoftext|>"
CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
# Unicode White_Space, which the `regex` module's \s matches.
WHITE_SPACE = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}


def byte_alphabet():
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in printable:
        table[b] = chr(b)
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    order = printable + [b for b in range(256) if b not in printable]
    return table, [table[b] for b in order]


BYTE_TABLE, BYTE_SYMBOLS = byte_alphabet()


def load_vocabulary(path):
    lines = gzip.open(path).read().decode("utf-8").split("\n")[1:CLIP_MERGE_COUNT + 1]
    merges = [tuple(line.split()) for line in lines]
    tokens = BYTE_SYMBOLS + [s + "</w>" for s in BYTE_SYMBOLS] + ["".join(m) for m in merges] + [START, END]
    return {t: i for i, t in enumerate(tokens)}, {m: r for r, m in enumerate(merges)}


def category(ch):
    return unicodedata.category(ch)


def is_cjk_ideograph(cp):
    ranges = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
              (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
    return any(lo <= cp <= hi for lo, hi in ranges)


def cleanup_comfyui(text):
    kept = []
    for ch in text:
        if ch in "\t\n\r ":
            kept.append(" ")
        elif ord(ch) in (0, 0xFFFD) or category(ch).startswith("C"):
            continue
        elif category(ch) == "Zs":
            kept.append(" ")
        elif is_cjk_ideograph(ord(ch)):
            kept.append(" " + ch + " ")
        else:
            kept.append(ch)
    words = unicodedata.normalize("NFC", "".join(kept)).split()
    return " ".join(w.lower() for w in words)


def cleanup_openai(text):
    text = html.unescape(html.unescape(text))
    words, current = [], []
    for ch in text:
        if ch in WHITE_SPACE:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return " ".join(words).lower()


def pre_tokenize(text):
    pieces, i, n = [], 0, len(text)
    while i < n:
        special = next((s for s in (START, END) if text[i:i + len(s)].lower() == s), None)
        if special:
            pieces.append(text[i:i + len(special)])
            i += len(special)
            continue
        contraction = next((c for c in CONTRACTIONS if text[i:i + len(c)].lower() == c), None)
        if contraction:
            pieces.append(text[i:i + len(contraction)])
            i += len(contraction)
            continue
        ch = text[i]
        j = i + 1
        if category(ch).startswith("L"):
            while j < n and category(text[j]).startswith("L"):
                j += 1
        elif category(ch).startswith("N"):
            pass
        elif ch in WHITE_SPACE:
            i += 1
            continue
        else:
            while j < n and not (text[j] in WHITE_SPACE or category(text[j])[0] in "LN"):
                j += 1
        pieces.append(text[i:j])
        i = j
    return pieces


def bpe(piece, ranks, cache):
    if piece in cache:
        return cache[piece]
    symbols = [BYTE_TABLE[b] for b in piece.encode("utf-8")]
    symbols[-1] += "</w>"
    while len(symbols) > 1:
        best = min(range(len(symbols) - 1), key=lambda k: ranks.get((symbols[k], symbols[k + 1]), 1 << 30))
        pair = (symbols[best], symbols[best + 1])
        if pair not in ranks:
            break
        merged, k = [], 0
        while k < len(symbols):
            if k + 1 < len(symbols) and (symbols[k], symbols[k + 1]) == pair:
                merged.append(pair[0] + pair[1])
                k += 2
            else:
                merged.append(symbols[k])
                k += 1
        symbols = merged
    cache[piece] = symbols
    return symbols


class Tokenizer:
    def __init__(self, path):
        self.vocab, self.ranks = load_vocabulary(path)
        self.cache = {START: [START], END: [END]}

    def encode(self, text, mode):
        """Ids without the start and end tokens."""
        if mode == "comfyui":
            # transformers splits its added (special) tokens out of the raw text before cleaning the rest.
            parts, rest = [], text
            while True:
                hits = [(rest.find(s), s) for s in (START, END) if rest.find(s) >= 0]
                if not hits:
                    parts.append(rest)
                    break
                at, s = min(hits)
                parts += [rest[:at], s]
                rest = rest[at + len(s):]
            ids = []
            for p in parts:
                if p in (START, END):
                    ids.append(self.vocab[p])
                else:
                    ids += self._ids(cleanup_comfyui(p))
            return ids
        return self._ids(cleanup_openai(text))

    def _ids(self, clean):
        return [self.vocab[s] for piece in pre_tokenize(clean) for s in bpe(piece, self.ranks, self.cache)]


# ---- ComfyUI prompt weights -------------------------------------------------------------------------------

def split_top_level(text):
    parts, current, depth = [], "", 0
    for ch in text:
        if ch == "(":
            if depth == 0:
                if current:
                    parts.append(current)
                current = "("
            else:
                current += ch
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                parts.append(current + ")")
                current = ""
            else:
                current += ch
        else:
            current += ch
    if current:
        parts.append(current)
    return parts


def weighted_segments(text, weight=1.0):
    result = []
    for part in split_top_level(text):
        if len(part) >= 2 and part[0] == "(" and part[-1] == ")":
            inner, w = part[1:-1], weight * 1.1
            colon = inner.rfind(":")
            if colon > 0:
                try:
                    w = float(inner[colon + 1:])
                    inner = inner[:colon]
                except ValueError:
                    pass
            result += weighted_segments(inner, w)
        else:
            result.append((part, weight))
    return result


def parse_weights(text):
    hidden = text.replace("\\)", "\0\1").replace("\\(", "\0\2")
    return [(s.replace("\0\1", ")").replace("\0\2", "("), w) for s, w in weighted_segments(hidden)]


# ---- ComfyUI SDTokenizer ------------------------------------------------------------------------------------

def sd_tokenize(tok, text, pad, embeddings, warnings, max_length=77, max_word_length=8):
    groups = []
    for segment, weight in parse_weights(text):
        for word in [w for w in _split_embeddings(segment) if w != ""]:
            if word.startswith("embedding:"):
                name_and_rest = word[len("embedding:"):].strip("\n")
                fields = name_and_rest.split()
                name, leftover = (fields[0], " ".join(fields[1:])) if fields else ("", "")
                count = embeddings.get(name)
                if count is None:
                    stripped = name.strip(",")
                    if len(stripped) < len(name):
                        count = embeddings.get(stripped)
                        leftover = "{} {}".format(name[len(stripped):], leftover)
                        name = stripped
                if count is None:
                    warnings.append("warning, embedding:{} does not exist, ignoring".format(name_and_rest))
                else:
                    groups.append([("{}#{}".format(name, k), weight) for k in range(count)])
                if leftover == "":
                    continue
                word = leftover
            groups.append([(t, weight) for t in tok.encode(word, "comfyui")])

    start, end = tok.vocab[START], tok.vocab[END]
    chunks, chunk = [], [(start, 1.0)]
    for group in groups:
        large = len(group) >= max_word_length
        while group:
            room = max_length - 1 - len(chunk)
            if len(group) <= room:
                chunk += group
                group = []
                continue
            if large:
                chunk += group[:room]
                group = group[room:]
                chunk.append((end, 1.0))
            else:
                chunk.append((end, 1.0))
                chunk += [(pad, 1.0)] * room
            chunks.append(chunk)
            chunk = [(start, 1.0)]
    chunk.append((end, 1.0))
    chunk += [(pad, 1.0)] * (max_length - len(chunk))
    chunks.append(chunk)
    return chunks


def _split_embeddings(segment):
    # The text before the first " embedding:" / "\nembedding:" and each reference with what follows it.
    pieces, rest = [], segment
    while True:
        hits = [i for i in (rest.find(" embedding:"), rest.find("\nembedding:")) if i >= 0]
        if not hits:
            pieces.append(rest)
            return [pieces[0]] + ["embedding:" + p for p in pieces[1:]]
        at = min(hits)
        pieces.append(rest[:at])
        rest = rest[at + len(" embedding:"):]


# ---- cases --------------------------------------------------------------------------------------------------

LONG_PROMPT = ("masterpiece, best quality, highly detailed photograph of an old lighthouse keeper standing on a "
               "rocky shore at dusk, dramatic storm clouds, crashing waves, warm lantern light, cinematic "
               "composition, shallow depth of field, 85mm lens, film grain, muted color palette, by a famous "
               "landscape photographer, award winning, trending on artstation, intricate textures, weathered "
               "wooden pier, seagulls in the distance, moody atmosphere, volumetric fog, golden hour rim light")

TOKENIZER_PROMPTS = [
    "a photo of a cat",
    "A Photo Of A CAT",
    "masterpiece, best quality, 1girl, solo, looking at viewer",
    "it's a dog's life, isn't it? we're sure they've gone; I'm sure you'll see, he'd know",
    "don't STOP'S 'sun 'Sup o'clock",
    "1024x768 resolution, 3.14159, 2nd place, 100%, ½ price, x²",
    "café crème brûlée, Ñandú, naïve façade, Ægir, smörgåsbord",
    "東京タワー 夜景, 猫と犬",
    "a cat 🐱 with 👨‍👩‍👧 family and ❤️ hearts 🇯🇵",
    "   lots   of\t\twhitespace \n\n and\r\nnewlines \u00a0 nbsp\u3000ideographic   ",
    "tom &amp; jerry &lt;3 &quot;quoted&quot; &#39;single&#39; &hellip; &#x263A;",
    "ΟΔΟΣ ΣΟΦΙΑ Straße İstanbul",
    "!!! ??? ... --- ___ +++ === ### @@@ $$$ ~~~ <<>> {[()]}",
    "𝓬𝓪𝓽 ＡＢＣ１２３ ｆｕｌｌｗｉｄｔｈ",
    "<|endoftext|> special <|startoftext|>x",
    "zero\u200bwidth soft\u00adhyphen tab\x07bell",
    "(masterpiece:1.2), ((best quality)), [simple background], \\(literal\\) parens",
    "",
    LONG_PROMPT,
]

WEIGHT_PROMPTS = [
    "a (cat:1.2) dog", "((cat))", "\\(cat\\)", "(a (b:0.5) c)", "a (b c", "a b) c", "a ) b ( c ) d",
    "(a:x) y", "(a:1e1)", "(:1.5)", "(a: 1.5 )", "(a:1_0)", "(a:-0.5)", "((a:1.5) b)",
    "(a:1.2:1.3)", "()", "(((deep)))", "[not weighted] (w:.5)", "\\((escaped:1.3)\\)", "(a\\)b:1.2)",
    "(a:+2.)", "(a:1__0)", "(a:0x10)", "(a:１.５)", "",
]

EMBEDDINGS = {"mystyle": 3, "big": 10, "one": 1}

CHUNK_CASES = [
    ("a photo of a cat", "end"),
    ("a photo of a cat", "zero"),
    ("", "end"),
    ("", "zero"),
    ("a (cat:1.2) dog", "end"),
    (LONG_PROMPT, "end"),
    ("a " * 73 + "(red hair, blue eyes:1.1)", "end"),
    ("a " * 73 + "(red hair, blue eyes, green dress, white hat:1.1)", "end"),
    ("a " * 75 + "b", "end"),
    ("a " * 74 + "(b:1.5)", "end"),
    ("a photo of embedding:mystyle, by artist", "end"),
    ("embedding:mystyle cat", "end"),
    ("embedding:unknown cat", "end"),
    ("a (embedding:mystyle:1.2) cat\nembedding:one", "end"),
    ("a " * 70 + "embedding:big dog", "end"),
    ("a " * 72 + "embedding:mystyle dog", "end"),
    ("a embedding:missing, red", "end"),
]


def main(path):
    tok = Tokenizer(path)
    cases = {
        "tokenizer": [{"prompt": p, "comfyui": tok.encode(p, "comfyui"), "openai": tok.encode(p, "openai")}
                      for p in TOKENIZER_PROMPTS],
        "weights": [{"prompt": p, "segments": [[s, w] for s, w in parse_weights(p)]} for p in WEIGHT_PROMPTS],
        "embeddings": EMBEDDINGS,
        "chunks": [],
    }
    for prompt, pad in CHUNK_CASES:
        warnings = []
        chunks = sd_tokenize(tok, prompt, tok.vocab[END] if pad == "end" else 0, EMBEDDINGS, warnings)
        cases["chunks"].append({"prompt": prompt, "pad": pad, "warnings": warnings,
                                "chunks": [[[t, w] for t, w in c] for c in chunks]})
    json.dump(cases, sys.stdout, ensure_ascii=True, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
