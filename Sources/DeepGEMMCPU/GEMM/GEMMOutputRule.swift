import DeepGEMMCore

/// Writes one finished accumulator into D by the engine's output rule: F32 `D = acc` or
/// `D = D + acc`; BF16 `D = bf16(acc)` or `D = bf16(float(D) + float(bf16(acc)))`.
@inline(__always)
func storeGEMMResult(_ acc: Float, to d: UnsafeMutableRawPointer, bf16: Bool, accumulate: Bool) {
    if bf16 {
        let cell = d.assumingMemoryBound(to: UInt16.self)
        let sum = accumulate ? BFloat16(bitPattern: cell.pointee).floatValue + BFloat16(acc).floatValue : acc
        cell.pointee = BFloat16(sum).bitPattern
    } else {
        let cell = d.assumingMemoryBound(to: Float.self)
        cell.pointee = accumulate ? cell.pointee + acc : acc
    }
}
