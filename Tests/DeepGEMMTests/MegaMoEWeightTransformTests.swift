import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// `transformWeightsForMegaMoE`: the documented row maps, hand-computed rows, stride keeping, and
/// every argument rule.
struct MegaMoEWeightTransformTests {
    /// Int32 [groups, rows, 1] MN-major (strides [rows, 1, rows]) with value 1000·g + row.
    static func rowTaggedScales(groups: Int, rows: Int) throws -> Tensor {
        let values = (0..<groups).flatMap { g in (0..<rows).map { Int32(1000 * g + $0) } }
        return try Tensor(values, shape: [groups, 1, rows]).transposed(1, 2)
    }

    /// Int8 [groups, rows, 2] K-major: column 0 holds the row, column 1 the group.
    static func rowTaggedData(groups: Int, rows: Int) throws -> Tensor {
        try Tensor((0..<groups).flatMap { g in (0..<rows).flatMap { [Int8($0), Int8(g)] } }, shape: [groups, rows, 2])
    }

    @Test func rowMapsMatchTheDocumentedPermutations() {
        // I = 16: new rows 0-7 are gate 0-7, 8-15 up 16-23, 16-23 gate 8-15, 24-31 up 24-31.
        let interleaved = (0..<32).map { MegaMoEWeightLayout.interleavedSourceRow($0, intermediate: 16) }
        #expect(interleaved == Array(0..<8) + Array(16..<24) + Array(8..<16) + Array(24..<32))
        // New row 4i + j takes old row 32j + i within each 128 rows.
        let utccp = [0, 1, 2, 3, 4, 5, 127, 128, 129, 255].map(MegaMoEWeightLayout.utccpSourceRow)
        #expect(utccp == [0, 32, 64, 96, 1, 33, 127, 128, 160, 255])
        #expect((0..<384).allSatisfy { MegaMoEWeightLayout.utccpSourceRow(MegaMoEWeightLayout.utccpDestinationRow($0)) == $0 })
    }

    @Test func fp8FormPermutesL1DataAndScalesAndL2Scales() throws {
        let (groups, intermediate, hidden) = (2, 64, 128)
        let l1 = QuantizedTensor(data: try Self.rowTaggedData(groups: groups, rows: 2 * intermediate),
                                 sf: try Self.rowTaggedScales(groups: groups, rows: 2 * intermediate))
        let l2 = QuantizedTensor(data: Tensor(zeros: [groups, hidden, intermediate / 2], dtype: .int8),
                                 sf: try Self.rowTaggedScales(groups: groups, rows: hidden))
        let (t1, t2) = try transformWeightsForMegaMoE(l1Weights: l1, l2Weights: l2)

        let data = try t1.data.elements(as: Int8.self)
        #expect(t1.data.shape == [2, 128, 2] && t1.data.strides == [256, 2, 1])
        // Hand-computed: new row 8 is up row 64, row 16 gate row 8, row 127 up row 127.
        #expect([data[2 * 8], data[2 * 16], data[2 * 127]] == [64, 8, 127])
        #expect((0..<(2 * 128)).allSatisfy { Int(data[2 * $0]) == MegaMoEWeightLayout.interleavedSourceRow($0 % 128, intermediate: 64) })
        #expect((0..<(2 * 128)).allSatisfy { Int(data[2 * $0 + 1]) == $0 / 128 })

        #expect(t1.sf.strides == l1.sf.strides && t1.sf.shape == l1.sf.shape)
        let sf1 = try t1.sf.elements(as: Int32.self)
        // Hand-computed: new 1 ← interleaved 32 ← gate 16; new 2 ← interleaved 64 ← gate 32;
        // new 5 ← interleaved 33 ← gate 17; new 4 ← interleaved 1 ← gate 1; new 3 ← interleaved 96 ← gate 48.
        #expect(Array(sf1[1...5]) == [16, 32, 48, 1, 17])
        #expect((0..<256).allSatisfy { n in
            Int(sf1[n]) == 1000 * (n / 128)
                + MegaMoEWeightLayout.interleavedSourceRow(MegaMoEWeightLayout.utccpSourceRow(n % 128), intermediate: 64)
        })

        #expect(t2.data.sharesDataPointer(with: l2.data) && t2.data.shape == l2.data.shape)
        let sf2 = try t2.sf.elements(as: Int32.self)
        #expect(t2.sf.strides == l2.sf.strides)
        #expect((0..<256).allSatisfy { Int(sf2[$0]) == 1000 * ($0 / 128) + MegaMoEWeightLayout.utccpSourceRow($0 % 128) })
        // The inputs are left untouched.
        #expect(try l1.sf.elements(as: Int32.self) == (0..<2).flatMap { g in (0..<128).map { Int32(1000 * g + $0) } })
    }

    @Test func bf16FormInterleavesL1Only() throws {
        let l1 = try Tensor(converting: (0..<32).flatMap { [Double($0), Double($0)] }, shape: [1, 32, 2], dtype: .bfloat16)
        let l2 = Tensor(zeros: [1, 8, 16], dtype: .bfloat16)
        let (t1, t2) = try transformWeightsForMegaMoE(l1Weights: l1, l2Weights: l2)
        let rows = stride(from: 0, to: 64, by: 2).map { Int(t1.doubleValues()[$0]) }
        #expect(rows == Array(0..<8) + Array(16..<24) + Array(8..<16) + Array(24..<32))
        #expect(t2.sharesDataPointer(with: l2))
    }

    @Test func badArgumentsAreNamed() throws {
        let sf = { (rows: Int) in Tensor(zeros: [1, rows, 1], dtype: .int32) }
        let q = { (data: Tensor, sf: Tensor) in QuantizedTensor(data: data, sf: sf) }
        let goodL1 = q(Tensor(zeros: [1, 128, 64], dtype: .int8), sf(128))
        let goodL2 = q(Tensor(zeros: [1, 128, 32], dtype: .int8), sf(128))
        let fp8Cases: [(String, QuantizedTensor, QuantizedTensor, String)] = [
            ("activation", goodL1, goodL2, "gelu"),
            ("l1_weights", q(Tensor(zeros: [128, 64], dtype: .int8), sf(128)), goodL2, "swiglu"),
            ("l1_weights", q(Tensor(zeros: [1, 24, 64], dtype: .int8), sf(24)), goodL2, "swiglu"),
            ("l1_weights", q(try Tensor(zeros: [1, 64, 128], dtype: .int8).transposed(1, 2), sf(128)), goodL2, "swiglu"),
            ("l1_weights", q(goodL1.data, Tensor(zeros: [1, 128, 1], dtype: .float32)), goodL2, "swiglu"),
            ("l1_weights", q(goodL1.data, sf(64)), goodL2, "swiglu"),
            ("l1_weights", q(Tensor(zeros: [1, 32, 64], dtype: .int8), sf(32)), goodL2, "swiglu"),
            ("l2_weights", goodL1, q(Tensor(zeros: [2, 128, 32], dtype: .int8), Tensor(zeros: [2, 128, 1], dtype: .int32)), "swiglu"),
            ("l2_weights", goodL1, q(Tensor(zeros: [1, 64, 32], dtype: .int8), sf(64)), "swiglu"),
        ]
        for (name, l1, l2, activation) in fp8Cases {
            #expect(Self.argument { _ = try transformWeightsForMegaMoE(l1Weights: l1, l2Weights: l2, activation: activation) } == name)
        }
        let bf16 = Tensor(zeros: [1, 32, 8], dtype: .bfloat16)
        #expect(Self.argument { _ = try transformWeightsForMegaMoE(l1Weights: bf16, l2Weights: Tensor(zeros: [8, 16], dtype: .bfloat16)) } == "l2_weights")
        #expect(Self.argument { _ = try transformWeightsForMegaMoE(l1Weights: Tensor(zeros: [1, 8, 8], dtype: .bfloat16), l2Weights: bf16) } == "l1_weights")
        #expect(Self.argument { _ = try transformWeightsForMegaMoE(l1Weights: bf16, l2Weights: bf16, activation: "relu") } == "activation")
    }

    /// The argument named by the `invalidArgument` error `call` throws, or a description of what happened instead.
    static func argument(_ call: () throws -> Void) -> String? {
        do { try call(); return nil } catch let error as DeepGEMMError {
            if case .invalidArgument(let argument, _) = error { return argument }
            return "unexpected \(error)"
        } catch { return "unexpected \(error)" }
    }
}
