"""Shared helpers: seeding, hashing, JSON and zstd output, safetensors listings."""
from __future__ import annotations

import hashlib
import json
import os
import random
import struct
from pathlib import Path

import numpy as np
import torch
import zstandard

# One base seed for everything; each random step seeds torch with a value derived from it.
BASE_SEED = 20240607
ZSTD_LEVEL = 19
ATOL = 1e-4


def configure_torch() -> None:
    """Single-threaded, deterministic CPU math so that reruns give identical bytes."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def seed_all(offset: int = 0) -> int:
    seed = BASE_SEED + offset
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    return seed


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def json_text(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json_text(value), encoding="utf-8")


def zstd_compress(data: bytes) -> bytes:
    # Single-threaded compressor with a fixed level: the frame is a pure function of the input.
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True, write_content_size=True, threads=0)
    return compressor.compress(data)


def zstd_decompress(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(data)


def write_zst(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zstd_compress(data))


def tensor_bytes(tensor: torch.Tensor) -> bytes:
    """Raw little-endian bytes of a tensor, as safetensors stores them."""
    return tensor.detach().contiguous().cpu().numpy().tobytes()


def read_safetensors_header(path: Path) -> tuple[int, dict]:
    """Parse the header by hand: (data section start, header dict)."""
    with open(path, "rb") as handle:
        (header_size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(header_size))
    return 8 + header_size, header


def safetensors_metadata(blob: bytes) -> dict:
    """The `__metadata__` of a safetensors image in memory."""
    (header_size,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8 : 8 + header_size]).get("__metadata__", {})


def safetensors_listing(path: Path) -> list[dict]:
    """Per tensor: name, dtype, shape, data offsets and sha256 of its raw bytes.

    The bytes are sliced from the file by the hand-parsed header and cross-checked with the
    safetensors library's own reader, so the listing never depends on one reader alone.
    """
    from safetensors import safe_open

    data_start, header = read_safetensors_header(path)
    raw = path.read_bytes()
    entries = []
    with safe_open(str(path), framework="pt") as reader:
        keys = set(reader.keys())
        names = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0])
        if set(names) != keys:
            raise RuntimeError(f"{path}: header names differ from safe_open keys")
        for name in names:
            info = header[name]
            begin, end = info["data_offsets"]
            chunk = raw[data_start + begin : data_start + end]
            library_bytes = tensor_bytes(reader.get_tensor(name))
            if chunk != library_bytes:
                raise RuntimeError(f"{path}: tensor {name} bytes differ between readers")
            entries.append(
                {
                    "name": name,
                    "dtype": info["dtype"],
                    "shape": list(info["shape"]),
                    "data_offsets": [begin, end],
                    "sha256": sha256_bytes(chunk),
                }
            )
    return entries


# The safetensors library's dtype order (larger first), used to lay out golden files the same way.
_DTYPE_ORDER = ["U64", "I64", "F64", "C64", "F32", "U32", "I32", "BF16", "F16", "U16", "I16", "I8", "U8", "BOOL"]
_DTYPE_NAMES = {torch.float32: "F32", torch.int64: "I64", torch.float64: "F64", torch.int32: "I32",
                torch.float16: "F16", torch.bfloat16: "BF16", torch.uint8: "U8", torch.int8: "I8", torch.bool: "BOOL"}


def safetensors_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> bytes:
    """Serialize like the safetensors library, but with `__metadata__` keys sorted.

    The library keeps metadata in a hash map, so its key order changes from run to run; a golden
    file must not. The result is checked by reading it back with the library.
    """
    from safetensors.torch import load

    names = sorted(tensors, key=lambda n: (_DTYPE_ORDER.index(_DTYPE_NAMES[tensors[n].dtype]), n))
    header: dict = {"__metadata__": dict(sorted(metadata.items()))}
    chunks = []
    offset = 0
    for name in names:
        data = tensor_bytes(tensors[name])
        header[name] = {"dtype": _DTYPE_NAMES[tensors[name].dtype], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    blob = struct.pack("<Q", len(text)) + text + b"".join(chunks)
    loaded = load(blob)
    if set(loaded) != set(tensors) or any(not torch.equal(loaded[n], tensors[n]) for n in tensors):
        raise RuntimeError("golden file does not read back identically")
    return blob


def relative_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def remove_tree(path: Path) -> None:
    if not path.exists():
        return
    for child in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if child.is_file() or child.is_symlink():
            child.unlink()
        else:
            child.rmdir()
    path.rmdir()


def environment_versions() -> dict:
    import platform

    import lsg_converter  # noqa: F401  (version comes from the installed metadata)
    import safetensors
    import sentencepiece
    import tokenizers
    import transformers
    from importlib.metadata import version

    return {
        "lsg-converter": version("lsg-converter"),
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "sentencepiece": sentencepiece.__version__,
        "tokenizers": tokenizers.__version__,
        "zstandard": zstandard.__version__,
        "python": platform.python_version(),
    }


def quiet_libraries() -> None:
    import logging
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    warnings.filterwarnings("ignore")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()


def tool_main(doc: str, directory: str, here: Path, generate, rewrite_manifest) -> int:
    """The whole main() of a golden tool that writes one directory: `--out DIR` writes DIR/<directory>
    only; without it golden/<directory> is rewritten and `rewrite_manifest(here, records)` updates
    MANIFEST.json (that section and the file list)."""
    import argparse

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help=f"write DIR/{directory} only, without touching golden/ or the manifest")
    options = parser.parse_args()
    log, root = start_tool(options.out, here)
    records = generate(root, log)
    size = sum(path.stat().st_size for path in relative_files(root / directory))
    log(f"{len(records)} {directory} cases, {size} bytes under {directory}/")
    if options.out is None:
        rewrite_manifest(here, records)
        log(f"MANIFEST.json rewritten ({directory} section and file list)")
    return 0


def start_tool(out, here: Path):
    """The start of a golden tool's main: quiet libraries, deterministic torch, a timed logger, the
    working directory at golden/, and the root to write (`out` when given, else golden/ itself)."""
    import time

    quiet_libraries()
    configure_torch()
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {message}", flush=True)

    os.chdir(here)
    root = out.resolve() if out else here
    root.mkdir(parents=True, exist_ok=True)
    return log, root
