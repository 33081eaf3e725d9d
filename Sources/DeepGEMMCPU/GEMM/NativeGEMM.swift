import DeepGEMMCore
internal import CDeepGEMMCPU

/// The C GEMM engine (`Sources/CDeepGEMMCPU/gemm_*.c`) behind the `.portable`, `.avx2`, `.avx512f`,
/// `.avx512` and `.amx` variants: plans the call, lends it a workspace from the host allocator, and runs its
/// phases (pack A, pack B, compute output tiles) on the backend's threads.
///
/// With `.avx512` (AVX-512 BF16), E4M3, E2M1 and BF16 operands are decoded to BF16 pairs (exact) and
/// multiplied with `vdpbf16ps`, which treats BF16 subnormal inputs as zero (power-of-two scales
/// folded into the packed values as on `.amx`); F32 operands and the
/// other variants decode to F32 and use F32 FMA (`.portable`: multiply, then add). `.amx` decodes
/// the same operands to BF16 pairs and multiplies 32x32 tiles with AMX `tdpbf16ps` (power-of-two
/// scales folded into the packed values, see ``GEMMEngine``; with at most 32 rows of A, B's rows
/// stream through the A tiles per K chunk and A sits in the B tiles); with an F32 operand it runs
/// the `.avx512f` code.
enum NativeGEMM {
    /// Computes `D (+)= A · Bᵀ` for checked operands with `k >= 1` and non-empty M and N.
    /// `isa` is the C instruction-set code; `bf16Dot` asks for BF16 pairs (`vdpbf16ps` with
    /// DG_ISA_AVX512, `tdpbf16ps` with DG_ISA_AMX).
    static func run(a: GEMMOperand, b: GEMMOperand, d: Tensor, accumulate: Bool, isa: Int32, bf16Dot: Bool, threads: Int) {
        var operandA = cOperand(a), operandB = cOperand(b)
        var output = dg_gemm_output(
            data: d.dataPointer, type: Int32(d.dtype == .bfloat16 ? DG_TYPE_BF16 : DG_TYPE_F32),
            accumulate: accumulate ? 1 : 0, stride0: Int64(d.strides[0]), stride1: Int64(d.strides[1]))
        let plan = UnsafeMutablePointer<dg_gemm_plan>.allocate(capacity: 1)
        defer { plan.deallocate() }
        let bytes = dg_gemm_plan_init(plan, isa, bf16Dot ? 1 : 0, &operandA, &operandB, &output,
                                      Int32(clamping: threads))
        let workspace = TensorStorage(byteCount: Int(bytes), zeroed: false)
        dg_gemm_plan_bind(plan, workspace.baseAddress)
        let workers = Int(dg_gemm_plan_workers(plan))
        let shared = SharedPlan(pointer: plan)
        let taskCounts = withUnsafeBytes(of: plan.pointee.task_counts) { Array($0.bindMemory(to: Int64.self)) }
        for phase in 0..<Int(DG_GEMM_PHASES) where taskCounts[phase] > 0 {
            CPUParallelism.forEachChunk(workers, threads: workers) { range in
                for worker in range { dg_gemm_plan_work(shared.pointer, Int32(phase), Int32(worker)) }
            }
        }
        withExtendedLifetime(workspace) {}
    }

    /// The C description of an operand.
    private static func cOperand(_ op: GEMMOperand) -> dg_gemm_operand {
        let format: Int32
        switch op.format {
        case .e4m3: format = Int32(DG_TYPE_E4M3)
        case .e2m1: format = Int32(DG_TYPE_E2M1)
        case .bf16: format = Int32(DG_TYPE_BF16)
        case .f32: format = Int32(DG_TYPE_F32)
        }
        let scales = op.scales
        return dg_gemm_operand(
            data: UnsafeRawPointer(op.data.dataPointer), rows: Int64(op.rows), k: Int64(op.k),
            stride0: Int64(op.data.strides[0]), stride1: Int64(op.data.strides[1]), format: format,
            fp4_packed_along_k: op.fp4PackedAlongK ? 1 : 0,
            scales: scales.map { UnsafePointer($0.values.dataPointer.assumingMemoryBound(to: Float.self)) },
            scale_stride0: Int64(scales?.values.strides[0] ?? 0), scale_stride1: Int64(scales?.values.strides[1] ?? 0),
            gran_rows: Int64(scales?.granRows ?? 1), gran_k: Int64(scales?.granK ?? 1),
            scales_from_ue8m0: scales?.decodedFromUE8M0 == true ? 1 : 0)
    }
}

/// The plan shared by the workers of one call; each phase's tasks are taken from atomic counters.
private struct SharedPlan: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<dg_gemm_plan>
}
