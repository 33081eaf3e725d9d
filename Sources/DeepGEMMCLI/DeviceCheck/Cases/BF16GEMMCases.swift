import DeepGEMM
import DeepGEMMCUDA

/// The BF16 GEMM ops (SM90 BF16 family in its four scheduling modes) and cuBLASLt as device-check
/// cases: ``GEMMCase`` inputs, ``GEMMCaseRunner`` on the GPU, the CPU GEMM engine as reference,
/// DeepGEMM's BF16 bound.
enum BF16GEMMCases {
    /// One device-check family per scheduling mode of the SM90 BF16 kernel, and cuBLASLt.
    static let families: [DeviceCheckFamily] = [
        family("sm90 bf16 gemm", kinds: [.normal], smoke: GEMMCase(op: "bf16_gemm_nt", m: 128, n: 256, k: 256)),
        family("m-grouped contiguous", kinds: [.mGroupedContiguous],
               smoke: GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 256, k: 256, groups: 2, expectedM: 128)),
        family("m-grouped contiguous psum", kinds: [.mGroupedContiguousPsum],
               smoke: GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 256, k: 256, groups: 2, expectedM: 128, psumLayout: true)),
        family("m-grouped masked", kinds: [.mGroupedMasked],
               smoke: GEMMCase(op: "m_grouped_bf16_gemm_nt_masked", m: 128, n: 256, k: 256, groups: 2, expectedM: 64)),
        family("cublaslt gemm", kinds: [.normal], smoke: GEMMCase(op: "cublaslt_gemm_nt", m: 128, n: 256, k: 256), cublasLt: true),
    ]

    /// The family of the `kinds` cases of ``GEMMCase``'s lists that run (or not) through cuBLASLt.
    static func family(_ name: String, kinds: Set<GEMMKind>, smoke: GEMMCase, cublasLt: Bool = false) -> DeviceCheckFamily {
        let belongs = { (gemmCase: GEMMCase) in kinds.contains(gemmCase.kind) && gemmCase.usesCublasLt == cublasLt }
        return DeviceCheckFamily(name: name, kernelFamilies: [cublasLt ? "cublaslt" : SM90BF16GEMMFamily().name], part: .a, smoke: smoke,
                                 verification: GEMMCase.verification.filter(belongs), benchmark: GEMMCase.benchmark.filter(belongs),
                                 host: GEMMCase.host.filter(belongs))
    }
}

extension GEMMCase: DeviceCheckCase {
    /// DeepGEMM's BF16 bound (`calc_diff < 1e-5`).
    var comparison: CaseComparison { .calcDiff(bound: GEMMCaseCheck.tolerance) }

    /// Random normal operands (hashed ones when `fast`).
    func makeInputs(fast: Bool) throws -> GEMMCaseInputs { try GEMMCaseInputs(self, fast: fast) }

    /// D from the CPU GEMM engine.
    func reference(_ inputs: GEMMCaseInputs) throws -> [Tensor] { [try GEMMCaseCheck.reference(self, inputs: inputs, gemm: cpuGEMM)] }

    /// A ``GEMMCaseRunner`` on the stream (the current one).
    func prepareCUDA(_ inputs: GEMMCaseInputs, stream: CUDAStream) throws -> any CaseLauncher { try GEMMCaseRunner(self, inputs: inputs) }

    /// D's rows that carry results.
    func compared(_ outputs: [Tensor], inputs: GEMMCaseInputs) throws -> [Tensor] {
        try outputs.flatMap { try GEMMCaseCheck.resultRows(self, inputs: inputs, d: $0) }
    }

    /// 2·M·N·K over the valid rows; A, B and D (twice when accumulating) once each; what the torch
    /// peer needs to rebuild the hashed operands.
    func workload(_ inputs: GEMMCaseInputs) throws -> CaseWorkload {
        let outputBytes = Double(inputs.d.byteCount) * (accumulate ? 2 : 1)
        return CaseWorkload(
            flops: flops(validRows: inputs.validRows.reduce(0, +)), bytes: Double(inputs.a.byteCount + inputs.b.byteCount) + outputBytes,
            fields: [
                ("layout", .text(layout)), ("m", .number(Double(inputs.d.size(-2)))), ("n", .number(Double(n))),
                ("k", .number(Double(k))), ("groups", .number(Double(groups))),
                ("valid_rows", .numbers(inputs.validRows.map(Double.init))),
                ("out", .text(outputType == .float32 ? "f32" : "bf16")), ("accumulate", .flag(accumulate)),
                ("a_shape", .numbers(inputs.a.shape.map(Double.init))), ("b_shape", .numbers(inputs.b.shape.map(Double.init))),
                ("a_seed", .number(Double(GEMMCaseInputs.hashSeed(seed &+ 1)))), ("b_seed", .number(Double(GEMMCaseInputs.hashSeed(seed &+ 2)))),
                ("a_checksum", .number(Double(GEMMCaseInputs.checksum(inputs.a)))), ("b_checksum", .number(Double(GEMMCaseInputs.checksum(inputs.b)))),
            ])
    }

    /// The kernel the entry point selects (none for cuBLASLt).
    func kernelSources(numSMs: Int) throws -> [KernelSource] {
        usesCublasLt ? [] : [try plannedKernel(numSMs: numSMs, seed: seed).selection.source]
    }
}

extension GEMMCaseRunner: CaseLauncher {
    /// Queues one call (after restoring D from C when accumulating).
    func launch() throws { try enqueue() }
    /// Whether calls restore D from C first.
    var hasSetup: Bool { restoresC }
    /// Queues the C -> D restore alone.
    func launchSetup() throws { try restoreC() }
    /// D.
    func outputs() throws -> [Tensor] { [try output()] }
}

/// The CPU backend's 2-D GEMM on host views: the reference of the GEMM cases.
func cpuGEMM(_ a: Tensor, _ b: Tensor, _ d: Tensor, _ accumulate: Bool) throws {
    try GEMMEngine.run(a: gemmOperand(a, name: "a", scales: nil), b: gemmOperand(b, name: "b", scales: nil), d: d, accumulate: accumulate)
}
