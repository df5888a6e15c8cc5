"""The checkpoint zoo (golden/zoo/<case>/): source directories shaped like real hub uploads,
converted by the reference, with the reference's outputs for the Swift tests (ZooTests).

Run from golden/ inside the reference environment:

    python -m tools.zoo            # rewrite golden/zoo/ and MANIFEST.json (everything else kept)
    python -m tools.zoo --out DIR  # write DIR/zoo only (no manifest): the determinism check

Each source layout is written by the real tools (transformers `save_pretrained` with or without
safetensors and shards, `torch.save` in the zip and the legacy format, f16/bf16 models, edited or
deleted files where an older upload looked different), from tiny seeded models built with the
transformers classes and the fixtures' tokenizers. Each case is converted with the reference's
public API the way conversions.py does (`LSGConverter(...).convert_from_pretrained(...)`, then
`save_pretrained(safe_serialization=True)`), run twice with different seeds to tell random tensors
from deterministic ones, and the reference's LSG class then runs the saved output on a padded
batch of two rows. See golden/SCHEMA.md ("zoo/") for the files.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(HERE))

from tools import common  # noqa: E402

ZOO_DIRECTORY = "zoo"
FORMAT_VERSION = 1
SEED_OFFSET = 7000
DEFAULT_MAX_LENGTH = 256
VERY_LARGE_INTEGER = int(1e30)  # what transformers writes for a tokenizer without a maximum length
METADATA_PREFIX = b'{"__metadata__":{"format":"pt"},'

# Tiny geometry shared by every zoo model: 1 layer, hidden 8 (2 heads of 4), intermediate 16.
GEOMETRY = dict(hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16, hidden_act="gelu",
                hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, initializer_range=0.2)

FAMILY_MODULES = {
    "camembert": ("lsg_converter.camembert.modeling_lsg_camembert", "Camembert", "roberta"),
    "roberta": ("lsg_converter.roberta.modeling_lsg_roberta", "Roberta", "roberta"),
    "xlm-roberta": ("lsg_converter.xlm_roberta.modeling_lsg_xlm_roberta", "XLMRoberta", "roberta"),
    "bert": ("lsg_converter.bert.modeling_lsg_bert", "Bert", "bert"),
    "distilbert": ("lsg_converter.distilbert.modeling_lsg_distilbert", "DistilBert", "distilbert"),
    "electra": ("lsg_converter.electra.modeling_lsg_electra", "Electra", "electra"),
}
FIXTURE_TOKENIZERS = {"camembert": "camembert-tiny", "roberta": "roberta-tiny", "xlm-roberta": "xlm-roberta-tiny",
                      "bert": "bert-tiny", "distilbert": "distilbert-tiny", "electra": "electra-tiny"}
USES_TOKEN_TYPES = {"bert", "electra"}


# ---------------------------------------------------------------------------------------------
# Models: tiny, seeded, built with the transformers classes so that names and shapes are real.

@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    cls: str  # transformers class, e.g. "CamembertForSequenceClassification"
    positions: int  # rows of the position table, offset rows included
    seed_offset: int
    config: dict = field(default_factory=dict)  # extra config arguments (labels, problem_type, ...)


LABELS3 = {0: "NEGATIVE", 1: "NEUTRAL", 2: "POSITIVE"}
NER = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
MODELS = {spec.name: spec for spec in [
    ModelSpec("camembert-mlm", "camembert", "CamembertForMaskedLM", 132, 1),
    ModelSpec("camembert-mlm-66", "camembert", "CamembertForMaskedLM", 68, 2),
    ModelSpec("camembert-tokcls-514", "camembert", "CamembertForTokenClassification", 514, 3,
              dict(id2label=NER, label2id={v: k for k, v in NER.items()})),
    ModelSpec("camembert-seqcls", "camembert", "CamembertForSequenceClassification", 132, 4,
              dict(id2label=LABELS3, label2id={v: k for k, v in LABELS3.items()},
                   problem_type="single_label_classification", classifier_dropout=None)),
    ModelSpec("roberta-mlm", "roberta", "RobertaForMaskedLM", 132, 5),
    ModelSpec("roberta-tokcls", "roberta", "RobertaForTokenClassification", 68, 6,
              dict(id2label=NER, label2id={v: k for k, v in NER.items()}, classifier_dropout=None)),
    ModelSpec("xlm-roberta-mlm", "xlm-roberta", "XLMRobertaForMaskedLM", 132, 7),
    ModelSpec("xlm-roberta-qa", "xlm-roberta", "XLMRobertaForQuestionAnswering", 132, 8),
    ModelSpec("bert-pretraining", "bert", "BertForPreTraining", 130, 9),
    ModelSpec("bert-base", "bert", "BertModel", 130, 10),
    ModelSpec("bert-seqcls", "bert", "BertForSequenceClassification", 66, 11,
              dict(num_labels=2, problem_type="single_label_classification", classifier_dropout=None)),
    ModelSpec("bert-qa-512", "bert", "BertForQuestionAnswering", 512, 12),
    ModelSpec("distilbert-mlm", "distilbert", "DistilBertForMaskedLM", 130, 13),
    ModelSpec("distilbert-seqcls", "distilbert", "DistilBertForSequenceClassification", 130, 14,
              dict(id2label=LABELS3, label2id={v: k for k, v in LABELS3.items()},
                   problem_type="single_label_classification")),
    ModelSpec("electra-discriminator", "electra", "ElectraForPreTraining", 130, 15),
    ModelSpec("electra-tokcls", "electra", "ElectraForTokenClassification", 66, 16,
              dict(id2label=NER, label2id={v: k for k, v in NER.items()}, classifier_dropout=None)),
]}


def fixture_dir(family: str) -> Path:
    return HERE / "fixtures" / FIXTURE_TOKENIZERS[family]


def build_model(spec: ModelSpec):
    import transformers

    from tools import fixtures

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(fixture_dir(spec.family)))
    vocab = len(tokenizer)
    common.seed_all(SEED_OFFSET + 100 * spec.seed_offset)
    prefix = {"camembert": "Camembert", "roberta": "Roberta", "xlm-roberta": "XLMRoberta", "bert": "Bert",
              "distilbert": "DistilBert", "electra": "Electra"}[spec.family]
    config_cls = getattr(transformers, prefix + "Config")
    if spec.family == "distilbert":
        config = config_cls(vocab_size=vocab, max_position_embeddings=spec.positions, sinusoidal_pos_embds=False,
                            n_layers=1, n_heads=2, dim=8, hidden_dim=16, activation="gelu", dropout=0.1,
                            attention_dropout=0.1, initializer_range=0.2, pad_token_id=tokenizer.pad_token_id,
                            **spec.config)
    elif spec.family == "electra":
        config = config_cls(vocab_size=vocab, embedding_size=4, max_position_embeddings=spec.positions,
                            type_vocab_size=2, pad_token_id=tokenizer.pad_token_id, layer_norm_eps=1e-12,
                            **GEOMETRY, **spec.config)
    elif spec.family == "bert":
        config = config_cls(vocab_size=vocab, max_position_embeddings=spec.positions, type_vocab_size=2,
                            pad_token_id=tokenizer.pad_token_id, layer_norm_eps=1e-12, **GEOMETRY, **spec.config)
    else:
        config = config_cls(vocab_size=vocab, max_position_embeddings=spec.positions, type_vocab_size=1,
                            pad_token_id=tokenizer.pad_token_id, layer_norm_eps=1e-5, **GEOMETRY, **spec.config)
    model = getattr(transformers, spec.cls)(config)
    fixtures.make_nontrivial(model)
    return model.eval()


_MODEL_CACHE: dict = {}


def model_for(name: str):
    """The model of a spec, built once per run (every layout of it saves the same weights)."""
    if name not in _MODEL_CACHE:
        _MODEL_CACHE[name] = build_model(MODELS[name])
    return _MODEL_CACHE[name]


# ---------------------------------------------------------------------------------------------
# Layout helpers: each writes files into a source directory.

def copy_tokenizer(family: str, out: Path, only: tuple[str, ...] | None = None) -> None:
    """The fixture's tokenizer files, byte for byte (all of them, or `only` these)."""
    source = fixture_dir(family)
    for path in sorted(source.iterdir()):
        if path.name in ("config.json", "model.safetensors"):
            continue
        if only is None or path.name in only:
            shutil.copyfile(path, out / path.name)


def transformers_json(value) -> str:
    """JSON as transformers writes config and tokenizer files: indent 2, keys sorted, newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def edit_json(path: Path, drop: tuple[str, ...] = (), set_: dict | None = None) -> None:
    value = json.loads(path.read_text(encoding="utf-8"))
    for key in drop:
        value.pop(key, None)
    value.update(set_ or {})
    path.write_text(transformers_json(value), encoding="utf-8")


def save_model(name: str, out: Path, **kwargs) -> None:
    model_for(name).save_pretrained(str(out), **kwargs)


def save_model_as(name: str, out: Path, dtype, **kwargs) -> None:
    import copy

    model = copy.deepcopy(model_for(name)).to(dtype)
    model.save_pretrained(str(out), **kwargs)


def state_dict_of(name: str) -> dict:
    """What `save_pretrained` would save (tied decoder weights included, sharing storage)."""
    return dict(model_for(name).state_dict())


def write_config_only(name: str, out: Path) -> None:
    """config.json as save_pretrained writes it beside the weights (architectures included)."""
    import copy

    config = copy.deepcopy(model_for(name).config)
    config.architectures = [MODELS[name].cls]
    config.torch_dtype = "float32"
    config.save_pretrained(str(out))


LEGACY_ELEMENT_SIZES = {"DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2,
                        "LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1,
                        "BoolStorage": 1}


def save_legacy(state: dict, path: Path) -> None:
    """torch.save in the legacy format, made deterministic.

    The legacy format names each storage by its memory address (`str(storage._cdata)`) and writes
    the storages in the sorted order of those names, so two runs write different bytes. Here the
    names are replaced by strings of the same length (1000...0, 1000...1, ... in the order the
    object pickle first uses them), and the key list and the storage records are rewritten in that
    order, exactly as torch lays them out: the file torch would have written had the storages lived
    at such addresses. It must load back to the same tensors."""
    import io
    import pickle

    import torch

    torch.save(state, path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    first_use: list[str] = []
    element_size: dict[str, int] = {}

    class Anything(dict):  # what every global of the object pickle stands for while reading it
        def __setstate__(self, state):
            pass

    class Global:
        def __init__(self, name):
            self.name = name

        def __call__(self, *args, **kwargs):
            return Anything()

    class Collector(pickle.Unpickler):
        def find_class(self, module, name):
            return Global(name)

        def persistent_load(self, pid):
            _, storage_type, key, _, _, _ = pid
            if key not in element_size:
                first_use.append(key)
                element_size[key] = LEGACY_ELEMENT_SIZES[storage_type.name]

    stream = io.BytesIO(data)
    for _ in range(3):  # magic number, protocol version, system info
        pickle.load(stream)
    object_start = stream.tell()
    Collector(stream).load()
    keys_start = stream.tell()
    keys = pickle.load(stream)
    records_start = stream.tell()
    if pickle.dumps(keys, protocol=2) != data[keys_start:records_start] or sorted(keys) != keys:
        raise RuntimeError("unexpected legacy key list")
    records = {}
    offset = records_start
    for key in keys:
        (count,) = struct.unpack("<q", data[offset : offset + 8])
        end = offset + 8 + count * element_size[key]
        records[key] = data[offset:end]
        offset = end
    if offset != len(data) or set(keys) != set(first_use) or len({len(k) for k in keys}) != 1:
        raise RuntimeError("unexpected legacy storage records")
    width = len(keys[0])
    names = {key: str(10 ** (width - 1) + index) for index, key in enumerate(first_use)}
    body = data[object_start:keys_start]
    for key, new in names.items():
        body = body.replace(b"X" + struct.pack("<I", width) + key.encode(),
                            b"X" + struct.pack("<I", width) + new.encode())
    new_keys = sorted(names.values())
    by_new = {new: key for key, new in names.items()}
    rewritten = (data[:object_start] + body + pickle.dumps(new_keys, protocol=2)
                 + b"".join(records[by_new[new]] for new in new_keys))
    path.write_bytes(rewritten)
    loaded = torch.load(path)
    if loaded.keys() != state.keys() or any(not torch.equal(loaded[k], state[k]) for k in state):
        raise RuntimeError("the renumbered legacy file does not load back to the same tensors")


def strip_safetensors_metadata(data: bytes) -> bytes:
    """The exact transformation of SCHEMA.md: `"__metadata__":{"format":"pt"},` removed from the
    header, which is padded with as many spaces at its end, so every offset stays the same."""
    (size,) = struct.unpack("<Q", data[:8])
    header = data[8 : 8 + size]
    if not header.startswith(METADATA_PREFIX):
        raise RuntimeError("safetensors header does not start with the pt metadata")
    stripped = b"{" + header[len(METADATA_PREFIX) :] + b" " * (len(METADATA_PREFIX) - 1)
    assert len(stripped) == size
    return data[:8] + stripped + data[8 + size :]


# Config keys that transformers 2.x wrote for every model (PretrainedConfig attributes), and the
# keys newer releases added that such uploads lack.
V2_CONFIG_KEYS = {"finetuning_task": None, "is_decoder": False, "num_labels": 2, "output_attentions": False,
                  "output_hidden_states": False, "output_past": True, "pruned_heads": {}, "torchscript": False,
                  "use_bfloat16": False}
NEWER_CONFIG_KEYS = ("transformers_version", "torch_dtype", "position_embedding_type", "use_cache",
                     "classifier_dropout")


# ---------------------------------------------------------------------------------------------
# Cases.

@dataclass(frozen=True)
class ZooCase:
    name: str
    model: str  # key of MODELS
    layout: str  # what the upload looks like, in one paragraph
    write: Callable[[Path], None]  # writes the source directory
    max_length: int = DEFAULT_MAX_LENGTH
    architecture: str | None = None
    model_kwargs: dict = field(default_factory=dict)
    global_stride: int = 64
    lengths: tuple[int, int] = (7, 5)  # real lengths of the two encoder rows
    # Files that are an exact transformation of another case's stored file (the test redoes it).
    derived: dict = field(default_factory=dict)  # {file name: (case, file name, transform)}
    expected_from: str | None = None  # when the reference fails: the case whose output applies
    expect_reference_failure: bool = False

    @property
    def family(self) -> str:
        return MODELS[self.model].family


def _camembert_safetensors(out: Path) -> None:
    save_model("camembert-mlm", out, safe_serialization=True)
    copy_tokenizer("camembert", out)


def _camembert_sentencepiece_only(out: Path) -> None:
    save_model("camembert-mlm", out, safe_serialization=True)
    copy_tokenizer("camembert", out, only=("sentencepiece.bpe.model",))


def _camembert_legacy_bin(out: Path) -> None:
    import torch

    write_config_only("camembert-mlm-66", out)
    edit_json(out / "config.json", drop=("architectures",) + NEWER_CONFIG_KEYS, set_=V2_CONFIG_KEYS)
    save_legacy(state_dict_of("camembert-mlm-66"), out / "pytorch_model.bin")
    copy_tokenizer("camembert", out, only=("sentencepiece.bpe.model", "tokenizer.json"))


def _camembert_f16(out: Path) -> None:
    import torch

    save_model_as("camembert-mlm", out, torch.float16, safe_serialization=True)
    copy_tokenizer("camembert", out)


def _camembert_added_token_objects(out: Path) -> None:
    save_model("camembert-mlm-66", out, safe_serialization=True)
    copy_tokenizer("camembert", out, only=("sentencepiece.bpe.model", "tokenizer.json"))
    mask = {"__type": "AddedToken", "content": "<mask>", "lstrip": True, "normalized": True, "rstrip": False,
            "single_word": False}
    (out / "tokenizer_config.json").write_text(transformers_json({
        "additional_special_tokens": ["<s>NOTUSED", "</s>NOTUSED"], "bos_token": "<s>", "cls_token": "<s>",
        "eos_token": "</s>", "mask_token": mask, "model_max_length": 512, "name_or_path": "camembert-base",
        "pad_token": "<pad>", "sep_token": "</s>", "sp_model_kwargs": {}, "special_tokens_map_file": None,
        "tokenizer_class": "CamembertTokenizer", "unk_token": "<unk>"}), encoding="utf-8")
    (out / "special_tokens_map.json").write_text(transformers_json({
        "additional_special_tokens": ["<s>NOTUSED", "</s>NOTUSED"], "bos_token": "<s>", "cls_token": "<s>",
        "eos_token": "</s>", "mask_token": {k: v for k, v in mask.items() if k != "__type"}, "pad_token": "<pad>",
        "sep_token": "</s>", "unk_token": "<unk>"}), encoding="utf-8")


def _camembert_sequence_classification(out: Path) -> None:
    save_model("camembert-seqcls", out, safe_serialization=True)
    copy_tokenizer("camembert", out)


def _camembert_token_classification_514(out: Path) -> None:
    save_model("camembert-tokcls-514", out, safe_serialization=True)
    copy_tokenizer("camembert", out)


def _roberta_tied_twice(out: Path, zip_format: bool) -> None:
    import torch
    from safetensors.torch import save_file

    model = model_for("roberta-mlm")
    save_model("roberta-mlm", out, safe_serialization=True)
    (out / "model.safetensors").unlink()
    state = dict(model.state_dict())
    positions = model.config.max_position_embeddings
    state["roberta.embeddings.position_ids"] = torch.arange(positions).expand((1, -1))
    state["lm_head.decoder.weight"] = model.roberta.embeddings.word_embeddings.weight
    state["lm_head.decoder.bias"] = model.lm_head.bias
    edit_json(out / "config.json", drop=NEWER_CONFIG_KEYS)
    if zip_format:
        # Shared storages, as torch.save keeps them: the decoder is the word embedding table.
        torch.save(state, out / "pytorch_model.bin")
        copy_tokenizer("roberta", out, only=("vocab.json", "merges.txt", "tokenizer.json"))
    else:
        # safetensors cannot share storage: the tied tensors are stored twice.
        save_file({k: v.detach().clone().contiguous() for k, v in state.items()}, str(out / "model.safetensors"),
                  metadata={"format": "pt"})
        copy_tokenizer("roberta", out)


def _roberta_vocab_merges_only(out: Path) -> None:
    save_model("roberta-mlm", out, safe_serialization=True)
    copy_tokenizer("roberta", out, only=("vocab.json", "merges.txt"))


def _roberta_added_tokens_json(out: Path) -> None:
    save_model("roberta-mlm", out, safe_serialization=True)
    copy_tokenizer("roberta", out, only=("vocab.json", "merges.txt", "added_tokens.json"))
    (out / "special_tokens_map.json").write_text(transformers_json({
        "bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>", "pad_token": "<pad>",
        "sep_token": "</s>", "unk_token": "<unk>"}), encoding="utf-8")
    (out / "tokenizer_config.json").write_text(transformers_json({"do_lower_case": False, "model_max_length": 512}),
                                               encoding="utf-8")


def _roberta_sharded_bin(out: Path) -> None:
    save_model("roberta-mlm", out, safe_serialization=False, max_shard_size="12KB")
    copy_tokenizer("roberta", out)


def _roberta_token_classification(out: Path) -> None:
    save_model("roberta-tokcls", out, safe_serialization=True)
    copy_tokenizer("roberta", out)


def _roberta_no_metadata(out: Path) -> None:
    # model.safetensors is derived (see ZooCase.derived); the rest is the token-classification case's.
    _roberta_token_classification(out)
    data = (out / "model.safetensors").read_bytes()
    (out / "model.safetensors").write_bytes(strip_safetensors_metadata(data))


def _xlm_roberta_sentencepiece_only(out: Path) -> None:
    save_model("xlm-roberta-mlm", out, safe_serialization=True)
    copy_tokenizer("xlm-roberta", out, only=("sentencepiece.bpe.model",))


def _xlm_roberta_sharded_safetensors(out: Path) -> None:
    save_model("xlm-roberta-mlm", out, safe_serialization=True, max_shard_size="12KB")
    copy_tokenizer("xlm-roberta", out)


def _xlm_roberta_bf16(out: Path) -> None:
    import torch

    save_model_as("xlm-roberta-mlm", out, torch.bfloat16, safe_serialization=True)
    copy_tokenizer("xlm-roberta", out)


def _xlm_roberta_question_answering(out: Path) -> None:
    from transformers import AutoTokenizer

    save_model("xlm-roberta-qa", out, safe_serialization=True)
    # A tokenizer saved without a maximum length: transformers writes int(1e30).
    tokenizer = AutoTokenizer.from_pretrained(str(fixture_dir("xlm-roberta")), model_max_length=VERY_LARGE_INTEGER)
    tokenizer.save_pretrained(str(out))


def _bert_gamma_beta_legacy(out: Path) -> None:
    import torch

    write_config_only("bert-pretraining", out)
    edit_json(out / "config.json", drop=("architectures",) + NEWER_CONFIG_KEYS)
    state = {}
    for name, tensor in state_dict_of("bert-pretraining").items():
        if "LayerNorm." in name:
            name = name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        state[name] = tensor
    save_legacy(state, out / "pytorch_model.bin")
    copy_tokenizer("bert", out, only=("vocab.txt",))
    (out / "tokenizer_config.json").write_text(transformers_json({"do_lower_case": True}), encoding="utf-8")


def _bert_prefixed_under_base_config(out: Path) -> None:
    save_model("bert-pretraining", out, safe_serialization=True)
    edit_json(out / "config.json", set_={"architectures": ["BertModel"]})
    copy_tokenizer("bert", out)


def _bert_base_under_head_config(out: Path) -> None:
    save_model("bert-base", out, safe_serialization=True)
    edit_json(out / "config.json", set_={"architectures": ["BertForSequenceClassification"],
                                         "id2label": {"0": "NO", "1": "YES"}, "label2id": {"NO": 0, "YES": 1}})
    copy_tokenizer("bert", out)


def _bert_vocab_txt_only(out: Path) -> None:
    save_model("bert-base", out, safe_serialization=True)
    copy_tokenizer("bert", out, only=("vocab.txt",))


def _bert_seqcls_f16_bin(out: Path) -> None:
    import torch

    save_model_as("bert-seqcls", out, torch.float16, safe_serialization=False)
    copy_tokenizer("bert", out)


def _bert_qa_512(out: Path) -> None:
    save_model("bert-qa-512", out, safe_serialization=True)
    copy_tokenizer("bert", out)


def _distilbert_old_config_bin(out: Path) -> None:
    save_model("distilbert-mlm", out, safe_serialization=False)
    edit_json(out / "config.json", drop=("architectures", "transformers_version", "torch_dtype", "pad_token_id"),
              set_={"tie_weights_": True, "output_past": True})
    copy_tokenizer("distilbert", out, only=("vocab.txt",))
    (out / "tokenizer_config.json").write_text(transformers_json({"do_lower_case": True, "model_max_length": 512}),
                                               encoding="utf-8")


def _distilbert_sequence_classification(out: Path) -> None:
    save_model("distilbert-seqcls", out, safe_serialization=True)
    copy_tokenizer("distilbert", out)


def _electra_bf16(out: Path) -> None:
    import torch

    save_model_as("electra-discriminator", out, torch.bfloat16, safe_serialization=True)
    copy_tokenizer("electra", out)


def _electra_token_classification_legacy(out: Path) -> None:
    import torch

    write_config_only("electra-tokcls", out)
    edit_json(out / "config.json", drop=NEWER_CONFIG_KEYS, set_={"transformers_version": "3.0.2"})
    save_legacy(state_dict_of("electra-tokcls"), out / "pytorch_model.bin")
    copy_tokenizer("electra", out, only=("vocab.txt", "special_tokens_map.json", "tokenizer_config.json"))


CASES = [
    ZooCase("camembert-safetensors", "camembert-mlm",
            "a current upload: model.safetensors (f32) and every tokenizer file (tokenizer.json, "
            "sentencepiece.bpe.model, tokenizer_config.json with added_tokens_decoder, special_tokens_map.json)",
            _camembert_safetensors),
    ZooCase("camembert-sentencepiece-only", "camembert-mlm",
            "only config.json, model.safetensors and sentencepiece.bpe.model: AutoTokenizer converts the slow "
            "tokenizer (fairseq specials first), so its ids differ from the tokenizer.json of the same model",
            _camembert_sentencepiece_only),
    ZooCase("camembert-legacy-bin-v2-config", "camembert-mlm-66",
            "pytorch_model.bin in torch's legacy (pre-1.6) format, config.json as transformers 2.x wrote it "
            "(no architectures, no transformers_version/position_embedding_type/use_cache/classifier_dropout, "
            "finetuning_task, output_past, pruned_heads, ...), 66 positions, sentencepiece + tokenizer.json only",
            _camembert_legacy_bin),
    ZooCase("camembert-f16", "camembert-mlm",
            "model saved with torch_dtype float16 (F16 safetensors, config torch_dtype float16)", _camembert_f16),
    ZooCase("camembert-added-token-objects", "camembert-mlm-66",
            "tokenizer_config.json as transformers 4.0-4.33 wrote it: no added_tokens_decoder, mask_token an "
            "AddedToken object ({\"__type\": \"AddedToken\", ...}); special_tokens_map.json with mask_token as a "
            "dict and the others as strings; tokenizer.json present",
            _camembert_added_token_objects, global_stride=32),
    ZooCase("camembert-sequence-classification", "camembert-seqcls",
            "fine-tuned CamembertForSequenceClassification: id2label/label2id (3 labels), problem_type, "
            "classifier_dropout null", _camembert_sequence_classification),
    ZooCase("camembert-token-classification-514-globals4-pooling", "camembert-tokcls-514",
            "CamembertForTokenClassification with 514 positions (every global row deterministic), converted to "
            "512 with 4 global tokens, pooling sparsity and 16-token blocks; the rows are long enough for sparse "
            "attention", _camembert_token_classification_514, max_length=512,
            model_kwargs={"num_global_tokens": 4, "sparsity_type": "pooling", "block_size": 16,
                          "sparse_block_size": 16, "sparsity_factor": 2}, lengths=(45, 28)),
    ZooCase("roberta-zip-bin-position-ids-tied", "roberta-mlm",
            "pytorch_model.bin (torch zip format) carrying roberta.embeddings.position_ids and the tied "
            "lm_head.decoder.weight / lm_head.decoder.bias (sharing storage with the word embeddings and "
            "lm_head.bias), config.json without the keys transformers 4.x added; vocab.json, merges.txt, "
            "tokenizer.json", lambda out: _roberta_tied_twice(out, zip_format=True)),
    ZooCase("roberta-safetensors-tied-stored-twice", "roberta-mlm",
            "model.safetensors written with safetensors.torch.save_file holding position_ids and the tied "
            "lm_head.decoder.weight and lm_head.decoder.bias as separate copies", lambda out: _roberta_tied_twice(
                out, zip_format=False)),
    ZooCase("roberta-vocab-merges-only", "roberta-mlm",
            "only vocab.json and merges.txt (<mask> is not in vocab.json: the tokenizer appends it)",
            _roberta_vocab_merges_only),
    ZooCase("roberta-added-tokens-json-old-tokenizer-config", "roberta-mlm",
            "vocab.json, merges.txt, added_tokens.json ({\"<mask>\": 360}), special_tokens_map.json with plain "
            "strings and a transformers 3.x tokenizer_config.json (no added_tokens_decoder)",
            _roberta_added_tokens_json),
    ZooCase("roberta-sharded-bin", "roberta-mlm",
            "save_pretrained(safe_serialization=False, max_shard_size='12KB'): pytorch_model-0000k-of-0000n.bin "
            "shards and pytorch_model.bin.index.json", _roberta_sharded_bin),
    ZooCase("roberta-token-classification", "roberta-tokcls",
            "fine-tuned RobertaForTokenClassification (5 NER labels, 66 positions)", _roberta_token_classification),
    ZooCase("roberta-token-classification-as-base-model", "roberta-tokcls",
            "the same files as roberta-token-classification, converted with architecture RobertaModel "
            "(the head is dropped)", _roberta_token_classification, architecture="RobertaModel"),
    ZooCase("roberta-safetensors-without-metadata", "roberta-tokcls",
            "roberta-token-classification with a model.safetensors whose header has no __metadata__ "
            "(as written by other safetensors writers)", _roberta_no_metadata,
            derived={"model.safetensors": ("roberta-token-classification", "model.safetensors",
                                           "strip_safetensors_metadata")},
            expected_from="roberta-token-classification", expect_reference_failure=True),
    ZooCase("xlm-roberta-sentencepiece-only", "xlm-roberta-mlm",
            "only config.json, model.safetensors and sentencepiece.bpe.model", _xlm_roberta_sentencepiece_only),
    ZooCase("xlm-roberta-sharded-safetensors", "xlm-roberta-mlm",
            "save_pretrained(safe_serialization=True, max_shard_size='12KB'): model-0000k-of-0000n.safetensors "
            "and model.safetensors.index.json", _xlm_roberta_sharded_safetensors),
    ZooCase("xlm-roberta-bf16", "xlm-roberta-mlm",
            "model saved with torch_dtype bfloat16 (BF16 safetensors)", _xlm_roberta_bf16,
            model_kwargs={"sparsity_type": "lsh"}),
    ZooCase("xlm-roberta-question-answering-max-length-1e30", "xlm-roberta-qa",
            "fine-tuned XLMRobertaForQuestionAnswering; the tokenizer was saved without a maximum length, so "
            "tokenizer_config.json says \"model_max_length\": 1000000000000000019884624838656",
            _xlm_roberta_question_answering),
    ZooCase("bert-gamma-beta-legacy-bin", "bert-pretraining",
            "an old BERT upload: pytorch_model.bin in the legacy format with TF-era LayerNorm.gamma / "
            "LayerNorm.beta names, config.json without architectures and the keys transformers 4.x added, "
            "vocab.txt and tokenizer_config.json {\"do_lower_case\": true}", _bert_gamma_beta_legacy),
    ZooCase("bert-prefixed-under-base-config", "bert-pretraining",
            "a BertForPreTraining checkpoint (bert.-prefixed weights, cls.* heads) whose config.json says "
            "architectures [BertModel]: the prefix is stripped and the heads dropped", _bert_prefixed_under_base_config),
    ZooCase("bert-base-under-head-config", "bert-base",
            "a BertModel checkpoint (weights at the root) whose config.json says BertForSequenceClassification "
            "with 2 labels: the prefix is added and the classifier is missing (initialised at random)",
            _bert_base_under_head_config),
    ZooCase("bert-vocab-txt-only", "bert-base",
            "BertModel with only vocab.txt for the tokenizer (no tokenizer_config.json, no tokenizer.json)",
            _bert_vocab_txt_only),
    ZooCase("bert-sequence-classification-f16-bin", "bert-seqcls",
            "fine-tuned BertForSequenceClassification saved in float16 as pytorch_model.bin (torch zip format), "
            "66 positions", _bert_seqcls_f16_bin),
    ZooCase("bert-question-answering-512-globals2-stride", "bert-qa-512",
            "BertForQuestionAnswering with 512 positions, converted to 1024 with 2 global tokens, stride "
            "sparsity, 16-token blocks and global stride 32", _bert_qa_512, max_length=1024, global_stride=32,
            model_kwargs={"num_global_tokens": 2, "sparsity_type": "stride", "block_size": 16,
                          "sparse_block_size": 16, "sparsity_factor": 2}, lengths=(50, 36)),
    ZooCase("distilbert-old-config-bin", "distilbert-mlm",
            "DistilBertForMaskedLM as pytorch_model.bin (zip), config.json without architectures, "
            "transformers_version, torch_dtype and pad_token_id but with tie_weights_ and output_past, "
            "vocab.txt and an old tokenizer_config.json", _distilbert_old_config_bin),
    ZooCase("distilbert-sequence-classification", "distilbert-seqcls",
            "fine-tuned DistilBertForSequenceClassification (pre_classifier + classifier, 3 labels)",
            _distilbert_sequence_classification),
    ZooCase("electra-discriminator-bf16", "electra-discriminator",
            "ElectraForPreTraining (discriminator head) saved in bfloat16", _electra_bf16),
    ZooCase("electra-token-classification-legacy-bin", "electra-tokcls",
            "ElectraForTokenClassification in the legacy .bin format with a transformers 3.x config.json",
            _electra_token_classification_legacy, model_kwargs={"sparsity_type": "bos_pooling"}),
]


# ---------------------------------------------------------------------------------------------
# Heads: how each task head turns the base outputs into its logits, as data the Swift test applies.

def head_recipe(architecture: str, family: str) -> dict | None:
    """`input`: first_token | every_token | pooler_output; `layers`: [weight prefix, activation] applied
    in order (torch Linear: y = x W^T + b); `outputs`: names, the last dimension split evenly."""
    base = architecture.removeprefix("LSG")
    if base.endswith("ForSequenceClassification"):
        if family == "bert":
            return {"input": "pooler_output", "layers": [["classifier", None]], "outputs": ["logits"]}
        if family == "distilbert":
            return {"input": "first_token", "layers": [["pre_classifier", "relu"], ["classifier", None]],
                    "outputs": ["logits"]}
        return {"input": "first_token", "layers": [["classifier.dense", "tanh"], ["classifier.out_proj", None]],
                "outputs": ["logits"]}
    if base.endswith("ForTokenClassification"):
        return {"input": "every_token", "layers": [["classifier", None]], "outputs": ["logits"]}
    if base.endswith("ForQuestionAnswering"):
        return {"input": "every_token", "layers": [["qa_outputs", None]], "outputs": ["start_logits", "end_logits"]}
    if base == "ElectraForPreTraining":
        return {"input": "every_token", "layers": [["discriminator_predictions.dense", "gelu"],
                                                   ["discriminator_predictions.dense_prediction", None]],
                "outputs": ["logits"]}
    if base == "BertForPreTraining":
        return {"input": "pooler_output", "layers": [["cls.seq_relationship", None]],
                "outputs": ["seq_relationship_logits"]}
    return None


def apply_head(recipe: dict, state: dict, hidden, pooled):
    import torch

    x = {"first_token": lambda: hidden[:, 0], "every_token": lambda: hidden, "pooler_output": lambda: pooled}[
        recipe["input"]]()
    for prefix, activation in recipe["layers"]:
        x = x @ state[prefix + ".weight"].float().T + state[prefix + ".bias"].float()
        if activation == "tanh":
            x = torch.tanh(x)
        elif activation == "relu":
            x = torch.relu(x)
        elif activation == "gelu":
            x = torch.nn.functional.gelu(x)
        elif activation is not None:
            raise ValueError(activation)
    parts = x.chunk(len(recipe["outputs"]), dim=-1)
    return {name: part.contiguous() for name, part in zip(recipe["outputs"], parts)}


# ---------------------------------------------------------------------------------------------
# Running the reference.

def conversion_case(case: ZooCase):
    from tools import conversions

    return conversions.ConversionCase(name=case.name, source=case.name, max_length=case.max_length,
                                      global_stride=case.global_stride, architecture=case.architecture,
                                      model_kwargs=dict(case.model_kwargs))


@contextlib.contextmanager
def working_directory(path: Path):
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def reference_conversion(case: ZooCase, work: Path, out: Path, seed_offset: int):
    """(special ids, global ids, tokenizer) of one reference run, from `work` (the source is ./<case>)."""
    from transformers import AutoTokenizer

    from tools import conversions, fixtures

    with working_directory(work):
        used = conversions.run_reference(conversion_case(case), out, seed_offset)
        tokenizer = AutoTokenizer.from_pretrained(case.name)
    return fixtures.special_ids(tokenizer), used, tokenizer


def compact_random_report(out: Path, report: dict) -> dict:
    """Per random tensor: the rows that do not depend on the seed (row = first dimension) and the
    sha256 of their bytes concatenated in that order, plus the count of the others."""
    from safetensors.torch import load_file

    from tools import conversions

    tensors = {}
    for path in conversions.weight_files(out):
        tensors.update(load_file(str(path)))
    compact = {}
    for name, entry in sorted(report.items()):
        rows = sorted(int(row) for row in entry["deterministic_rows"])
        tensor = tensors[name].reshape(tensors[name].shape[0], -1)
        data = b"".join(common.tensor_bytes(tensor[row]) for row in rows)
        compact[name] = {"deterministic_rows": rows, "deterministic_rows_sha256": common.sha256_bytes(data),
                         "random_rows": entry["random_rows"]}
    return compact


def one_line(error: BaseException) -> str:
    """The error and where it was raised (innermost frame, path from site-packages)."""
    import traceback

    frame = traceback.extract_tb(error.__traceback__)[-1]
    where = frame.filename.split("site-packages/")[-1]
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text} (raised in {where}, {frame.name}: {frame.line})"[:400]


def encoder_inputs(tokenizer, family: str, lengths: tuple[int, int]) -> dict:
    """Two rows of real text cut to `lengths` tokens (a pair for BERT-style models, so token types
    are 0 then 1), one <mask> in each, right-padded with the tokenizer's pad id."""
    import torch

    from tools import corpus

    sentences = corpus.FRENCH if family == "camembert" else corpus.ENGLISH
    width = max(lengths)
    batch = len(lengths)
    input_ids = torch.full((batch, width), tokenizer.pad_token_id, dtype=torch.int64)
    attention_mask = torch.zeros((batch, width), dtype=torch.int64)
    token_type_ids = torch.zeros((batch, width), dtype=torch.int64)
    for row, length in enumerate(lengths):
        first = " ".join(sentences[3 * row : 3 * row + 6])
        second = " ".join(sentences[3 * row + 6 : 3 * row + 12])
        if family in USES_TOKEN_TYPES or family == "distilbert":
            encoded = tokenizer(first, second, truncation="longest_first", max_length=length)
        else:
            encoded = tokenizer(first + " " + second, truncation=True, max_length=length)
        ids = encoded["input_ids"]
        if len(ids) != length:
            raise RuntimeError(f"text too short for {length} tokens")
        ids[2] = tokenizer.mask_token_id
        input_ids[row, :length] = torch.tensor(ids)
        attention_mask[row, :length] = 1
        if "token_type_ids" in encoded:
            token_type_ids[row, :length] = torch.tensor(encoded["token_type_ids"])
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    if family in USES_TOKEN_TYPES:
        inputs["token_type_ids"] = token_type_ids
    return inputs


def record_encoder(case: ZooCase, out: Path, tokenizer, random_tensors: dict, seed: int) -> tuple[bytes, dict]:
    """The reference's LSG class on the saved output: base outputs, the MLM logits and the head's."""
    import importlib

    import torch

    config = json.loads((out / "config.json").read_text())
    architecture = config["architectures"][0]
    module_name, _, base_attribute = FAMILY_MODULES[case.family]
    cls = getattr(importlib.import_module(module_name), architecture)
    common.seed_all(seed)
    model = cls.from_pretrained(str(out)).eval()
    num_global = config["num_global_tokens"]
    for name, report in random_tensors.items():
        if name.endswith("global_embeddings.weight") and any(r not in report["deterministic_rows"]
                                                             for r in range(num_global)):
            raise RuntimeError(f"{case.name}: a global row in use is random; give the model 512 positions")
    inputs = encoder_inputs(tokenizer, case.family, case.lengths)
    base = model if architecture.endswith("Model") else getattr(model, base_attribute)
    captured = {}
    hook = base.register_forward_hook(lambda module, args, output: captured.setdefault("base", output))
    common.seed_all(seed + 1)
    from tools.encoder_cases import RandnRecorder

    with torch.no_grad(), RandnRecorder() as recorder:
        output = model(**inputs, return_dict=True)
    hook.remove()
    if recorder.recorded:
        raise RuntimeError(f"{case.name}: the forward pass drew random numbers (lsh with sparse attention?)")
    tensors = {name: value.contiguous() for name, value in inputs.items()}
    hidden = captured["base"].last_hidden_state
    pooled = getattr(captured["base"], "pooler_output", None)
    tensors["expected.last_hidden_state"] = hidden.contiguous()
    random_pooler = any(name.endswith("pooler.dense.weight") for name in random_tensors)
    if pooled is not None and not random_pooler:  # a freshly initialised pooler cannot be compared
        tensors["expected.pooler_output"] = pooled.contiguous()
    mlm = getattr(output, "prediction_logits", None) if architecture.endswith("ForPreTraining") else None
    if architecture.endswith("ForMaskedLM"):
        mlm = output.logits
    if mlm is not None and case.family != "electra":
        tensors["expected.logits"] = mlm.contiguous()
    recipe = head_recipe(architecture, case.family)
    head = None
    if recipe is not None:
        state = {k: v.detach() for k, v in model.state_dict().items()}
        computed = apply_head(recipe, state, hidden, pooled)
        for name, value in computed.items():
            reference = getattr(output, name)
            reference = reference.reshape(value.shape)
            if not torch.allclose(value, reference, atol=1e-6, rtol=0):
                raise RuntimeError(f"{case.name}: head recipe does not give the model's {name}")
            tensors[f"head.{name}"] = reference.contiguous()
        head_tensors = {prefix + suffix for prefix, _ in recipe["layers"] for suffix in (".weight", ".bias")}
        head = dict(recipe, random_by_nature=bool(head_tensors & set(random_tensors)))
    metadata = {
        "format_version": "1",
        "case": case.name,
        "family": case.family,
        "model": f"zoo/{case.name}: the conversion of the assembled source",
        "model_class": architecture,
        "attention": "lsg",
        "overrides": "{}",
        "head": "mlm" if "expected.logits" in tensors else "base",
        "shape": "padded-batch",
        "lengths": json.dumps(list(case.lengths)),
        "atol": str(common.ATOL),
        "compare": "positions where attention_mask is 1",
        "lsh_projections": "0",
        "seed": str(common.BASE_SEED + seed),
        "generator": "golden/tools/zoo.py",
    }
    return common.safetensors_bytes(tensors, metadata), {
        "outputs": sorted(tensors), "head": head, "lengths": list(case.lengths)}


# ---------------------------------------------------------------------------------------------
# Storing: every source file once (content-addressed against fixtures/ and earlier cases).

PACK = f"{ZOO_DIRECTORY}/sources.safetensors.zst"


class Store:
    """Every source file once: a file identical to one under fixtures/ is referenced there; every
    other one is a U8 tensor named by its sha256 in one zstd-compressed safetensors pack (one file
    instead of a hundred small ones, and one compression context for all of them)."""

    def __init__(self):
        self.fixtures: dict[str, str] = {}
        for path in common.relative_files(HERE / "fixtures"):
            self.fixtures.setdefault(common.sha256_file(path), path.relative_to(HERE).as_posix())
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        digest = common.sha256_bytes(data)
        if digest in self.fixtures:
            return self.fixtures[digest]
        self.blobs[digest] = data
        return PACK

    def get(self, root: Path, stored: str, sha256: str) -> bytes:
        return self.blobs[sha256] if stored == PACK else (root / stored).read_bytes()

    def write(self, root: Path) -> None:
        import torch

        tensors = {digest: torch.frombuffer(bytearray(data), dtype=torch.uint8)
                   for digest, data in sorted(self.blobs.items())}
        metadata = {"format_version": str(FORMAT_VERSION), "content": "zoo source files: tensor name = sha256 "
                    "of the file, U8 bytes = the file", "generator": "golden/tools/zoo.py"}
        common.write_zst(root / PACK, common.safetensors_bytes(tensors, metadata))


def compact_json(value) -> str:
    """JSON with keys sorted and indent 2, except that an array or object holding only scalars (or
    arrays of scalars) stays on one line: one line per tensor, file or row list."""
    def flat(item) -> bool:
        if isinstance(item, list):
            return all(not isinstance(v, (list, dict)) for v in item)
        if isinstance(item, dict):
            return all(not isinstance(v, dict) and (not isinstance(v, list) or flat(v)) for v in item.values())
        return True

    def render(item, depth: int) -> str:
        one_line = flat(item) and (isinstance(item, list) or len(json.dumps(item)) <= 200)
        if not isinstance(item, (list, dict)) or one_line:
            return json.dumps(item, sort_keys=True, ensure_ascii=False)
        pad, inner = "  " * depth, "  " * (depth + 1)
        if isinstance(item, list):
            if not item:
                return "[]"
            return "[\n" + ",\n".join(inner + render(v, depth + 1) for v in item) + "\n" + pad + "]"
        if not item:
            return "{}"
        return "{\n" + ",\n".join(f"{inner}{json.dumps(k, ensure_ascii=False)}: {render(item[k], depth + 1)}"
                                    for k in sorted(item)) + "\n" + pad + "}"

    text = render(value, 0) + "\n"
    if json.loads(text) != value:
        raise RuntimeError("compact JSON does not read back")
    return text


def generate(root: Path, log) -> list[dict]:
    from tools import conversions

    zoo = root / ZOO_DIRECTORY
    common.remove_tree(zoo)
    zoo.mkdir(parents=True)
    store = Store()
    records = []
    stored_sources: dict[tuple[str, str], str] = {}
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="lsg-zoo-") as scratch:
        work = Path(scratch)
        for index, case in enumerate(CASES):
            seed_offset = SEED_OFFSET + 10 * index
            source = work / case.name
            source.mkdir()
            case.write(source)
            files = []
            for path in sorted(source.iterdir()):
                data = path.read_bytes()
                entry = {"name": path.name, "size": len(data), "sha256": common.sha256_bytes(data)}
                if path.name in case.derived:
                    other, other_name, transform = case.derived[path.name]
                    entry["derived"] = {"from_case": other, "from_file": other_name, "transform": transform}
                    original = store.get(root, *stored_sources[(other, other_name)])
                    if {"strip_safetensors_metadata": strip_safetensors_metadata}[transform](original) != data:
                        raise RuntimeError(f"{case.name}: {path.name} is not the declared transformation")
                else:
                    entry["stored"] = store.put(data)
                    stored_sources[(case.name, path.name)] = (entry["stored"], entry["sha256"])
                files.append(entry)

            out = work / f"{case.name}.out"
            again = work / f"{case.name}.reseeded"
            failure = None
            try:
                special, used, tokenizer = reference_conversion(case, work, out, seed_offset)
                reference_conversion(case, work, again, seed_offset + 500)
            except Exception as error:  # noqa: BLE001  (the reference's own failure is the record)
                failure = one_line(error)
            if (failure is not None) != case.expect_reference_failure:
                raise RuntimeError(f"{case.name}: reference failure {failure!r}, expected "
                                   f"{'one' if case.expect_reference_failure else 'none'}")
            description = {
                "format_version": FORMAT_VERSION,
                "case": case.name,
                "family": case.family,
                "source": {
                    "layout": case.layout,
                    "model": {"name": case.model, "class": MODELS[case.model].cls,
                              "positions": MODELS[case.model].positions,
                              "seed": common.BASE_SEED + SEED_OFFSET + 100 * MODELS[case.model].seed_offset},
                    "directory": case.name,
                    "files": files,
                },
                "reference_call": {
                    "class": "lsg_converter.LSGConverter",
                    "init": {"max_sequence_length": case.max_length, "random_global_init": False,
                             "global_positional_stride": case.global_stride, "keep_first_global_token": False,
                             "resize_lsg": False},
                    "convert_from_pretrained": {"model_name_or_path": case.name, "architecture": case.architecture,
                                                **case.model_kwargs},
                    "save_pretrained": {"safe_serialization": True, "max_shard_size": None},
                    "torch_manual_seed": common.BASE_SEED + seed_offset,
                    "working_directory": "the directory holding the assembled source as ./<source.directory>",
                },
                "cli_args": conversions.cli_args(conversion_case(case)),
                "reference_fails": failure,
                "expected_from": case.expected_from,
            }
            if failure is None:
                random_report = conversions.random_tensor_report(out, again)
                if [p.name for p in conversions.weight_files(out)] != ["model.safetensors"]:
                    raise RuntimeError(f"{case.name}: the reference did not write one model.safetensors")
                listing = conversions.tensor_listing(out)
                for entry in listing:
                    entry.pop("data_offsets")
                    entry.pop("file")  # always model.safetensors: the reference saves one file here
                    if entry["name"] in random_report:
                        entry["sha256"] = None
                        entry["random_by_nature"] = True
                random_report = compact_random_report(out, random_report)
                written = {}
                for path in sorted(out.iterdir()):
                    holds_random = path.suffix == ".safetensors" and any(e.get("random_by_nature") for e in listing)
                    written[path.name] = {"size": path.stat().st_size,
                                          "sha256": None if holds_random else common.sha256_file(path)}
                    if path.suffix == ".py":
                        written[path.name]["note"] = "the reference's modeling code (hash only)"
                tokenizer_config = json.loads((out / "tokenizer_config.json").read_text())
                golden, encoder = record_encoder(case, out, tokenizer, random_report, seed_offset + 1)
                encoder_path = f"{ZOO_DIRECTORY}/{case.name}/encoder.safetensors.zst"
                common.write_zst(root / encoder_path, golden)
                description["reference_output"] = {
                    "files": written,
                    "tensors": listing,
                    "random_tensors": random_report,
                    "config": json.loads((out / "config.json").read_text()),
                    "tokenizer_model_max_length": tokenizer_config.get("model_max_length"),
                    "special_ids": special,
                    "global_ids": used,
                }
                description["encoder"] = dict(encoder, golden=encoder_path)
                results[case.name] = description
            else:
                description["encoder"] = {"golden": results[case.expected_from]["encoder"]["golden"]}
            (zoo / case.name).mkdir(parents=True, exist_ok=True)
            (zoo / case.name / "case.json").write_text(compact_json(description), encoding="utf-8")
            records.append({"case": case.name, "family": case.family, "layout": case.layout,
                            "reference_fails": failure, "expected_from": case.expected_from,
                            "random_by_nature": sorted(description.get("reference_output", {}).get(
                                "random_tensors", {})),
                            "path": f"{ZOO_DIRECTORY}/{case.name}/case.json"})
            log(f"zoo {case.name}: {len(files)} source files" + (f"; reference fails: {failure}" if failure else ""))
    store.write(root)
    return records


def main() -> int:
    from tools import manifest

    return common.tool_main(__doc__, ZOO_DIRECTORY, HERE, generate, manifest.rewrite_zoo)


if __name__ == "__main__":
    sys.exit(main())
