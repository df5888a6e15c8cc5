"""Writes the PyTorchCheckpointTests resources (run from anywhere with the reference venv):

    /work/refvenv/bin/python Tests/PyTorchCheckpointTests/Resources/make_fixtures.py

torch 2.2.2, transformers 4.36.2, safetensors 0.8.0. Deterministic: fixed seeds, fixed inputs.
Outputs, all in this folder:
  state_dict.bin / state_dict.safetensors   tiny state dict and the same tensors made contiguous
  camembert-tiny/pytorch_model.bin           golden/fixtures/camembert-tiny saved as .bin
  camembert-tiny-sharded/                    the same model as two .bin shards plus the index
  hostile/*.bin                              archives the reader must refuse, none may run code
"""
import collections
import io
import os
import pathlib
import pickle
import shutil
import subprocess
import sys
import zipfile

import torch
from safetensors.torch import save_file

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[2]
# A payload that ran would create this file; the Swift tests check it never appears.
MARKER = "/tmp/lsg-convert-pytorch-fixture-payload-ran"


def state_dict_fixture():
    torch.manual_seed(0)
    base = torch.randn(3, 4)
    tensors = collections.OrderedDict()
    tensors["f32"] = base
    tensors["tied"] = base  # same storage as f32
    tensors["transposed"] = base.t()  # non-contiguous view of the same storage
    tensors["row_slice"] = base[1:]  # storage offset 4
    tensors["column_slice"] = base[:, 1::2]  # strided view
    tensors["f16"] = torch.randn(2, 3).half()
    tensors["bf16"] = torch.randn(5).bfloat16()
    tensors["f64"] = torch.randn(2).double()
    tensors["i64"] = torch.arange(-3, 3, dtype=torch.int64).reshape(2, 3)
    tensors["i32"] = torch.tensor([7, -8], dtype=torch.int32)
    tensors["u8"] = torch.tensor([0, 255], dtype=torch.uint8)
    tensors["bool"] = torch.tensor([True, False, True])
    tensors["scalar"] = torch.tensor(2.5)
    tensors["empty"] = torch.zeros(0, 3)
    tensors["parameter"] = torch.nn.Parameter(torch.ones(2, 2))
    torch.save(tensors, HERE / "state_dict.bin")
    save_file({name: t.detach().contiguous().clone() for name, t in tensors.items()}, HERE / "state_dict.safetensors")


def camembert_fixtures():
    from transformers import AutoModelForMaskedLM

    model = AutoModelForMaskedLM.from_pretrained(REPO / "golden/fixtures/camembert-tiny")
    single = HERE / "camembert-tiny"
    sharded = HERE / "camembert-tiny-sharded"
    for folder in (single, sharded):
        shutil.rmtree(folder, ignore_errors=True)
    with_single = HERE / "tmp-single"
    with_sharded = HERE / "tmp-sharded"
    model.save_pretrained(with_single, safe_serialization=False)
    model.save_pretrained(with_sharded, safe_serialization=False, max_shard_size="100KB")
    single.mkdir()
    shutil.move(with_single / "pytorch_model.bin", single / "pytorch_model.bin")
    sharded.mkdir()
    for path in with_sharded.iterdir():
        if path.name.startswith("pytorch_model"):
            shutil.move(path, sharded / path.name)
    shutil.rmtree(with_single)
    shutil.rmtree(with_sharded)


def stored_zip(path, entries, prefix="archive"):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            archive.writestr(f"{prefix}/{name}" if prefix else name, data)


class RunsShell:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


class RunsEval:
    def __reduce__(self):
        return (eval, (f"open({MARKER!r}, 'w').close()",))


def payload_runs_in_python(blob):
    """Proves a payload is live: plain pickle.loads in a child process creates the marker."""
    code = "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"
    subprocess.run([sys.executable, "-c", code], input=blob, check=False, capture_output=True)
    ran = os.path.exists(MARKER)
    if ran:
        os.remove(MARKER)
    return ran


def hostile_fixtures():
    hostile = HERE / "hostile"
    shutil.rmtree(hostile, ignore_errors=True)
    hostile.mkdir()
    weight = torch.ones(2)

    for name, payload in (("reduce_os_system", RunsShell()), ("builtins_eval", RunsEval())):
        torch.save({"weight": weight, "payload": payload}, hostile / f"{name}.bin")
        with zipfile.ZipFile(hostile / f"{name}.bin") as archive:
            blob = archive.read(f"{name}/data.pkl")
        if not payload_runs_in_python(pickle.dumps(payload, protocol=2)) or b"system" not in blob and b"eval" not in blob:
            raise SystemExit(f"{name}: payload is not live")

    import datetime
    torch.save({"weight": weight, "when": datetime.date(2020, 1, 1)}, hostile / "unknown_global.bin")

    good = io.BytesIO()
    torch.save({"weight": weight}, good)
    good.seek(0)
    with zipfile.ZipFile(good) as archive:
        entries = {info.filename.split("/", 1)[1]: archive.read(info) for info in archive.infolist()}
    pickle_bytes = entries["data.pkl"]
    rest = [(name, data) for name, data in entries.items() if name != "data.pkl"]

    # PROTO 2, LONG_BINGET 0xFFFFFFF0, STOP
    stored_zip(hostile / "huge_memo_index.bin", [("data.pkl", b"\x80\x02j\xf0\xff\xff\xff.")] + rest)
    stored_zip(hostile / "truncated_pickle.bin", [("data.pkl", pickle_bytes[: len(pickle_bytes) // 2])] + rest)
    stored_zip(hostile / "escaping_entry.bin", [("data.pkl", pickle_bytes), ("../../escaped", b"x")] + rest)
    # The storage key in the pickle names a file outside the data folder.
    key = pickle_bytes.index(b"X\x01\x00\x00\x000")
    escaping_key = pickle_bytes[:key] + b"X\x04\x00\x00\x00../0" + pickle_bytes[key + 6 :]
    stored_zip(hostile / "escaping_storage_key.bin", [("data.pkl", escaping_key)] + rest)
    with zipfile.ZipFile(hostile / "compressed.bin", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(f"archive/{name}", data)


if __name__ == "__main__":
    state_dict_fixture()
    camembert_fixtures()
    hostile_fixtures()
