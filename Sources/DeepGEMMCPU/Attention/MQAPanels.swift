import DeepGEMMCore
internal import CDeepGEMMCPU

/// Key rows prepared for an ``MQAKernel``: packed lane groups for the C kernels, or decoded values
/// for the reference (FP8: Float values and per-row scales; FP4: doubled Int8 values and per-block
/// scales). Disjoint row ranges may be loaded from different threads.
final class MQAKeyPanel: @unchecked Sendable {
    let kernel: MQAKernel
    let format: MQAInputFormat
    let dim: Int
    /// Rows the panel can hold.
    let capacity: Int
    /// Values (packed lane groups, or decoded rows).
    let storage: UnsafeMutableRawPointer
    /// Scales (packed lane groups, or per row).
    let scales: UnsafeMutablePointer<Float>

    /// An empty panel of `capacity` rows of `dim` elements.
    init(kernel: MQAKernel, format: MQAInputFormat, dim: Int, capacity: Int) {
        (self.kernel, self.format, self.dim, self.capacity) = (kernel, format, dim, capacity)
        let groups = ceilDiv(capacity, Int(DG_MQA_LANES))
        let bytes: Int, floats: Int
        switch kernel {
        case .native(let isa):
            bytes = groups * Int(dg_mqa_kv_group_bytes(isa, format.code, Int32(dim)))
            floats = groups * Int(dg_mqa_kv_group_scales(format.code, Int32(dim)))
        case .reference:
            bytes = capacity * dim * (format == .fp8 ? 4 : 1)
            floats = capacity * (format == .fp8 ? 1 : dim / 32)
        }
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        scales = UnsafeMutablePointer<Float>.allocate(capacity: max(floats, 1))
    }

    deinit {
        storage.deallocate()
        scales.deallocate()
    }

    /// Bytes of values one key row takes in a panel of `kernel` (packed lane groups, or decoded rows).
    static func rowBytes(kernel: MQAKernel, format: MQAInputFormat, dim: Int) -> Int {
        switch kernel {
        case .native(let isa): Int(dg_mqa_kv_group_bytes(isa, format.code, Int32(dim))) / Int(DG_MQA_LANES)
        case .reference: dim * (format == .fp8 ? 4 : 1)
        }
    }

    /// Loads rows `rows` (whose lower bound is a multiple of 16, or 0): row r's values start at
    /// `values + (r - rows.lowerBound) · valueStride` bytes (FP8: dim E4M3 bytes; FP4: dim/2
    /// packed E2M1 bytes) and its 4-byte scale at `scales + (r - rows.lowerBound) · scaleStride`
    /// (FP8: Float; FP4: Int32 of packed UE8M0 bytes).
    func load(rows: Range<Int>, values: UnsafeRawPointer, valueStride: Int, scales source: UnsafeRawPointer, scaleStride: Int) {
        precondition(rows.lowerBound % Int(DG_MQA_LANES) == 0 && rows.upperBound <= capacity, "misaligned key rows \(rows)")
        switch kernel {
        case .native(let isa):
            let group = rows.lowerBound / Int(DG_MQA_LANES)
            let packed = storage + group * Int(dg_mqa_kv_group_bytes(isa, format.code, Int32(dim)))
            let packedScales = scales + group * Int(dg_mqa_kv_group_scales(format.code, Int32(dim)))
            dg_mqa_pack_kv(isa, format.code, Int32(dim), Int64(rows.count), values.assumingMemoryBound(to: UInt8.self), Int64(valueStride),
                           source.assumingMemoryBound(to: UInt8.self), Int64(scaleStride), packed, packedScales)
        case .reference:
            for (local, row) in rows.enumerated() {
                let rowValues = values + local * valueStride, rowScale = source + local * scaleStride
                if format == .fp8 {
                    let out = storage.assumingMemoryBound(to: Float.self) + row * dim
                    for d in 0..<dim { out[d] = Float8E4M3.decodeTable[Int(rowValues.load(fromByteOffset: d, as: UInt8.self))] }
                    scales[row] = rowScale.loadUnaligned(as: Float.self)
                } else {
                    let out = storage.assumingMemoryBound(to: Int8.self) + row * dim
                    for i in 0..<(dim / 2) {
                        let byte = rowValues.load(fromByteOffset: i, as: UInt8.self)
                        out[2 * i] = MQAReferenceArithmetic.doubledE2M1(byte)
                        out[2 * i + 1] = MQAReferenceArithmetic.doubledE2M1(byte >> 4)
                    }
                    let word = rowScale.loadUnaligned(as: Int32.self)
                    for b in 0..<(dim / 32) { scales[row * (dim / 32) + b] = MQAReferenceArithmetic.ue8m0(word, b) }
                }
            }
        }
    }
}

/// One query token prepared for an ``MQAKernel``: packed for the C kernels, or decoded for the
/// reference (FP8: Float values; FP4: doubled Int8 values, then Float block scales times 1/4).
final class MQAQueryPanel: @unchecked Sendable {
    let kernel: MQAKernel
    let format: MQAInputFormat
    let heads: Int
    let dim: Int
    /// The prepared token.
    let storage: UnsafeMutableRawPointer

    /// An empty panel for tokens of `heads` heads of `dim` elements.
    init(kernel: MQAKernel, format: MQAInputFormat, heads: Int, dim: Int) {
        (self.kernel, self.format, self.heads, self.dim) = (kernel, format, heads, dim)
        let bytes = switch kernel {
        case .native(let isa): Int(dg_mqa_q_bytes(isa, format.code, Int32(heads), Int32(dim)))
        case .reference: format == .fp8 ? heads * dim * 4 : heads * dim + heads * (dim / 32) * 4
        }
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
    }

    deinit { storage.deallocate() }

    /// The DG_MQA_* format code.
    var formatCode: Int32 { format.code }

    /// Reference FP4: the per-head block scales (times 1/4) after the doubled values.
    var referenceFP4Scales: UnsafeMutablePointer<Float> {
        (storage + heads * dim).assumingMemoryBound(to: Float.self)
    }

    /// Loads a token: `q` holds heads·dim E4M3 bytes (FP8) or heads·dim/2 packed E2M1 bytes, and
    /// `qSF` (FP4) heads Int32 of packed UE8M0 bytes.
    func load(q: UnsafeRawPointer, qSF: UnsafeRawPointer?) {
        switch kernel {
        case .native(let isa):
            dg_mqa_pack_q(isa, format.code, Int32(heads), Int32(dim), q.assumingMemoryBound(to: UInt8.self),
                          qSF?.assumingMemoryBound(to: Int32.self), storage)
        case .reference where format == .fp8:
            let out = storage.assumingMemoryBound(to: Float.self)
            for i in 0..<(heads * dim) { out[i] = Float8E4M3.decodeTable[Int(q.load(fromByteOffset: i, as: UInt8.self))] }
        case .reference:
            guard let qSF else { preconditionFailure("FP4 query tokens come with their scales") }
            let out = storage.assumingMemoryBound(to: Int8.self)
            for i in 0..<(heads * dim / 2) {
                let byte = q.load(fromByteOffset: i, as: UInt8.self)
                out[2 * i] = MQAReferenceArithmetic.doubledE2M1(byte)
                out[2 * i + 1] = MQAReferenceArithmetic.doubledE2M1(byte >> 4)
            }
            let blocks = dim / 32
            for h in 0..<heads {
                let word = qSF.loadUnaligned(fromByteOffset: 4 * h, as: Int32.self)
                for b in 0..<blocks { referenceFP4Scales[h * blocks + b] = MQAReferenceArithmetic.ue8m0(word, b) * 0.25 }
            }
        }
    }
}
