"""The reference LSG forward pass, timed in process.

Usage: python bench/reference_encode.py MODEL_DIR INPUT.safetensors OUTPUT.safetensors RUNS
Loads the reference LSG classes, runs `RUNS` forward passes on the inputs (after one warm-up pass),
prints one JSON line {"seconds": [...], "peak_rss_bytes": N} and writes last_hidden_state.
"""
import json
import resource
import sys
import time

import torch
from lsg_converter.camembert.modeling_lsg_camembert import LSGCamembertModel
from safetensors.torch import load_file, save_file

model_dir, input_path, output_path, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.set_num_threads(2)
model = LSGCamembertModel.from_pretrained(model_dir).eval()
inputs = load_file(input_path)
arguments = {"input_ids": inputs["input_ids"], "attention_mask": inputs.get("attention_mask")}
seconds = []
with torch.no_grad():
    for run in range(runs + 1):
        start = time.perf_counter()
        hidden = model(**arguments).last_hidden_state
        if run > 0:
            seconds.append(time.perf_counter() - start)
save_file({"last_hidden_state": hidden.contiguous()}, output_path)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak_rss_bytes": peak}))
