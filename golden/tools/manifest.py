"""golden/MANIFEST.json: every data file with its sha256 and size, plus how it was made."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from . import common

GENERATOR_SOURCES = ("generate.py", "requirements.txt", "tools/__init__.py", "tools/common.py", "tools/corpus.py",
                     "tools/fixtures.py", "tools/conversions.py", "tools/encoder_cases.py", "tools/manifest.py",
                     "tools/readback.py", "tools/zoo.py", "tools/tokenizer_layouts.py", "tools/tokenizer_corpus.py",
                     "tools/heads.py", "tools/seq2seq.py", "tools/seq2seq_heads.py")
# Written by tools/readback.py (it needs our own converter), kept as they are by generate.py.
READBACK_DIRECTORY = "readback"
# Written by tools/zoo.py, kept as they are by generate.py and readback.py.
ZOO_DIRECTORY = "zoo"
# Written by tools/tokenizer_layouts.py, kept as they are by the other tools.
TOKENIZERS_DIRECTORY = "tokenizers"
# Written by tools/heads.py, kept as they are by the other tools.
HEADS_DIRECTORY = "heads"
# Written by tools/seq2seq.py, kept as they are by the other tools.
SEQ2SEQ_DIRECTORY = "seq2seq"
FILE_RULE = ("'files' lists every file under fixtures/, conversions/, models/, encoder/, readback/, zoo/, tokenizers/, heads/ and seq2seq/ (the data "
             "directories), sorted by path; paths are relative to golden/. MANIFEST.json itself, the documentation "
             "and the generator sources are not data; the generator sources are hashed under generator.sources for "
             "information only.")
READBACK_RULE = ("readback/ holds outputs of the reference run on checkpoints written by lsg-convert: each case "
                 "records the lsg-convert arguments (conversion) and the sha256 of the files the reference loaded "
                 "(model_files); written by 'python golden/tools/readback.py --lsg-convert BIN --record'")
ZOO_RULE = ("zoo/<case>/ holds a source checkpoint laid out like a real hub upload (stored files, zstd where that "
            "is smaller, or references to identical files elsewhere under golden/, or an exact transformation of "
            "one), the reference's conversion of it (case.json) and the reference encoder's outputs on it "
            "(encoder.safetensors.zst); written by 'cd golden && python -m tools.zoo' (see SCHEMA.md, zoo/)")
HEADS_RULE = ("heads/<case>.safetensors.zst holds the reference's outputs of one task head of one family (encoder "
              "golden layout, head and num_choices in the metadata), heads/models/<case>/ the reference's "
              "conversion it ran (its encoder shard shared by the family, heads/models/<family>-encoder/), heads/pipelines.json.zst what transformers' pipelines returned on the CamemBERT "
              "ones; written by 'cd golden && python -m tools.heads' (see SCHEMA.md, heads/)")
SEQ2SEQ_RULE = ("seq2seq/<case>.safetensors.zst holds the reference's encoder states and teacher-forced decoder "
                "logits of one LSG*ForConditionalGeneration call on models/lsg-{bart,mbart,barthez,pegasus}-tiny-512; "
                "written by 'cd golden && python -m tools.seq2seq' (see SCHEMA.md, seq2seq/)")


def write(root: Path, data_directories, fixtures, conversions, encoder_cases, readback_cases=None,
          zoo_cases=None, heads_cases=None, seq2seq_cases=None) -> None:
    """Writes MANIFEST.json. Without readback_cases, zoo_cases, heads_cases or seq2seq_cases, those of the existing
    manifest are kept."""
    here = Path(__file__).resolve().parent.parent
    if readback_cases is None:
        readback_cases = _kept_cases(root, here, READBACK_DIRECTORY, "readback_cases")
    if zoo_cases is None:
        zoo_cases = _kept_cases(root, here, ZOO_DIRECTORY, "zoo_cases")
    if heads_cases is None:
        heads_cases = _kept_cases(root, here, HEADS_DIRECTORY, "heads_cases")
    if seq2seq_cases is None:
        seq2seq_cases = _kept_cases(root, here, SEQ2SEQ_DIRECTORY, "seq2seq_cases")
    data_directories = tuple(data_directories) + tuple(
        name for name in (READBACK_DIRECTORY, ZOO_DIRECTORY, TOKENIZERS_DIRECTORY, HEADS_DIRECTORY, SEQ2SEQ_DIRECTORY)
        if name not in data_directories)
    files = []
    for directory in data_directories:
        if not (root / directory).is_dir():
            continue
        for path in common.relative_files(root / directory):
            relative = path.relative_to(root).as_posix()
            files.append({"path": relative, "sha256": common.sha256_file(path), "size": path.stat().st_size,
                          "kind": directory})
    files.sort(key=lambda entry: entry["path"])
    random_cases = [record["case"] for record in conversions if record["random_by_nature"]]
    manifest = {
        "format_version": 1,
        "rule": FILE_RULE,
        "command": "python golden/generate.py",
        "generator": {
            "sources": {name: common.sha256_file(here / name) for name in GENERATOR_SOURCES},
            "requirements": "golden/requirements.txt",
        },
        "reference": common.environment_versions(),
        "seeds": {
            "base_seed": common.BASE_SEED,
            "rule": "torch.manual_seed(base_seed + offset) before each random step; offsets are in the "
                    "fixture records, each conversion case.json and each encoder golden's metadata (seed)",
        },
        "tolerance": {"atol": common.ATOL},
        "zstd_level": common.ZSTD_LEVEL,
        "random_by_nature": {
            "conversions": random_cases,
            "rule": "tensors drawn at random by the reference (random_global_init rows, the padding rows of a "
                    "source with fewer than 512 positions, a freshly initialised pooler) are stored as statistics "
                    "and per-row hashes of their deterministic rows only; see tensors.json of each case",
        },
        "counts": {
            "fixtures": len(fixtures),
            "conversions": len(conversions),
            "encoder_cases": len(encoder_cases),
            "encoder_cases_by_family": _count_by(encoder_cases, "family"),
            "encoder_cases_by_sparsity_type": _count_by([r for r in encoder_cases if r["attention"] == "lsg"],
                                                        "sparsity_type"),
            "encoder_cases_with_lsh_projections": sum(1 for r in encoder_cases if r["lsh_projections"]),
            "readback_cases": len(readback_cases),
            "zoo_cases": len(zoo_cases),
            "zoo_cases_by_family": _count_by(zoo_cases, "family"),
            "zoo_cases_where_the_reference_fails": sum(1 for r in zoo_cases if r["reference_fails"]),
            "heads_cases": len(heads_cases),
            "seq2seq_cases": len(seq2seq_cases),
            "files": len(files),
            "bytes": sum(entry["size"] for entry in files),
        },
        "fixtures": fixtures,
        "encoder_cases": encoder_cases,
        "conversions": [{"case": r["case"], "random_by_nature": r["random_by_nature"]} for r in conversions],
        "readback_rule": READBACK_RULE,
        "readback_cases": readback_cases,
        "zoo_rule": ZOO_RULE,
        "zoo_command": "cd golden && python -m tools.zoo",
        "zoo_cases": zoo_cases,
        "heads_rule": HEADS_RULE,
        "heads_command": "cd golden && python -m tools.heads",
        "heads_cases": heads_cases,
        "seq2seq_rule": SEQ2SEQ_RULE,
        "seq2seq_command": "cd golden && python -m tools.seq2seq",
        "seq2seq_cases": seq2seq_cases,
        "files": files,
    }
    common.write_json(root / "MANIFEST.json", manifest)


def _kept_cases(root: Path, here: Path, directory: str, key: str) -> list:
    """The `key` records of root's manifest; a fresh tree (generate.py --out) gets golden/'s, files included."""
    previous = root / "MANIFEST.json"
    if not previous.exists():
        previous = here / "MANIFEST.json"
        if root.resolve() != here.resolve() and (here / directory).is_dir():
            shutil.copytree(here / directory, root / directory, dirs_exist_ok=True)
    return json.loads(previous.read_text()).get(key, []) if previous.exists() else []


def rewrite_zoo(root: Path, zoo_cases: list) -> None:
    """MANIFEST.json with the new zoo section and file list; every other section as it was."""
    manifest = json.loads((root / "MANIFEST.json").read_text())
    write(root, ("fixtures", "conversions", "models", "encoder"), manifest["fixtures"], manifest["conversions"],
          manifest["encoder_cases"], readback_cases=manifest.get("readback_cases", []), zoo_cases=zoo_cases)


def rewrite_heads(root: Path, heads_cases: list) -> None:
    """MANIFEST.json with the new heads section and file list; every other section as it was."""
    manifest = json.loads((root / "MANIFEST.json").read_text())
    write(root, ("fixtures", "conversions", "models", "encoder"), manifest["fixtures"], manifest["conversions"],
          manifest["encoder_cases"], readback_cases=manifest.get("readback_cases", []),
          zoo_cases=manifest.get("zoo_cases", []), heads_cases=heads_cases)


def rewrite_seq2seq(root: Path, seq2seq_cases: list) -> None:
    """MANIFEST.json with the new seq2seq section and file list; every other section as it was."""
    manifest = json.loads((root / "MANIFEST.json").read_text())
    write(root, ("fixtures", "conversions", "models", "encoder"), manifest["fixtures"], manifest["conversions"],
          manifest["encoder_cases"], readback_cases=manifest.get("readback_cases", []),
          zoo_cases=manifest.get("zoo_cases", []), heads_cases=manifest.get("heads_cases", []),
          seq2seq_cases=seq2seq_cases)


def _count_by(records, key) -> dict:
    counts: dict = {}
    for record in records:
        value = str(record[key])
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))
