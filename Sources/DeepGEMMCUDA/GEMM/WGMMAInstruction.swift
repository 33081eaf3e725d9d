/// Generates the C++ wrapper of one `wgmma.mma_async` shape (m64nNk16, FP32 += BF16 x BF16), whose
/// inline assembly must list all N/2 accumulator registers of a thread one by one.
struct WGMMAInstruction: Sendable, Hashable {
    /// The instruction's N (a multiple of 8, 8...256).
    var n: Int
    /// Whether A is MN-major (the instruction's transpose bit for A).
    var transposeA: Bool
    /// Whether B is MN-major.
    var transposeB: Bool

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
                    "wgmma.mma_async.sync.aligned.m64n\(n)k16.f32.bf16.bf16 {\(registers)}, %\(count), %\(count + 1), p, 1, 1, \(transposeA ? 1 : 0), \(transposeB ? 1 : 0);\\n}\\n"
                    : \(outputs)
                    : "l"(desc_a), "l"(desc_b), "r"(scale_d));
            }
        };
        """
    }
}
