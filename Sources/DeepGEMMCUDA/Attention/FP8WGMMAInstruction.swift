/// Generates the C++ wrapper of one FP8 `wgmma.mma_async` shape (m64nNk32, FP32 += E4M3 x E4M3,
/// both operands K-major from shared memory), whose inline assembly lists all N/2 accumulators.
struct FP8WGMMAInstruction: Sendable, Hashable {
    /// The instruction's N (a multiple of 8, 8...256).
    var n: Int

    /// Accumulator floats per thread.
    var accumulatorCount: Int { n / 2 }

    /// `struct <name>` with `N`, `kNumAccum` and `mma(desc_a, desc_b, d, scale_d)`.
    func cppStruct(named name: String) -> String {
        precondition(n % 8 == 0 && n >= 8 && n <= 256, "invalid wgmma N \(n)")
        let count = accumulatorCount
        let registers = (0..<count).map { "%\($0)" }.joined(separator: ", ")
        let outputs = (0..<count).map { "\"+f\"(d[\($0)])" }.joined(separator: ", ")
        return """
        struct \(name) {
            static constexpr dg::u32 N = \(n);
            static constexpr dg::u32 kNumAccum = \(count);
            DG_DEVICE static void mma(dg::u64 desc_a, dg::u64 desc_b, float* d, dg::u32 scale_d) {
                asm volatile(
                    "{\\n.reg .pred p;\\nsetp.ne.b32 p, %\(count + 2), 0;\\n"
                    "wgmma.mma_async.sync.aligned.m64n\(n)k32.f32.e4m3.e4m3 {\(registers)}, %\(count), %\(count + 1), p, 1, 1;\\n}\\n"
                    : \(outputs)
                    : "l"(desc_a), "l"(desc_b), "r"(scale_d));
            }
        };
        """
    }
}
