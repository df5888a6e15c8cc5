#!/usr/bin/env python3
"""Special-token ids as transformers' AutoTokenizer (fast) reports them, in many tokenizer layouts.

Each layout is a model directory assembled from the fixtures (golden/fixtures/*/): files copied,
deleted or edited as older transformers wrote them, tokenizers re-saved with save_pretrained, tokens
added, small SentencePiece models trained. The script loads each one with
AutoTokenizer.from_pretrained and records every special token and its id, the added tokens,
len(tokenizer), vocab_size and a hash of get_vocab(); or the error transformers raised.

Output (relative to golden/):
    tokenizers/special-ids.json     the layouts, their files and what AutoTokenizer reported
    tokenizers/layouts/<layout>/    the files a layout needs that no fixture holds
A file whose bytes equal a fixture file is referenced by that fixture's path instead of copied.

Usage (inside the reference virtual environment; uses only transformers, tokenizers, sentencepiece):
    python golden/tools/tokenizer_layouts.py            # rewrite golden/tokenizers/
    python golden/tools/tokenizer_layouts.py --out DIR  # write the same tree into DIR
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(GOLDEN))

from tools import common, corpus  # noqa: E402

FIXTURES = GOLDEN / "fixtures"
OUTPUT_FILE = "tokenizers/special-ids.json"
LAYOUT_FILES = "tokenizers/layouts"
ROLES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
# What transformers < 4.34 wrote as model_max_length when a tokenizer had no limit: int(1e30).
VERY_LARGE_INTEGER = int(1e30)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def json_text(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Layout:
    """A model directory under construction."""

    def __init__(self, directory: Path):
        self.directory = directory

    def copy(self, fixture: str, *names: str) -> "Layout":
        for name in names:
            shutil.copyfile(FIXTURES / fixture / name, self.directory / name)
        return self

    def read_json(self, name: str):
        return json.loads((self.directory / name).read_text(encoding="utf-8"))

    def write_json(self, name: str, value, style: str = "transformers") -> "Layout":
        text = json_text(value) if style == "transformers" else json.dumps(value, ensure_ascii=False)
        (self.directory / name).write_text(text, encoding="utf-8")
        return self

    def write_text(self, name: str, text: str) -> "Layout":
        (self.directory / name).write_bytes(text.encode("utf-8"))
        return self

    def write_bytes(self, name: str, data: bytes) -> "Layout":
        (self.directory / name).write_bytes(data)
        return self

    def edit_json(self, name: str, edit) -> "Layout":
        value = self.read_json(name)
        edit(value)
        return self.write_json(name, value)

    def delete(self, *names: str) -> "Layout":
        for name in names:
            (self.directory / name).unlink()
        return self

    def save(self, fixture: str, legacy_format: bool) -> "Layout":
        """The fixture's tokenizer re-saved by transformers 4.36.2, plus the fixture's config.json."""
        from transformers import AutoTokenizer

        AutoTokenizer.from_pretrained(str(FIXTURES / fixture)).save_pretrained(
            str(self.directory), legacy_format=legacy_format)
        return self.copy(fixture, "config.json")


def train_sentencepiece(**options) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    arguments = dict(sentence_iterator=iter(corpus.FRENCH), model_writer=model, vocab_size=120, model_type="unigram",
                     hard_vocab_limit=False, character_coverage=1.0, normalization_rule_name="identity",
                     num_threads=1, shuffle_input_sentence=False, minloglevel=2)
    arguments.update(options)
    spm.SentencePieceTrainer.train(**arguments)
    return model.getvalue()


def old_added_token(content: str, lstrip=False, normalized=True) -> dict:
    """An AddedToken as transformers < 4.34 wrote it into tokenizer_config.json."""
    return {"__type": "AddedToken", "content": content, "lstrip": lstrip, "normalized": normalized, "rstrip": False,
            "single_word": False}


def map_token(content: str, lstrip=False, normalized=True) -> dict:
    """An AddedToken as special_tokens_map.json holds it (no "special", no "__type")."""
    return {"content": content, "lstrip": lstrip, "normalized": normalized, "rstrip": False, "single_word": False}


def roberta_config_of_old_transformers() -> dict:
    return {
        "add_prefix_space": False, "errors": "replace", "model_max_length": VERY_LARGE_INTEGER,
        "name_or_path": "roberta-base", "special_tokens_map_file": None, "tokenizer_class": "RobertaTokenizer",
        "trim_offsets": True, "bos_token": old_added_token("<s>"), "eos_token": old_added_token("</s>"),
        "unk_token": old_added_token("<unk>"), "sep_token": old_added_token("</s>"),
        "cls_token": old_added_token("<s>"), "pad_token": old_added_token("<pad>"),
        "mask_token": old_added_token("<mask>", lstrip=True, normalized=False),
    }


def bump_added_token_id(content: str, new_id: int):
    def edit(tokenizer):
        for token in tokenizer["added_tokens"]:
            if token["content"] == content:
                token["id"] = new_id
    return edit


# (name, description, builder). Builders receive an empty Layout.
LAYOUTS = []


def layout(name: str, description: str):
    def register(builder):
        LAYOUTS.append((name, description, builder))
        return builder
    return register


# --- CamemBERT -------------------------------------------------------------------------------

@layout("camembert-fixture", "the fixture as save_pretrained wrote it: tokenizer.json, tokenizer_config.json "
        "(added_tokens_decoder), special_tokens_map.json, sentencepiece.bpe.model")
def _(d):
    d.copy("camembert-tiny", "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
           "sentencepiece.bpe.model")


@layout("camembert-tokenizer-json-only", "tokenizer.json alone: the class defaults name the special tokens")
def _(d):
    d.copy("camembert-tiny", "config.json", "tokenizer.json")


@layout("camembert-sentencepiece-only", "sentencepiece.bpe.model alone: the fast tokenizer is converted from the "
        "slow one (fairseq specials, pieces after the first, <mask> last)")
def _(d):
    d.copy("camembert-tiny", "config.json", "sentencepiece.bpe.model")


@layout("camembert-saved-legacy", "save_pretrained(legacy_format=True): sentencepiece.bpe.model and the "
        "configs, no tokenizer.json")
def _(d):
    d.save("camembert-tiny", legacy_format=True)


@layout("camembert-sentencepiece-added-tokens-json", "sentencepiece.bpe.model with an added_tokens.json of "
        "camembert-base's ids (<mask> 32004): the converter's ids win, added_tokens.json's are ignored")
def _(d):
    d.copy("camembert-tiny", "config.json", "sentencepiece.bpe.model")
    d.write_json("added_tokens.json", {"<s>NOTUSED": 0, "</s>NOTUSED": 2, "<unk>NOTUSED": 4, "<mask>": 32004},
                 style="compact")


@layout("camembert-sentencepiece-stale-decoder", "sentencepiece.bpe.model with a tokenizer_config.json whose "
        "added_tokens_decoder gives other ids (<s> 0, </s> 2, <mask> 32004) and a token past the vocabulary")
def _(d):
    d.copy("camembert-tiny", "config.json", "sentencepiece.bpe.model")
    entry = lambda content, lstrip=False: {"content": content, "lstrip": lstrip, "normalized": False,  # noqa: E731
                                           "rstrip": False, "single_word": False, "special": True}
    d.write_json("tokenizer_config.json", {
        "added_tokens_decoder": {"0": entry("<s>"), "1": entry("<pad>"), "2": entry("</s>"), "3": entry("<unk>"),
                                 "32004": entry("<mask>", lstrip=True), "32005": entry("<extra_0>")},
        "model_max_length": 512, "tokenizer_class": "CamembertTokenizer",
    })


@layout("camembert-old-transformers", "sentencepiece.bpe.model with tokenizer_config.json and "
        "special_tokens_map.json as transformers < 4.34 wrote them (no added_tokens_decoder, AddedToken objects "
        "with __type, model_max_length int(1e30))")
def _(d):
    d.copy("camembert-tiny", "config.json", "sentencepiece.bpe.model")
    d.write_json("tokenizer_config.json", {
        "additional_special_tokens": ["<s>NOTUSED", "</s>NOTUSED"], "bos_token": "<s>", "cls_token": "<s>",
        "eos_token": "</s>", "mask_token": old_added_token("<mask>", lstrip=True), "model_max_length": VERY_LARGE_INTEGER,
        "name_or_path": "camembert-base", "pad_token": "<pad>", "sep_token": "</s>", "sp_model_kwargs": {},
        "special_tokens_map_file": None, "tokenizer_class": "CamembertTokenizer", "unk_token": "<unk>",
    })
    d.write_json("special_tokens_map.json", {
        "additional_special_tokens": ["<s>NOTUSED", "</s>NOTUSED", "<unk>NOTUSED"], "bos_token": "<s>",
        "cls_token": "<s>", "eos_token": "</s>", "mask_token": map_token("<mask>", lstrip=True), "pad_token": "<pad>",
        "sep_token": "</s>", "unk_token": "<unk>",
    })


@layout("camembert-sentencepiece-pad-first", "a SentencePiece model with <pad> <unk> <s> </s> first: the "
        "converter's vocabulary holds <unk> twice and the later one (5) wins")
def _(d):
    d.copy("camembert-tiny", "config.json")
    d.write_bytes("sentencepiece.bpe.model", train_sentencepiece(pad_id=0, unk_id=1, bos_id=2, eos_id=3))


@layout("camembert-sentencepiece-user-mask", "a SentencePiece model that already has a <mask> piece: the "
        "converter appends another, the last wins, and len(tokenizer) < vocab_size")
def _(d):
    d.copy("camembert-tiny", "config.json")
    d.write_bytes("sentencepiece.bpe.model", train_sentencepiece(user_defined_symbols=["<mask>"]))


@layout("camembert-sentencepiece-without-bos-eos", "a SentencePiece model without <s> and </s> pieces: both "
        "are appended past the vocabulary, in the order bos, eos")
def _(d):
    d.copy("camembert-tiny", "config.json")
    d.write_bytes("sentencepiece.bpe.model",
                  train_sentencepiece(control_symbols=["<pad>"], unk_id=0, bos_id=-1, eos_id=-1))


@layout("camembert-sentencepiece-bpe", "a BPE SentencePiece model (model_type 2): the converter builds a BPE model")
def _(d):
    d.copy("camembert-tiny", "config.json")
    d.write_bytes("sentencepiece.bpe.model", train_sentencepiece(model_type="bpe"))


@layout("camembert-sentencepiece-word-model", "a WORD SentencePiece model (model_type 3): the converter refuses it")
def _(d):
    d.copy("camembert-tiny", "config.json")
    d.write_bytes("sentencepiece.bpe.model", train_sentencepiece(model_type="word", vocab_size=200))


# --- XLM-RoBERTa -----------------------------------------------------------------------------

@layout("xlm-roberta-fixture", "the fixture as save_pretrained wrote it")
def _(d):
    d.copy("xlm-roberta-tiny", "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
           "sentencepiece.bpe.model")


@layout("xlm-roberta-sentencepiece-only", "sentencepiece.bpe.model alone: <s> <pad> </s> <unk>, pieces from the "
        "fourth, <mask> last")
def _(d):
    d.copy("xlm-roberta-tiny", "config.json", "sentencepiece.bpe.model")


@layout("xlm-roberta-saved-legacy", "save_pretrained(legacy_format=True)")
def _(d):
    d.save("xlm-roberta-tiny", legacy_format=True)


@layout("xlm-roberta-sentencepiece-pad-first", "a SentencePiece model with <pad> <unk> <s> </s> first: the "
        "converter keeps pieces from the fourth, so </s> is there twice and the later one (4) wins")
def _(d):
    d.copy("xlm-roberta-tiny", "config.json")
    d.write_bytes("sentencepiece.bpe.model", train_sentencepiece(pad_id=0, unk_id=1, bos_id=2, eos_id=3))


@layout("xlm-roberta-sentencepiece-bpe-user-mask", "a BPE SentencePiece model with a <mask> piece: the BPE "
        "vocabulary is a map, so vocab_size counts <mask> once")
def _(d):
    d.copy("xlm-roberta-tiny", "config.json")
    d.write_bytes("sentencepiece.bpe.model", train_sentencepiece(model_type="bpe", user_defined_symbols=["<mask>"]))


@layout("xlm-roberta-sentencepiece-added-tokens", "sentencepiece.bpe.model, added_tokens.json (new tokens past the "
        "vocabulary and <s>, which is in it) and an old special_tokens_map.json with additional tokens")
def _(d):
    d.copy("xlm-roberta-tiny", "config.json", "sentencepiece.bpe.model")
    d.write_json("added_tokens.json", {"<ent>": 403, "<s>": 0, "<ent2>": 402}, style="compact")
    d.write_json("special_tokens_map.json", {"additional_special_tokens": ["<ent2>", "<extra>"], "bos_token": "<s>",
                                             "mask_token": map_token("<mask>", lstrip=True)})


# --- RoBERTa ---------------------------------------------------------------------------------

@layout("roberta-fixture", "the fixture as save_pretrained wrote it (tokenizer.json, vocab.json, merges.txt, "
        "added_tokens.json, configs)")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
           "vocab.json", "merges.txt", "added_tokens.json")


@layout("roberta-vocab-merges-only", "vocab.json and merges.txt alone: <mask> is not in vocab.json and is appended")
def _(d):
    d.copy("roberta-tiny", "config.json", "vocab.json", "merges.txt")


@layout("roberta-vocab-merges-without-merges", "vocab.json without merges.txt: the slow tokenizer cannot be built")
def _(d):
    d.copy("roberta-tiny", "config.json", "vocab.json")


@layout("roberta-saved-legacy", "save_pretrained(legacy_format=True): vocab.json, merges.txt, added_tokens.json, "
        "configs")
def _(d):
    d.save("roberta-tiny", legacy_format=True)


@layout("roberta-saved-fast", "save_pretrained(legacy_format=False): tokenizer.json and the configs only")
def _(d):
    d.save("roberta-tiny", legacy_format=False)


@layout("roberta-old-transformers", "vocab.json, merges.txt, added_tokens.json and configs as transformers < 4.34 "
        "wrote them; special_tokens_map.json overrides tokenizer_config.json (mask_token <unk>)")
def _(d):
    d.copy("roberta-tiny", "config.json", "vocab.json", "merges.txt", "added_tokens.json")
    d.write_json("tokenizer_config.json", dict(roberta_config_of_old_transformers(), bos_token="</s>"))
    d.write_json("special_tokens_map.json", {"bos_token": "<s>", "eos_token": "</s>", "mask_token": "<unk>",
                                             "pad_token": "<pad>"})


@layout("roberta-special-tokens-map-ignored", "tokenizer_config.json with added_tokens_decoder but no mask_token: "
        "special_tokens_map.json is not read, the class default <mask> applies")
def _(d):
    d.copy("roberta-tiny", "config.json", "vocab.json", "merges.txt", "tokenizer_config.json")
    d.edit_json("tokenizer_config.json", lambda config: config.pop("mask_token"))
    d.write_json("special_tokens_map.json", {"mask_token": "<unk>"})


@layout("roberta-tokenizer-json-other-ids", "tokenizer.json whose added_tokens give <mask> id 999 and a new token "
        "id 5: tokenizers assigns ids again as it adds them (<mask> 360, the new token 361)")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json")

    def edit(tokenizer):
        mask = next(token for token in tokenizer["added_tokens"] if token["content"] == "<mask>")
        mask["id"] = 999
        tokenizer["added_tokens"].append(dict(mask, id=5, content="<new>", lstrip=False))
    d.edit_json("tokenizer.json", edit)


@layout("roberta-null-special-tokens", "tokenizer_config.json with bos_token and mask_token null: those tokens are "
        "unset (no class default)")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json")
    d.write_json("tokenizer_config.json", {"bos_token": None, "mask_token": None})


@layout("roberta-decoder-extra-tokens", "tokenizer.json plus an added_tokens_decoder with two tokens it lacks "
        "(ids 900 and 361, added in id order) and an additional special token declared nowhere else")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json", "tokenizer_config.json")

    def edit(config):
        config["added_tokens_decoder"]["900"] = {"content": "<z>", "special": False}
        config["added_tokens_decoder"]["361"] = {"content": "<y>", "special": True}
        config["mask_token"] = "<y>"
        config["additional_special_tokens"] = ["<w>"]
    d.edit_json("tokenizer_config.json", edit)


@layout("roberta-legacy-index-collision", "no added_tokens_decoder; added_tokens.json {<a>: 360, <b>: 361} and "
        "tokenizer.json's <mask> at 360: tokenizer.json's entry replaces <a>, which is never added")
def _(d):
    d.copy("roberta-tiny", "config.json", "vocab.json", "merges.txt", "tokenizer.json")
    d.write_json("added_tokens.json", {"<a>": 360, "<b>": 361}, style="compact")


@layout("roberta-legacy-additional-merge", "no added_tokens_decoder; additional special tokens in both configs "
        "(merged, tokenizer_config.json's first) and added_tokens.json past the vocabulary")
def _(d):
    d.copy("roberta-tiny", "config.json", "vocab.json", "merges.txt")
    d.write_json("added_tokens.json", {"<a>": 360, "<b>": 361}, style="compact")
    d.write_json("tokenizer_config.json", {"additional_special_tokens": [old_added_token("<x>", lstrip=True), "<y>"]})
    d.write_json("special_tokens_map.json", {"additional_special_tokens": ["<b>", map_token("<x>"), "<y>", "<z>"]})


@layout("roberta-vocab-hole", "vocab.json with one id moved to 1000: vocab_size counts entries, the appended "
        "<mask> takes 360")
def _(d):
    d.copy("roberta-tiny", "config.json", "vocab.json", "merges.txt")

    def edit(vocab):
        token = next(token for token, index in vocab.items() if index == 100)
        vocab[token] = 1000
    d.edit_json("vocab.json", edit)


@layout("roberta-config-added-token-object", "tokenizer_config.json mask_token as an AddedToken object with __type "
        "and an unknown key")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json")
    d.write_json("tokenizer_config.json", {"mask_token": dict(old_added_token("<pad>"), foo=1)})


@layout("roberta-empty-bos", "bos_token the empty string: never added, its id is the unk token's")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json")
    d.write_json("tokenizer_config.json", {"added_tokens_decoder": {}, "bos_token": ""})


@layout("roberta-config-object-without-type", "tokenizer_config.json mask_token as an object without __type: "
        "transformers refuses it")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json")
    d.write_json("tokenizer_config.json", {"mask_token": {"content": "<pad>"}})


@layout("roberta-map-object-with-special", "special_tokens_map.json mask_token object with a special key: "
        "transformers refuses it")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json")
    d.write_json("special_tokens_map.json", {"mask_token": {"content": "<pad>", "special": True}})


@layout("roberta-tokenizer-file-path", "tokenizer_config.json tokenizer_file naming a path elsewhere: "
        "transformers opens that path and fails")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json")
    d.write_json("tokenizer_config.json", {"tokenizer_file": "/nonexistent/tokenizer.json"})


@layout("roberta-added-tokens-json-string-id", "added_tokens.json with a string id: transformers refuses it")
def _(d):
    d.copy("roberta-tiny", "config.json", "vocab.json", "merges.txt")
    d.write_json("added_tokens.json", {"<q>": "5"}, style="compact")


@layout("roberta-decoder-entry-string", "added_tokens_decoder entry given as a string: transformers refuses it")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json")
    d.write_json("tokenizer_config.json", {"added_tokens_decoder": {"5": "<s>"}})


@layout("roberta-decoder-flag-not-bool", "added_tokens_decoder entry with lstrip \"yes\": tokenizers refuses it")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json")
    d.write_json("tokenizer_config.json", {"added_tokens_decoder": {"900": {"content": "<q>", "lstrip": "yes"}}})


@layout("roberta-special-token-number", "tokenizer_config.json mask_token 5: transformers refuses it")
def _(d):
    d.copy("roberta-tiny", "config.json", "tokenizer.json")
    d.write_json("tokenizer_config.json", {"mask_token": 5})


# --- BERT ------------------------------------------------------------------------------------

@layout("bert-fixture", "the fixture as save_pretrained wrote it")
def _(d):
    d.copy("bert-tiny", "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
           "vocab.txt")


@layout("bert-vocab-only", "vocab.txt alone")
def _(d):
    d.copy("bert-tiny", "config.json", "vocab.txt")


@layout("bert-declared-tokens-missing", "vocab.txt with tokenizer_config.json naming tokens it lacks: appended in "
        "the order bos, eos, unk, sep, pad, cls, mask, additional")
def _(d):
    d.copy("bert-tiny", "config.json", "vocab.txt")
    d.write_json("tokenizer_config.json", {"additional_special_tokens": ["[X]"], "bos_token": "[BOS]",
                                           "mask_token": "[NEWMASK]"})


@layout("bert-vocab-duplicate-line", "vocab.txt with [CLS] on lines 3 and 11: the later line wins, the "
        "vocabulary counts distinct tokens")
def _(d):
    d.copy("bert-tiny", "config.json")
    lines = (FIXTURES / "bert-tiny" / "vocab.txt").read_text(encoding="utf-8").split("\n")
    d.write_text("vocab.txt", "\n".join(lines[:10] + ["[CLS]"] + lines[10:]))


@layout("bert-vocab-line-endings", "vocab.txt with a byte order mark, CRLF, a lone CR and an empty last line")
def _(d):
    d.copy("bert-tiny", "config.json")
    d.write_text("vocab.txt", "\ufeff[PAD]\r\n[UNK]\r[CLS]\n[SEP]\n[MASK]\na\n##a\n\n")


@layout("bert-tokenizer-json-wins", "tokenizer.json whose vocabulary swaps [CLS] and [MASK] next to the original "
        "vocab.txt: tokenizer.json wins")
def _(d):
    d.copy("bert-tiny", "config.json", "vocab.txt", "tokenizer.json")
    d.edit_json("tokenizer.json", swap_cls_and_mask)


@layout("bert-tokenizer-file-null", "the same files with tokenizer_config.json \"tokenizer_file\": null: "
        "tokenizer.json is ignored and the vocabulary comes from vocab.txt")
def _(d):
    d.copy("bert-tiny", "config.json", "vocab.txt", "tokenizer.json")
    d.edit_json("tokenizer.json", swap_cls_and_mask)
    d.write_json("tokenizer_config.json", {"do_lower_case": True, "tokenizer_file": None})


@layout("bert-class-from-tokenizer-config", "a RoBERTa config.json with tokenizer_config.json tokenizer_class "
        "BertTokenizer: the tokenizer is a BertTokenizerFast")
def _(d):
    d.copy("roberta-tiny", "config.json")
    d.copy("bert-tiny", "vocab.txt", "tokenizer.json")
    d.write_json("tokenizer_config.json", {"tokenizer_class": "BertTokenizer"})


@layout("bert-class-from-model-config", "a RoBERTa config.json with tokenizer_class BertTokenizerFast and vocab.txt")
def _(d):
    d.copy("bert-tiny", "vocab.txt")
    config = json.loads((FIXTURES / "roberta-tiny" / "config.json").read_text(encoding="utf-8"))
    config["tokenizer_class"] = "BertTokenizerFast"
    d.write_json("config.json", config)


def swap_cls_and_mask(tokenizer):
    vocab = tokenizer["model"]["vocab"]
    vocab["[CLS]"], vocab["[MASK]"] = vocab["[MASK]"], vocab["[CLS]"]
    for token in tokenizer["added_tokens"]:
        if token["content"] in ("[CLS]", "[MASK]"):
            token["id"] = vocab[token["content"]]


# --- DistilBERT ------------------------------------------------------------------------------

@layout("distilbert-fixture", "the fixture as save_pretrained wrote it")
def _(d):
    d.copy("distilbert-tiny", "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
           "vocab.txt")


@layout("distilbert-old-transformers", "vocab.txt with configs as transformers < 4.34 wrote them: AddedToken "
        "objects in special_tokens_map.json, model_max_length int(1e30), no added_tokens_decoder")
def _(d):
    d.copy("distilbert-tiny", "config.json", "vocab.txt")
    d.write_json("tokenizer_config.json", {"do_lower_case": True, "model_max_length": VERY_LARGE_INTEGER,
                                           "name_or_path": "distilbert-base-uncased", "special_tokens_map_file": None,
                                           "tokenizer_class": "DistilBertTokenizer", "tokenizer_file": None})
    d.write_json("special_tokens_map.json", {"cls_token": map_token("[CLS]"), "mask_token": map_token("[MASK]"),
                                             "pad_token": "[PAD]", "sep_token": "[SEP]", "unk_token": "[UNK]"})


@layout("distilbert-saved-legacy", "save_pretrained(legacy_format=True)")
def _(d):
    d.save("distilbert-tiny", legacy_format=True)


# --- ELECTRA ---------------------------------------------------------------------------------

@layout("electra-fixture", "the fixture as save_pretrained wrote it")
def _(d):
    d.copy("electra-tiny", "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
           "vocab.txt")


@layout("electra-vocab-added-tokens", "vocab.txt with added_tokens.json: tokens past the vocabulary (added in id "
        "order, their ids recomputed) and one naming an existing token")
def _(d):
    d.copy("electra-tiny", "config.json", "vocab.txt")
    d.write_json("added_tokens.json", {"[NEW2]": 152, "[CLS]": 2, "[NEW1]": 151, "[GAP]": 170}, style="compact")


@layout("electra-saved-fast", "save_pretrained(legacy_format=False): tokenizer.json and the configs")
def _(d):
    d.save("electra-tiny", legacy_format=False)


@layout("electra-tokenizer-json-duplicate-key", "tokenizer.json whose vocabulary names [CLS] twice (2, then 77): "
        "the last value wins, the vocabulary counts it once")
def _(d):
    d.copy("electra-tiny", "config.json")
    text = (FIXTURES / "electra-tiny" / "tokenizer.json").read_text(encoding="utf-8")
    edited = text.replace('"[MASK]": 4,', '"[MASK]": 4,\n      "[CLS]": 77,', 1)
    assert edited != text
    d.write_text("tokenizer.json", edited)


def report(tokenizer) -> dict:
    def token(content):
        return None if content is None else {"content": content, "id": tokenizer.convert_tokens_to_ids(content)}

    vocab = tokenizer.get_vocab()
    lines = "".join(f"{index}\t{content}\n" for content, index in sorted(vocab.items(), key=lambda kv: (kv[1], kv[0])))
    return {
        "tokenizer_class": type(tokenizer).__name__,
        "length": len(tokenizer),
        "vocab_size": tokenizer.vocab_size,
        "special_tokens": {role: token(getattr(tokenizer, role)) for role in ROLES},
        "additional_special_tokens": [token(content) for content in tokenizer.additional_special_tokens],
        "added_tokens": {str(index): str(added) for index, added in sorted(tokenizer.added_tokens_decoder.items())},
        "vocab_entries": len(vocab),
        "vocab_sha256": sha256(lines.encode("utf-8")),
    }


def error_text(error: Exception, directory: Path) -> str:
    text = f"{type(error).__name__}: {error}".replace(str(directory), "<layout>")
    return text.splitlines()[0][:200]


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
    shutil.rmtree(out / "tokenizers", ignore_errors=True)
    fixture_paths = {}
    for path in sorted(FIXTURES.glob("*/*")):
        fixture_paths.setdefault(sha256(path.read_bytes()), path.relative_to(GOLDEN).as_posix())

    records = []
    stored = {}
    for name, description, build in LAYOUTS:
        with tempfile.TemporaryDirectory() as temporary:
            directory = Path(temporary) / name
            directory.mkdir()
            build(Layout(directory))
            files = {}
            for path in sorted(directory.iterdir()):
                data = path.read_bytes()
                digest = sha256(data)
                if digest in fixture_paths:
                    reference = fixture_paths[digest]
                elif digest in stored:
                    reference = stored[digest]
                else:
                    reference = f"{LAYOUT_FILES}/{name}/{path.name}"
                    (out / reference).parent.mkdir(parents=True, exist_ok=True)
                    (out / reference).write_bytes(data)
                    stored[digest] = reference
                files[path.name] = {"path": reference, "sha256": digest}
            try:
                expected = report(AutoTokenizer.from_pretrained(str(directory)))
            except Exception as error:  # noqa: BLE001 - the error is the expected result
                expected = {"error": error_text(error, directory)}
        records.append({"name": name, "description": description, "files": files, "expected": expected})
        outcome = expected.get("error") or (f"{expected['tokenizer_class']} len {expected['length']}, " + ", ".join(
            f"{role.removesuffix('_token')} {value['id']}" for role, value in expected["special_tokens"].items() if value))
        print(f"{name}: {outcome}")

    document = {
        "format_version": 1,
        "command": "python golden/tools/tokenizer_layouts.py",
        "reference": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                      "sentencepiece": sentencepiece.__version__, "python": sys.version.split()[0]},
        "rule": "each layout is a model directory: 'files' maps a file name to its bytes (a path relative to golden/ "
                "and its sha256); 'expected' is what AutoTokenizer.from_pretrained(directory) reported, or the "
                "error it raised. vocab_sha256 is the sha256 of the lines 'id<TAB>token<LF>' of get_vocab(), "
                "sorted by id then token.",
        "layouts": records,
    }
    (out / OUTPUT_FILE).parent.mkdir(parents=True, exist_ok=True)
    (out / OUTPUT_FILE).write_text(json_text(document), encoding="utf-8")
    print(f"{len(records)} layouts -> {out / OUTPUT_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
