import Foundation

/// The JIT's environment switches, with DeepGEMM's variable names.
public struct JITOptions: Sendable, Equatable {
    /// Kernel cache root: `DG_JIT_CACHE_DIR`, default `~/.cache/deepgemm`.
    public var cacheDirectory: String
    /// `DG_JIT_DEBUG`: print generated code, compile logs and launches.
    public var debug: Bool
    /// `DG_JIT_PTXAS_VERBOSE`: print ptxas' register/spill report of each compile.
    public var ptxasVerbose: Bool
    /// `DG_JIT_PTXAS_CHECK`: fail when a kernel uses local memory or spills.
    public var ptxasCheck: Bool
    /// `DG_JIT_DUMP_PTX`: keep the PTX next to the cubin in the cache entry.
    public var dumpPTX: Bool
    /// `DG_JIT_DUMP_SASS`: disassemble the cubin with cuobjdump (when installed) into the cache entry.
    public var dumpSASS: Bool
    /// `DG_PRINT_CONFIGS`: print each chosen kernel configuration once.
    public var printConfigs: Bool

    /// Options of this process's environment.
    public static let current = JITOptions(environment: ProcessInfo.processInfo.environment)

    /// Options from explicit environment variables (a variable counts as set when it is a non-zero integer).
    public init(environment: [String: String]) {
        func flag(_ name: String) -> Bool { environment[name].flatMap { Int($0) }.map { $0 != 0 } ?? false }
        if let directory = environment["DG_JIT_CACHE_DIR"], !directory.isEmpty {
            cacheDirectory = directory
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()
            cacheDirectory = home + "/.cache/deepgemm"
        }
        debug = flag("DG_JIT_DEBUG")
        ptxasVerbose = flag("DG_JIT_PTXAS_VERBOSE")
        ptxasCheck = flag("DG_JIT_PTXAS_CHECK")
        dumpPTX = flag("DG_JIT_DUMP_PTX")
        dumpSASS = flag("DG_JIT_DUMP_SASS")
        printConfigs = flag("DG_PRINT_CONFIGS")
    }
}
