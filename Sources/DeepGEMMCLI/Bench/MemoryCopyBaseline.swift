import DeepGEMM

/// The peer every memory-bound benchmark is compared with: a plain multi-threaded copy.
enum MemoryCopyBaseline {
    /// Median wall and CPU seconds to copy `bytes` bytes between two preallocated buffers with the
    /// backend's threads.
    static func times(bytes: Int) -> RunTimes {
        let source = Tensor(zeros: [bytes], dtype: .uint8), target = Tensor(zeros: [bytes], dtype: .uint8)
        let from = CopyPointers(source: source.dataPointer, target: target.dataPointer)
        return Timing.medians {
            CPUParallelism.forEachChunk(bytes, grain: 1 << 20) { range in
                (from.target + range.lowerBound).copyMemory(from: from.source + range.lowerBound, byteCount: range.count)
            }
        }
    }
}

/// Two buffers shared with the copy workers, each of which touches a disjoint range.
private struct CopyPointers: @unchecked Sendable {
    let source: UnsafeMutableRawPointer
    let target: UnsafeMutableRawPointer
}
