/*
 * fuzz_main.c - the libFuzzer entry of one target: compiled once per
 * target with -DFUZZ_ONE=fuzz_<name>_one (tests/fuzz/fuzz.mk).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_ONE(data, size);
    return 0;
}
