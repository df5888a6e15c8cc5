#!/usr/bin/env python3
"""Read-back check (not run in CI): checkpoints written by OUR converter, loaded by the reference.

    python golden/tools/readback.py --lsg-convert .build/debug/lsg-convert [--work /tmp/lsg-readback]
                                    [--record DIR]

For each family, converts the tiny fixture with `lsg-convert` to the length of the golden LSG model
(camembert 1024, roberta 512, xlm-roberta 512, bert 640), loads the output with the reference's
LSG classes (`from_pretrained(ours, **overrides)`), replays every LSG encoder golden of that family
(inputs, overrides and, for lsh, the recorded projections in place of torch.randn) and compares with
the recorded outputs (atol from each golden). Also reports whether our weights file is byte-identical
to the reference's. With --record DIR, writes each read-back run as a golden file (same schema,
`model` = our output directory) for `lsg-convert validate OURS --golden FILE`.
Exit status 1 when any output differs by more than the tolerance.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from tools import common  # noqa: E402

LENGTHS = {"camembert": 1024, "roberta": 512, "xlm-roberta": 512, "bert": 640}


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


def convert_with_ours(binary: Path, fixture: str, length: int, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    command = [str(binary), "--from", fixture, "--max-length", str(length), "--out", str(out), "--no-validate"]
    result = subprocess.run(command, cwd=HERE, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


def replay(golden_path: Path, model_dir: Path):
    import importlib

    import torch
    from safetensors.torch import load

    from tools import encoder_cases

    blob = common.zstd_decompress(golden_path.read_bytes())
    tensors = load(blob)
    metadata = common.safetensors_metadata(blob)
    family = encoder_cases.FAMILIES[metadata["family"]]
    module = importlib.import_module(family.module)
    cls = getattr(module, metadata["model_class"])
    kwargs = json.loads(metadata["overrides"])
    if metadata["head"] == "base" and metadata["family"] != "bert":
        kwargs["add_pooling_layer"] = False
    model = cls.from_pretrained(str(model_dir), **kwargs).eval()
    inputs = {k: tensors[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in tensors}
    projections = [tensors[f"lsh.projection.{k}"] for k in range(int(metadata["lsh_projections"]))]
    captured = {}
    if metadata["head"] == "mlm":
        base = getattr(model, "bert", None) or getattr(model, "roberta")
        base.register_forward_hook(lambda module, args, output: captured.setdefault("base", output))
    with torch.no_grad(), RandnReplay(projections) as replayer:
        output = model(**inputs, return_dict=True)
    if replayer.used != len(projections):
        raise RuntimeError(f"{golden_path.name}: {replayer.used} of {len(projections)} projections used")
    outputs = {"expected.last_hidden_state": (captured["base"] if captured else output).last_hidden_state}
    if metadata["head"] == "mlm":
        outputs["expected.logits"] = output.logits
    elif getattr(output, "pooler_output", None) is not None:
        outputs["expected.pooler_output"] = output.pooler_output
    return tensors, metadata, outputs


def max_difference(expected, actual, attention_mask) -> float:
    """Token outputs ([B, L, X]) only where the mask is 1; pooled outputs everywhere."""
    difference = (expected - actual).abs()
    if difference.dim() == 3:
        difference = difference[attention_mask.bool()]
    return float(difference.max()) if difference.numel() else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lsg-convert", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/lsg-readback"))
    parser.add_argument("--record", type=Path, help="write the read-back runs as golden files here")
    options = parser.parse_args()
    common.quiet_libraries()
    common.configure_torch()
    from tools import encoder_cases

    manifest = json.loads((HERE / "MANIFEST.json").read_text())
    failures = 0
    for family_name, length in LENGTHS.items():
        family = encoder_cases.FAMILIES[family_name]
        ours = options.work.resolve() / f"ours-{Path(family.source_model).name}-{length}"
        convert_with_ours(options.lsg_convert.resolve(), family.source_model, length, ours)
        same = common.sha256_file(ours / "model.safetensors") == common.sha256_file(
            HERE / family.lsg_model / "model.safetensors")
        print(f"{family_name}: {ours} (model.safetensors {'byte-identical to' if same else 'DIFFERS from'} "
              f"{family.lsg_model})")
        for entry in manifest["encoder_cases"]:
            if entry["family"] != family_name or entry["attention"] != "lsg":
                continue
            path = HERE / entry["path"]
            tensors, metadata, outputs = replay(path, ours)
            atol = float(metadata["atol"])
            worst = max(max_difference(tensors[name], value, tensors["attention_mask"])
                        for name, value in outputs.items())
            status = "ok" if worst <= atol else "FAIL"
            failures += status == "FAIL"
            print(f"  {status} {entry['case']}: max |diff| {worst:.3g} (atol {atol:g})")
            if options.record:
                recorded = {k: v for k, v in tensors.items() if not k.startswith("expected.")}
                recorded.update({k: v.contiguous() for k, v in outputs.items()})
                metadata = dict(metadata, model=str(ours), case=f"readback-{entry['case']}",
                                generator="golden/tools/readback.py")
                common.write_zst(options.record / f"readback-{entry['case']}.safetensors.zst",
                                 common.safetensors_bytes(recorded, metadata))
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
