// Synchronisation primitives in PTX: transaction mbarriers (local and cluster-remote arrivals),
// cluster barriers, named barriers, warp election, register reallocation and programmatic
// dependent launch.
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg::ptx {

/// The 32-bit shared-window address of a shared-memory pointer.
DG_DEVICE u32 shared_address(const void* pointer) {
    return static_cast<u32>(__cvta_generic_to_shared(pointer));
}

DG_DEVICE u32 lane_index() {
    u32 lane;
    asm volatile("mov.u32 %0, %%laneid;" : "=r"(lane));
    return lane;
}

DG_DEVICE u32 cluster_cta_rank() {
    u32 rank;
    asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(rank));
    return rank;
}

/// True in exactly one active lane of the warp.
DG_DEVICE bool elect_one() {
    u32 elected = 0;
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "elect.sync _|p, 0xffffffff;\n"
        "selp.u32 %0, 1, 0, p;\n"
        "}\n"
        : "=r"(elected));
    return elected != 0;
}

/// A 64-bit mbarrier living in shared memory.
struct Barrier {
    u64 state;

    DG_DEVICE void init(u32 arrivals) {
        asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(shared_address(this)), "r"(arrivals) : "memory");
    }

    /// Waits until the phase with the given parity has completed.
    DG_DEVICE void wait(u32 parity) {
        const u32 address = shared_address(this);
        u32 done = 0;
        do {
            asm volatile(
                "{\n"
                ".reg .pred p;\n"
                "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                "selp.u32 %0, 1, 0, p;\n"
                "}\n"
                : "=r"(done) : "r"(address), "r"(parity) : "memory");
        } while (done == 0);
    }

    DG_DEVICE void arrive() {
        asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" :: "r"(shared_address(this)) : "memory");
    }

    /// Arrives on the barrier at the same offset in CTA `cta_rank` of the cluster.
    DG_DEVICE void arrive_in_cta(u32 cta_rank) {
        asm volatile(
            "{\n"
            ".reg .b32 remote;\n"
            "mapa.shared::cluster.u32 remote, %0, %1;\n"
            "mbarrier.arrive.release.cluster.shared::cluster.b64 _, [remote];\n"
            "}\n"
            :: "r"(shared_address(this)), "r"(cta_rank) : "memory");
    }

    /// Arrives and announces `bytes` of asynchronous (TMA) transactions for the current phase.
    DG_DEVICE void arrive_expect_bytes(u32 bytes) {
        asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(shared_address(this)), "r"(bytes) : "memory");
    }
};

/// Makes barrier initialisation visible to the other CTAs of the cluster and the async proxy.
DG_DEVICE void fence_barrier_init() {
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

/// Every thread of every CTA in the cluster meets here.
DG_DEVICE void cluster_sync() {
    asm volatile("barrier.cluster.arrive.release;\nbarrier.cluster.wait.acquire;" ::: "memory");
}

/// Synchronises `threads` threads (a multiple of 32) on hardware barrier `id` (1..15).
DG_DEVICE void named_barrier_sync(u32 id, u32 threads) {
    asm volatile("bar.sync %0, %1;" :: "r"(id), "r"(threads) : "memory");
}

/// Orders generic-proxy shared-memory writes before later async-proxy (TMA) reads.
DG_DEVICE void fence_async_shared() {
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

template <u32 kRegisters>
DG_DEVICE void increase_registers() {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" :: "n"(kRegisters));
}

template <u32 kRegisters>
DG_DEVICE void decrease_registers() {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" :: "n"(kRegisters));
}

/// With programmatic dependent launch, waits for the previous kernel in the stream; otherwise a no-op.
DG_DEVICE void wait_for_previous_grid() {
    asm volatile("griddepcontrol.wait;" ::: "memory");
}

} // namespace dg::ptx
