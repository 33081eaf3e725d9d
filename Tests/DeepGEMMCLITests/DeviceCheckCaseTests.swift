import DeepGEMM
import DeepGEMMCUDA
import Foundation
import Testing
@testable import DeepGEMMCLI

/// The device check's case model on the host: every registered family has cases, every case plans
/// its kernels without a device, and the fake device runs, fails and hangs every case kind.
@Suite("Device-check case model")
struct DeviceCheckCaseTests {
    /// Every registered CUDA kernel family, and cuBLASLt.
    static let registeredFamilies = Set(GEMMKernelFamilies.all.map(\.name) + KernelFamilies.all.map(\.name) + ["cublaslt"])

    @Test("every registered CUDA kernel family has a device-check family with a smoke case, verification cases and host cases")
    func everyFamilyHasCases() {
        let covered = Set(DeviceCheckFamily.all.flatMap(\.kernelFamilies))
        #expect(covered == Self.registeredFamilies, "unregistered: \(covered.subtracting(Self.registeredFamilies)); without cases: \(Self.registeredFamilies.subtracting(covered))")
        for family in DeviceCheckFamily.all {
            #expect(!family.verification.isEmpty && !family.host.isEmpty && !family.kernelFamilies.isEmpty, "\(family.name)")
        }
        #expect(Set(DeviceCheckFamily.all.map(\.name)).count == DeviceCheckFamily.all.count)
    }

    @Test("the verify stage covers every CUDA op the compile check lists (and cuBLASLt's), and the bench stage issue 11's shapes")
    func opCoverage() throws {
        let cublasLt = ["nt", "nn", "tn", "tt"].map { "cublaslt_gemm_" + $0 }
        let ops = Set(RepresentativeProblems.entries(for: .sm90a, numSMs: 132).map(\.op) + (try KernelFamilies.launches(for: .sm90a, numSMs: 132)).map(\.op)
                      + cublasLt)
        let verified = Set(DeviceCheckStage.verify.cases(fakeDevice: false).map(\.op))
        #expect(ops.subtracting(verified).isEmpty, "not verified: \(ops.subtracting(verified))")
        #expect(Set(DeviceCheckStage.verify.cases(fakeDevice: true).map(\.op)) == verified)
        let bench = Set(DeviceCheckStage.bench.cases(fakeDevice: false).map(\.description))
        for m in [128, 4096] {
            for (n, k) in RepresentativeProblems.denseShapes {
                #expect(bench.contains(GEMMCase(op: "bf16_gemm_nt", m: m, n: n, k: k).description))
                #expect(bench.contains(FP8GEMMCase(.dense, m: m, n: n, k: k).description))
            }
        }
        #expect(bench.contains(MQALogitsCheck(MQAPrefillCase(s: 4096, skv: 16384, h: 64, d: 128, causal: true)).description))
    }

    @Test("case descriptions, and so seeds, are unique within each stage")
    func uniqueDescriptions() {
        for stage in DeviceCheckStage.allCases {
            for fake in [false, true] {
                let descriptions = stage.cases(fakeDevice: fake).map(\.description)
                #expect(Set(descriptions).count == descriptions.count, "\(stage) fake \(fake)")
            }
        }
    }

    @Test("every case of every stage plans its kernels for an H200 without a device, and the parts split the families")
    func planning() {
        for stage in DeviceCheckStage.allCases {
            for fake in [false, true] {
                let cases = stage.cases(fakeDevice: fake)
                let (kernels, unplannable) = DeviceCheckKernels.plan(cases.map { testCase in
                    (testCase.description, { try testCase.kernelSources(numSMs: 132) })
                })
                #expect(!kernels.isEmpty)
                #expect(unplannable.isEmpty, "\(unplannable.map(\.error))")
                let parts = DeviceCheckPart.allCases.flatMap { stage.cases(fakeDevice: fake, part: $0) }.map(\.description)
                #expect(parts.sorted() == cases.map(\.description).sorted(), "\(stage) fake \(fake)")
            }
        }
    }

    /// The stage limits of scripts/device-check.sh (`STAGE_LIMITS="name:seconds ..."`).
    static func stageLimits() throws -> [String: Double] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/device-check.sh")
        let text = try String(contentsOf: script, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("STAGE_LIMITS=") })
        let entries = line.dropFirst("STAGE_LIMITS=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")).split(separator: " ")
        return Dictionary(uniqueKeysWithValues: entries.map { entry in
            let parts = entry.split(separator: ":")
            return (String(parts[0]), Double(parts[1]) ?? 0)
        })
    }

    @Test("the precompile stage's limit covers every distinct kernel of a whole run at the budgeted compile time on the GPU machine's cores")
    func precompileBudget() throws {
        let limits = try Self.stageLimits()
        let limit = try #require(limits["precompile"])
        let cases = DeviceCheckStage.allCases.flatMap { $0.cases(fakeDevice: false) }
        let (kernels, _) = DeviceCheckKernels.plan(cases.map { testCase in (testCase.description, { try testCase.kernelSources(numSMs: 132) }) })
        #expect(kernels.count > 100)
        #expect(DeviceCheckBudget.precompileSeconds(kernels: kernels.count) <= limit,
                "\(kernels.count) kernels need up to \(DeviceCheckBudget.precompileSeconds(kernels: kernels.count)) s; the limit is \(limit) s")
        #expect(limits.count == 7 && limits.values.allSatisfy { $0 > 0 })
    }

    @Test("the fake device runs each host case's reference (which passes its own rule), fails an injected case and never finishes a hanging one")
    func fakeDevice() throws {
        for testCase in DeviceCheckFamily.all.flatMap(\.host) {
            try Self.checkFakeDevice(testCase)
        }
    }

    /// Runs `testCase` on a clean, a failing and a hanging fake device.
    static func checkFakeDevice<Case: DeviceCheckCase>(_ testCase: Case) throws {
        let inputs = try testCase.makeInputs(fast: false)
        let expected = try testCase.compared(try testCase.reference(inputs), inputs: inputs)
        let good = try HostCheckDevice().prepare(testCase, inputs: inputs)
        try good.launch()
        #expect(try good.isFinished())
        #expect(try testCase.comparison.verdict(try testCase.compared(try good.outputs(), inputs: inputs), expected).passed, "\(testCase)")
        let failing = try HostCheckDevice(failingCase: testCase.description).prepare(testCase, inputs: inputs)
        try failing.launch()
        #expect(try !testCase.comparison.verdict(try testCase.compared(try failing.outputs(), inputs: inputs), expected).passed, "\(testCase)")
        let hanging = try HostCheckDevice(hangingCase: testCase.description).prepare(testCase, inputs: inputs)
        try hanging.launchTimed(warmup: 1, iterations: 2)
        #expect(try Watchdog(deadline: 0.02).wait(until: { try hanging.isFinished() }) == .hung)
        #expect(throws: DeepGEMMError.self) { try hanging.outputs() }
    }

    @Test("comparison rules: bitwise sees one flipped bit, calc_diff its bound and non-finite values, logits their -inf masks")
    func comparisons() throws {
        let x = Tensor.randn([4, 8], dtype: .float32, seed: 1)
        let flipped = x.clone()
        flipped.dataPointer.assumingMemoryBound(to: UInt8.self)[5] ^= 1
        #expect(try CaseComparison.bitwise.verdict([x], [x.clone()]).passed)
        #expect(try !CaseComparison.bitwise.verdict([flipped], [x]).passed)
        #expect(try !CaseComparison.bitwise.verdict([x], [x, x]).passed)
        #expect(try CaseComparison.calcDiff(bound: 1e-3).verdict([flipped], [x]).passed)
        #expect(try !CaseComparison.calcDiff(bound: 1e-5).verdict(HostCheckDevice.corrupted([x]), [x]).passed)
        let nan = x.clone()
        nan.dataPointer.assumingMemoryBound(to: Float.self)[3] = .nan
        #expect(try !CaseComparison.calcDiff(bound: 1).verdict([nan], [x]).passed)
        let masked = x.clone()
        masked.dataPointer.assumingMemoryBound(to: Float.self)[0] = -.infinity
        #expect(try CaseComparison.logits(bound: 1e-3).verdict([masked], [masked.clone()]).passed)
        #expect(try !CaseComparison.logits(bound: 1e-3).verdict([x], [masked]).passed)
        #expect(try !CaseComparison.logits(bound: 1e-3).verdict(HostCheckDevice.corrupted([masked]), [masked]).passed)
    }

    @Test("GEMM bench records carry what torch_bench.py rebuilds the operands from")
    func gemmWorkload() throws {
        let gemmCase = GEMMCase(op: "bf16_gemm_nt", m: 64, n: 32, k: 128, outputType: .float32, accumulate: true)
        let workload = try gemmCase.workload(try gemmCase.makeInputs(fast: true))
        #expect(workload.flops == 2 * 64 * 32 * 128)
        #expect(workload.bytes == Double(64 * 128 * 2 + 32 * 128 * 2 + 2 * 64 * 32 * 4))
        let names = Set(workload.fields.map(\.0))
        #expect(names.isSuperset(of: ["layout", "m", "n", "k", "a_seed", "b_seed", "a_checksum", "b_checksum", "valid_rows", "out", "accumulate"]))
    }
}
