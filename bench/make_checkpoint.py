"""Writes a camembert-base-size CamemBERT checkpoint with random weights (seeded) for benchmarks.

Usage: python bench/make_checkpoint.py OUT_DIR
The tokenizer files come from the bundled tiny CamemBERT (its ids fit inside the larger vocabulary).
"""
import shutil
import sys
from pathlib import Path

import torch
from transformers import CamembertConfig, CamembertForMaskedLM

REPOSITORY = Path(__file__).resolve().parent.parent
TOKENIZER_SOURCE = REPOSITORY / "golden" / "fixtures" / "camembert-tiny"
TOKENIZER_FILES = ["sentencepiece.bpe.model", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]


def main(out_dir: Path) -> None:
    torch.manual_seed(20261126)
    config = CamembertConfig(
        vocab_size=32005,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=514,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=5,
        eos_token_id=6,
        layer_norm_eps=1e-5,
        architectures=["CamembertForMaskedLM"],
    )
    model = CamembertForMaskedLM(config).eval()
    # Non-trivial biases and LayerNorm parameters, so a forgotten term would show in the outputs.
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name:
                parameter.add_(torch.randn_like(parameter) * 0.02)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    for name in TOKENIZER_FILES:
        shutil.copy(TOKENIZER_SOURCE / name, out_dir / name)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
