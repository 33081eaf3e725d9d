import DeepGEMMCore

extension CUDABackend {
    /// One of DeepGEMM's casts (`problem`, checked by the caller) on a CUDA `x` with any element
    /// strides, queued on `stream`: the FP8 or packed FP4 data (``CastProblem/dataShape``) and the
    /// scales (F32 [scaleRows, scaleColumns], or packed UE8M0 int32) on `x`'s device, byte-identical
    /// to the CPU backend's. `per_token_cast_to_fp8` with a unit column stride runs its one-pass
    /// kernel; every other cast (and other strides) ``BlockCastKernel``'s two passes.
    public static func cast(_ x: Tensor, _ problem: CastProblem, stream: CUDAStream) throws -> (data: Tensor, sf: Tensor) {
        let device = x.device
        let dataDType: DType = problem.isFP4 ? .float4E2M1x2 : .float8E4M3
        let data: Tensor, sf: Tensor
        if problem.kind == .perTokenFP8 && (x.stride(1) == 1 || x.size(1) <= 1) {
            (data, sf) = try perTokenCastToFP8(x, useUE8M0: problem.useUE8M0, granK: problem.granK, stream: stream)
        } else {
            data = try Tensor.empty(problem.dataShape, dtype: dataDType, device: device)
            sf = try Tensor.empty([problem.scaleRows, problem.storedScaleColumns], dtype: .float32, device: device)
            let plans = try BlockCastKernel().plans(problem, x: x.layout, dataAddress: data.deviceAddress, sfAddress: sf.deviceAddress)
            let description = "\(problem.kind) m=\(problem.m) n=\(problem.n) gran_k=\(problem.granK) x=\(x.dtype) use_ue8m0=\(problem.useUE8M0)"
            for plan in plans { try run(plan, describing: description, on: stream) }
        }
        return (data, problem.usePackedUE8M0 ? try packUE8M0ToInt(sf, validate: false, stream: stream) : sf)
    }
}
