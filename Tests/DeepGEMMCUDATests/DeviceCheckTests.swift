import DeepGEMMCore
import Testing
@testable import DeepGEMMCUDA

@Suite("Device check plumbing on the host")
struct DeviceCheckTests {
    @Test("the watchdog returns finished when the work ends and hung when the deadline passes")
    func watchdog() throws {
        var polls = 0
        #expect(Watchdog(deadline: 5).wait { polls += 1; return polls >= 3 } == .finished)
        #expect(polls == 3)
        let start = ContinuousClock.now
        #expect(Watchdog(deadline: 0.05).wait { false } == .hung)
        #expect(ContinuousClock.now - start >= .milliseconds(50))
        struct Broken: Error {}
        #expect(throws: Broken.self) { try Watchdog(deadline: 1).wait { throw Broken() } }
    }

    @Test("every JIT case of every stage plans a kernel for an H200 without a device (cuBLASLt cases have none), and the smoke cases cover every family")
    func planning() {
        for stage in DeviceCheckStage.allCases {
            for fake in [false, true] {
                let cases = stage.cases(fakeDevice: fake)
                let (kernels, unplannable) = DeviceCheckKernels.plan(cases, numSMs: 132)
                #expect(!kernels.isEmpty && kernels.count + unplannable.count <= cases.count)
                #expect(kernels.reduce(0) { $0 + $1.cases.count } + unplannable.count == cases.filter { !$0.usesCublasLt }.count)
                #expect(cases.contains { $0.usesCublasLt })
                #expect(unplannable.isEmpty, "\(unplannable.map(\.error))")
            }
        }
        #expect(Set(DeviceCheckFamily.all.map(\.smoke.kind)) == Set(GEMMKind.allCases))
        #expect(DeviceCheckFamily.all.flatMap(\.verification).count == GEMMCase.verification.count)
        #expect(DeviceCheckFamily.all.flatMap(\.benchmark).count == GEMMCase.benchmark.count)
        #expect(Set(GEMMCase.host.map(\.op)) == Set(GEMMCase.verification.map(\.op)))
    }

    @Test("the planned problem takes its rows and majors from the inputs the case generates")
    func plannedProblem() throws {
        for gemmCase in GEMMCase.host + [GEMMCase(op: "bf16_gemm_tn", m: 1, n: 64, k: 128)] {
            let planned = try gemmCase.plannedProblem(seed: gemmCase.seed)
            let inputs = try GEMMCaseInputs(gemmCase)
            let (a, b) = try inputs.ntOperands(gemmCase)
            #expect(planned.layouts.a.shape == a.shape && planned.layouts.a.strides == a.strides, "\(gemmCase)")
            #expect(planned.layouts.b.shape == b.shape && planned.layouts.b.strides == b.strides, "\(gemmCase)")
            #expect(planned.layouts.d.shape == inputs.d.shape && planned.layouts.d.dtype == inputs.d.dtype, "\(gemmCase)")
            #expect(planned.problem.m == inputs.d.size(-2) && planned.problem.kind == gemmCase.kind, "\(gemmCase)")
        }
    }

    @Test("a case's seed depends on the case only")
    func seeds() {
        let cases = GEMMCase.verification
        #expect(Set(cases.map(\.seed)).count == cases.count)
        #expect(GEMMCase(op: "bf16_gemm_nt", m: 1, n: 2, k: 3).seed == GEMMCase(op: "bf16_gemm_nt", m: 1, n: 2, k: 3).seed)
    }

    @Test("hashed operands match the formula torch_bench.py uses (golden words from its integer emulation)")
    func hashedGolden() {
        #expect(GEMMCaseInputs.hashSeed(3) == 2_111_796_287)
        let tensor = GEMMCaseInputs.hashedBits([2, 3], seed: 3)
        let words = (0..<6).map { tensor.dataPointer.assumingMemoryBound(to: UInt16.self)[$0] }
        #expect(words == [0x3ecf, 0xbebb, 0xbe63, 0x3f1d, 0xbf09, 0x3ef1])
        #expect(GEMMCaseInputs.checksum(tensor) == 194_820)
    }

    @Test("the fake device runs the reference, fails an injected case and never finishes a hanging one")
    func fakeDevice() throws {
        let gemmCase = GEMMCase(op: "bf16_gemm_nt", m: 16, n: 32, k: 64)
        let inputs = try GEMMCaseInputs(gemmCase)
        let expected = try GEMMCaseCheck.reference(gemmCase, inputs: inputs, gemm: cpuGEMM)
        let good = try HostCheckDevice(gemm: cpuGEMM).prepare(gemmCase, inputs: inputs)
        try good.launch()
        #expect(try good.isFinished())
        #expect(try GEMMCaseCheck.difference(gemmCase, inputs: inputs, result: try good.output(), expected: expected) == 0)
        let failing = try HostCheckDevice(gemm: cpuGEMM, failingCase: "m=16").prepare(gemmCase, inputs: inputs)
        try failing.launch()
        #expect(try GEMMCaseCheck.difference(gemmCase, inputs: inputs, result: try failing.output(), expected: expected) > GEMMCaseCheck.tolerance)
        let hanging = try HostCheckDevice(gemm: cpuGEMM, hangingCase: "bf16_gemm_nt").prepare(gemmCase, inputs: inputs)
        try hanging.launchTimed(warmup: 1, iterations: 2)
        #expect(try Watchdog(deadline: 0.02).wait(until: { try hanging.isFinished() }) == .hung)
        #expect(throws: DeepGEMMError.self) { try hanging.output() }
    }
}
