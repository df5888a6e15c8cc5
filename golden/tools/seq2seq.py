"""Reference encoder states and teacher-forced decoder logits of the encoder-decoder families
(golden/seq2seq/<case>.safetensors.zst).

Each case loads one of the four LSG models at 512 (models/lsg-{bart,mbart,barthez,pegasus}-tiny-512)
with `LSG*ForConditionalGeneration.from_pretrained(model, **overrides)`, runs
`model(input_ids, attention_mask, decoder_input_ids)` once in eval mode and records the inputs, the
encoder's last hidden state (`encoder_last_hidden_state`, global tokens in front when
pass_global_tokens_to_decoder), the decoder logits and, for `lsh`, every random projection drawn.
golden/seq2seq/generate/<family>.safetensors.zst holds one greedy `model.generate` per family: its
inputs and the token ids it returned (`sequences`), every generation setting given explicitly with
the value the model's generation_config.json (or config.json) gives it. golden/seq2seq/heads/ holds
the BART and mBART task heads (sequence classification, question answering) run by the reference on
the decoder, their head tensors in golden/seq2seq/models/ (tools/seq2seq_heads.py).

Usage: cd golden && python -m tools.seq2seq [--out DIR]
"""
from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from tools import common, seq2seq_heads  # noqa: E402
from tools.encoder_cases import RandnRecorder, lsg  # noqa: E402

SEQ2SEQ_DIRECTORY = "seq2seq"
FORMAT_VERSION = "1"
DECODER_LENGTH = 3  # decoder_start_token_id and two more tokens
GENERATE_DIRECTORY = "generate"
MAX_NEW_TOKENS = 8
GENERATE_LENGTHS = (3 * 16 + 3, 20)  # a sparse row and a right-padded one


@dataclass(frozen=True)
class Family:
    name: str
    model: str  # relative to golden/
    module: str
    prefix: str


FAMILIES = {
    "bart": Family("bart", "models/lsg-bart-tiny-512", "lsg_converter.bart.modeling_lsg_bart", "LSGBart"),
    "mbart": Family("mbart", "models/lsg-mbart-tiny-512", "lsg_converter.mbart.modeling_lsg_mbart", "LSGMBart"),
    # BARThez is an mBART (model_type "mbart"); its config's auto_map names the mBART classes.
    "barthez": Family("barthez", "models/lsg-barthez-tiny-512", "lsg_converter.mbart.modeling_lsg_mbart", "LSGMBart"),
    "pegasus": Family("pegasus", "models/lsg-pegasus-tiny-512", "lsg_converter.pegasus.modeling_lsg_pegasus",
                      "LSGPegasus"),
}


@dataclass(frozen=True)
class Seq2SeqCase:
    name: str
    family: str
    kind: str  # single | padded-batch | max
    lengths: tuple[int, ...]
    overrides: dict = field(default_factory=dict)


SINGLE = (3 * 16 + 7,)  # four blocks of 16 after adaptive padding
PADDED = (3 * 16 + 3, 2 * 16 + 5, 9)  # right padding; the last row ends in all-padding chunks


def all_cases() -> list[Seq2SeqCase]:
    cases = []
    for family in FAMILIES:
        def add(name, kind, lengths, overrides):
            cases.append(Seq2SeqCase(f"{family}-{name}-{kind}", family, kind, lengths, overrides))

        add("norm-b16-s16-f2-g1", "padded-batch", PADDED, lsg())
        add("pooling-b16-s16-f4-g3", "single", SINGLE, lsg(factor=4, kind="pooling", globals_=3))
        add("lsh-b16-s16-f4-g1", "padded-batch", PADDED, lsg(factor=4, kind="lsh"))
        add("stride-b16-s16-f4-g1", "single", SINGLE, lsg(factor=4, kind="stride"))
        add("block-stride-b16-s16-f4-g1", "single", SINGLE, lsg(factor=4, kind="block_stride"))
        add("bos-pooling-b16-s16-f4-g1", "single", SINGLE, lsg(factor=4, kind="bos_pooling"))
        add("none-b16-s16-f2-g1", "single", SINGLE, lsg(kind="none"))
        # The encoder output without the global tokens (pool copy, then dropped), the first token masked.
        add("no-pass-mask-first-norm-b16-s16-f4-g3", "padded-batch", PADDED,
            lsg(factor=4, globals_=3, mask_first_token=True, pass_global_tokens_to_decoder=False))
        add("norm-b32-s16-f4-g3", "max", (512,), lsg(32, 16, 4, "norm", 3))
    return cases


def decoder_start(config) -> int:
    """mBART has no decoder_start_token_id (it starts with the language code); eos stands in."""
    return config.decoder_start_token_id if config.decoder_start_token_id is not None else config.eos_token_id


def make_inputs(case: Seq2SeqCase, tokenizer, config, seed: int) -> dict:
    """Ordinary-vocabulary ids framed as `bos body eos` (Pegasus: `body eos`), right-padded; decoder
    inputs start with the decoder start token."""
    generator = torch.Generator().manual_seed(seed)
    special = set(tokenizer.all_special_ids)
    ordinary = torch.tensor([i for i in range(config.vocab_size) if i not in special])
    first = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None and case.family != "pegasus" else []
    width = max(case.lengths)
    batch = len(case.lengths)
    input_ids = torch.full((batch, width), config.pad_token_id, dtype=torch.int64)
    attention_mask = torch.zeros((batch, width), dtype=torch.int64)
    for row, length in enumerate(case.lengths):
        body = ordinary[torch.randint(len(ordinary), (length - 1 - len(first),), generator=generator)]
        input_ids[row, :length] = torch.cat([torch.tensor(first, dtype=torch.int64), body,
                                             torch.tensor([tokenizer.eos_token_id])])
        attention_mask[row, :length] = 1
    decoder_body = ordinary[torch.randint(len(ordinary), (batch, DECODER_LENGTH - 1), generator=generator)]
    decoder_input_ids = torch.cat([torch.full((batch, 1), decoder_start(config), dtype=torch.int64), decoder_body], 1)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "decoder_input_ids": decoder_input_ids}


def run_case(case: Seq2SeqCase, seed: int) -> tuple[dict, dict]:
    from transformers import AutoTokenizer

    family = FAMILIES[case.family]
    tokenizer = AutoTokenizer.from_pretrained(family.model)
    cls = getattr(importlib.import_module(family.module), family.prefix + "ForConditionalGeneration")
    common.seed_all(seed)
    model = cls.from_pretrained(family.model, **case.overrides).eval()
    inputs = make_inputs(case, tokenizer, model.config, seed)
    # The reference writes mask_first_token into the caller's attention_mask; keep the original.
    recorded_inputs = {name: value.clone() for name, value in inputs.items()}
    common.seed_all(seed + 1)
    with torch.no_grad(), RandnRecorder() as recorder:
        output = model(**inputs, return_dict=True)
    tensors = dict(recorded_inputs)
    tensors["expected.encoder_last_hidden_state"] = output.encoder_last_hidden_state.contiguous()
    tensors["expected.logits"] = output.logits.contiguous()
    if recorder.recorded and case.overrides.get("sparsity_type") != "lsh":
        raise RuntimeError(f"{case.name}: torch.randn called outside lsh")
    for index, projection in enumerate(recorder.recorded):
        tensors[f"lsh.projection.{index}"] = projection.float().contiguous()
    passes_globals = model.config.pass_global_tokens_to_decoder
    globals_ = model.config.num_global_tokens
    expected_width = max(case.lengths) + (globals_ if passes_globals else 0)
    if tensors["expected.encoder_last_hidden_state"].shape[1] != expected_width:
        raise RuntimeError(f"{case.name}: encoder output length is not {expected_width}")
    metadata = {
        "format_version": FORMAT_VERSION,
        "case": case.name,
        "family": case.family,
        "model": family.model,
        "model_class": cls.__name__,
        "overrides": json.dumps(case.overrides, sort_keys=True),
        "shape": case.kind,
        "lengths": json.dumps(list(case.lengths)),
        "leading_global_tokens": str(globals_ if passes_globals else 0),
        "decoder_start_token_id": str(decoder_start(model.config)),
        "atol": str(common.ATOL),
        "compare": "encoder rows whose token (or global token) is attended; every decoder logit",
        "lsh_projections": str(len(recorder.recorded)),
        "seed": str(common.BASE_SEED + seed),
        "generator": "golden/tools/seq2seq.py",
    }
    return tensors, metadata


def generation_settings(model) -> dict:
    """What greedy search reads, resolved as transformers 4.36 resolves it (decoder start: the
    generation config's, else its bos)."""
    config = model.generation_config
    start = config.decoder_start_token_id if config.decoder_start_token_id is not None else config.bos_token_id
    return {"decoder_start_token_id": start, "eos_token_id": config.eos_token_id, "pad_token_id": config.pad_token_id,
            "forced_eos_token_id": config.forced_eos_token_id, "forced_bos_token_id": config.forced_bos_token_id,
            "min_length": 0, "no_repeat_ngram_size": 0, "repetition_penalty": 1.0, "length_penalty": 1.0}


def run_generation(family_name: str, seed: int) -> tuple[dict, dict]:
    from transformers import AutoTokenizer

    family = FAMILIES[family_name]
    tokenizer = AutoTokenizer.from_pretrained(family.model)
    cls = getattr(importlib.import_module(family.module), family.prefix + "ForConditionalGeneration")
    overrides = lsg(factor=4, kind="norm")
    common.seed_all(seed)
    model = cls.from_pretrained(family.model, **overrides).eval()
    case = Seq2SeqCase(f"{family_name}-generate", family_name, "padded-batch", GENERATE_LENGTHS, overrides)
    inputs = make_inputs(case, tokenizer, model.config, seed)
    settings = generation_settings(model)
    with torch.no_grad():
        sequences = model.generate(input_ids=inputs["input_ids"].clone(), attention_mask=inputs["attention_mask"].clone(),
                                   do_sample=False, num_beams=1, max_new_tokens=MAX_NEW_TOKENS, **settings)
    tensors = {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"],
               "sequences": sequences.contiguous()}
    metadata = {
        "format_version": FORMAT_VERSION,
        "case": case.name,
        "family": family_name,
        "model": family.model,
        "model_class": cls.__name__,
        "overrides": json.dumps(overrides, sort_keys=True),
        "lengths": json.dumps(list(GENERATE_LENGTHS)),
        "max_new_tokens": str(MAX_NEW_TOKENS),
        "generation_settings": json.dumps(settings, sort_keys=True),
        "call": "model.generate(input_ids, attention_mask, do_sample=False, num_beams=1, max_new_tokens, "
                "**generation_settings)",
        "seed": str(common.BASE_SEED + seed),
        "generator": "golden/tools/seq2seq.py",
    }
    return tensors, metadata


def generate(root: Path, log) -> list[dict]:
    directory = root / SEQ2SEQ_DIRECTORY
    common.remove_tree(directory)
    directory.mkdir(parents=True)
    records = []
    for index, case in enumerate(all_cases()):
        tensors, metadata = run_case(case, 9000 + 10 * index)
        path = directory / f"{case.name}.safetensors.zst"
        common.write_zst(path, common.safetensors_bytes(tensors, metadata))
        records.append({"case": case.name, "family": case.family, "shape": case.kind,
                        "sparsity_type": case.overrides.get("sparsity_type"),
                        "lsh_projections": int(metadata["lsh_projections"]),
                        "path": f"{SEQ2SEQ_DIRECTORY}/{path.name}"})
        log(f"seq2seq {case.name}: {path.stat().st_size} bytes, lsh {metadata['lsh_projections']}")
    (directory / GENERATE_DIRECTORY).mkdir()
    for index, family in enumerate(FAMILIES):
        tensors, metadata = run_generation(family, 9800 + 10 * index)
        path = directory / GENERATE_DIRECTORY / f"{family}.safetensors.zst"
        common.write_zst(path, common.safetensors_bytes(tensors, metadata))
        records.append({"case": metadata["case"], "family": family, "shape": "padded-batch", "sparsity_type": "norm",
                        "lsh_projections": 0, "path": f"{SEQ2SEQ_DIRECTORY}/{GENERATE_DIRECTORY}/{path.name}"})
        log(f"seq2seq {metadata['case']}: {path.stat().st_size} bytes, sequences {tensors['sequences'].tolist()}")
    records += seq2seq_heads.generate(root, directory, FAMILIES, log)
    return records


def main() -> int:
    from tools import manifest

    return common.tool_main(__doc__, SEQ2SEQ_DIRECTORY, HERE, generate, manifest.rewrite_seq2seq)


if __name__ == "__main__":
    sys.exit(main())
