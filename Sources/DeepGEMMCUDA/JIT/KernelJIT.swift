import DeepGEMMCore
import Foundation

/// Compiles kernel sources through the on-disk cache and loads them onto the device, once per
/// process and cache key.
///
/// The cache key is the digest of the kernel name, its generated code, every embedded header, the
/// NVRTC options (which name the architecture and the CUDA include folder) and the NVRTC version.
public final class KernelJIT: Sendable {
    /// The compiler.
    public let compiler: NVRTCCompiler
    /// The on-disk cache.
    public let cache: KernelCache
    /// The environment switches.
    public let options: JITOptions
    private let loaded = Locked<[String: CUDAKernel]>([:])

    /// The JIT of this process, or why it cannot run (NVRTC or headers missing).
    public static let shared: Result<KernelJIT, DeepGEMMError> = NVRTCCompiler.shared.map { compiler in
        KernelJIT(compiler: compiler, cache: KernelCache(root: JITOptions.current.cacheDirectory), options: .current)
    }

    /// A JIT over an explicit compiler, cache and options.
    public init(compiler: NVRTCCompiler, cache: KernelCache, options: JITOptions) {
        self.compiler = compiler
        self.cache = cache
        self.options = options
    }

    /// The cache key of `source` compiled for `architecture`.
    public func key(for source: KernelSource, architecture: CUDAArchitecture) -> String {
        KernelJIT.key(name: source.name, code: source.code, headersDigest: KernelSource.headersDigest,
                      options: compiler.options(for: architecture), compilerVersion: compiler.version)
    }

    /// The cache key from its parts.
    public static func key(name: String, code: String, headersDigest: String, options: [String], compilerVersion: String) -> String {
        KernelDigest.of([name, code, headersDigest, options.joined(separator: "\u{1}"), "nvrtc " + compilerVersion])
    }

    /// The cubin and log for `source`, from the cache or freshly compiled (and then cached; see
    /// ``KernelCache/entry(name:key:compile:)`` for corrupted entries and an unwritable cache).
    /// With `DG_JIT_PTXAS_CHECK`, a kernel that uses local memory is rejected whether it was
    /// compiled now or read from the cache.
    public func build(_ source: KernelSource, for architecture: CUDAArchitecture) throws -> KernelCache.Entry {
        let key = key(for: source, architecture: architecture)
        var compiledNow = false
        let entry = try cache.entry(name: source.name, key: key) {
            compiledNow = true
            if options.debug { printToStandardError("DeepGEMM JIT: compiling \(source.name).\(key) for \(architecture.rawValue):\n\(source.code)") }
            let compiled = try compiler.compile(source, for: architecture, keepPTX: options.dumpPTX)
            if options.debug || options.ptxasVerbose { printToStandardError(compiled.log) }
            var files: [String: [UInt8]] = [
                KernelCache.cubinFile: compiled.cubin,
                "kernel.cu": Array(source.code.utf8),
                KernelCache.logFile: Array(compiled.log.utf8),
            ]
            if let ptx = compiled.ptx { files["kernel.ptx"] = Array(ptx.utf8) }
            if options.dumpSASS, let sass = disassemble(compiled.cubin) { files["kernel.sass"] = Array(sass.utf8) }
            return files
        }
        try check(entry.log, source: source, architecture: architecture)
        if compiledNow, options.dumpPTX || options.dumpSASS, let directory = entry.directory {
            printToStandardError("DeepGEMM JIT: \(source.name) dumped to \(directory)")
        }
        return entry
    }

    /// The loaded kernel for `source` on `device` (compiled or read from the cache on first use).
    public func kernel(_ source: KernelSource, on device: CUDADevice) throws -> CUDAKernel {
        guard let architecture = device.architecture else {
            throw DeepGEMMError.unsupported(argument: "device", rule: "no kernels exist for compute capability \(device.computeCapability.major).\(device.computeCapability.minor)")
        }
        let key = key(for: source, architecture: architecture)
        if let kernel = loaded.withLock({ $0[key] }) { return kernel }
        let entry = try build(source, for: architecture)
        let kernel = try CUDAKernel(device: device, cubin: entry.cubin)
        return loaded.withLock { table in
            if let existing = table[key] { return existing }
            table[key] = kernel
            return kernel
        }
    }

    /// With `DG_JIT_PTXAS_CHECK`, rejects kernels that spill or use local memory.
    private func check(_ log: String, source: KernelSource, architecture: CUDAArchitecture) throws {
        let report = PtxasReport(log: log)
        if options.ptxasCheck && report.usesLocalMemory {
            throw KernelCompileError(kernel: source.name, architecture: architecture, message: "uses local memory (DG_JIT_PTXAS_CHECK): \(report.summary)")
        }
    }

    /// SASS from `cuobjdump --dump-sass`, when cuobjdump is installed next to CUDA or on PATH.
    private func disassemble(_ cubin: [UInt8]) -> String? {
        let homes = CUDASearchPaths.current.homes.map { $0 + "/bin/cuobjdump" }
        let path = ProcessInfo.processInfo.environment["PATH"].map { $0.split(separator: ":").map { String($0) + "/cuobjdump" } } ?? []
        guard let tool = (homes + path).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            printToStandardError("DeepGEMM JIT: DG_JIT_DUMP_SASS needs cuobjdump (not found in the CUDA homes or PATH)")
            return nil
        }
        let input = NSTemporaryDirectory() + "deepgemm-\(UUID().uuidString).cubin"
        guard FileManager.default.createFile(atPath: input, contents: Data(cubin)) else { return nil }
        defer { try? FileManager.default.removeItem(atPath: input) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["--dump-sass", input]
        let output = Pipe()
        process.standardOutput = output
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Writes one line to standard error.
func printToStandardError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
