#!/usr/bin/env python3
"""Regenerate every golden file under golden/ from the Python reference.

Usage (from anywhere, inside the reference virtual environment):
    python golden/generate.py            # rewrite fixtures, conversions, models, encoder goldens, MANIFEST.json
    python golden/generate.py --out DIR  # write the same tree into DIR (used for the determinism check)
See golden/README.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tools import common  # noqa: E402

DATA_DIRECTORIES = ("fixtures", "conversions", "models", "encoder")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE, help="golden directory to write (default: this one)")
    options = parser.parse_args()

    common.quiet_libraries()
    common.configure_torch()
    from tools import conversions, encoder_cases, fixtures, manifest

    out = options.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    # Every path written below (and every path the reference records, such as config.json's
    # _name_or_path) is relative to the golden directory, so the output does not depend on where
    # the repository lives.
    os.chdir(out)
    for name in DATA_DIRECTORIES:
        common.remove_tree(Path(name))

    started = time.monotonic()
    log = lambda message: print(f"[{time.monotonic() - started:7.1f}s] {message}", flush=True)  # noqa: E731
    fixture_records = fixtures.generate(log)
    conversion_records = conversions.generate(log)
    encoder_records = encoder_cases.generate(log)
    manifest.write(Path("."), DATA_DIRECTORIES, fixture_records, conversion_records, encoder_records)
    log("MANIFEST.json written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
