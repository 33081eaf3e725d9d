import DeepGEMMCore
import Foundation
import Testing
@testable import DeepGEMMCUDA

@Suite("NVRTC compiles (needs NVRTC and the CUDA headers, not a GPU)", .serialized, .enabled(if: isNVRTCAvailable))
struct NVRTCCompileTests {
    @Test("a representative SM90 kernel compiles to a cubin without spills")
    func compilesWithoutSpills() throws {
        let compiler = try NVRTCCompiler.shared.get()
        let problem = GEMMKernelProblem(GEMMProblem(kind: .normal, m: 4096, n: 2112, k: 7168), numSMs: 132)
        let source = SM90BF16GEMMKernel.source(for: problem, config: try SM90BF16Heuristics.bestConfig(for: problem))
        let compiled = try compiler.compile(source, for: .sm90a, keepPTX: true)
        #expect(compiled.cubin.starts(with: [0x7f, 0x45, 0x4c, 0x46]))
        #expect(compiled.report.registers != nil)
        #expect(!compiled.report.usesLocalMemory)
        #expect(compiled.ptx?.contains("wgmma.mma_async") == true)
        #expect(compiled.ptx?.contains("multicast::cluster") == true)
    }

    @Test("a compile error carries NVRTC's log")
    func compileError() throws {
        let compiler = try NVRTCCompiler.shared.get()
        let broken = KernelSource(name: "broken", code: "extern \"C\" __global__ void deepgemm_kernel() { undeclared_name = 1; }\n")
        do {
            _ = try compiler.compile(broken, for: .sm90a, keepPTX: false)
            Issue.record("the broken kernel compiled")
        } catch let error as KernelCompileError {
            #expect(error.message.contains("undeclared_name"))
            #expect(error.architecture == .sm90a)
        }
    }

    @Test("the JIT stores a compile (with DG_JIT_DUMP_PTX, its PTX) in the cache and reads it back")
    func cachedBuild() throws {
        let compiler = try NVRTCCompiler.shared.get()
        let root = NSTemporaryDirectory() + "deepgemm-jit-test-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let jit = KernelJIT(compiler: compiler, cache: KernelCache(root: root), options: JITOptions(environment: ["DG_JIT_PTXAS_CHECK": "1", "DG_JIT_DUMP_PTX": "1"]))
        let source = KernelSource(name: "tiny", code: "extern \"C\" __global__ void deepgemm_kernel(float* x) { x[threadIdx.x] = 1.0f; }\n")
        let first = try jit.build(source, for: .sm90a)
        let key = jit.key(for: source, architecture: .sm90a)
        #expect(first.directory == KernelCache(root: root).directory(name: "tiny", key: key))
        let files = try FileManager.default.contentsOfDirectory(atPath: try #require(first.directory)).sorted()
        #expect(files == ["kernel.cu", "kernel.cubin", "kernel.ptx", "manifest", "ptxas.log"])
        let second = try jit.build(source, for: .sm90a)
        #expect(second.cubin == first.cubin && second.log == first.log)
        #expect(jit.key(for: source, architecture: .sm100a) != key)
    }

    @Test("DG_JIT_PTXAS_CHECK rejects a kernel that uses local memory")
    func ptxasCheck() throws {
        let compiler = try NVRTCCompiler.shared.get()
        let root = NSTemporaryDirectory() + "deepgemm-jit-test-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let source = KernelSource(name: "local", code: """
            extern "C" __global__ void deepgemm_kernel(float* x, int i) {
                float a[512];
                for (int j = 0; j < 512; ++j) a[j] = x[j * i + threadIdx.x];
                x[threadIdx.x] = a[(i + threadIdx.x) % 512];
            }

            """)
        let checked = KernelJIT(compiler: compiler, cache: KernelCache(root: root), options: JITOptions(environment: ["DG_JIT_PTXAS_CHECK": "1"]))
        #expect(throws: KernelCompileError.self) { _ = try checked.build(source, for: .sm90a) }
        let unchecked = KernelJIT(compiler: compiler, cache: KernelCache(root: root), options: JITOptions(environment: [:]))
        #expect(PtxasReport(log: try unchecked.build(source, for: .sm90a).log).usesLocalMemory)
    }
}
