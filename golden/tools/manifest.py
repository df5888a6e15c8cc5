"""golden/MANIFEST.json: every data file with its sha256 and size, plus how it was made."""
from __future__ import annotations

from pathlib import Path

from . import common

GENERATOR_SOURCES = ("generate.py", "requirements.txt", "tools/__init__.py", "tools/common.py", "tools/corpus.py",
                     "tools/fixtures.py", "tools/conversions.py", "tools/encoder_cases.py", "tools/manifest.py")
FILE_RULE = ("'files' lists every file under fixtures/, conversions/, models/ and encoder/ (the data directories), "
             "sorted by path; paths are relative to golden/. MANIFEST.json itself, the documentation and the "
             "generator sources are not data; the generator sources are hashed under generator.sources for "
             "information only.")


def write(root: Path, data_directories, fixtures, conversions, encoder_cases) -> None:
    here = Path(__file__).resolve().parent.parent
    files = []
    for directory in data_directories:
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
            "files": len(files),
            "bytes": sum(entry["size"] for entry in files),
        },
        "fixtures": fixtures,
        "encoder_cases": encoder_cases,
        "conversions": [{"case": r["case"], "random_by_nature": r["random_by_nature"]} for r in conversions],
        "files": files,
    }
    common.write_json(root / "MANIFEST.json", manifest)


def _count_by(records, key) -> dict:
    counts: dict = {}
    for record in records:
        value = str(record[key])
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))
