import Foundation
import Testing
@testable import DeepGEMMCUDA

@Suite("ptxas report parsing")
struct PtxasReportTests {
    static let clean = """
    ptxas info    : 20 bytes gmem
    ptxas info    : Compiling entry function 'deepgemm_kernel' for 'sm_90a'
    ptxas info    : Function properties for deepgemm_kernel
    ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
    ptxas info    : Used 168 registers, used 2 barriers, 16 bytes smem
    """

    @Test("registers, shared memory and no spills")
    func clean() {
        let report = PtxasReport(log: Self.clean)
        #expect(report.registers == 168)
        #expect(report.staticSharedMemory == 16)
        #expect(!report.usesLocalMemory)
        #expect(report.summary == "168 registers, 0 B stack, 0 B spill stores, 0 B spill loads")
    }

    @Test("spills, stack and the local-memory warning are detected")
    func spills() {
        let spilled = PtxasReport(log: Self.clean.replacingOccurrences(of: "0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads",
                                                                        with: "24 bytes stack frame, 32 bytes spill stores, 40 bytes spill loads"))
        #expect(spilled.stackFrame == 24 && spilled.spillStores == 32 && spilled.spillLoads == 40)
        #expect(spilled.usesLocalMemory)
        let warned = PtxasReport(log: Self.clean + "\nptxas warning : Local memory used for function 'deepgemm_kernel'")
        #expect(warned.localMemoryWarning && warned.usesLocalMemory)
        #expect(PtxasReport(log: "").registers == nil)
    }

    @Test("a log without the register count or the spill line is an error, not zero spills")
    func missingReport() throws {
        try PtxasReport(log: Self.clean).requireResourceReport(kernel: "k", architecture: .sm90a)
        let noSpillLine = Self.clean.split(separator: "\n").filter { !$0.contains("spill") }.joined(separator: "\n")
        for log in ["", "ptxas info    : 20 bytes gmem", noSpillLine,
                    Self.clean.replacingOccurrences(of: "Used 168 registers, ", with: "")] {
            let report = PtxasReport(log: log)
            #expect(!report.usesLocalMemory)
            #expect(throws: KernelCompileError.self, "\(log)") { try report.requireResourceReport(kernel: "k", architecture: .sm90a) }
        }
        #expect(!PtxasReport(log: noSpillLine).reportsSpills && PtxasReport(log: Self.clean).reportsSpills)
    }
}
