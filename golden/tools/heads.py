"""Task-head goldens (golden/heads/): every task head of every family, converted and run by the reference.

    cd golden && python -m tools.heads              # rewrites heads/ and MANIFEST.json (heads section)
    cd golden && python -m tools.heads --out DIR    # writes DIR/heads only: the determinism check

For each family and each task head (sequence classification, token classification, question
answering, multiple choice):
1. the transformers class of that head is loaded from the family's fixture with a seeded random
   head and labels, and saved as a source checkpoint (not kept);
2. the reference converts it (`LSGConverter(max_sequence_length=256).convert_from_pretrained`);
   the converted model is kept as heads/models/<case>/ as two compressed shards: the head's, with
   config.json and the shard index (and, for CamemBERT, the tokenizer files the pipeline goldens
   use), and the encoder's, the same for every head of a family, once in
   heads/models/<family>-encoder/ (the golden's `shared_files` metadata names it);
3. the reference's LSG class of that head runs one forward pass with small LSG blocks (every
   sparsity type appears across the cases) on a right-padded batch; the inputs, the encoder's
   last hidden state and the head's outputs go into heads/<case>.safetensors.zst, in the layout
   of golden/encoder/ (SCHEMA.md) with `head` naming the task head and `num_choices` for
   multiple choice.

It also records, in heads/pipelines.json.zst, what transformers' pipelines return on the
converted CamemBERT models: `fill-mask` (top 5) on a short text and on one longer than two blocks,
`text-classification` (top_k=None) and `token-classification` (aggregation_strategy "simple").
"""
from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from tools import common  # noqa: E402
from tools.encoder_cases import FAMILIES, RandnRecorder  # noqa: E402

HEADS_DIRECTORY = "heads"
WORK_DIR = Path(".work-heads")
MAX_LENGTH = 256
SEED_OFFSET = 9000
HEADS = ("SequenceClassification", "TokenClassification", "QuestionAnswering", "MultipleChoice")
HEAD_NAMES = {"SequenceClassification": "sequence-classification", "TokenClassification": "token-classification",
              "QuestionAnswering": "question-answering", "MultipleChoice": "multiple-choice"}
SEQUENCE_LABELS = ["NEGATIVE", "NEUTRAL", "POSITIVE"]
TOKEN_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
SPARSITY_TYPES = ("norm", "pooling", "lsh", "stride", "block_stride", "bos_pooling")
# The models the pipeline goldens run (their tokenizer files are kept).
PIPELINE_MODELS = {"fill-mask": "models/lsg-camembert-tiny-1024",
                   "text-classification": "heads/models/camembert-sequence-classification",
                   "token-classification": "heads/models/camembert-token-classification"}
FILL_MASK_TEXTS = [
    "Paris est la <mask> de la France.",
    # Longer than two blocks of 128 tokens with the tiny vocabulary, so LSG sparse attention runs.
    " ".join(["Le chat dort sur le canapé pendant que la pluie tombe doucement sur la ville."] * 12)
    + " La <mask> est belle, et le <mask> aussi.",
]
CLASSIFY_TEXTS = [
    "J'ai adoré ce film, les acteurs sont excellents.",
    "Emmanuel Macron a rencontré Angela Merkel à Berlin pour parler de l'Europe.",
    # Close to the 256 positions of the converted heads.
    " ".join(["Marie Curie est née à Varsovie et a travaillé à Paris avec Pierre Curie."] * 5),
]


@dataclass(frozen=True)
class HeadCase:
    family: str
    head: str  # transformers class suffix, e.g. "SequenceClassification"
    index: int

    @property
    def name(self) -> str:
        return f"{self.family}-{HEAD_NAMES[self.head]}"

    @property
    def sparsity_type(self) -> str:
        return SPARSITY_TYPES[self.index % len(SPARSITY_TYPES)]

    @property
    def overrides(self) -> dict:
        return {"block_size": 16, "sparse_block_size": 16, "sparsity_factor": 2 if self.sparsity_type == "norm" else 4,
                "sparsity_type": self.sparsity_type, "num_global_tokens": 1 + self.index % 3}

    @property
    def lengths(self) -> tuple[int, ...]:
        return (3 * 16 + 3, 2 * 16 + 5, 9)


def all_cases() -> list[HeadCase]:
    cases = []
    for family in FAMILIES:
        for head in HEADS:
            cases.append(HeadCase(family, head, len(cases)))
    return cases


def label_kwargs(head: str) -> dict:
    if head == "SequenceClassification":
        labels = SEQUENCE_LABELS
    elif head == "TokenClassification":
        labels = TOKEN_LABELS
    else:
        return {}
    return {"num_labels": len(labels), "id2label": dict(enumerate(labels)),
            "label2id": {label: index for index, label in enumerate(labels)}}


def make_source(case: HeadCase, target: Path) -> None:
    """The fixture loaded into the transformers class of the head, its head drawn at random (seeded)."""
    import transformers

    family = FAMILIES[case.family]
    cls = getattr(transformers, family.plain_prefix + "For" + case.head)
    common.seed_all(SEED_OFFSET + 10 * case.index)
    model = cls.from_pretrained(family.source_model, **label_kwargs(case.head))
    common.remove_tree(target)
    model.save_pretrained(str(target), safe_serialization=True)
    for path in Path(family.source_model).iterdir():
        if path.name not in ("config.json", "model.safetensors"):
            shutil.copy(path, target / path.name)


def convert(case: HeadCase, source: Path, target: Path) -> None:
    from lsg_converter import LSGConverter

    common.seed_all(SEED_OFFSET + 10 * case.index + 1)
    model, tokenizer = LSGConverter(max_sequence_length=MAX_LENGTH).convert_from_pretrained(str(source))
    common.remove_tree(target)
    model.save_pretrained(str(target), safe_serialization=True)
    tokenizer.save_pretrained(str(target))


def make_inputs(case: HeadCase, tokenizer) -> dict:
    """Seeded ordinary ids framed like a sentence, right-padded; [batch, choices, length] for multiple choice."""
    generator = torch.Generator().manual_seed(common.BASE_SEED + SEED_OFFSET + 10 * case.index + 2)
    special = set(tokenizer.all_special_ids)
    ordinary = torch.tensor([i for i in range(len(tokenizer)) if i not in special])
    lengths = case.lengths
    width = max(lengths)
    input_ids = torch.full((len(lengths), width), tokenizer.pad_token_id, dtype=torch.int64)
    attention_mask = torch.zeros((len(lengths), width), dtype=torch.int64)
    token_type_ids = torch.zeros((len(lengths), width), dtype=torch.int64)
    for row, length in enumerate(lengths):
        body = ordinary[torch.randint(len(ordinary), (length - 2,), generator=generator)]
        input_ids[row, :length] = torch.cat(
            [torch.tensor([tokenizer.cls_token_id]), body, torch.tensor([tokenizer.sep_token_id])])
        attention_mask[row, :length] = 1
        token_type_ids[row, length // 2:length] = 1
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    if FAMILIES[case.family].uses_token_types:
        inputs["token_type_ids"] = token_type_ids
    if case.head == "MultipleChoice":
        # Two questions of three choices each: the batch's rows in a different order per question.
        orders = [[0, 1, 2], [2, 0, 1]]
        inputs = {name: torch.stack([value[order] for order in orders]) for name, value in inputs.items()}
    return inputs


def run(case: HeadCase, model_dir: Path, model_path: str) -> tuple[dict, dict]:
    import importlib

    from transformers import AutoTokenizer

    family = FAMILIES[case.family]
    module = importlib.import_module(family.module)
    cls = getattr(module, family.lsg_prefix + "For" + case.head)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = cls.from_pretrained(str(model_dir), **case.overrides).eval()
    inputs = make_inputs(case, tokenizer)
    base = getattr(model, family.base_attribute) if family.base_attribute else (
        getattr(model, "bert", None) or getattr(model, "roberta"))
    captured = {}
    hook = base.register_forward_hook(lambda module, args, output: captured.setdefault("base", output))
    common.seed_all(SEED_OFFSET + 10 * case.index + 3)
    with torch.no_grad(), RandnRecorder() as recorder:
        output = model(**inputs, return_dict=True)
    hook.remove()
    if recorder.recorded and case.sparsity_type != "lsh":
        raise RuntimeError(f"{case.name}: torch.randn called outside lsh")

    tensors = {name: value.contiguous() for name, value in inputs.items()}
    tensors["expected.last_hidden_state"] = captured["base"].last_hidden_state.contiguous()
    if case.head == "QuestionAnswering":
        tensors["expected.start_logits"] = output.start_logits.contiguous()
        tensors["expected.end_logits"] = output.end_logits.contiguous()
    else:
        tensors["expected.logits"] = output.logits.contiguous()
    for index, projection in enumerate(recorder.recorded):
        tensors[f"lsh.projection.{index}"] = projection.float().contiguous()
    metadata = {
        "format_version": "1",
        "case": case.name,
        "family": case.family,
        "model": model_path,
        "model_class": cls.__name__,
        "attention": "lsg",
        "overrides": json.dumps(case.overrides, sort_keys=True),
        "head": HEAD_NAMES[case.head],
        "shape": "padded-batch",
        "lengths": json.dumps(list(case.lengths)),
        "atol": str(common.ATOL),
        "compare": "per-token outputs where attention_mask is 1, sequence outputs everywhere",
        "lsh_projections": str(len(recorder.recorded)),
        "seed": str(common.BASE_SEED + SEED_OFFSET + 10 * case.index + 3),
        "generator": "golden/tools/heads.py",
    }
    if case.head == "MultipleChoice":
        metadata["num_choices"] = str(inputs["input_ids"].shape[1])
    return tensors, metadata


ENCODER_SHARD = "model-00001-of-00002.safetensors"
HEAD_SHARD = "model-00002-of-00002.safetensors"


def keep_model(case: HeadCase, converted: Path, root: Path, with_tokenizer: bool) -> str:
    """The converted model as two compressed shards: the encoder's tensors (without the pooler), identical for every head of a
    family and stored once under heads/models/<family>-encoder/, and the head's. Returns the shared shard's
    path. Tokenizer files are kept only where a pipeline golden needs them; the reference's modeling code
    never is."""
    from safetensors.torch import load_file, save

    tensors = load_file(str(converted / "model.safetensors"))
    prefix = FAMILIES[case.family].base_attribute or ("bert" if case.family == "bert" else "roberta")
    # The pooler goes with the head: a class that has one but whose source lacked it draws it at random.
    encoder = {name: value for name, value in tensors.items()
               if name.startswith(prefix + ".") and not name.startswith(prefix + ".pooler.")}
    head = {name: value for name, value in tensors.items() if name not in encoder}
    target = root / HEADS_DIRECTORY / "models" / case.name
    common.remove_tree(target)
    target.mkdir(parents=True)
    shared = root / HEADS_DIRECTORY / "models" / f"{case.family}-encoder" / (ENCODER_SHARD + ".zst")
    encoder_bytes = common.zstd_compress(save(encoder, metadata={"format": "pt"}))
    if shared.exists() and shared.read_bytes() != encoder_bytes:
        raise RuntimeError(f"{case.name}: the encoder differs from the other {case.family} heads'")
    shared.parent.mkdir(parents=True, exist_ok=True)
    shared.write_bytes(encoder_bytes)
    (target / (HEAD_SHARD + ".zst")).write_bytes(common.zstd_compress(save(head, metadata={"format": "pt"})))
    total = sum(value.numel() * value.element_size() for value in tensors.values())
    weight_map = {name: ENCODER_SHARD if name in encoder else HEAD_SHARD for name in sorted(tensors)}
    common.write_json(target / "model.safetensors.index.json", {"metadata": {"total_size": total}, "weight_map": weight_map})
    shutil.copy(converted / "config.json", target / "config.json")
    if with_tokenizer:
        for path in sorted(converted.iterdir()):
            if path.suffix != ".py" and path.name not in ("config.json", "model.safetensors"):
                shutil.copy(path, target / path.name)
    return shared.relative_to(root).as_posix()


def materialize(root: Path, model_path: str, shared: str, target: Path) -> None:
    """A loadable copy of a kept model: its files, the shared encoder shard, every .zst decompressed."""
    common.remove_tree(target)
    shutil.copytree(root / model_path, target)
    shutil.copy(root / shared, target / Path(shared).name)
    for path in list(target.glob("*.zst")):
        path.with_suffix("").write_bytes(common.zstd_decompress(path.read_bytes()))
        path.unlink()


def pipeline_records(root: Path, shared_shards: dict) -> dict:
    """What transformers' pipelines return on the converted CamemBERT models."""
    from transformers import AutoTokenizer, pipeline

    records = {}
    for task, path in PIPELINE_MODELS.items():
        directory = WORK_DIR / "pipeline" / task
        if path.startswith(HEADS_DIRECTORY + "/"):
            materialize(root, path, shared_shards[path], directory)
        else:
            common.remove_tree(directory)
            shutil.copytree(HERE / path, directory)
        family = FAMILIES["camembert"]
        import importlib

        module = importlib.import_module(family.module)
        suffix = {"fill-mask": "ForMaskedLM", "text-classification": "ForSequenceClassification",
                  "token-classification": "ForTokenClassification"}[task]
        model = getattr(module, family.lsg_prefix + suffix).from_pretrained(str(directory)).eval()
        tokenizer = AutoTokenizer.from_pretrained(str(directory))
        runner = pipeline(task, model=model, tokenizer=tokenizer, device="cpu")
        cases = []
        texts = FILL_MASK_TEXTS if task == "fill-mask" else CLASSIFY_TEXTS
        for text in texts:
            if task == "fill-mask":
                result = runner(text, top_k=5)
            elif task == "text-classification":
                result = runner(text, top_k=None)
            else:
                result = runner(text, aggregation_strategy="simple")
            cases.append({"text": text, "tokens": len(tokenizer(text)["input_ids"]), "result": _plain(result)})
        records[task] = {"model": path, "model_class": type(model).__name__,
                         "call": {"fill-mask": "pipeline(text, top_k=5)",
                                  "text-classification": "pipeline(text, top_k=None)",
                                  "token-classification": "pipeline(text, aggregation_strategy='simple')"}[task],
                         "cases": cases}
    return records


def _plain(value):
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if hasattr(value, "item"):
        return value.item()
    return value


def generate(root: Path, log) -> list[dict]:
    heads = root / HEADS_DIRECTORY
    common.remove_tree(heads)
    heads.mkdir(parents=True)
    records = []
    shared_shards = {}
    for case in all_cases():
        source = WORK_DIR / "source" / case.name
        converted = WORK_DIR / "converted" / case.name
        make_source(case, source)
        convert(case, source, converted)
        model_path = f"{HEADS_DIRECTORY}/models/{case.name}"
        shared = keep_model(case, converted, root, with_tokenizer=case.family == "camembert")
        shared_shards[model_path] = shared
        tensors, metadata = run(case, converted, model_path)
        metadata["shared_files"] = json.dumps([shared])
        path = heads / f"{case.name}.safetensors.zst"
        common.write_zst(path, common.safetensors_bytes(tensors, metadata))
        records.append({"case": case.name, "family": case.family, "head": metadata["head"],
                        "model_class": metadata["model_class"], "sparsity_type": case.sparsity_type,
                        "lsh_projections": int(metadata["lsh_projections"]), "path": f"{HEADS_DIRECTORY}/{path.name}"})
        log(f"heads {case.name}: {path.stat().st_size} bytes")
    common.write_zst(heads / "pipelines.json.zst", common.json_text(pipeline_records(root, shared_shards)).encode("utf-8"))
    log("heads pipelines.json.zst")
    common.remove_tree(WORK_DIR)
    return records


def main() -> int:
    from tools import manifest

    return common.tool_main(__doc__, HEADS_DIRECTORY, HERE, generate, manifest.rewrite_heads)


if __name__ == "__main__":
    sys.exit(main())
