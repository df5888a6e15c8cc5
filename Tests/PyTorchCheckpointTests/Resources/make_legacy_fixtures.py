"""Writes the legacy-format resources of PyTorchCheckpointTests with torch alone (no transformers):

    /work/refvenv/bin/python Tests/PyTorchCheckpointTests/Resources/make_legacy_fixtures.py

torch 2.2.2. Each file is torch.save(obj, path, _use_new_zipfile_serialization=False) unless
named *_zip.bin. The tensors are fixed (seed 0); the legacy storage keys are torch's storage
addresses, so they change from run to run. Outputs, all in legacy/ (make_fixtures.py clears
hostile/, so nothing goes there):
  state_dict.bin        f32, f16, bf16, int64 position_ids, a tied weight, views, strides
  state_dict_zip.bin    the same state dict in the zip format, to compare against
  sharded/              the same state dict as two legacy shards plus the index
  hostile/*.bin         legacy files with payloads the reader must refuse without running
"""
import collections
import json
import os
import pathlib

import torch

HERE = pathlib.Path(__file__).resolve().parent
# A payload that ran would create this file; the Swift tests check it never appears.
MARKER = "/tmp/lsg-convert-pytorch-fixture-payload-ran"


def state_dict():
    torch.manual_seed(0)
    weight = torch.randn(4, 3)
    tensors = collections.OrderedDict()
    tensors["embeddings.word_embeddings.weight"] = weight
    tensors["lm_head.decoder.weight"] = weight  # tied: the same tensor saved twice
    tensors["embeddings.position_ids"] = torch.arange(6).expand((1, -1))  # int64, stride (0, 1)
    tensors["row_slice"] = weight[1:]  # storage offset 3 into the shared storage
    tensors["transposed"] = weight.t()  # strides (1, 3)
    tensors["column_slice"] = weight[:, ::2]  # strides (3, 2)
    tensors["f16"] = torch.randn(2, 3).half()
    tensors["bf16"] = torch.randn(5).bfloat16()
    tensors["i32"] = torch.tensor([7, -8], dtype=torch.int32)
    tensors["bool"] = torch.tensor([True, False, True])
    tensors["scalar"] = torch.tensor(1.5)
    tensors["empty"] = torch.zeros(0, 2)
    tensors["parameter"] = torch.nn.Parameter(torch.ones(2, 2))
    # As Module.state_dict() leaves it: a BUILD of the OrderedDict's attributes in the pickle.
    tensors._metadata = collections.OrderedDict({"": {"version": 1}, "embeddings": {"version": 1}})
    return tensors


def legacy_save(obj, path):
    torch.save(obj, path, _use_new_zipfile_serialization=False)


def sharded(tensors, folder):
    folder.mkdir(parents=True, exist_ok=True)
    names = list(tensors)
    shards = {"pytorch_model-00001-of-00002.bin": names[:6], "pytorch_model-00002-of-00002.bin": names[6:]}
    weight_map = {}
    for shard, shard_names in shards.items():
        legacy_save(collections.OrderedDict((name, tensors[name]) for name in shard_names), folder / shard)
        weight_map.update({name: shard for name in shard_names})
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps(index, indent=2) + "\n")


class RunsShell:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


class RunsEval:
    def __reduce__(self):
        return (eval, (f"open({MARKER!r}, 'w').close()",))


def hostile(folder):
    folder.mkdir(exist_ok=True)
    weight = torch.ones(2)
    for name, payload, needle in (("os_system", RunsShell(), b"system"), ("builtins_eval", RunsEval(), b"eval")):
        path = folder / f"{name}.bin"
        legacy_save({"weight": weight, "payload": payload}, path)
        if needle not in path.read_bytes():
            raise SystemExit(f"{name}: the payload's global is not in the file")


if __name__ == "__main__":
    legacy = HERE / "legacy"
    legacy.mkdir(exist_ok=True)
    tensors = state_dict()
    legacy_save(tensors, legacy / "state_dict.bin")
    torch.save(tensors, legacy / "state_dict_zip.bin")
    sharded(tensors, legacy / "sharded")
    hostile(legacy / "hostile")
