"""Task heads of the encoder-decoder families (golden/seq2seq/heads/, written through tools/seq2seq.py).

For BART and mBART, and each of sequence classification (3 labels) and question answering:
1. the reference's LSG class of the head (`LSGBartForSequenceClassification`, ...) is loaded from
   the family's converted model (models/lsg-{bart,mbart}-tiny-512, the reference's conversion of
   fixtures/{bart,mbart}-tiny), its head drawn at random (seeded; biases too, so that they count);
2. the head's tensors are kept as seq2seq/models/<case>/ (config.json of the head class, the shard
   index and the head shard, compressed); the model's other tensors are the converted model's
   model.safetensors, checked equal, named by the golden's `base_weights` metadata and loaded as its
   `base_shard`;
3. one forward pass on a right-padded batch of sentence pairs (`<s> A </s></s> B </s>`, so each
   row holds three eos tokens and ends with one), the decoder fed shift_tokens_right(input_ids) as
   the model makes it; the inputs and the head's outputs go into seq2seq/heads/<case>.safetensors.zst.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import torch

from tools import common
from tools.encoder_cases import lsg

HEADS_DIRECTORY = "heads"
MODELS_DIRECTORY = "models"
BASE_SHARD = "model-00001-of-00002.safetensors"
HEAD_SHARD = "model-00002-of-00002.safetensors"
LENGTHS = (3 * 16 + 3, 2 * 16 + 5, 9)
HEAD_STD = 0.2
# (family, transformers class suffix, head name, module prefix, overrides)
CASES = [
    ("bart", "SequenceClassification", "sequence-classification", "classification_head.", lsg()),
    ("bart", "QuestionAnswering", "question-answering", "qa_outputs.", lsg(factor=4, kind="pooling", globals_=2)),
    ("mbart", "SequenceClassification", "sequence-classification", "classification_head.",
     lsg(factor=4, kind="stride", globals_=2)),
    ("mbart", "QuestionAnswering", "question-answering", "qa_outputs.", lsg(factor=4, kind="bos_pooling")),
]
LABELS = {"SequenceClassification": ["NEGATIVE", "NEUTRAL", "POSITIVE"], "QuestionAnswering": ["start", "end"]}


def label_kwargs(head: str) -> dict:
    labels = LABELS[head]
    return {"num_labels": len(labels), "id2label": dict(enumerate(labels)),
            "label2id": {label: index for index, label in enumerate(labels)}}


def make_inputs(tokenizer, config, seed: int) -> dict:
    """Right-padded sentence pairs `bos A eos eos B eos` of ordinary ids; A takes a different share of each row."""
    generator = torch.Generator().manual_seed(common.BASE_SEED + seed)
    special = set(tokenizer.all_special_ids)
    ordinary = torch.tensor([i for i in range(config.vocab_size) if i not in special])
    width = max(LENGTHS)
    input_ids = torch.full((len(LENGTHS), width), config.pad_token_id, dtype=torch.int64)
    attention_mask = torch.zeros((len(LENGTHS), width), dtype=torch.int64)
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    for row, length in enumerate(LENGTHS):
        first = (length - 4) * (row + 1) // (len(LENGTHS) + 1)
        body = ordinary[torch.randint(len(ordinary), (length - 4,), generator=generator)]
        input_ids[row, :length] = torch.cat([torch.tensor([bos]), body[:first], torch.tensor([eos, eos]), body[first:],
                                             torch.tensor([eos])])
        attention_mask[row, :length] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def keep_head_model(model, base: dict, prefix: str, target: Path) -> None:
    """config.json, the index and the head shard; the rest of the state must be the base model's tensors."""
    from safetensors.torch import save

    state = model.state_dict()
    head = {name: value.contiguous() for name, value in state.items() if name.startswith(prefix)}
    for name, value in state.items():
        if name not in head and name in base and not torch.equal(value, base[name]):
            raise RuntimeError(f"{target.name}: {name} differs from the converted model's")
    common.remove_tree(target)
    target.mkdir(parents=True)
    (target / (HEAD_SHARD + ".zst")).write_bytes(common.zstd_compress(save(head, metadata={"format": "pt"})))
    weight_map = {**{name: BASE_SHARD for name in base}, **{name: HEAD_SHARD for name in head}}
    total = sum(value.numel() * value.element_size() for value in [*base.values(), *head.values()])
    common.write_json(target / "model.safetensors.index.json",
                      {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))})
    # The converted model's config.json, as the head class saves it: its class and labels.
    saved = json.loads((Path(model.name_or_path) / "config.json").read_text())
    saved.pop("_name_or_path", None)
    saved["architectures"] = [type(model).__name__]
    saved["id2label"] = {str(index): label for index, label in model.config.id2label.items()}
    saved["label2id"] = dict(model.config.label2id)
    common.write_json(target / "config.json", saved)


def run_case(index: int, root: Path, families: dict) -> tuple[dict, dict, str]:
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    family_name, head, head_name, prefix, overrides = CASES[index]
    family = families[family_name]
    seed = 9900 + 10 * index
    cls = getattr(importlib.import_module(family.module), f"{family.prefix}For{head}")
    base_path = f"{family.model}/model.safetensors"
    base = load_file(base_path)  # relative to golden/, the tool's working directory
    common.seed_all(seed)
    model = cls.from_pretrained(family.model, **label_kwargs(head), **overrides).eval()
    with torch.no_grad():
        for name, value in model.named_parameters():
            if name.startswith(prefix) and name.endswith(".bias"):
                value.normal_(0, HEAD_STD)
    case = f"{family_name}-{head_name}"
    model_path = f"seq2seq/{MODELS_DIRECTORY}/{case}"
    keep_head_model(model, base, prefix, root / model_path)
    tokenizer = AutoTokenizer.from_pretrained(family.model)
    inputs = make_inputs(tokenizer, model.config, seed + 1)
    with torch.no_grad():
        output = model(**{name: value.clone() for name, value in inputs.items()}, return_dict=True)
    tensors = dict(inputs)
    if head == "QuestionAnswering":
        tensors["expected.start_logits"] = output.start_logits.contiguous()
        tensors["expected.end_logits"] = output.end_logits.contiguous()
    else:
        tensors["expected.logits"] = output.logits.contiguous()
    metadata = {
        "format_version": "1",
        "case": case,
        "family": family_name,
        "head": head_name,
        "model": model_path,
        "base_weights": base_path,
        "base_shard": BASE_SHARD,
        "model_class": cls.__name__,
        "overrides": json.dumps(overrides, sort_keys=True),
        "lengths": json.dumps(list(LENGTHS)),
        "eos_token_id": str(model.config.eos_token_id),
        "atol": str(common.ATOL),
        "call": "model(input_ids, attention_mask): the decoder reads shift_tokens_right(input_ids)",
        "seed": str(common.BASE_SEED + seed),
        "generator": "golden/tools/seq2seq.py",
    }
    return tensors, metadata, case


def generate(root: Path, directory: Path, families: dict, log) -> list[dict]:
    """Writes seq2seq/heads/ and seq2seq/models/ under `root`; returns the manifest records."""
    (directory / HEADS_DIRECTORY).mkdir()
    records = []
    for index in range(len(CASES)):
        tensors, metadata, case = run_case(index, root, families)
        path = directory / HEADS_DIRECTORY / f"{case}.safetensors.zst"
        common.write_zst(path, common.safetensors_bytes(tensors, metadata))
        records.append({"case": case, "family": metadata["family"], "shape": "padded-batch",
                        "sparsity_type": json.loads(metadata["overrides"])["sparsity_type"], "lsh_projections": 0,
                        "path": f"seq2seq/{HEADS_DIRECTORY}/{path.name}"})
        log(f"seq2seq {case}: {path.stat().st_size} bytes")
    return records

