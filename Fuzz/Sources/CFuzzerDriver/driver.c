#include "CFuzzerDriver.h"

#include <stddef.h>
#include <stdint.h>

/* Defined by each fuzz target (`@_cdecl("LLVMFuzzerTestOneInput")`). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* libFuzzer's entry for programs that bring their own main (compiler-rt, FuzzerDriver.cpp). */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

int deepgemm_fuzzer_run(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
