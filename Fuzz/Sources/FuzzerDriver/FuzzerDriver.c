#include "FuzzerDriver.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test)(const uint8_t *data, size_t size));

int FuzzerRunDriver(int argc, char **argv, FuzzerTestOneInput test) {
    return LLVMFuzzerRunDriver(&argc, &argv, test);
}
