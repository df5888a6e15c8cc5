"""Generates the SafeTensorsTests resources with the reference Python stack.

Run from this directory with the reference venv (safetensors 0.8.0, torch 2.2.2, numpy<2,
transformers 4.36.2):

    /work/refvenv/bin/python generate.py

Outputs:
  reference.safetensors   tensors of several dtypes written by safetensors.torch.save_file
  sharded/                a two-shard checkpoint split by transformers' shard_checkpoint, each
                          shard written by save_file, plus model.safetensors.index.json as
                          save_pretrained writes it
  float_vectors.json      f32 bit patterns with their f16 bits (numpy and torch) and bf16 bits
                          (torch); "nan" marks inputs whose results only need to be NaN
  python_json.json        JSON documents with Python's json.dumps(indent=2, sort_keys=True)
                          output (ensure_ascii on and off), and f64 bit patterns with repr()
"""

import json
import os
import struct

import numpy as np
import torch
from safetensors.torch import save_file
from transformers.modeling_utils import shard_checkpoint


def reference_tensors():
    return {
        "encoder.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 7,
        "encoder.bias": torch.tensor([0.5, -1.25, 3.0e-8], dtype=torch.float32),
        "half": torch.tensor([1.0, -2.5, 65504.0, 6.0e-8, 0.1], dtype=torch.float16),
        "brain": torch.tensor([[1.0, -0.3], [1.0e30, -1.0e-30]], dtype=torch.bfloat16),
        "ids": torch.tensor([0, -1, 9007199254740993], dtype=torch.int64),
        "counts": torch.tensor([7, -7], dtype=torch.int32),
        "double": torch.tensor([0.1, -2.0], dtype=torch.float64),
        "bytes": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "signed_bytes": torch.tensor([-128, 127], dtype=torch.int8),
        "shorts": torch.tensor([-300], dtype=torch.int16),
        "mask": torch.tensor([True, False, True], dtype=torch.bool),
        "scalar": torch.tensor(2.0, dtype=torch.float32),
        "empty": torch.zeros((0, 4), dtype=torch.float32),
    }


def write_reference():
    save_file(reference_tensors(), "reference.safetensors", metadata={"format": "pt"})


def sharded_tensors():
    # Insertion order matters: shard_checkpoint splits greedily in this order.
    return {
        "embeddings.weight": torch.arange(12, dtype=torch.float32).reshape(4, 3),  # 48 bytes
        "layer.0.weight": torch.full((2, 2), 0.25, dtype=torch.float32),  # 16 bytes
        "layer.0.bias": torch.tensor([1.0, 2.0], dtype=torch.float16),  # 4 bytes
        "layer.1.weight": torch.full((3, 3), -1.5, dtype=torch.float32),  # 36 bytes
        "position_ids": torch.arange(5, dtype=torch.int64).reshape(1, 5),  # 40 bytes
    }


def write_sharded():
    os.makedirs("sharded", exist_ok=True)
    shards, index = shard_checkpoint(sharded_tensors(), max_shard_size=64, weights_name="model.safetensors")
    for file_name, shard in shards.items():
        save_file(shard, os.path.join("sharded", file_name), metadata={"format": "pt"})
    with open(os.path.join("sharded", "model.safetensors.index.json"), "w", encoding="utf-8") as index_file:
        index_file.write(json.dumps(index, indent=2, sort_keys=True) + "\n")


def f32(bits):
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def float_inputs():
    special = [
        0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3.0, 2.0 / 3.0, 65504.0, 65519.99, 65520.0, -65520.0, 1.0e5,
        float("inf"), float("-inf"), 3.4028234663852886e38, 1.0e-40, -1.0e-45, 6.0e-8, 1.0e-8, 2.0 ** -15,
    ]
    bits = [struct.unpack("<I", struct.pack("<f", value))[0] for value in special]
    bits += [
        0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FBFFFFF, 0x7FC12345,  # NaNs (quiet, signalling, payloads)
        0x3F801000, 0x3F803000, 0x3F802000, 0x3F801001,  # f16 ties near 1: even down, even up, exact, above
        0x33800000, 0x33000000, 0x33400000, 0x33C00000,  # 2^-24, 2^-25 (tie to 0), 1.5*2^-25, 3*2^-25
        0x387FE000, 0x387FF000, 0x38800000, 0x38000000,  # around the smallest f16 normal 2^-14
        0x3F808000, 0x3F818000, 0x3F810000, 0x3F808001,  # bf16 ties near 1: down, up, exact, above
        0x7F7FFFFF, 0x7F7F8000, 0x7F7F7FFF,  # bf16 overflow to inf and the last finite tie
        0x00000001, 0x00008000, 0x00018000, 0x807FFFFF,  # f32 subnormals
        0x477FEFFF, 0x477FF000, 0x477FE000,  # just below / at f16 overflow tie, largest f16
    ]
    generator = np.random.default_rng(20261126)
    scaled = generator.standard_normal(150) * (10.0 ** generator.integers(-9, 6, size=150))
    bits += [int(b) for b in scaled.astype(np.float32).view(np.uint32)]
    random_bits = generator.integers(0, 2 ** 32, size=200, dtype=np.uint64).astype(np.uint32)
    bits += [int(b) for b in random_bits]
    return bits


def write_float_vectors():
    bits = float_inputs()
    values = np.array(bits, dtype=np.uint32).view(np.float32)
    tensor = torch.from_numpy(values.copy())
    with np.errstate(over="ignore", invalid="ignore"):
        numpy_f16 = values.astype(np.float16).view(np.uint16)
    torch_f16 = tensor.to(torch.float16).view(torch.int16).numpy().view(np.uint16)
    torch_bf16 = tensor.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    vectors = []
    for index, bit_pattern in enumerate(bits):
        vectors.append({
            "f32": bit_pattern,
            "nan": bool(np.isnan(values[index])),
            "f16_numpy": int(numpy_f16[index]),
            "f16_torch": int(torch_f16[index]),
            "bf16_torch": int(torch_bf16[index]),
        })
    document = {
        "generator": "generate.py",
        "versions": {"numpy": np.__version__, "torch": torch.__version__},
        "vectors": vectors,
    }
    with open("float_vectors.json", "w", encoding="utf-8") as output:
        json.dump(document, output, indent=0, sort_keys=True)
        output.write("\n")


JSON_DOCUMENTS = [
    '{}',
    '[]',
    '{"b": 1, "a": [1, 2.5, -0.0, 1e-05, 1E5, 3.0, true, false, null], "c": {}, "d": []}',
    '{"layer_norm_eps": 1e-12, "initializer_range": 0.02, "hidden_dropout_prob": 0.1, "vocab_size": 32005}',
    '{"nested": {"z": {"y": [[], [{}], [1, [2, [3]]]]}, "A": "x"}, "big": 9223372036854775807, "neg": -9223372036854775808}',
    r'{"text": "caf\u00e9 \u2028 \ud83d\ude00 \u007f \u0001 \t\n\r\b\f \"q\" \\\\ /", "\u00e9": 1, "e": 2, "Z": 3}',
    '{"floats": [1e16, 1e15, 123456789012345678.0, 0.0001, 0.00012, 5e-324, 1.7976931348623157e308, 2.5e-7, 1e22, 100.0]}',
    '"just a string"',
    '-12',
]


def float_repr_inputs():
    special = [
        1e-05, 0.1, 3.0, 1e16, 1e15, 9999999999999998.0, 123456789012345678.0, 1e-4, 0.00012, 5e-324,
        1.7976931348623157e308, -0.0, 0.0, 2.5e-7, 1e22, 1e21, 100.0, 0.3, 2.0 / 3.0, 1e-12, 0.02,
        1.0000000000000002, 4.35, 1234.5678, -1e-100, 2.2250738585072014e-308,
    ]
    generator = np.random.default_rng(7)
    mantissas = generator.standard_normal(200)
    exponents = generator.integers(-30, 30, size=200)
    special += [float(m * 10.0 ** int(e)) for m, e in zip(mantissas, exponents)]
    special += [float(v) for v in generator.standard_normal(50).astype(np.float32)]
    return special


def write_python_json():
    documents = []
    for text in JSON_DOCUMENTS:
        value = json.loads(text)
        documents.append({
            "input": text,
            "dumps": json.dumps(value, indent=2, sort_keys=True),
            "dumps_unicode": json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False),
        })
    reprs = [
        {"bits": "%016x" % struct.unpack("<Q", struct.pack("<d", value))[0], "repr": repr(value)}
        for value in float_repr_inputs()
    ]
    with open("python_json.json", "w", encoding="utf-8") as output:
        json.dump({"documents": documents, "float_reprs": reprs}, output, indent=0, sort_keys=True)
        output.write("\n")


if __name__ == "__main__":
    write_reference()
    write_sharded()
    write_float_vectors()
    write_python_json()
