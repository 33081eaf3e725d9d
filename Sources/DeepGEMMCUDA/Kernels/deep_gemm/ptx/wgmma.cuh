// Warpgroup MMA support in PTX: the async fences and groups, and shared-memory matrix descriptors
// for operands that TMA wrote with a 32/64/128-byte swizzle. The `wgmma.mma_async` instruction
// itself is generated on the host for each N (see WGMMAInstruction.swift), because its accumulator
// list must be spelled out operand by operand.
#pragma once

#include <deep_gemm/ptx/sync.cuh>

namespace dg::ptx {

DG_DEVICE void wgmma_fence() {
    asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
}

DG_DEVICE void wgmma_commit_group() {
    asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
}

template <int kPending>
DG_DEVICE void wgmma_wait_group() {
    asm volatile("wgmma.wait_group.sync.aligned %0;" :: "n"(kPending) : "memory");
}

/// Keeps the compiler from moving accumulator accesses across the asynchronous MMA.
DG_DEVICE void fence_operand(float& value) {
    asm volatile("" : "+f"(value) :: "memory");
}

/// Descriptor layout type for a TMA swizzle width in bytes (bits 62-63 of the descriptor).
template <u32 kSwizzleBytes>
constexpr u64 descriptor_layout_type() {
    static_assert(kSwizzleBytes == 32 or kSwizzleBytes == 64 or kSwizzleBytes == 128, "wgmma operands must be swizzled");
    return kSwizzleBytes == 128 ? 1 : (kSwizzleBytes == 64 ? 2 : 3);
}

/// One operand tile of a pipeline stage, [BLOCK_MN, BLOCK_K] elements of `kElementBytes` bytes
/// (2: BF16, 1: FP8), as TMA laid it out in shared memory.
///
/// K-major: rows of BLOCK_K elements (one swizzle width), 8-row groups 8 * swizzle bytes apart.
/// MN-major: the MN extent is cut into atoms of one swizzle width, each atom a [BLOCK_K, atom]
/// block of its own TMA box, 8-row K groups 8 * swizzle bytes apart.
template <Major kMajor, u32 BLOCK_MN, u32 BLOCK_K, u32 kSwizzleBytes, u32 kElementBytes = 2>
struct SmemOperand {
    static constexpr u32 kAtomElements = kSwizzleBytes / kElementBytes;
    static constexpr u32 kLeadingBytes = kMajor == Major::K ? 0 : BLOCK_K * kSwizzleBytes;
    static constexpr u32 kStrideBytes = 8 * kSwizzleBytes;

    static_assert(kMajor == Major::MN or BLOCK_K * kElementBytes == kSwizzleBytes, "K-major tiles hold one swizzle atom along K");
    static_assert(kMajor == Major::K or BLOCK_MN % kAtomElements == 0, "MN-major tiles hold whole atoms");

    /// Byte offset of element (mn, k) inside the tile, for `mn` at an atom boundary and `k` a multiple
    /// of the MMA K.
    static constexpr u32 offset_bytes(u32 mn, u32 k) {
        return (kMajor == Major::K ? mn * BLOCK_K + k : mn * BLOCK_K + k * kAtomElements) * kElementBytes;
    }

    /// The descriptor of the sub-matrix starting at `tile + offset`.
    DG_DEVICE static u64 descriptor(u32 tile_address, u32 offset) {
        const u32 start = tile_address + offset;
        return static_cast<u64>((start >> 4) & 0x3FFF)
            | (static_cast<u64>((kLeadingBytes >> 4) & 0x3FFF) << 16)
            | (static_cast<u64>((kStrideBytes >> 4) & 0x3FFF) << 32)
            | (descriptor_layout_type<kSwizzleBytes>() << 62);
    }
};

} // namespace dg::ptx
