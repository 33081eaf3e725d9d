/// One translation unit for the JIT: a small generated file that includes the embedded kernel
/// headers and instantiates a kernel template as the `extern "C"` entry ``CUDAKernel/entryName``.
public struct KernelSource: Sendable, Hashable {
    /// The kernel family, e.g. `sm90_bf16_gemm` (names the cache entry).
    public var name: String
    /// The generated code; it depends only on compile-time arguments, never on runtime values.
    public var code: String

    /// Creates a source.
    public init(name: String, code: String) {
        self.name = name
        self.code = code
    }

    /// The embedded headers as (include name, text), sorted by name.
    static let headers: [(name: String, text: String)] = EmbeddedKernelSources.files.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }

    /// A digest of every embedded header, so editing any kernel header changes every cache key.
    static let headersDigest: String = KernelDigest.of(headers.flatMap { [$0.name, $0.text] })
}
