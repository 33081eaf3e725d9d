// Tensor Memory Accelerator copies in PTX: 3-D tiled loads (optionally multicast to every CTA of
// the cluster) that complete on an mbarrier, and 3-D stores / reduce-adds in bulk groups.
#pragma once

#include <deep_gemm/ptx/sync.cuh>

namespace dg::ptx {

DG_DEVICE void prefetch_tensor_map(const TensorMap* map) {
    asm volatile("prefetch.tensormap [%0];" :: "l"(reinterpret_cast<u64>(map)) : "memory");
}

/// Loads the box at (c0, c1, c2) into `destination`; completion is counted in bytes on `barrier`.
DG_DEVICE void tma_load(const TensorMap* map, Barrier* barrier, void* destination, u32 c0, u32 c1, u32 c2) {
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5}], [%2];"
        :: "r"(shared_address(destination)), "l"(reinterpret_cast<u64>(map)), "r"(shared_address(barrier)),
           "r"(c0), "r"(c1), "r"(c2)
        : "memory");
}

/// As `tma_load`, writing the same box (and signalling the same barrier offset) in every CTA of `cta_mask`.
DG_DEVICE void tma_load_multicast(const TensorMap* map, Barrier* barrier, void* destination, u32 c0, u32 c1, u32 c2, u16 cta_mask) {
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster [%0], [%1, {%4, %5, %6}], [%2], %3;"
        :: "r"(shared_address(destination)), "l"(reinterpret_cast<u64>(map)), "r"(shared_address(barrier)),
           "h"(cta_mask), "r"(c0), "r"(c1), "r"(c2)
        : "memory");
}

/// Stores the shared-memory box at `source` to (c0, c1, c2); out-of-bounds parts are dropped.
DG_DEVICE void tma_store(const TensorMap* map, const void* source, u32 c0, u32 c1, u32 c2) {
    asm volatile(
        "cp.async.bulk.tensor.3d.global.shared::cta.bulk_group [%0, {%2, %3, %4}], [%1];"
        :: "l"(reinterpret_cast<u64>(map)), "r"(shared_address(source)), "r"(c0), "r"(c1), "r"(c2)
        : "memory");
}

/// Adds the shared-memory box at `source` into global memory at (c0, c1, c2), in the map's element type.
DG_DEVICE void tma_reduce_add(const TensorMap* map, const void* source, u32 c0, u32 c1, u32 c2) {
    asm volatile(
        "cp.reduce.async.bulk.tensor.3d.global.shared::cta.add.tile.bulk_group [%0, {%2, %3, %4}], [%1];"
        :: "l"(reinterpret_cast<u64>(map)), "r"(shared_address(source)), "r"(c0), "r"(c1), "r"(c2)
        : "memory");
}

DG_DEVICE void tma_commit_group() {
    asm volatile("cp.async.bulk.commit_group;" ::: "memory");
}

/// Waits until this thread's committed stores have finished reading shared memory.
DG_DEVICE void tma_wait_groups_read() {
    asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
}

/// Waits until this thread's committed stores are complete.
DG_DEVICE void tma_wait_groups() {
    asm volatile("cp.async.bulk.wait_group 0;" ::: "memory");
}

} // namespace dg::ptx
