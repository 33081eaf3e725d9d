import DeepGEMM

/// What a `moe-rank` process hands back to `deepgemm moe`, as `rank<r>.safetensors` in the run's
/// output directory: `y`, the stats of its first (untimed) call, its median seconds per call, its
/// buffer size and the threads it computed with.
struct MoERankResult {
    /// BF16 [T, H], the rank's combined output.
    var y: Tensor
    /// Int32 [E_l], the pairs each local expert received in the first call.
    var stats: Tensor
    /// Median seconds of one timed call.
    var seconds: Double
    /// Bytes of the rank's symmetric buffer.
    var bufferBytes: Int
    /// The rank's `threadsPerRank`.
    var threads: Int

    /// The file of `rank` in `directory`.
    static func path(directory: String, rank: Int) -> String { directory + "/rank\(rank).safetensors" }

    /// Writes the file of `rank` into `directory` (atomically).
    func write(directory: String, rank: Int) throws {
        try SafeTensorsWriter.write([("y", y), ("stats", stats), ("seconds", try Tensor([seconds], shape: [])),
                                     ("buffer_bytes", try Tensor([Int64(bufferBytes)], shape: [])),
                                     ("threads", try Tensor([Int64(threads)], shape: []))],
                                    to: Self.path(directory: directory, rank: rank))
    }
}

extension MoERankResult {
    /// Reads the file of `rank` from `directory`; a missing or malformed entry is an I/O error
    /// naming the file.
    init(directory: String, rank: Int) throws {
        let path = Self.path(directory: directory, rank: rank)
        let file = try SafeTensorsFile.open(path: path)
        func entry(_ name: String, _ dtype: DType) throws -> Tensor {
            guard let tensor = try file.tensor(name), tensor.dtype == dtype else {
                throw DeepGEMMError.io(path: path, reason: "no \(dtype) tensor '\(name)'")
            }
            return tensor
        }
        y = try entry("y", .bfloat16)
        stats = try entry("stats", .int32)
        guard let seconds = try entry("seconds", .float64).elements(as: Double.self).first,
              let bytes = try entry("buffer_bytes", .int64).elements(as: Int64.self).first,
              let threads = try entry("threads", .int64).elements(as: Int64.self).first else {
            throw DeepGEMMError.io(path: path, reason: "empty 'seconds', 'buffer_bytes' or 'threads'")
        }
        (self.seconds, bufferBytes, self.threads) = (seconds, Int(bytes), Int(threads))
    }
}
