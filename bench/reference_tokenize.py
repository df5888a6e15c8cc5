"""Times transformers' fast tokenizer (AutoTokenizer) on the lines of a text file, as `lsg-bench
tokenize` times ours: one call per line, then one call over all lines, each after an untimed
warm-up pass. Prints the same JSON line (ids_checksum: FNV-1a over every id).

Usage: python bench/reference_tokenize.py MODEL_DIRECTORY TEXT_FILE RUNS
"""
import json
import statistics
import sys
import time
import warnings


def main() -> None:
    directory, text_file, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    warnings.filterwarnings("ignore")
    from transformers import AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()
    tokenizer = AutoTokenizer.from_pretrained(directory)
    with open(text_file, encoding="utf-8", newline="\n") as handle:
        texts = handle.read().split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    encodings = [tokenizer(text)["input_ids"] for text in texts]
    tokenizer(texts)
    single, batch = [], []
    for _ in range(runs):
        start = time.perf_counter()
        for text in texts:
            tokenizer(text)
        single.append(time.perf_counter() - start)
        start = time.perf_counter()
        tokenizer(texts)
        batch.append(time.perf_counter() - start)
    checksum = 0xCBF29CE484222325
    for ids in encodings:
        for token_id in ids:
            checksum = ((checksum ^ token_id) * 0x100000001B3) % (1 << 64)
    print(json.dumps({"texts": len(texts), "characters": sum(len(text) for text in texts),
                      "tokens": sum(len(ids) for ids in encodings), "ids_checksum": format(checksum, "x"),
                      "single_seconds": statistics.median(single), "batch_seconds": statistics.median(batch)}))


if __name__ == "__main__":
    main()
