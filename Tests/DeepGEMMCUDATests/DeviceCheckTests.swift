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

    @Test("precompile planning keeps distinct kernels in first-use order, names every case that uses one, and reports cases it cannot plan")
    func kernelPlan() {
        let small = GEMMCase(op: "bf16_gemm_nt", m: 128, n: 256, k: 256), other = GEMMCase(op: "bf16_gemm_nt", m: 4096, n: 7168, k: 2048)
        struct Unplannable: Error {}
        func source(_ gemmCase: GEMMCase) -> () throws -> [KernelSource] { { [try gemmCase.plannedKernel(numSMs: 132, seed: gemmCase.seed).selection.source] } }
        let (kernels, unplannable) = DeviceCheckKernels.plan([
            ("first", source(small)), ("none", { [] }), ("second", source(other)), ("again", source(small)), ("broken", { throw Unplannable() }),
        ])
        #expect(kernels.count == 2 && kernels[0].cases == ["first", "again"] && kernels[1].cases == ["second"])
        #expect(unplannable.map(\.label) == ["broken"])
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
        #expect(deviceCheckSeed("") == 0xcbf2_9ce4_8422_2325 && deviceCheckSeed("a") == 0xaf63_dc4c_8601_ec8c)
    }

    @Test("hashed operands match the formula torch_bench.py uses (golden words from its integer emulation)")
    func hashedGolden() {
        #expect(GEMMCaseInputs.hashSeed(3) == 2_111_796_287)
        let tensor = GEMMCaseInputs.hashedBits([2, 3], seed: 3)
        let words = (0..<6).map { tensor.dataPointer.assumingMemoryBound(to: UInt16.self)[$0] }
        #expect(words == [0x3ecf, 0xbebb, 0xbe63, 0x3f1d, 0xbf09, 0x3ef1])
        #expect(GEMMCaseInputs.checksum(tensor) == 194_820)
    }
}
