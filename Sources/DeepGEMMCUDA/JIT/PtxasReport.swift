/// Resource usage ptxas reports for a kernel (`--ptxas-options=--verbose` in the NVRTC log).
public struct PtxasReport: Sendable, Equatable {
    /// Registers per thread at launch.
    public var registers: Int?
    /// Bytes of spill stores.
    public var spillStores: Int
    /// Bytes of spill loads.
    public var spillLoads: Int
    /// Bytes of stack frame (local memory).
    public var stackFrame: Int
    /// Bytes of static shared memory.
    public var staticSharedMemory: Int
    /// Whether ptxas warned about local memory use.
    public var localMemoryWarning: Bool
    /// Whether the log held the spill line (`... bytes spill stores, ... bytes spill loads`); without
    /// it zero spills means "not reported", not "none".
    public var reportsSpills: Bool

    /// Parses a compile log; values not found stay zero (or nil for registers).
    public init(log: String) {
        func number(before suffix: String, in line: Substring) -> Int? {
            guard let range = line.range(of: suffix) else { return nil }
            let prefix = line[..<range.lowerBound].reversed().drop { $0 == " " }
            return Int(String(prefix.prefix { $0.isNumber }.reversed()))
        }
        registers = nil
        spillStores = 0
        spillLoads = 0
        stackFrame = 0
        staticSharedMemory = 0
        localMemoryWarning = false
        reportsSpills = false
        for line in log.split(separator: "\n") {
            if let value = number(before: "registers", in: line) { registers = value }
            if let value = number(before: "bytes spill stores", in: line) {
                spillStores += value
                reportsSpills = true
            }
            if let value = number(before: "bytes spill loads", in: line) { spillLoads += value }
            if let value = number(before: "bytes stack frame", in: line) { stackFrame += value }
            if let value = number(before: "bytes smem", in: line) { staticSharedMemory += value }
            if line.contains("Local memory") || line.contains("local memory") { localMemoryWarning = true }
        }
    }

    /// Throws unless the log held both the register count and the spill line, so a compile whose
    /// resource report is missing (ptxas not verbose, a changed log format) fails instead of passing
    /// as "0 spills".
    public func requireResourceReport(kernel: String, architecture: CUDAArchitecture) throws(KernelCompileError) {
        var missing: [String] = []
        if registers == nil { missing.append("register count") }
        if !reportsSpills { missing.append("spill line") }
        guard missing.isEmpty else {
            throw KernelCompileError(kernel: kernel, architecture: architecture,
                                     message: "the compile log has no ptxas resource report (\(missing.joined(separator: " and ")) missing); "
                                         + "spills cannot be checked")
        }
    }

    /// True when the kernel spills or uses local memory at all.
    public var usesLocalMemory: Bool { spillStores > 0 || spillLoads > 0 || stackFrame > 0 || localMemoryWarning }

    /// `168 registers, 0 B stack, 0 B spill stores, 0 B spill loads`.
    public var summary: String {
        "\(registers.map(String.init) ?? "?") registers, \(stackFrame) B stack, \(spillStores) B spill stores, \(spillLoads) B spill loads"
    }
}
