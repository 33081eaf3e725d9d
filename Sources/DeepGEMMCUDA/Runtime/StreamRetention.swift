import DeepGEMMCore

/// Device memory that queued work still reads (e.g. the per-group tensor-map table of a k-grouped
/// GEMM), kept alive until its stream has drained so the call that queued it can return at once.
/// Entries are released when a later call finds their stream idle.
final class StreamRetention: Sendable {
    /// The process-wide list.
    static let shared = StreamRetention()
    private let pending = Locked<[(stream: CUDAStream, tensor: Tensor)]>([])

    /// Keeps `tensor` until `stream` is idle, releasing the entries of streams that already are.
    func retain(_ tensor: Tensor, until stream: CUDAStream) {
        pending.withLock { entries in
            entries.removeAll { (try? $0.stream.isIdle()) ?? true }
            entries.append((stream, tensor))
        }
    }
}
