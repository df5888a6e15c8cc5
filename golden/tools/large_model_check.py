#!/usr/bin/env python3
"""Large-model check (not run in CI): a camembert-base-size model with random weights, converted
to 4096 positions by the reference, encodes 4096 tokens with our encoder within 1e-3 of the reference.

    python golden/tools/large_model_check.py --work /tmp/lsg-large [--lsg-convert .build/release/lsg-convert]

Writes into --work (outside the repository; about 0.5 GB): the random source model, the reference's
4096 conversion, and a golden file with the reference's last_hidden_state for one row of 4096
tokens. With --lsg-convert, runs `lsg-convert validate MODEL --golden FILE --atol 1e-3` under
/usr/bin/time and prints its report, peak memory and wall time.

With `norm` sparsity (the default) it also writes a second golden with the reference's sparse
selections (`norm.selection.<layer>`), and validates against it too: `norm` keeps the keys of
largest norm, and some of those choices are float32 near-ties that rounding alone decides (see
--noise-floor), so the replayed run shows how far the rest of the computation is from the reference.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from tools import common  # noqa: E402

BASE_SIZE = dict(vocab_size=32005, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072, max_position_embeddings=514, type_vocab_size=1, pad_token_id=1,
                 layer_norm_eps=1e-5, initializer_range=0.02)
ATOL = 1e-3


def build_source(directory: Path) -> None:
    from transformers import AutoTokenizer, CamembertConfig, CamembertForMaskedLM

    from tools import fixtures

    common.seed_all(9000)
    model = CamembertForMaskedLM(CamembertConfig(**BASE_SIZE)).eval()
    fixtures.make_nontrivial(model)
    model.save_pretrained(str(directory), safe_serialization=True)
    # The tiny CamemBERT tokenizer: the converter only reads its bos and mask ids (5 and 256).
    AutoTokenizer.from_pretrained(str(HERE / "fixtures" / "camembert-tiny")).save_pretrained(str(directory))


def convert(source: Path, target: Path, length: int) -> None:
    from lsg_converter import LSGConverter

    common.seed_all(9001)
    model, tokenizer = LSGConverter(max_sequence_length=length).convert_from_pretrained(str(source))
    model.save_pretrained(str(target), safe_serialization=True)
    tokenizer.save_pretrained(str(target))
    for leftover in target.glob("modeling_*.py"):
        leftover.unlink()


def recording_norm_selections(model) -> list:
    """Makes every `norm` attention layer keep the token indices it gathers; returns the list they
    are appended to, one [batch, heads, chunks x keep] tensor per call (layer order)."""
    import torch

    recorded = []
    for module in model.modules():
        if getattr(module, "sparsity_type", None) != "norm" or not hasattr(module, "get_sparse_elements"):
            continue

        def selecting(queries, keys, values, mask, select=module.get_sparse_elements):
            gathered = []
            gather = torch.Tensor.gather

            def spy(tensor, dim, index, *args, **kwargs):
                if not gathered:  # the first gather takes the keys: index [batch, heads, kept, head_dim]
                    gathered.append(index[..., 0].clone())
                return gather(tensor, dim, index, *args, **kwargs)

            torch.Tensor.gather = spy
            try:
                result = select(queries, keys, values, mask)
            finally:
                torch.Tensor.gather = gather
            recorded.extend(gathered)
            return result

        module.get_sparse_elements = selecting
    return recorded


def record_golden(model_dir: Path, golden: Path, length: int, overrides: dict, replay_golden: Path | None = None) -> float:
    import torch
    from lsg_converter.camembert.modeling_lsg_camembert import LSGCamembertModel

    model = LSGCamembertModel.from_pretrained(str(model_dir), add_pooling_layer=False, **overrides).eval()
    selections = recording_norm_selections(model) if replay_golden else []
    generator = torch.Generator().manual_seed(common.BASE_SEED + 9002)
    input_ids = torch.randint(7, 256, (1, length), generator=generator)
    input_ids[0, 0], input_ids[0, -1] = 5, 6
    attention_mask = torch.ones_like(input_ids)
    started = time.monotonic()
    with torch.no_grad():
        hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    seconds = time.monotonic() - started
    metadata = {
        "format_version": "1", "case": golden.name[: -len(".safetensors.zst")], "family": "camembert",
        "model": str(model_dir), "model_class": "LSGCamembertModel", "attention": "lsg", "overrides": json.dumps(overrides, sort_keys=True),
        "head": "base", "shape": "max", "lengths": json.dumps([length]), "atol": str(ATOL),
        "compare": "positions where attention_mask is 1", "lsh_projections": "0",
        "seed": str(common.BASE_SEED + 9002), "generator": "golden/tools/large_model_check.py",
    }
    tensors = {"input_ids": input_ids, "attention_mask": attention_mask,
               "expected.last_hidden_state": hidden.contiguous()}
    common.write_zst(golden, common.safetensors_bytes(tensors, metadata))
    if replay_golden and selections:
        tensors.update({f"norm.selection.{layer}": indices.contiguous() for layer, indices in enumerate(selections)})
        metadata["case"] = replay_golden.name[: -len(".safetensors.zst")]
        common.write_zst(replay_golden, common.safetensors_bytes(tensors, metadata))
    return seconds


def reference_noise_floor(model_dir: Path, golden: Path, overrides: dict) -> float:
    """How far the reference moves when every weight gets noise of 1e-6 x its tensor's mean |w|.

    `norm` sparsity picks the top keys by norm; with 4096 tokens and 12 layers some choices are so
    close that float32 rounding alone decides them, so a correct encoder can differ by this much.
    """
    import torch
    from lsg_converter.camembert.modeling_lsg_camembert import LSGCamembertModel
    from safetensors.torch import load

    tensors = load(common.zstd_decompress(golden.read_bytes()))
    model = LSGCamembertModel.from_pretrained(str(model_dir), add_pooling_layer=False, **overrides).eval()
    common.seed_all(9003)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(1e-6 * parameter.abs().mean() * torch.randn_like(parameter))
        hidden = model(input_ids=tensors["input_ids"], attention_mask=tensors["attention_mask"]).last_hidden_state
    return float((hidden - tensors["expected.last_hidden_state"]).abs().max())


def run_ours(binary: Path, model_dir: Path, golden: Path) -> int:
    command = ["/usr/bin/time", "-v", str(binary), "validate", str(model_dir), "--golden", str(golden),
               "--atol", str(ATOL)]
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    print(result.stdout)
    for line in result.stderr.splitlines():
        if "Maximum resident set size" in line or "Elapsed (wall clock)" in line or not line.startswith("\t"):
            print(line.strip())
    return result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="scratch directory outside the repository")
    parser.add_argument("--lsg-convert", type=Path, help="our binary; without it only the reference side runs")
    parser.add_argument("--length", type=int, default=4096)
    parser.add_argument("--sparsity-type", help="override the converted model's sparsity type (default: norm)")
    parser.add_argument("--noise-floor", action="store_true",
                        help="also report the reference's own change under 1e-6 relative weight noise")
    options = parser.parse_args()
    common.quiet_libraries()
    common.configure_torch()

    work = options.work.resolve()
    if HERE in work.parents or work == HERE:
        parser.error("--work must be outside golden/")
    source, converted = work / "camembert-base-random", work / f"lsg-camembert-base-random-{options.length}"
    overrides = {"sparsity_type": options.sparsity_type} if options.sparsity_type else {}
    suffix = f"-{options.sparsity_type}" if options.sparsity_type else ""
    golden = work / f"camembert-base-random-{options.length}{suffix}.safetensors.zst"
    replay_golden = None
    if options.sparsity_type in (None, "norm"):
        replay_golden = work / f"camembert-base-random-{options.length}{suffix}-replayed-norm.safetensors.zst"
    for path in (source, converted):
        shutil.rmtree(path, ignore_errors=True)
    build_source(source)
    convert(source, converted, options.length)
    seconds = record_golden(converted, golden, options.length, overrides, replay_golden)
    print(f"reference: {options.length} tokens in {seconds:.1f} s (1 thread); golden {golden}", flush=True)
    if options.noise_floor:
        print(f"reference noise floor: max |diff| {reference_noise_floor(converted, golden, overrides):.3g} "
              "with 1e-6 relative weight noise", flush=True)
    if not options.lsg_convert:
        return 0
    status = run_ours(options.lsg_convert, converted, golden)
    if replay_golden:
        print("with the reference's norm selections replayed:", flush=True)
        status = max(status, run_ours(options.lsg_convert, converted, replay_golden))
    return status


if __name__ == "__main__":
    sys.exit(main())
