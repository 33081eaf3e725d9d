/// Generates the C++ wrapper of one `wgmma.mma_async` shape with FP32 accumulators (m64nNk16 for
/// BF16 operands, m64nNk32 for FP8 E4M3 operands, m64nNk8 for TF32 with A in registers), whose
/// inline assembly must list all N/2 accumulator registers of a thread one by one.
struct WGMMAInstruction: Sendable, Hashable {
    /// The operands' element type.
    enum Operands: Sendable, Hashable {
        /// BF16 x BF16, K 16 per instruction, either operand may be MN-major.
        case bf16
        /// E4M3 x E4M3, K 32 per instruction, both operands K-major.
        case e4m3
        /// TF32 x TF32, K 8 per instruction, A from four 32-bit registers per thread (`mma(a, desc_b,
        /// d, scale_d)` takes `const float* a`), B K-major in shared memory.
        case tf32RegisterA
    }

    /// The instruction's N (a multiple of 8, 8...256).
    var n: Int
    /// Whether A is MN-major (the instruction's transpose bit for A; BF16 only).
    var transposeA: Bool
    /// Whether B is MN-major (BF16 only).
    var transposeB: Bool
    /// The operands' element type.
    var operands: Operands = .bf16

    /// Accumulator floats per thread.
    var accumulatorCount: Int { n / 2 }

    /// `struct <name>` with `N`, `kNumAccum` and `mma(desc_a, desc_b, d, scale_d)` (`mma(a, desc_b, d,
    /// scale_d)` with A's registers for ``Operands/tf32RegisterA``).
    func cppStruct(named name: String) -> String {
        precondition(n % 8 == 0 && n >= 8 && n <= 256, "invalid wgmma N \(n)")
        precondition(operands == .bf16 || (!transposeA && !transposeB), "FP8 and TF32 wgmma operands are K-major")
        let count = accumulatorCount
        let registers = (0..<count).map { "%\($0)" }.joined(separator: ", ")
        let outputs = (0..<count).map { "\"+f\"(d[\($0)])" }.joined(separator: ", ")
        let shape: String
        var operandA = (parameter: "dg::u64 desc_a", input: "\"l\"(desc_a)")
        switch operands {
        case .bf16:
            shape = "m64n\(n)k16.f32.bf16.bf16 {\(registers)}, %\(count), %\(count + 1), p, 1, 1, \(transposeA ? 1 : 0), \(transposeB ? 1 : 0)"
        case .e4m3:
            shape = "m64n\(n)k32.f32.e4m3.e4m3 {\(registers)}, %\(count), %\(count + 1), p, 1, 1"
        case .tf32RegisterA:
            // A's four registers come first among the inputs, then B's descriptor, then scale_d
            shape = "m64n\(n)k8.f32.tf32.tf32 {\(registers)}, {%\(count), %\(count + 1), %\(count + 2), %\(count + 3)}, %\(count + 4), p, 1, 1"
            operandA = ("const float* a", (0..<4).map { "\"r\"(__float_as_uint(a[\($0)]))" }.joined(separator: ", "))
        }
        let predicate = operands == .tf32RegisterA ? count + 5 : count + 2
        return """
        struct \(name) {
            static constexpr dg::u32 N = \(n);
            static constexpr dg::u32 kNumAccum = \(count);
            DG_DEVICE static void mma(\(operandA.parameter), dg::u64 desc_b, float* d, dg::u32 scale_d) {
                asm volatile(
                    "{\\n.reg .pred p;\\nsetp.ne.b32 p, %\(predicate), 0;\\n"
                    "wgmma.mma_async.sync.aligned.\(shape);\\n}\\n"
                    : \(outputs)
                    : \(operandA.input), "l"(desc_b), "r"(scale_d));
            }
        };
        """
    }
}
