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
        for line in log.split(separator: "\n") {
            if let value = number(before: "registers", in: line) { registers = value }
            if let value = number(before: "bytes spill stores", in: line) { spillStores += value }
            if let value = number(before: "bytes spill loads", in: line) { spillLoads += value }
            if let value = number(before: "bytes stack frame", in: line) { stackFrame += value }
            if let value = number(before: "bytes smem", in: line) { staticSharedMemory += value }
            if line.contains("Local memory") || line.contains("local memory") { localMemoryWarning = true }
        }
    }

    /// True when the kernel spills or uses local memory at all.
    public var usesLocalMemory: Bool { spillStores > 0 || spillLoads > 0 || stackFrame > 0 || localMemoryWarning }

    /// `168 registers, 0 B stack, 0 B spill stores, 0 B spill loads`.
    public var summary: String {
        "\(registers.map(String.init) ?? "?") registers, \(stackFrame) B stack, \(spillStores) B spill stores, \(spillLoads) B spill loads"
    }
}
