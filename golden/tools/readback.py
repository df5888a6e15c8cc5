#!/usr/bin/env python3
"""Read-back: checkpoints written by OUR converter, loaded and run by the reference.

    python golden/tools/readback.py --lsg-convert .build/debug/lsg-convert [--record] [--family NAME ...]
                                    [--work /tmp/lsg-readback]

For each family it converts the tiny fixture with `lsg-convert` to the length of the family's golden
LSG model and
  - loads it with the reference's LSG classes (`from_pretrained(ours, **overrides)`) and replays one
    encoder golden per (sparsity type, head) of the family: inputs, overrides and, for lsh, the
    recorded projections in place of torch.randn;
  - converts it again with `--modeling-file` naming the reference's modeling file, loads it with
    transformers' Auto classes (`trust_remote_code=True`) and replays an mlm and a base golden;
and, for the bundled CamemBERT, converts with the camembert-base-4096 recipe to 4096 tokens and runs
the reference on a long padded batch with the recipe's own settings (no overrides). The encoder-decoder
families (BART, mBART, BARThez, Pegasus) are converted to 512 the same two ways and replay one
golden/seq2seq case each way: `LSG*ForConditionalGeneration` and `AutoModelForSeq2SeqLM` give the
encoder's states and the teacher-forced decoder's logits.
Each run is compared with the encoder golden it replays (atol from the golden) and reported with
whether our files are byte-identical to the reference's conversion.

With --record, every run is written to golden/readback/<case>.safetensors.zst (the encoder golden
schema; metadata `conversion` holds the lsg-convert arguments, run from golden/, and `model_files`
the sha256 of the files the reference loaded) and MANIFEST.json's readback section is rewritten.
The Swift tests convert with the same arguments, check those hashes and validate each case.
Exit status 1 when any output differs by more than the tolerance.
"""
from __future__ import annotations

import argparse
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from tools import common  # noqa: E402

RECORD_DIRECTORY = "readback"
# Stands for the reference's modeling file in recorded arguments; the Swift test substitutes a stand-in
# defining the same class names (the file itself is not ours to ship).
MODELING_FILE = "{modeling_file}"
# Files the reference reads; README.md and lsg-manifest.json name the tool version, so they are not hashed.
LOADED_FILES = ("config.json", "generation_config.json", "model.safetensors", "sentencepiece.bpe.model", "special_tokens_map.json",
                "tokenizer.json", "tokenizer_config.json", "vocab.txt", "spiece.model")
BUNDLED_RECIPE = "../conversions/camembert-base-4096.json"
BUNDLED_LENGTHS = (700, 430)  # over two 128-token blocks: local, sparse and global attention all run


class RandnReplay:
    """Makes torch.randn return the recorded projections, in order, checking each shape."""

    def __init__(self, projections: list):
        self.projections = projections
        self.used = 0

    def __enter__(self):
        import torch

        self._original = torch.randn

        def replay(*size, **kwargs):
            if self.used >= len(self.projections):
                raise RuntimeError("the reference drew more projections than were recorded")
            value = self.projections[self.used]
            shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
            if tuple(value.shape) != shape:
                raise RuntimeError(f"projection {self.used}: recorded {tuple(value.shape)}, drawn {shape}")
            self.used += 1
            return value.clone()

        torch.randn = replay
        return self

    def __exit__(self, *exc):
        import torch

        torch.randn = self._original
        return False


def family_length(family) -> int:
    """The golden LSG model's length, the last part of its name (models/lsg-camembert-tiny-1024)."""
    return int(family.lsg_model.rsplit("-", 1)[1])


def modeling_file(family) -> Path:
    return Path(importlib.import_module(family.module).__file__)


def convert_with_ours(binary: Path, arguments: list[str], out: Path, family) -> dict:
    """Runs lsg-convert from golden/ (as the Swift tests do); returns {file: sha256} of what the reference loads."""
    shutil.rmtree(out, ignore_errors=True)
    concrete = [str(modeling_file(family)) if argument == MODELING_FILE else argument for argument in arguments]
    command = [str(binary), *concrete, "--out", str(out), "--no-validate"]
    result = subprocess.run(command, cwd=HERE, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return {name: common.sha256_file(out / name) for name in LOADED_FILES if (out / name).exists()}


def load_model(metadata: dict, model_dir: Path, loader: str):
    from tools import encoder_cases

    family = encoder_cases.FAMILIES[metadata["family"]]
    kwargs = json.loads(metadata["overrides"])
    if metadata["head"] == "base" and not family.source_has_pooler and family.pooler_option:
        kwargs["add_pooling_layer"] = False
    if loader == "auto":
        import transformers

        auto = transformers.AutoModelForMaskedLM if metadata["head"] == "mlm" else transformers.AutoModel
        model = auto.from_pretrained(str(model_dir), trust_remote_code=True, **kwargs)
        expected = metadata["model_class"]
        if type(model).__name__ != expected:
            raise RuntimeError(f"{auto.__name__} loaded {type(model).__name__}, expected {expected}")
    else:
        cls = getattr(importlib.import_module(family.module), metadata["model_class"])
        model = cls.from_pretrained(str(model_dir), **kwargs)
    return model.eval(), family


def run(model, family, metadata: dict, tensors: dict) -> dict:
    """The reference's outputs on the recorded inputs, replaying the recorded lsh projections."""
    import torch

    inputs = {k: tensors[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in tensors}
    projections = [tensors[f"lsh.projection.{k}"] for k in range(int(metadata.get("lsh_projections", "0")))]
    captured = {}
    if metadata["head"] == "mlm":
        base = getattr(model, family.base_attribute) if family.base_attribute else (
            getattr(model, "bert", None) or getattr(model, "roberta"))
        base.register_forward_hook(lambda module, args, output: captured.setdefault("base", output))
    with torch.no_grad(), RandnReplay(projections) as replayer:
        output = model(**inputs, return_dict=True)
    if replayer.used != len(projections):
        raise RuntimeError(f"{replayer.used} of {len(projections)} recorded projections used")
    outputs = {"expected.last_hidden_state": (captured["base"] if captured else output).last_hidden_state}
    if metadata["head"] == "mlm":
        outputs["expected.logits"] = output.logits
    elif getattr(output, "pooler_output", None) is not None:
        outputs["expected.pooler_output"] = output.pooler_output
    return {name: value.contiguous() for name, value in outputs.items()}


def max_difference(expected, actual, attention_mask) -> float:
    """Token outputs ([B, L, X]) only where the mask is 1; pooled outputs everywhere."""
    difference = (expected - actual).abs()
    if difference.dim() == 3:
        difference = difference[attention_mask.bool()]
    return float(difference.max()) if difference.numel() else 0.0


def replayed_cases(manifest: dict, family_name: str) -> list[dict]:
    """One LSG golden per (sparsity type, head) of the family, in manifest order."""
    chosen, seen = [], set()
    for entry in manifest["encoder_cases"]:
        key = (entry["sparsity_type"], entry["head"])
        if entry["family"] == family_name and entry["attention"] == "lsg" and key not in seen:
            seen.add(key)
            chosen.append(entry)
    return chosen


def auto_cases(manifest: dict, family_name: str) -> list[dict]:
    """The family's first mlm and first base LSG golden."""
    lsg = [e for e in manifest["encoder_cases"] if e["family"] == family_name and e["attention"] == "lsg"]
    return [next(e for e in lsg if e["head"] == head) for head in ("mlm", "base") if any(e["head"] == head for e in lsg)]


# The encoder-decoder cases replayed: one with the reference's classes, one with the Auto classes.
SEQ2SEQ_REPLAYS = {"reference": "norm-b16-s16-f2-g1-padded-batch", "auto": "no-pass-mask-first-norm-b16-s16-f4-g3-padded-batch"}
# The LSG code of each encoder-decoder family as our auto_map names it (BARThez: its own module, whose
# classes are LSGMBart*; the reference converts its tensors with the mBART script).
SEQ2SEQ_MODULES = {"bart": "lsg_converter.bart.modeling_lsg_bart", "mbart": "lsg_converter.mbart.modeling_lsg_mbart",
                   "barthez": "lsg_converter.barthez.modeling_lsg_barthez",
                   "pegasus": "lsg_converter.pegasus.modeling_lsg_pegasus"}


def run_seq2seq(model, tensors: dict) -> dict:
    """Encoder states and decoder logits of an LSG encoder-decoder on recorded inputs (no lsh here)."""
    import torch

    inputs = {k: tensors[k].clone() for k in ("input_ids", "attention_mask", "decoder_input_ids")}
    with torch.no_grad():
        output = model(**inputs, return_dict=True)
    return {"expected.encoder_last_hidden_state": output.encoder_last_hidden_state.contiguous(),
            "expected.logits": output.logits.contiguous()}


def seq2seq_difference(expected: dict, actual: dict, attention_mask, leading: int) -> float:
    """Encoder rows of attended tokens (and the leading global rows); every decoder logit."""
    import torch

    rows = torch.cat([torch.ones(attention_mask.shape[0], leading, dtype=attention_mask.dtype), attention_mask], 1).bool()
    states = (expected["expected.encoder_last_hidden_state"] - actual["expected.encoder_last_hidden_state"]).abs()[rows]
    logits = (expected["expected.logits"] - actual["expected.logits"]).abs()
    return float(max(states.max(), logits.max()))


def bundled_inputs():
    """A right-padded batch of two fill-mask queries for the bundled CamemBERT."""
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained("fixtures/camembert-tiny")
    generator = torch.Generator().manual_seed(common.BASE_SEED + 900)
    special = set(tokenizer.all_special_ids)
    ordinary = torch.tensor([i for i in range(len(tokenizer)) if i not in special])
    width = max(BUNDLED_LENGTHS)
    input_ids = torch.full((len(BUNDLED_LENGTHS), width), tokenizer.pad_token_id, dtype=torch.int64)
    attention_mask = torch.zeros_like(input_ids)
    for row, length in enumerate(BUNDLED_LENGTHS):
        body = ordinary[torch.randint(len(ordinary), (length - 2,), generator=generator)]
        body[torch.randint(length - 2, (length // 40,), generator=generator)] = tokenizer.mask_token_id
        input_ids[row, :length] = torch.cat([torch.tensor([tokenizer.cls_token_id]), body,
                                             torch.tensor([tokenizer.sep_token_id])])
        attention_mask[row, :length] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask}


class Session:
    def __init__(self, binary: Path, work: Path, record: bool):
        self.binary, self.work, self.record = binary, work, record
        self.failures = 0
        self.records: list[dict] = []

    def check(self, name: str, loader: str, family, conversion: list[str], model_files: dict,
              tensors: dict, metadata: dict, outputs: dict, reference: dict | None) -> None:
        """Compares with the golden replayed (when there is one) and records the run."""
        worst = None if reference is None else max(
            max_difference(reference[k], v, tensors["attention_mask"]) for k, v in outputs.items())
        self.report(name, loader, family.name, metadata["head"], conversion, model_files, tensors, metadata, outputs, worst)

    def report(self, name: str, loader: str, family_name: str, head: str, conversion: list[str], model_files: dict,
               tensors: dict, metadata: dict, outputs: dict, worst: float | None) -> None:
        """Prints how far the run is from the golden it replays (none: nothing to compare with) and,
        with --record, writes it under golden/readback/."""
        atol = float(metadata["atol"])
        if worst is not None:
            status = "ok" if worst <= atol else "FAIL"
            self.failures += status == "FAIL"
            print(f"  {status} {name} ({loader} classes): max |diff| {worst:.3g} from the golden (atol {atol:g})")
        else:
            print(f"  recorded {name} ({loader} classes): no golden to compare with")
        if not self.record:
            return
        recorded = {k: v for k, v in tensors.items() if not k.startswith("expected.")}
        recorded.update(outputs)
        metadata = dict(metadata, case=name, loader=loader, model="lsg-convert output (see conversion)",
                        conversion=json.dumps(conversion), model_files=json.dumps(model_files, sort_keys=True),
                        generator="golden/tools/readback.py")
        path = Path(RECORD_DIRECTORY) / f"{name}.safetensors.zst"
        common.write_zst(HERE / path, common.safetensors_bytes(recorded, metadata))
        self.records.append({"case": name, "family": family_name, "loader": loader, "head": head,
                             "sparsity_type": json.loads(metadata["overrides"]).get("sparsity_type", "config"),
                             "path": path.as_posix()})

    def family(self, manifest: dict, family) -> None:
        from safetensors.torch import load

        length = family_length(family)
        plain = ["--from", family.source_model, "--max-length", str(length)]
        ours = self.work / f"ours-{family.name}-{length}"
        files = convert_with_ours(self.binary, plain, ours, family)
        same = files["model.safetensors"] == common.sha256_file(HERE / family.lsg_model / "model.safetensors")
        print(f"{family.name}: {ours} (model.safetensors {'byte-identical to' if same else 'DIFFERS from'} "
              f"{family.lsg_model})")
        linked = plain + ["--modeling-file", MODELING_FILE]
        ours_auto = self.work / f"ours-{family.name}-{length}-auto"
        auto_files = convert_with_ours(self.binary, linked, ours_auto, family)
        runs = [("readback", "reference", plain, ours, files, entry) for entry in replayed_cases(manifest, family.name)]
        runs += [("auto", "auto", linked, ours_auto, auto_files, entry) for entry in auto_cases(manifest, family.name)]
        for prefix, loader, conversion, directory, model_files, entry in runs:
            blob = common.zstd_decompress((HERE / entry["path"]).read_bytes())
            tensors = load(blob)
            metadata = common.safetensors_metadata(blob)
            model, _ = load_model(metadata, directory, loader)
            outputs = run(model, family, metadata, tensors)
            reference = {k: v for k, v in tensors.items() if k.startswith("expected.")}
            self.check(f"{prefix}-{entry['case']}", loader, family, conversion, model_files, tensors, metadata,
                       outputs, reference)

    def seq2seq_family(self, manifest: dict, name: str) -> None:
        from types import SimpleNamespace

        import transformers
        from safetensors.torch import load

        module = SEQ2SEQ_MODULES[name]
        family = SimpleNamespace(name=name, module=module)
        reference_model = HERE / "models" / f"lsg-{name}-tiny-512"
        plain = ["--from", f"fixtures/{name}-tiny", "--max-length", "512"]
        ours = self.work / f"ours-{name}-512"
        files = convert_with_ours(self.binary, plain, ours, family)
        same = files["model.safetensors"] == common.sha256_file(reference_model / "model.safetensors")
        print(f"{name}: {ours} (model.safetensors {'byte-identical to' if same else 'DIFFERS from'} {reference_model})")
        linked = plain + ["--modeling-file", MODELING_FILE]
        ours_auto = self.work / f"ours-{name}-512-auto"
        auto_files = convert_with_ours(self.binary, linked, ours_auto, family)
        entries = {entry["case"]: entry for entry in manifest["seq2seq_cases"] if entry["family"] == name}
        for loader, conversion, directory, model_files in (("reference", plain, ours, files),
                                                           ("auto", linked, ours_auto, auto_files)):
            entry = entries[f"{name}-{SEQ2SEQ_REPLAYS[loader]}"]
            blob = common.zstd_decompress((HERE / entry["path"]).read_bytes())
            tensors = load(blob)
            metadata = common.safetensors_metadata(blob)
            overrides = json.loads(metadata["overrides"])
            if loader == "auto":
                model = transformers.AutoModelForSeq2SeqLM.from_pretrained(str(directory), trust_remote_code=True, **overrides)
                if type(model).__name__ != metadata["model_class"]:
                    raise RuntimeError(f"AutoModelForSeq2SeqLM loaded {type(model).__name__}, expected {metadata['model_class']}")
            else:
                cls = getattr(importlib.import_module(module), metadata["model_class"])
                model = cls.from_pretrained(str(directory), **overrides)
            outputs = run_seq2seq(model.eval(), tensors)
            reference = {k: v for k, v in tensors.items() if k.startswith("expected.")}
            worst = seq2seq_difference(reference, outputs, tensors["attention_mask"], int(metadata["leading_global_tokens"]))
            case = f"{'readback' if loader == 'reference' else 'auto'}-{entry['case']}"
            self.report(case, loader, name, "seq2seq-lm", conversion, model_files, tensors, metadata, outputs, worst)

    def bundled(self, family) -> None:
        """The README's main job: the camembert-base-4096 recipe on the bundled CamemBERT, no overrides."""
        arguments = ["--from", family.source_model, "--recipe", BUNDLED_RECIPE, "--max-length", "4096"]
        ours = self.work / "ours-camembert-tiny-4096-recipe"
        files = convert_with_ours(self.binary, arguments, ours, family)
        config = json.loads((ours / "config.json").read_text())
        base_class = config["architectures"][0].replace("ForMaskedLM", "Model")  # hidden states only: logits are large
        metadata = {"family": family.name, "head": "base", "model_class": base_class,
                    "overrides": "{}", "atol": str(common.ATOL), "lsh_projections": "0", "format_version": "1",
                    "attention": "lsg", "sparsity_type": config["sparsity_type"], "seed": str(common.BASE_SEED + 900)}
        model, _ = load_model(metadata, ours, "reference")
        tensors = bundled_inputs()
        outputs = run(model, family, metadata, tensors)
        self.check("bundled-camembert-tiny-4096", "reference", family, arguments, files, tensors, metadata,
                   outputs, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lsg-convert", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/lsg-readback"))
    parser.add_argument("--record", action="store_true", help="write golden/readback/ and MANIFEST.json")
    parser.add_argument("--family", action="append", help="only these families (default: every one with a fixture)")
    options = parser.parse_args()
    common.quiet_libraries()
    common.configure_torch()
    import os

    from tools import encoder_cases, manifest as manifest_writer

    session = Session(options.lsg_convert.resolve(), options.work.resolve(), options.record)
    os.chdir(HERE)
    manifest = json.loads(Path("MANIFEST.json").read_text())
    if options.record:
        common.remove_tree(Path(RECORD_DIRECTORY))
        Path(RECORD_DIRECTORY).mkdir()
    families = [f for name, f in encoder_cases.FAMILIES.items()
                if (options.family is None or name in options.family) and (HERE / f.source_model).is_dir()
                and any(e["family"] == name for e in manifest["encoder_cases"])]
    for family in families:
        session.family(manifest, family)
        if family.name == "camembert":
            session.bundled(family)
    seq2seq_families = sorted({entry["family"] for entry in manifest.get("seq2seq_cases", [])})
    for name in seq2seq_families:
        if options.family is None or name in options.family:
            session.seq2seq_family(manifest, name)
    if options.record:
        rewrite_manifest(manifest, session.records, manifest_writer)
        print(f"recorded {len(session.records)} case(s) under golden/{RECORD_DIRECTORY}/ and updated MANIFEST.json")
    print(f"{session.failures} failure(s)")
    return 1 if session.failures else 0


def rewrite_manifest(manifest: dict, records: list[dict], manifest_writer) -> None:
    """MANIFEST.json with the new readback section and file list; every other section as it was."""
    manifest_writer.write(Path("."), ("fixtures", "conversions", "models", "encoder"), manifest["fixtures"],
                          manifest["conversions"], manifest["encoder_cases"], readback_cases=records)


if __name__ == "__main__":
    sys.exit(main())
