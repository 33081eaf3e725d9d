import Foundation

/// Where the backend looks for the CUDA driver, NVRTC, cuBLASLt and the CUDA headers. The driver: the system
/// loader's `libcuda.so.1` first (the one matching the kernel module), then `DG_CUDA_HOME`,
/// `CUDA_HOME`/`CUDA_PATH`, `/usr/local/cuda`, Python's `nvidia/*/lib`, the usual system folders,
/// and CUDA's forward-compatibility (`compat`) folders last. NVRTC, cuBLASLt and the headers: the CUDA homes,
/// then the `nvidia/*` folders of Python's site-packages (`pip install nvidia-cuda-nvrtc
/// nvidia-cuda-runtime`), then the system loader.
struct CUDASearchPaths: Sendable, Equatable {
    /// CUDA installation roots, most specific first.
    var homes: [String]
    /// `site-packages/nvidia/<package>` folders, each with `lib/` and `include/`.
    var pythonPackages: [String]

    /// Search paths for this process's environment and Python installation.
    static let current = CUDASearchPaths(environment: ProcessInfo.processInfo.environment,
                                         sitePackages: PythonSitePackages.directories)

    /// Search paths from explicit environment variables and site-packages directories.
    init(environment: [String: String], sitePackages: [String]) {
        var homes: [String] = []
        for variable in ["DG_CUDA_HOME", "CUDA_HOME", "CUDA_PATH"] {
            if let value = environment[variable], !value.isEmpty, !homes.contains(value) { homes.append(value) }
        }
        if !homes.contains("/usr/local/cuda") { homes.append("/usr/local/cuda") }
        self.homes = homes
        var packages: [String] = []
        for site in sitePackages {
            let nvidia = site + "/nvidia"
            let children = (try? FileManager.default.contentsOfDirectory(atPath: nvidia)) ?? []
            for child in children.sorted() where !packages.contains(nvidia + "/" + child) {
                packages.append(nvidia + "/" + child)
            }
        }
        self.pythonPackages = packages
    }

    /// Paths tried for the driver library, in order: the bare name for the system loader, each CUDA
    /// home's `lib64`, Python's `nvidia/*/lib`, the usual system folders, then the `compat` folders
    /// (a forward-compatibility driver only works with matching kernel modules, so it is the last resort).
    var driverCandidates: [String] {
        let library = "libcuda.so.1"
        var candidates = [library] + homes.map { "\($0)/lib64/\(library)" } + pythonPackages.map { "\($0)/lib/\(library)" }
            + ["/usr/lib/x86_64-linux-gnu/\(library)", "/usr/lib64/\(library)", "/usr/local/nvidia/lib64/\(library)"]
            + homes.map { "\($0)/compat/\(library)" }
        var seen = Set<String>()
        candidates.removeAll { !seen.insert($0).inserted }
        return candidates
    }

    /// Paths tried for NVRTC: every `libnvrtc.so*` (not the builtins) in the library folders, newest
    /// version first within a folder, then the bare names for the system loader.
    var nvrtcCandidates: [String] {
        versionedLibraryCandidates(prefix: "libnvrtc.so", bareNames: ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"])
    }

    /// Paths tried for cuBLASLt: every `libcublasLt.so*` in the library folders (the CUDA homes, then
    /// Python's `nvidia/*/lib`, e.g. `pip install nvidia-cublas`), newest version first within a folder,
    /// then the bare names for the system loader.
    var cublasLtCandidates: [String] {
        versionedLibraryCandidates(prefix: "libcublasLt.so", bareNames: ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"])
    }

    /// The files named `prefix*` in each CUDA home's `lib64` and `lib` and each Python package's `lib`,
    /// longest (most versioned) name first within a folder, then `bareNames` for the system loader.
    private func versionedLibraryCandidates(prefix: String, bareNames: [String]) -> [String] {
        let folders = homes.flatMap { ["\($0)/lib64", "\($0)/lib"] } + pythonPackages.map { $0 + "/lib" }
        var candidates: [String] = []
        for folder in folders {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            let libraries = names.filter { $0.hasPrefix(prefix) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0 > $1 }
            candidates += libraries.map { folder + "/" + $0 }
        }
        return candidates + bareNames
    }

    /// Folders that may hold the CUDA headers the kernels include.
    var includeCandidates: [String] {
        homes.map { $0 + "/include" } + pythonPackages.map { $0 + "/include" } + ["/usr/include"]
    }

    /// The first candidate folder holding `header`, or nil.
    func includeDirectory(containing header: String) -> String? {
        includeCandidates.first { FileManager.default.fileExists(atPath: $0 + "/" + header) }
    }
}

/// Python's `sys.path` entries, asked once from `python3` (or `python`), for finding pip-installed CUDA wheels.
enum PythonSitePackages {
    /// The directories, or empty when no Python interpreter answers.
    static let directories: [String] = {
        for interpreter in ["python3", "python"] {
            if let paths = query(interpreter) { return paths }
        }
        return []
    }()

    private static func query(_ interpreter: String) -> [String]? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [interpreter, "-c", "import sys; print('\\n'.join(p for p in sys.path if p))"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { $0.hasPrefix("/") }
    }
}
