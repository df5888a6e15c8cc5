#ifndef LSG_FUZZER_DRIVER_H
#define LSG_FUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// One fuzz input: return 0 (libFuzzer's contract).
typedef int (*FuzzerTestOneInput)(const uint8_t *data, size_t size);

/// Runs libFuzzer's command-line driver over `test` (libFuzzer's `LLVMFuzzerRunDriver`, linked in
/// by `-sanitize=fuzzer`). Swift executables need their own `main`, so they call this from it.
int FuzzerRunDriver(int argc, char **argv, FuzzerTestOneInput test);

#endif
