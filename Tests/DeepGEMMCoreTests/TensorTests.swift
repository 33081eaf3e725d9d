import Testing
@testable import DeepGEMMCore

@Suite struct TensorTests {
    static func iota(_ shape: [Int]) throws -> Tensor {
        try Tensor((0..<shape.reduce(1, *)).map { Float($0) }, shape: shape)
    }

    @Test func storageIsAlignedAndZeroed() {
        for count in [0, 1, 3, 1000, 300_000] {
            let t = Tensor(zeros: [count], dtype: .float32)
            #expect(Int(bitPattern: t.dataPointer) % 64 == 0)
            #expect(t.floatValues().allSatisfy { $0 == 0 })
        }
    }

    @Test func viewsShareStorageAndKeepStrides() throws {
        let t = try Self.iota([2, 3, 4])
        #expect(t.strides == [12, 4, 1] && t.isContiguous)
        let tr = try t.transposed()
        #expect(tr.shape == [2, 4, 3] && tr.strides == [12, 1, 4] && !tr.isContiguous)
        #expect(tr.storage === t.storage)
        #expect(tr.contiguous().floatValues() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23])
        let n = try t.narrow(dim: 2, start: 1, length: 2)
        #expect(n.shape == [2, 3, 2] && n.offset == 1 && n.floatValues().prefix(4) == [1, 2, 5, 6])
        let s = try t.select(dim: 1, index: 2)
        #expect(s.shape == [2, 4] && s.floatValues() == [8, 9, 10, 11, 20, 21, 22, 23])
        let r = try t.reshaped([6, -1])
        #expect(r.shape == [6, 4] && r.storage === t.storage)
        #expect(try t.unsqueezed(0).shape == [1, 2, 3, 4])
        // Writing through a view is seen by the base.
        s.dataPointer.assumingMemoryBound(to: Float.self)[0] = -1
        #expect(t.floatValues()[8] == -1)
    }

    @Test func badViewsThrow() throws {
        let t = try Self.iota([2, 3])
        #expect(throws: DeepGEMMError.self) { try t.transposed(0, 2) }
        #expect(throws: DeepGEMMError.self) { try t.narrow(dim: 1, start: 2, length: 2) }
        #expect(throws: DeepGEMMError.self) { try t.select(dim: 0, index: 2) }
        #expect(throws: DeepGEMMError.self) { try t.transposed().reshaped([6]) }
        #expect(throws: DeepGEMMError.self) { try t.reshaped([4, -1]) }
        #expect(throws: DeepGEMMError.self) { try t.viewing(as: .bfloat16) }
        #expect(throws: DeepGEMMError.self) { try Tensor(storage: t.storage, dtype: .float32, shape: [3, 3], strides: [3, 1]) }
        #expect(throws: DeepGEMMError.self) { try Tensor([1, 2, 3] as [Float], shape: [2, 2]) }
        #expect(throws: DeepGEMMError.self) { try Tensor([1, 2] as [Float], shape: [2], dtype: .int8) }
        #expect(throws: DeepGEMMError.self) { try t.copy(from: Self.iota([3, 2])) }
    }

    @Test func copyCloneAndBitwiseEquality() throws {
        let t = try Self.iota([3, 5])
        let strided = try t.transposed()
        let c = strided.clone()
        #expect(c.isContiguous && c.bitwiseEqual(strided) && c.storage !== t.storage)
        let target = Tensor(zeros: [5, 3], dtype: .float32)
        try target.transposed().copy(from: t)
        #expect(target.bitwiseEqual(strided))
        #expect(!t.bitwiseEqual(t.converted(to: .float64)))
        try target.zero()
        #expect(target.floatValues().allSatisfy { $0 == 0 })
    }

    @Test func conversionsRoundOnceAndSeededRandomIsStable() throws {
        let values: [Double] = [1.00390625, -3.5, 1e10, 0.1]
        let bf16 = try Tensor(converting: values, shape: [4], dtype: .bfloat16)
        #expect(bf16.floatValues() == values.map { BFloat16(Float($0)).floatValue })
        let a = Tensor.randn([64], dtype: .bfloat16, seed: 7), b = Tensor.randn([64], dtype: .bfloat16, seed: 7)
        #expect(a.bitwiseEqual(b) && !a.bitwiseEqual(Tensor.randn([64], dtype: .bfloat16, seed: 8)))
        let normal = Tensor.randn([20000], dtype: .float64, seed: 3).doubleValues()
        let mean = normal.reduce(0, +) / Double(normal.count)
        let variance = normal.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(normal.count)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
        let uniform = Tensor.uniform([1000], dtype: .float32, seed: 1, low: -2, high: 3).floatValues()
        #expect(uniform.allSatisfy { $0 >= -2 && $0 < 3 })
    }

    @Test func calcDiffFollowsDeepGEMM() throws {
        let x = try Tensor([1, 2, 3] as [Float], shape: [3])
        #expect(try calcDiff(x, x) == 0)
        #expect(try calcDiff(Tensor(zeros: [3], dtype: .float32), Tensor(zeros: [3], dtype: .float32)) == 0)
        #expect(abs(try calcDiff(x, Tensor([-1, -2, -3] as [Float], shape: [3])) - 2) < 1e-15)
        #expect(throws: DeepGEMMError.self) { try calcDiff(x, Tensor(zeros: [4], dtype: .float32)) }
    }

    @Test func argumentValueSyntax() {
        #expect(ArgumentValue(parsing: "128") == .int(128))
        #expect(ArgumentValue(parsing: "1e-4") == .double(1e-4))
        #expect(ArgumentValue(parsing: "True") == .bool(true))
        #expect(ArgumentValue(parsing: "none") == .none)
        #expect(ArgumentValue(parsing: "1,128,128") == .list([1, 128, 128]))
        #expect(ArgumentValue(parsing: "[4]") == .list([4]))
        #expect(ArgumentValue(parsing: "[]") == .list([]))
        #expect(ArgumentValue(parsing: "bhr,hdr->bhd") == .string("bhr,hdr->bhd"))
        #expect(ArgumentValue(parsing: "sm90") == .string("sm90"))
    }

    @Test func hostAllocatorReusesLargeBlocks() {
        HostAllocator.trim()
        var address: UnsafeMutableRawPointer?
        do {
            let big = Tensor.empty([3 << 20], dtype: .uint8)
            address = big.dataPointer
        }
        #expect(HostAllocator.cachedBytes >= 3 << 20)
        let again = Tensor.empty([3 << 20], dtype: .uint8)
        #expect(again.dataPointer == address)
        let zeroed = Tensor(zeros: [3 << 20], dtype: .uint8)
        #expect(zeroed.doubleValues().allSatisfy { $0 == 0 })
        HostAllocator.trim()
        #expect(HostAllocator.cachedBytes == 0)
    }
}
