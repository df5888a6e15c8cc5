"""Reference conversions of the fixtures for a matrix of options (golden/conversions/<case>/)."""
from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import common

CONVERSIONS_DIR = Path("conversions")
MODELS_DIR = Path("models")
WORK_DIR = Path(".work")


@dataclass(frozen=True)
class ConversionCase:
    name: str
    source: str  # model directory relative to golden/
    max_length: int = 4096
    global_stride: int = 64
    random_global_init: bool = False
    keep_first_global_token: bool = False
    resize_lsg: bool = False
    architecture: str | None = None
    model_kwargs: dict = field(default_factory=dict)
    max_shard_size: str | None = None
    # "zst": keep the full weights compressed in the case directory; "models": keep them uncompressed
    # as a plain model directory under models/ (used by the encoder goldens); None: hashes only.
    store_weights: str | None = None
    inspect_listing: bool = False
    seed_offset: int = 1000
    note: str = ""


CAMEMBERT = "fixtures/camembert-tiny"
CASES = [
    ConversionCase("camembert-tiny-default", CAMEMBERT, store_weights="zst", inspect_listing=True,
                   note="all defaults: 4096 tokens, stride 64, 1 global token, norm sparsity"),
    ConversionCase("camembert-tiny-len1000", CAMEMBERT, max_length=1000,
                   note="max length not a multiple of the 512-row source table"),
    ConversionCase("camembert-tiny-len1024", CAMEMBERT, max_length=1024, store_weights="models",
                   note="weights at models/lsg-camembert-tiny-1024, the model of the CamemBERT encoder goldens"),
    ConversionCase("camembert-tiny-globals1", CAMEMBERT, model_kwargs={"num_global_tokens": 1}),
    ConversionCase("camembert-tiny-globals3", CAMEMBERT, model_kwargs={"num_global_tokens": 3}),
    ConversionCase("camembert-tiny-globals16", CAMEMBERT, model_kwargs={"num_global_tokens": 16}),
    ConversionCase("camembert-tiny-stride32", CAMEMBERT, global_stride=32,
                   note="global tokens initialised from positions reordered with stride 32"),
    ConversionCase("camembert-tiny-stride64", CAMEMBERT, global_stride=64),
    ConversionCase("camembert-tiny-mask-first-token", CAMEMBERT, model_kwargs={"mask_first_token": True},
                   note="the published lsg-camembert-base-4096 settings on the tiny model"),
    ConversionCase("camembert-tiny-blocks-64-32-4", CAMEMBERT, max_length=2048,
                   model_kwargs={"block_size": 64, "sparse_block_size": 32, "sparsity_factor": 4,
                                 "pool_with_global": False, "adaptive": False, "lsh_num_pre_rounds": 2}),
    *[ConversionCase(f"camembert-tiny-sparsity-{kind.replace('_', '-')}", CAMEMBERT,
                     model_kwargs={"sparsity_type": kind})
      for kind in ("none", "norm", "pooling", "lsh", "stride", "block_stride", "bos_pooling")],
    ConversionCase("camembert-tiny-random-global-init", CAMEMBERT, random_global_init=True,
                   note="global rows sampled from a normal fitted to the word embeddings: statistics only"),
    ConversionCase("camembert-tiny-two-shards", CAMEMBERT, max_length=1000, max_shard_size="200KB",
                   store_weights="zst", inspect_listing=True,
                   note="same conversion as camembert-tiny-len1000, saved as two shards plus an index"),
    ConversionCase("camembert-tiny-base-model", CAMEMBERT, architecture="CamembertModel",
                   note="base model class: weights at the root; the reference adds a freshly initialised pooler"),
    ConversionCase("camembert-tiny-130pos-default", "fixtures/camembert-tiny-130pos",
                   note="130 source positions: global rows beyond them are random normal rows"),
    ConversionCase("camembert-lsg1024-resize-2048", "models/lsg-camembert-tiny-1024", max_length=2048,
                   resize_lsg=True, note="LSG source: only the position table is resized"),
    ConversionCase("camembert-lsg1024-keep-first-global", "models/lsg-camembert-tiny-1024", max_length=2048,
                   keep_first_global_token=True,
                   note="LSG source: global rows re-initialised except the first one"),
    ConversionCase("roberta-tiny-default", "fixtures/roberta-tiny"),
    ConversionCase("roberta-tiny-len1000", "fixtures/roberta-tiny", max_length=1000),
    ConversionCase("roberta-tiny-globals3-stride32", "fixtures/roberta-tiny", global_stride=32,
                   model_kwargs={"num_global_tokens": 3}),
    ConversionCase("roberta-tiny-mask-first-token", "fixtures/roberta-tiny", model_kwargs={"mask_first_token": True}),
    ConversionCase("roberta-tiny-len512", "fixtures/roberta-tiny", max_length=512, store_weights="models"),
    ConversionCase("xlm-roberta-tiny-default", "fixtures/xlm-roberta-tiny"),
    ConversionCase("xlm-roberta-tiny-len1000", "fixtures/xlm-roberta-tiny", max_length=1000),
    ConversionCase("xlm-roberta-tiny-stride32-sparsity-pooling", "fixtures/xlm-roberta-tiny", global_stride=32,
                   model_kwargs={"sparsity_type": "pooling"}),
    ConversionCase("xlm-roberta-tiny-len512", "fixtures/xlm-roberta-tiny", max_length=512, store_weights="models"),
    ConversionCase("bert-tiny-default", "fixtures/bert-tiny", store_weights="zst",
                   note="offset 0; token type row 0 added to every global row"),
    ConversionCase("bert-tiny-len1000", "fixtures/bert-tiny", max_length=1000),
    ConversionCase("bert-tiny-stride32", "fixtures/bert-tiny", global_stride=32),
    ConversionCase("bert-tiny-globals16-mask-first-token", "fixtures/bert-tiny",
                   model_kwargs={"num_global_tokens": 16, "mask_first_token": True}),
    ConversionCase("bert-tiny-base-model", "fixtures/bert-tiny", architecture="BertModel",
                   note="base model class: weights at the root, pooler kept"),
    ConversionCase("bert-tiny-len640", "fixtures/bert-tiny", max_length=640, store_weights="models"),
    ConversionCase("distilbert-tiny-default", "fixtures/distilbert-tiny",
                   note="offset 0; no token types, so nothing is added to the global rows beyond bos/mask"),
    ConversionCase("distilbert-tiny-len1000-globals3-stride32", "fixtures/distilbert-tiny", max_length=1000,
                   global_stride=32, model_kwargs={"num_global_tokens": 3, "sparsity_type": "block_stride"}),
    ConversionCase("distilbert-tiny-base-model", "fixtures/distilbert-tiny", architecture="DistilBertModel",
                   note="base model class: weights at the root, the MLM head dropped (DistilBERT has no pooler)"),
    ConversionCase("distilbert-tiny-len512", "fixtures/distilbert-tiny", max_length=512, store_weights="models"),
    ConversionCase("electra-tiny-default", "fixtures/electra-tiny",
                   note="ELECTRA generator: 4-wide embeddings and global rows, embeddings_project to 8"),
    ConversionCase("electra-tiny-len1000-globals16-mask-first-token", "fixtures/electra-tiny", max_length=1000,
                   global_stride=32, model_kwargs={"num_global_tokens": 16, "mask_first_token": True}),
    ConversionCase("electra-tiny-base-model", "fixtures/electra-tiny", architecture="ElectraModel",
                   note="base model class: weights at the root, embeddings_project kept, generator head dropped"),
    ConversionCase("electra-tiny-discriminator", "fixtures/electra-tiny", architecture="ElectraForPreTraining",
                   note="generator checkpoint converted to the discriminator class: its head is freshly initialised"),
    ConversionCase("electra-tiny-len512", "fixtures/electra-tiny", max_length=512, store_weights="models"),
    ConversionCase("albert-tiny-default", "fixtures/albert-tiny", store_weights="zst",
                   note="ALBERT pretraining: 4-wide embeddings and global rows (token type row 0 added), "
                        "embedding_hidden_mapping_in to 8, shared layer groups, sop_classifier"),
    ConversionCase("albert-tiny-len1000-globals16-stride32-bos-pooling", "fixtures/albert-tiny", max_length=1000,
                   global_stride=32, model_kwargs={"num_global_tokens": 16, "sparsity_type": "bos_pooling"}),
    ConversionCase("albert-tiny-masked-lm-blocks-32-16-4", "fixtures/albert-tiny", max_length=2048,
                   architecture="AlbertForMaskedLM",
                   model_kwargs={"block_size": 32, "sparse_block_size": 16, "sparsity_factor": 4,
                                 "mask_first_token": True},
                   note="pretraining checkpoint to the MLM class: pooler and sop_classifier dropped"),
    ConversionCase("albert-tiny-base-model", "fixtures/albert-tiny", architecture="AlbertModel",
                   note="base model class: weights at the root, pooler kept, heads dropped"),
    ConversionCase("albert-tiny-len512", "fixtures/albert-tiny", max_length=512, store_weights="models"),
    ConversionCase("bart-tiny-default", "fixtures/bart-tiny",
                   note="BART generation class: final_logits_bias, shared embeddings, both position tables tiled "
                        "(2 offset rows), max_position_embeddings counting positions only"),
    ConversionCase("bart-tiny-len1000-globals16-stride32-no-pass", "fixtures/bart-tiny", max_length=1000,
                   global_stride=32, model_kwargs={"num_global_tokens": 16, "pass_global_tokens_to_decoder": False}),
    ConversionCase("bart-tiny-base-model", "fixtures/bart-tiny", architecture="BartModel",
                   note="base model class: weights at the root, final_logits_bias and lm_head dropped"),
    ConversionCase("bart-tiny-sequence-classification", "fixtures/bart-tiny",
                   architecture="BartForSequenceClassification",
                   note="generation checkpoint to the classifier: classification_head freshly initialised (3 labels)"),
    ConversionCase("bart-tiny-random-global-init", "fixtures/bart-tiny", random_global_init=True),
    ConversionCase("bart-tiny-len512", "fixtures/bart-tiny", max_length=512, store_weights="models"),
    ConversionCase("mbart-tiny-default", "fixtures/mbart-tiny",
                   note="mBART: layernorm_embedding and final layer_norm in both stacks"),
    ConversionCase("mbart-tiny-len1000-blocks-32-16-4-lsh", "fixtures/mbart-tiny", max_length=1000,
                   model_kwargs={"block_size": 32, "sparse_block_size": 16, "sparsity_factor": 4,
                                 "sparsity_type": "lsh"}),
    ConversionCase("mbart-tiny-question-answering", "fixtures/mbart-tiny", architecture="MBartForQuestionAnswering",
                   note="generation checkpoint to the QA class: qa_outputs freshly initialised"),
    ConversionCase("mbart-tiny-len512", "fixtures/mbart-tiny", max_length=512, store_weights="models"),
    ConversionCase("barthez-tiny-default", "fixtures/barthez-tiny",
                   note="BARThez (an mBART with a BarthezTokenizer): converted by the reference's mBART script, "
                        "which LSGConverter picks from model_type"),
    ConversionCase("barthez-tiny-len512", "fixtures/barthez-tiny", max_length=512, store_weights="models"),
    ConversionCase("pegasus-tiny-default", "fixtures/pegasus-tiny",
                   note="Pegasus: sinusoidal tables rebuilt for 4096 positions in both stacks, global rows from the "
                        "source's 512-row table, bos from config.json (the tokenizer has none)"),
    ConversionCase("pegasus-tiny-len1000-globals3-stride32", "fixtures/pegasus-tiny", max_length=1000,
                   global_stride=32, model_kwargs={"num_global_tokens": 3}),
    ConversionCase("pegasus-tiny-base-model", "fixtures/pegasus-tiny", architecture="PegasusModel"),
    ConversionCase("pegasus-tiny-len512", "fixtures/pegasus-tiny", max_length=512, store_weights="models"),
]


def model_dir_name(case: ConversionCase) -> str:
    family = case.source.split("/")[-1]
    return f"lsg-{family}-{case.max_length}"


def cli_args(case: ConversionCase) -> list[str]:
    """The same conversion in lsg-convert's option names (issue 4), for replay by the Swift tests."""
    args = ["--from", case.source, "--max-length", str(case.max_length)]
    if case.global_stride != 64:
        args += ["--global-stride", str(case.global_stride)]
    if case.random_global_init:
        args += ["--random-global-init"]
    if case.keep_first_global_token:
        args += ["--keep-first-global-token"]
    if case.resize_lsg:
        args += ["--resize-lsg"]
    if case.architecture:
        args += ["--architecture", case.architecture]
    flags = {"block_size": "--block-size", "sparse_block_size": "--sparse-block-size",
             "sparsity_factor": "--sparsity-factor", "sparsity_type": "--sparsity-type",
             "num_global_tokens": "--num-global-tokens", "lsh_num_pre_rounds": "--lsh-num-pre-rounds"}
    for key, value in sorted(case.model_kwargs.items()):
        if key in flags:
            args += [flags[key], str(value)]
        elif key == "mask_first_token":
            args += ["--mask-first-token"] if value else []
        elif key == "pool_with_global":
            args += ["--pool-with-global" if value else "--no-pool-with-global"]
        elif key == "adaptive":
            args += ["--adaptive" if value else "--no-adaptive"]
        elif key == "pass_global_tokens_to_decoder":
            args += ["--pass-global-tokens-to-decoder" if value else "--no-pass-global-tokens-to-decoder"]
        else:
            raise ValueError(f"no CLI flag for {key}")
    if case.max_shard_size:
        args += ["--max-shard-size", case.max_shard_size]
    return args


def run_reference(case: ConversionCase, out_dir: Path, seed_offset: int) -> dict:
    """Run the reference converter exactly as case.json says and save like its CLI does."""
    from lsg_converter import LSGConverter

    common.seed_all(seed_offset)
    converter = LSGConverter(
        max_sequence_length=case.max_length,
        random_global_init=case.random_global_init,
        global_positional_stride=case.global_stride,
        keep_first_global_token=case.keep_first_global_token,
        resize_lsg=case.resize_lsg,
    )
    model, tokenizer = converter.convert_from_pretrained(case.source, architecture=case.architecture,
                                                         **case.model_kwargs)
    save_kwargs = {"safe_serialization": True}
    if case.max_shard_size:
        save_kwargs["max_shard_size"] = case.max_shard_size
    model.save_pretrained(str(out_dir), **save_kwargs)
    tokenizer.save_pretrained(str(out_dir))
    # The reference's rule: the tokenizer's bos, else its cls, else config.json's bos_token_id (Pegasus).
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.cls_token_id
    return {"bos": bos if bos is not None else model.config.bos_token_id, "mask": tokenizer.mask_token_id}


def weight_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.safetensors"))


def tensor_listing(directory: Path) -> list[dict]:
    entries = []
    for path in weight_files(directory):
        for entry in common.safetensors_listing(path):
            entry["file"] = path.name
            entries.append(entry)
    return entries


def random_tensor_report(first: Path, second: Path) -> dict:
    """Compare two runs with different seeds: tensors that differ are random by nature.

    For those, rows equal in both runs are deterministic (they come from the source); their
    sha256 is kept per row, and statistics describe the rest.
    """
    from safetensors.torch import load_file

    a, b = {}, {}
    for path in weight_files(first):
        a.update(load_file(str(path)))
    for path in weight_files(second):
        b.update(load_file(str(path)))
    report = {}
    for name in sorted(a):
        if torch.equal(a[name], b[name]):
            continue
        tensor = a[name]
        rows = tensor.reshape(tensor.shape[0], -1) if tensor.dim() > 1 else tensor.reshape(-1, 1)
        other = b[name].reshape(rows.shape)
        same = [i for i in range(rows.shape[0]) if torch.equal(rows[i], other[i])]
        random_rows = [i for i in range(rows.shape[0]) if i not in set(same)]
        sample = rows[random_rows].double()
        report[name] = {
            "deterministic_rows": {str(i): common.sha256_bytes(common.tensor_bytes(rows[i])) for i in same},
            "random_rows": len(random_rows),
            "statistics_of_random_rows": {
                "mean": round(float(sample.mean()), 6),
                "std": round(float(sample.std()), 6),
                "column_mean": [round(float(v), 6) for v in sample.mean(dim=0)],
                "column_std": [round(float(v), 6) for v in sample.std(dim=0)] if sample.shape[0] > 1 else [],
            },
        }
    return report


@contextlib.contextmanager
def reference_code_beside(source: str):
    """LSG sources need their modeling file beside config.json when the reference loads them with
    trust_remote_code; it is copied in for the run only and never committed."""
    directory = Path(source)
    if not directory.name.startswith("lsg-"):
        yield
        return
    import lsg_converter

    family = directory.name.split("-tiny")[0][len("lsg-"):].replace("-", "_")
    module = Path(lsg_converter.__file__).parent / family / f"modeling_lsg_{family}.py"
    target = directory / module.name
    shutil.copyfile(module, target)
    try:
        yield
    finally:
        target.unlink()


def generate(log) -> list[dict]:
    records = []
    for index, case in enumerate(CASES):
        case_dir = CONVERSIONS_DIR / case.name
        run_dir = WORK_DIR / case.name
        common.remove_tree(run_dir)
        with reference_code_beside(case.source):
            special = run_reference(case, run_dir, case.seed_offset + index)
            # Every case runs twice with different seeds: whatever differs is random by nature.
            second = WORK_DIR / (case.name + "-reseeded")
            common.remove_tree(second)
            run_reference(case, second, case.seed_offset + index + 500)
            random_report = random_tensor_report(run_dir, second)
            common.remove_tree(second)
        records.append(store_case(case, run_dir, case_dir, special, random_report, case.seed_offset + index))
        common.remove_tree(run_dir)
        log(f"conversion {case.name}: {len(records[-1]['files'])} files")
    common.remove_tree(WORK_DIR)
    return records


def store_case(case: ConversionCase, run_dir: Path, case_dir: Path, special: dict, random_report: dict,
               seed_offset: int) -> dict:
    case_dir.mkdir(parents=True, exist_ok=True)
    listing = tensor_listing(run_dir)
    for entry in listing:
        if entry["name"] in random_report:
            entry["sha256"] = None
            entry["random_by_nature"] = True
    reference_files = {}
    for path in sorted(run_dir.iterdir()):
        is_weights = path.suffix == ".safetensors"
        random_file = is_weights and any(e["file"] == path.name and e.get("random_by_nature") for e in listing)
        info = {"size": path.stat().st_size, "sha256": None if random_file else common.sha256_file(path)}
        if path.suffix == ".py":
            info["stored"] = None  # the reference's own modeling code: hashed, never committed
        elif is_weights and case.store_weights == "models":
            model_dir = MODELS_DIR / model_dir_name(case)
            info["stored"] = str(model_dir / path.name)
        elif is_weights and case.store_weights != "zst":
            info["stored"] = None
        else:
            info["stored"] = str(case_dir / "reference" / f"{path.name}.zst")
            common.write_zst(case_dir / "reference" / f"{path.name}.zst", path.read_bytes())
        reference_files[path.name] = info
    if case.store_weights == "models":
        model_dir = MODELS_DIR / model_dir_name(case)
        model_dir.mkdir(parents=True, exist_ok=True)
        for path in sorted(run_dir.iterdir()):
            if path.suffix != ".py":
                shutil.copyfile(path, model_dir / path.name)
    description = {
        "case": case.name,
        "note": case.note,
        "source": case.source,
        "reference_call": {
            "class": "lsg_converter.LSGConverter",
            "init": {
                "max_sequence_length": case.max_length,
                "random_global_init": case.random_global_init,
                "global_positional_stride": case.global_stride,
                "keep_first_global_token": case.keep_first_global_token,
                "resize_lsg": case.resize_lsg,
            },
            "convert_from_pretrained": {"model_name_or_path": case.source, "architecture": case.architecture,
                                        **case.model_kwargs},
            "save_pretrained": {"safe_serialization": True, "max_shard_size": case.max_shard_size},
            "torch_manual_seed": common.BASE_SEED + seed_offset,
            "working_directory": "golden/",
        },
        "cli_args": cli_args(case),
        "reference_special_ids": special,
        "random_by_nature": sorted(random_report),
        "reference_files": reference_files,
    }
    common.write_json(case_dir / "case.json", description)
    common.write_json(case_dir / "tensors.json", {"tensors": listing, "random_tensors": random_report})
    if case.inspect_listing:
        common.write_json(case_dir / "inspect-expected.json", inspect_listing(run_dir))
    return {"case": case.name, "files": reference_files, "random_by_nature": bool(random_report)}


def inspect_listing(directory: Path) -> dict:
    """What `lsg-convert inspect --json` must report for the reference output directory."""
    files = []
    tensors = {}
    for path in weight_files(directory):
        _, header = common.read_safetensors_header(path)
        files.append({"file": path.name, "size": path.stat().st_size, "sha256": common.sha256_file(path),
                      "metadata": header.get("__metadata__", {})})
        for entry in common.safetensors_listing(path):
            tensors[entry["name"]] = {"dtype": entry["dtype"], "shape": entry["shape"],
                                      "sha256": entry["sha256"], "file": path.name}
    return {"files": files, "tensors": tensors, "tensor_count": len(tensors),
            "parameter_count": sum(_count(t["shape"]) for t in tensors.values())}


def _count(shape: list[int]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total
