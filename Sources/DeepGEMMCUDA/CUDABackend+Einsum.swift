import DeepGEMMCore

extension CUDABackend {
    /// `einsum("bmk,bnk->mn", a, b, d, c)` on an SM90 device for arguments Core has validated (spec
    /// §11): contiguous BF16 `a` [S, M, K] and `b` [S, N, K] with M, N, K multiples of 64. An F32
    /// `d` [M, N] (contiguous, and `c` itself) gets the sum added; a BF16 `d` gets the sum formed in
    /// a zeroed F32 workspace and rounded once (round to nearest even). The partial tiles are added
    /// with atomics, so an F32 result may differ between runs in the last bits.
    ///
    /// Throws ``DeepGEMMError/unsupported(argument:rule:)`` naming `device` off SM90.
    public static func bf16BatchedSumEinsum(a: Tensor, b: Tensor, d: Tensor, options: Options = Options(), stream: CUDAStream) throws {
        try requireSM90(stream.device, what: "einsum bmk,bnk->mn")
        let family = SM90BatchedSumFamily()
        let numSMs = try numSMs(options, stream.device)
        let (s, m, n, k) = (a.size(0), a.size(1), b.size(1), a.size(2))
        guard m > 0 && n > 0 else { return }
        // An empty sum (S or K zero) leaves an F32 D as it is and makes a BF16 D zero
        let sums = s > 0 && k > 0
        let description = "einsum bmk,bnk->mn s=\(s) m=\(m) n=\(n) k=\(k) d=\(d.dtype)"
        if d.dtype == .float32 {
            if sums { try family.plan(a: a.layout, b: b.layout, d: d.deviceAddress, numSMs: numSMs, pdl: options.pdl).run(describing: description, on: stream) }
            return
        }
        guard sums else { return try d.zero() }
        let workspace = try Tensor.empty([m, n], dtype: .float32, device: d.device)
        try workspace.zero()
        try family.plan(a: a.layout, b: b.layout, d: workspace.deviceAddress, numSMs: numSMs, pdl: options.pdl).run(describing: description, on: stream)
        let output = d.isContiguous ? d : try Tensor.empty([m, n], dtype: .bfloat16, device: d.device)
        try family.castPlan(source: workspace.deviceAddress, destination: output.deviceAddress, count: m * n).run(describing: "\(description) cast", on: stream)
        if !d.isContiguous { try d.copy(from: output) }
    }
}
