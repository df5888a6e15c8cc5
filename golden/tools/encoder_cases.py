"""Reference encoder outputs (golden/encoder/<case>.safetensors.zst).

Each case loads a model stored under golden/ with the reference classes, applies LSG overrides the
way `from_pretrained(..., **overrides)` does, runs one forward pass in eval mode and records the
inputs, the outputs and, for `lsh`, every random projection the reference drew.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import common

ENCODER_DIR = Path("encoder")
FORMAT_VERSION = "1"


@dataclass(frozen=True)
class Family:
    name: str
    lsg_model: str  # LSG model directory relative to golden/
    source_model: str  # the original short-context fixture
    module: str  # reference modeling module
    lsg_prefix: str  # class name prefix of the reference classes, e.g. "LSGCamembert"
    plain_prefix: str  # transformers classes for the original model, e.g. "Camembert"
    uses_token_types: bool
    base_attribute: str = ""  # the encoder attribute of the task-head classes ("bert", "roberta", ...)
    pooler_option: bool = True  # whether the base class takes add_pooling_layer
    source_has_pooler: bool = False  # whether the fixture stores a pooler (its base cases keep it)


FAMILIES = {
    "camembert": Family("camembert", "models/lsg-camembert-tiny-1024", "fixtures/camembert-tiny",
                        "lsg_converter.camembert.modeling_lsg_camembert", "LSGCamembert", "Camembert", False),
    "roberta": Family("roberta", "models/lsg-roberta-tiny-512", "fixtures/roberta-tiny",
                      "lsg_converter.roberta.modeling_lsg_roberta", "LSGRoberta", "Roberta", False),
    "xlm-roberta": Family("xlm-roberta", "models/lsg-xlm-roberta-tiny-512", "fixtures/xlm-roberta-tiny",
                          "lsg_converter.xlm_roberta.modeling_lsg_xlm_roberta", "LSGXLMRoberta", "XLMRoberta",
                          False),
    "bert": Family("bert", "models/lsg-bert-tiny-640", "fixtures/bert-tiny",
                   "lsg_converter.bert.modeling_lsg_bert", "LSGBert", "Bert", True, source_has_pooler=True),
    "distilbert": Family("distilbert", "models/lsg-distilbert-tiny-512", "fixtures/distilbert-tiny",
                         "lsg_converter.distilbert.modeling_lsg_distilbert", "LSGDistilBert", "DistilBert", False,
                         base_attribute="distilbert", pooler_option=False),
    "electra": Family("electra", "models/lsg-electra-tiny-512", "fixtures/electra-tiny",
                      "lsg_converter.electra.modeling_lsg_electra", "LSGElectra", "Electra", True,
                      base_attribute="electra", pooler_option=False),
    "albert": Family("albert", "models/lsg-albert-tiny-512", "fixtures/albert-tiny",
                     "lsg_converter.albert.modeling_lsg_albert", "LSGAlbert", "Albert", True,
                     base_attribute="albert", source_has_pooler=True),
}


@dataclass(frozen=True)
class Shape:
    """An input shape: `kind` names the situation, `lengths` the real length of each row."""
    kind: str  # short | adaptive | max | padded-batch | exact-blocks
    lengths: tuple[int, ...]
    label: str = ""  # case name suffix when it differs from the kind

    @property
    def suffix(self) -> str:
        return self.label or self.kind


def short(block: int) -> Shape:  # at most two blocks: full attention
    return Shape("short", (2 * block - 5,))


def adaptive(block: int) -> Shape:  # longer than two blocks and not a block multiple: adaptive padding
    return Shape("adaptive", (5 * block + 7,))


def padded(block: int) -> Shape:  # right-padded batch of unequal lengths; the shortest ends in all-padding chunks
    return Shape("padded-batch", (6 * block + 3, 4 * block - 6, 2 * block + 5))


def just_over(block: int) -> Shape:  # the shortest sparse case: three blocks after adaptive padding
    return Shape("adaptive", (2 * block + 3,), label="adaptive-3-blocks")


def maximum(length: int) -> Shape:
    return Shape("max", (length,))


@dataclass(frozen=True)
class EncoderCase:
    name: str
    family: str
    shape: Shape
    head: str  # mlm | base
    overrides: dict = field(default_factory=dict)  # None for the original (full attention) model
    original: bool = False
    quirk: str = ""


def lsg(block=16, sparse=16, factor=2, kind="norm", globals_=1, **extra) -> dict:
    overrides = {"block_size": block, "sparse_block_size": sparse, "sparsity_factor": factor,
                 "sparsity_type": kind, "num_global_tokens": globals_}
    overrides.update(extra)
    return overrides


BOS_POOLING_QUIRK = ("bos_pooling with right padding: the float32 mean of several float32-min mask values "
                     "overflows to -inf, is then reset to 0, so all-padding chunks stay visible in the sparse context")


def camembert_cases() -> list[EncoderCase]:
    f = "camembert"
    cases = []

    def add(name, shape, head, overrides, quirk=""):
        cases.append(EncoderCase(f"{f}-{name}-{shape.suffix}", f, shape, head, overrides, quirk=quirk))

    base16 = lsg()
    add("norm-b16-s16-f2-g1", short(16), "mlm", base16)
    add("norm-b16-s16-f2-g1", adaptive(16), "mlm", base16)
    add("norm-b16-s16-f2-g1", maximum(1024), "base", base16)
    add("norm-b16-s16-f2-g1", padded(16), "base", base16)
    add("pooling-b16-s16-f4-g1", adaptive(16), "base", lsg(factor=4, kind="pooling"))
    add("pooling-b16-s16-f4-g1", padded(16), "base", lsg(factor=4, kind="pooling"))
    lsh = lsg(factor=4, kind="lsh", lsh_num_pre_rounds=1)
    add("lsh-b16-s16-f4-g1", adaptive(16), "mlm", lsh)
    add("lsh-b16-s16-f4-g1", padded(16), "base", lsh)
    add("lsh-b16-s16-f4-g1", maximum(1024), "base", lsh)
    add("lsh-b32-s16-f4-g3-pre2", adaptive(32), "base", lsg(32, 16, 4, "lsh", 3, lsh_num_pre_rounds=2))
    add("lsh-b16-s4-f4-g1", adaptive(16), "base", lsg(16, 4, 4, "lsh"))  # factor == sparse block: bos_pooling path
    add("stride-b16-s16-f4-g1", adaptive(16), "base", lsg(factor=4, kind="stride"))
    add("stride-b16-s16-f4-g1", padded(16), "base", lsg(factor=4, kind="stride"))
    add("block-stride-b16-s16-f4-g1", adaptive(16), "base", lsg(factor=4, kind="block_stride"))
    add("block-stride-b16-s16-f4-g1", padded(16), "base", lsg(factor=4, kind="block_stride"))
    add("bos-pooling-b16-s16-f4-g1", adaptive(16), "base", lsg(factor=4, kind="bos_pooling"))
    add("bos-pooling-b16-s16-f4-g1", padded(16), "base", lsg(factor=4, kind="bos_pooling"), quirk=BOS_POOLING_QUIRK)
    add("none-b16-s16-f2-g1", adaptive(16), "base", lsg(kind="none"))
    add("none-b16-s16-f2-g1", padded(16), "base", lsg(kind="none"))
    add("norm-b16-s0-f2-g1", adaptive(16), "base", lsg(sparse=0))
    add("norm-b16-s0-f2-g1", padded(16), "base", lsg(sparse=0))
    add("norm-b32-s32-f8-g3", adaptive(32), "base", lsg(32, 32, 8, "norm", 3))
    add("norm-b32-s32-f8-g3", padded(32), "base", lsg(32, 32, 8, "norm", 3))
    add("norm-b64-s64-f2-g16", adaptive(64), "base", lsg(64, 64, 2, "norm", 16))
    add("norm-b64-s64-f2-g16", maximum(1024), "base", lsg(64, 64, 2, "norm", 16))
    add("pooling-b32-s16-f4-g16", adaptive(32), "base", lsg(32, 16, 4, "pooling", 16))
    add("norm-b16-s32-f2-g1", adaptive(16), "base", lsg(16, 32, 2, "norm", 1))
    # block_size == sparsity_factor: one sparse token per block, the reference's odd-step branch.
    # (Other odd steps, e.g. 24/8 = 3, make the reference itself fail, so they have no golden.)
    add("norm-b16-s16-f16-g1", adaptive(16), "base", lsg(16, 16, 16, "norm", 1))
    add("block-stride-b16-s16-f16-g1", padded(16), "base", lsg(16, 16, 16, "block_stride", 1))
    add("norm-b16-s16-f1-g1", adaptive(16), "base", lsg(16, 16, 1, "norm", 1))  # factor 1: every key is sparse
    add("mask-first-norm-b16-s16-f2-g1", adaptive(16), "mlm", lsg(mask_first_token=True, pool_with_global=True))
    add("mask-first-norm-b16-s16-f2-g1", padded(16), "base", lsg(mask_first_token=True, pool_with_global=True))
    add("no-pool-norm-b16-s16-f4-g3", adaptive(16), "base", lsg(16, 16, 4, "norm", 3, pool_with_global=False))
    add("no-pool-norm-b16-s16-f4-g3", short(16), "base", lsg(16, 16, 4, "norm", 3, pool_with_global=False))
    add("no-adaptive-norm-b16-s16-f2-g1", Shape("exact-blocks", (96,)), "base", lsg(adaptive=False))
    add("defaults-b128-s128-f2-g1", Shape("adaptive", (300,)), "base", {})
    add("defaults-b128-s128-f2-g1", maximum(1024), "base", {})
    small_batch = Shape("padded-batch", (40, 26, 9))
    for shape, head in ((Shape("short", (40,)), "mlm"), (small_batch, "mlm"), (maximum(512), "base")):
        cases.append(EncoderCase(f"{f}-original-{shape.suffix}", f, shape, head, None, original=True))
    return cases


def other_family_cases() -> list[EncoderCase]:
    cases = []

    def add(family, name, shape, head, overrides, quirk=""):
        cases.append(EncoderCase(f"{family}-{name}-{shape.suffix}", family, shape, head, overrides, quirk=quirk))

    add("roberta", "norm-b16-s16-f2-g1", just_over(16), "mlm", lsg())
    add("roberta", "lsh-b16-s16-f4-g1", padded(16), "base", lsg(factor=4, kind="lsh"))
    add("roberta", "bos-pooling-b32-s32-f4-g3", adaptive(32), "base", lsg(32, 32, 4, "bos_pooling", 3))
    add("roberta", "pooling-b32-s32-f2-g1", maximum(512), "base", lsg(32, 32, 2, "pooling", 1))
    add("roberta", "mask-first-stride-b16-s16-f4-g1", adaptive(16), "base",
        lsg(factor=4, kind="stride", mask_first_token=True))
    add("xlm-roberta", "stride-b16-s16-f4-g1", just_over(16), "mlm", lsg(factor=4, kind="stride"))
    add("xlm-roberta", "block-stride-b16-s16-f4-g1", padded(16), "base", lsg(factor=4, kind="block_stride"))
    add("xlm-roberta", "norm-b32-s16-f8-g3", maximum(512), "base", lsg(32, 16, 8, "norm", 3))
    add("xlm-roberta", "none-b16-s16-f2-g16", short(16), "base", lsg(kind="none", globals_=16))
    add("bert", "norm-b16-s16-f2-g1", just_over(16), "mlm", lsg())
    add("bert", "norm-b16-s16-f2-g1", adaptive(16), "base", lsg())
    add("bert", "pooling-b16-s16-f4-g1", padded(16), "base", lsg(factor=4, kind="pooling"))
    add("bert", "lsh-mask-first-b16-s16-f4-g3", adaptive(16), "base",
        lsg(factor=4, kind="lsh", globals_=3, mask_first_token=True))
    add("bert", "norm-b64-s32-f4-g1", maximum(640), "base", lsg(64, 32, 4, "norm", 1))
    add("bert", "bos-pooling-b16-s16-f4-g1", padded(16), "base", lsg(factor=4, kind="bos_pooling"),
        quirk=BOS_POOLING_QUIRK)
    for family, shape, head in (("roberta", Shape("short", (24,)), "mlm"), ("xlm-roberta", padded(16), "base"),
                                ("bert", Shape("short", (24,)), "mlm"), ("bert", padded(16), "base")):
        cases.append(EncoderCase(f"{family}-original-{shape.suffix}", family, shape, head, None, original=True))
    return cases


def new_family_cases() -> list[EncoderCase]:
    """DistilBERT and ELECTRA (added after the others, so the older cases keep their seeds). Fewer and
    shorter inputs than the older families, to keep golden/ small: every sparsity type once, the mlm
    head on a sparse input and on the original model."""
    cases = []
    small_padded = Shape("padded-batch", (3 * 16 + 3, 2 * 16 + 5, 9))  # the last row ends in padding chunks

    def add(family, name, shape, head, overrides, quirk=""):
        cases.append(EncoderCase(f"{family}-{name}-{shape.suffix}", family, shape, head, overrides, quirk=quirk))

    for family in ("distilbert", "electra"):
        add(family, "norm-b16-s16-f2-g1", just_over(16), "mlm", lsg())
        add(family, "norm-b16-s16-f2-g1", small_padded, "base", lsg())
        add(family, "pooling-b16-s16-f4-g3", adaptive(16), "base", lsg(factor=4, kind="pooling", globals_=3))
        add(family, "lsh-b16-s16-f4-g1", small_padded, "base", lsg(factor=4, kind="lsh"))
        add(family, "stride-b16-s16-f4-g1", adaptive(16), "base", lsg(factor=4, kind="stride"))
        add(family, "block-stride-b16-s16-f4-g1", adaptive(16), "base", lsg(factor=4, kind="block_stride"))
        add(family, "bos-pooling-b16-s16-f4-g1", small_padded, "base", lsg(factor=4, kind="bos_pooling"),
            quirk=BOS_POOLING_QUIRK)
        add(family, "none-b16-s16-f2-g1", adaptive(16), "base", lsg(kind="none"))
        add(family, "mask-first-norm-b16-s16-f4-g3", adaptive(16), "base",
            lsg(16, 16, 4, "norm", 3, mask_first_token=True))
        add(family, "no-pool-norm-b16-s0-f2-g1", small_padded, "base", lsg(sparse=0, pool_with_global=False))
        # One full-attention case: the original model (its MLM head on the short-context checkpoint).
        cases.append(EncoderCase(f"{family}-original-short", family, Shape("short", (24,)), "mlm", None, original=True))
    return cases


def albert_cases() -> list[EncoderCase]:
    """ALBERT (added after the others, so the older cases keep their seeds): every sparsity type, padded
    batches, the model's maximum length, the MLM head on a sparse input and on the original model."""
    cases = []
    small_padded = Shape("padded-batch", (3 * 16 + 3, 2 * 16 + 5, 9))

    def add(name, shape, head, overrides, quirk=""):
        cases.append(EncoderCase(f"albert-{name}-{shape.suffix}", "albert", shape, head, overrides, quirk=quirk))

    add("norm-b16-s16-f2-g1", just_over(16), "mlm", lsg())
    add("norm-b16-s16-f2-g1", small_padded, "base", lsg())
    add("norm-b32-s16-f4-g3", maximum(512), "base", lsg(32, 16, 4, "norm", 3))
    add("pooling-b16-s16-f4-g3", adaptive(16), "base", lsg(factor=4, kind="pooling", globals_=3))
    add("lsh-b16-s16-f4-g1", small_padded, "base", lsg(factor=4, kind="lsh"))
    add("stride-b16-s16-f4-g1", adaptive(16), "mlm", lsg(factor=4, kind="stride"))
    add("block-stride-b16-s16-f4-g1", small_padded, "base", lsg(factor=4, kind="block_stride"))
    add("bos-pooling-b16-s16-f4-g1", small_padded, "base", lsg(factor=4, kind="bos_pooling"), quirk=BOS_POOLING_QUIRK)
    add("none-b16-s16-f2-g1", adaptive(16), "base", lsg(kind="none"))
    add("mask-first-norm-b16-s16-f4-g3", adaptive(16), "base", lsg(16, 16, 4, "norm", 3, mask_first_token=True))
    add("no-pool-norm-b16-s0-f2-g1", small_padded, "base", lsg(sparse=0, pool_with_global=False))
    add("defaults-b128-s128-f2-g1", maximum(512), "base", {})
    cases.append(EncoderCase("albert-original-short", "albert", Shape("short", (24,)), "mlm", None, original=True))
    return cases


def all_cases() -> list[EncoderCase]:
    cases = camembert_cases() + other_family_cases() + new_family_cases() + albert_cases()
    names = [case.name for case in cases]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RuntimeError(f"duplicate encoder case names: {duplicates}")
    return cases


def model_class(case: EncoderCase):
    import importlib

    family = FAMILIES[case.family]
    suffix = "ForMaskedLM" if case.head == "mlm" else "Model"
    if case.original:
        module = importlib.import_module("transformers")
        return getattr(module, family.plain_prefix + suffix)
    module = importlib.import_module(family.module)
    return getattr(module, family.lsg_prefix + suffix)


def make_inputs(case: EncoderCase, tokenizer, seed: int) -> dict:
    """Token ids drawn from the ordinary vocabulary, framed like the tokenizer frames a sentence."""
    generator = torch.Generator().manual_seed(seed)
    special = set(tokenizer.all_special_ids)
    ordinary = torch.tensor([i for i in range(len(tokenizer)) if i not in special])
    first = tokenizer.cls_token_id
    last = tokenizer.sep_token_id
    width = max(case.shape.lengths)
    batch = len(case.shape.lengths)
    input_ids = torch.full((batch, width), tokenizer.pad_token_id, dtype=torch.int64)
    attention_mask = torch.zeros((batch, width), dtype=torch.int64)
    token_type_ids = torch.zeros((batch, width), dtype=torch.int64)
    mask_id = tokenizer.mask_token_id
    for row, length in enumerate(case.shape.lengths):
        body = ordinary[torch.randint(len(ordinary), (length - 2,), generator=generator)]
        # A few <mask> tokens, as in a fill-mask query.
        positions = torch.randint(length - 2, (max(1, length // 40),), generator=generator)
        body[positions] = mask_id
        input_ids[row, :length] = torch.cat([torch.tensor([first]), body, torch.tensor([last])])
        attention_mask[row, :length] = 1
        token_type_ids[row, length // 2:length] = 1  # second segment
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    if FAMILIES[case.family].uses_token_types:
        inputs["token_type_ids"] = token_type_ids
    return inputs


class RandnRecorder:
    """Wraps torch.randn during a forward pass and keeps every tensor it returned, in call order."""

    def __init__(self):
        self.recorded: list[torch.Tensor] = []
        self._original = None

    def __enter__(self):
        self._original = torch.randn

        def recording_randn(*args, **kwargs):
            value = self._original(*args, **kwargs)
            self.recorded.append(value.detach().clone())
            return value

        torch.randn = recording_randn
        return self

    def __exit__(self, *exc):
        torch.randn = self._original
        return False


def run_case(case: EncoderCase, seed: int, model_dir: str | None = None) -> tuple[dict, dict]:
    from transformers import AutoTokenizer

    family = FAMILIES[case.family]
    model_dir = model_dir or (family.source_model if case.original else family.lsg_model)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    cls = model_class(case)
    kwargs = dict(case.overrides or {})
    if case.head == "base" and not family.source_has_pooler and family.pooler_option:
        kwargs["add_pooling_layer"] = False  # RoBERTa-style MLM checkpoints carry no pooler
    common.seed_all(seed)
    model = cls.from_pretrained(model_dir, **kwargs).eval()
    inputs = make_inputs(case, tokenizer, seed)

    captured = {}
    hook = None
    if case.head == "mlm":
        base = getattr(model, family.base_attribute) if family.base_attribute else (
            getattr(model, "bert", None) or getattr(model, "roberta"))
        hook = base.register_forward_hook(lambda module, args, output: captured.setdefault("base", output))
    common.seed_all(seed + 1)
    with torch.no_grad(), RandnRecorder() as recorder:
        output = model(**inputs, return_dict=True)
    if hook is not None:
        hook.remove()

    tensors = {name: value.contiguous() for name, value in inputs.items()}
    if case.head == "mlm":
        tensors["expected.last_hidden_state"] = captured["base"].last_hidden_state.contiguous()
        tensors["expected.logits"] = output.logits.contiguous()
    else:
        tensors["expected.last_hidden_state"] = output.last_hidden_state.contiguous()
        if getattr(output, "pooler_output", None) is not None:
            tensors["expected.pooler_output"] = output.pooler_output.contiguous()
    uses_lsh = (case.overrides or {}).get("sparsity_type") == "lsh"
    if recorder.recorded and not uses_lsh:
        raise RuntimeError(f"{case.name}: torch.randn called outside lsh")
    for index, projection in enumerate(recorder.recorded):
        tensors[f"lsh.projection.{index}"] = projection.float().contiguous()
    width = tensors["input_ids"].shape[1]
    if tensors["expected.last_hidden_state"].shape[1] != width:
        raise RuntimeError(f"{case.name}: output length differs from input length")

    metadata = {
        "format_version": FORMAT_VERSION,
        "case": case.name,
        "family": case.family,
        "model": model_dir,
        "model_class": cls.__name__,
        "attention": "full" if case.original else "lsg",
        "overrides": json.dumps(case.overrides or {}, sort_keys=True),
        "head": case.head,
        "shape": case.shape.kind,
        "lengths": json.dumps(list(case.shape.lengths)),
        "atol": str(common.ATOL),
        "compare": "positions where attention_mask is 1",
        "lsh_projections": str(len(recorder.recorded)),
        "seed": str(common.BASE_SEED + seed),
        "generator": "golden/generate.py",
    }
    if case.quirk:
        metadata["quirk"] = case.quirk
    return tensors, metadata


# The bundled CamemBERT converted with all defaults (4096 positions). Its position table is the
# 1024 model's tiled further and everything else is identical, so on inputs of at most 1024 tokens
# it must give the same outputs: checked bit for bit here, and recorded in each case's metadata
# (`also_matches_conversion`) so the conversion's validate stage can use these goldens.
EQUIVALENT_CONVERSION = "camembert-tiny-default"
WORK_DIR = Path(".work")


def materialize_conversion(case: str) -> Path:
    """Decompress a stored reference conversion into a scratch model directory."""
    target = WORK_DIR / f"conversion-{case}"
    common.remove_tree(target)
    target.mkdir(parents=True)
    for path in sorted((Path("conversions") / case / "reference").glob("*.zst")):
        (target / path.name[: -len(".zst")]).write_bytes(common.zstd_decompress(path.read_bytes()))
    return target


def same_outputs(first: dict, second: dict) -> bool:
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def generate(log) -> list[dict]:
    records = []
    equivalent_dir = materialize_conversion(EQUIVALENT_CONVERSION)
    for index, case in enumerate(all_cases()):
        tensors, metadata = run_case(case, 5000 + 10 * index)
        if case.family == "camembert" and not case.original:
            again, _ = run_case(case, 5000 + 10 * index, model_dir=str(equivalent_dir))
            if not same_outputs(tensors, again):
                raise RuntimeError(f"{case.name}: the {EQUIVALENT_CONVERSION} conversion gives different outputs")
            metadata["also_matches_conversion"] = EQUIVALENT_CONVERSION
        path = ENCODER_DIR / f"{case.name}.safetensors.zst"
        common.write_zst(path, common.safetensors_bytes(tensors, metadata))
        records.append({"case": case.name, "family": case.family, "head": case.head, "shape": case.shape.kind,
                        "attention": metadata["attention"], "sparsity_type": (case.overrides or {}).get(
                            "sparsity_type", "norm" if not case.original else None),
                        "lsh_projections": int(metadata["lsh_projections"]),
                        "quirk": bool(case.quirk), "path": str(path)})
        log(f"encoder {case.name}: {path.stat().st_size} bytes, lsh {metadata['lsh_projections']}")
    common.remove_tree(WORK_DIR)
    return records
