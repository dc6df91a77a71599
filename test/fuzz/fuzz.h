/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz.h - the libFuzzer entry points every fuzz_<parser>.c defines. */
#ifndef TG_FUZZ_H
#define TG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
