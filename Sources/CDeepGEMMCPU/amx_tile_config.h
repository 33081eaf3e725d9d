// The operand of `ldtilecfg`, shared by the AMX GEMM (gemm_amx.c) and indexer (mqa_amx.c) kernels.
#pragma once
#include <stdint.h>
#include <string.h>

/// The 64-byte operand of `ldtilecfg`: the palette, then per tile its bytes per row and rows.
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
} dg_amx_tile_config;

/// A palette-1 configuration with every tile unused (no rows, no bytes) until the caller sizes it.
static inline dg_amx_tile_config dg_amx_palette1(void) {
    dg_amx_tile_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    return config;
}
