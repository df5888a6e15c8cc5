"""The reference conversion, as one process: python bench/reference_convert.py SRC OUT MAX_LENGTH"""
import sys

import torch
from lsg_converter import LSGConverter

source, out, max_length = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.manual_seed(0)
model, tokenizer = LSGConverter(max_sequence_length=max_length).convert_from_pretrained(source)
model.save_pretrained(out)
tokenizer.save_pretrained(out)
