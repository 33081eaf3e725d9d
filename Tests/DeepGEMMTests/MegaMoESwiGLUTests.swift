import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// `swigluApplyWeightToFP8`: hand-computed cases, the output layout, and bit equality with the
/// independent reference on random inputs.
struct MegaMoESwiGLUTests {
    /// BF16 [rows, 2I] from row-major values.
    static func bf16(_ values: [Float], rows: Int) throws -> Tensor {
        try Tensor(converting: values.map(Double.init), shape: [rows, values.count / max(rows, 1)], dtype: .bfloat16)
    }

    @Test func handComputedRow() throws {
        // I = 32. gate = 20: exp(-20) ≈ 2.1e-9 is lost in 1 + e, so silu = 20; up = 1, w = 0.5 → a = 10.
        // amax = 10, q = 10/448 ≈ 0.0223 → E = -5 (2^-5 = 0.03125), byte 122; codes e4m3(10·32 = 320) = 0x7A.
        let x = try Self.bf16([Float](repeating: 20, count: 32) + [Float](repeating: 1, count: 32), rows: 1)
        let w = try Tensor([Float(0.5)], shape: [1])
        for fastMath in [true, false] {
            let r = try swigluApplyWeightToFP8(x, topkWeights: w, fastMath: fastMath)
            #expect(try r.data.elements(as: UInt8.self) == [UInt8](repeating: 0x7A, count: 32))
            #expect(try r.sf.elements(as: Int32.self) == [122])
        }
    }

    @Test func zeroGroupHasByteZeroAndZeroCodes() throws {
        // gate = 0 → silu = 0 in both forms; group 0 is all zero, group 1 (gate 20, up 1, w 1) has a = 20.
        let gate = [Float](repeating: 0, count: 32) + [Float](repeating: 20, count: 32)
        let x = try Self.bf16(gate + [Float](repeating: 1, count: 64), rows: 1)
        let r = try swigluApplyWeightToFP8(x, topkWeights: nil)
        let codes = try r.data.elements(as: UInt8.self)
        #expect(codes[0..<32].allSatisfy { $0 == 0 })
        // amax = 20 → q ≈ 0.0446 → E = -4, byte 123; 20·16 = 320 → 0x7A.
        #expect(codes[32..<64].allSatisfy { $0 == 0x7A })
        #expect(try r.sf.elements(as: Int32.self) == [Int32(123) << 8])
    }

    @Test func scaleExponentFollowsTheBitLevelRule() {
        #expect(MegaMoESwiGLUArithmetic.scaleExponent(amax: 0) == -127)
        #expect(MegaMoESwiGLUArithmetic.scaleExponent(amax: 448) == 0)
        #expect(MegaMoESwiGLUArithmetic.scaleExponent(amax: 449) == 1)
        #expect(MegaMoESwiGLUArithmetic.scaleExponent(amax: 224) == -1)
        // q subnormal (no 1e-4 floor): exponent field 0 with a non-zero mantissa gives -126.
        #expect(MegaMoESwiGLUArithmetic.scaleExponent(amax: 448 * 0x1p-130) == -126)
    }

    @Test func clampIsRoundedToBF16AndBoundsGateAboveAndUpBothWays() throws {
        // Columns: gate 20 / up 5, gate -20 / up -5, gate 1 / up 2 (inside). C = 2.999 rounds to bf16 3.
        var gate = [Float](repeating: 1, count: 32), up = [Float](repeating: 2, count: 32)
        (gate[0], up[0], gate[1], up[1]) = (20, 5, -20, -5)
        let x = try Self.bf16(gate + up, rows: 1)
        let clamped = try swigluApplyWeightToFP8(x, topkWeights: nil, activationClamp: 2.999, fastMath: false)
        let asThree = try swigluApplyWeightToFP8(x, topkWeights: nil, activationClamp: 3, fastMath: false)
        #expect(bitwiseMismatch(clamped.data, asThree.data) == nil)
        let expected = MegaMoESwiGLUReference.run(x: gate.map { BFloat16($0).floatValue } + up, weights: nil, rows: 1,
                                                  intermediate: 32, clamp: 3, fastMath: false)
        #expect(try MegaMoESwiGLUReference.unpack(clamped, rows: 1, intermediate: 32) == expected)
        let unclamped = try swigluApplyWeightToFP8(x, topkWeights: nil, fastMath: false)
        #expect(bitwiseMismatch(unclamped.data, clamped.data) != nil)
        // Column 0: silu(3)·3 ≈ 8.573, stored as e4m3(8.573·32 = 274.3) = 288 under E = -5, i.e. 9.
        let code0 = try clamped.data.elements(as: UInt8.self)[0]
        #expect(Float8E4M3(bitPattern: code0).floatValue == 288)
        #expect(UE8M0.byte(try clamped.sf.elements(as: Int32.self)[0], 0) == 122)
    }

    @Test(arguments: [true, false])
    func matchesTheReferenceBitForBit(fastMath: Bool) throws {
        let (rows, intermediate) = (37, 160)
        let x = Tensor.randn([rows, 2 * intermediate], dtype: .bfloat16, seed: 7, scale: 3)
        let w = Tensor.randn([rows], dtype: .float32, seed: 8)
        for clamp in [nil, 2.5] as [Double?] {
            let result = try swigluApplyWeightToFP8(x, topkWeights: w, activationClamp: clamp, fastMath: fastMath)
            let expected = MegaMoESwiGLUReference.run(x: x.floatValues(), weights: w.floatValues(), rows: rows, intermediate: intermediate,
                                                      clamp: clamp.map(Float.init), fastMath: fastMath)
            #expect(try MegaMoESwiGLUReference.unpack(result, rows: rows, intermediate: intermediate) == expected)
        }
    }

    @Test(arguments: [true, false])
    func activationMatchesTheReferenceBitForBit(fastMath: Bool) {
        var generator = SeededGenerator(seed: 11)
        var mismatches = [String]()
        for _ in 0..<4096 {
            let gate = BFloat16(Float(generator.nextNormal() * 6)).floatValue
            let up = BFloat16(Float(generator.nextNormal() * 3)).floatValue
            let weight = Float(generator.nextUnit())
            for clamp in [nil, Float(4)] {
                let actual = MegaMoESwiGLUArithmetic.activation(gate: gate, up: up, weight: weight, clamp: clamp, fastMath: fastMath)
                let expected = MegaMoESwiGLUReference.activation(gate: gate, up: up, weight: weight, clamp: clamp, fastMath: fastMath)
                if actual.bitPattern != expected.bitPattern {
                    mismatches.append("gate \(gate) up \(up) weight \(weight) clamp \(String(describing: clamp)): \(actual) vs \(expected)")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.first ?? "")")
    }

    /// The table form the kernels use gives the bits of the scalar form for every BF16 gate (NaN,
    /// infinities and subnormals included), with and without a clamp.
    @Test(arguments: [true, false])
    func tableActivationMatchesForEveryGate(fastMath: Bool) {
        let ups: [UInt16] = [0x3F80, 0xC0A0, 0x7F80, 0xFF80, 0x7FC1, 0x0001, 0x4700]
        var mismatches = 0
        for clamp in [nil, Float(4)] {
            let table = MegaMoESwiGLUArithmetic.BF16Activation(clamp: clamp, fastMath: fastMath)
            for gate in 0..<(1 << 16) {
                for (i, up) in ups.enumerated() {
                    let weight = Float(i + 1) * 0.37
                    let expected = MegaMoESwiGLUArithmetic.activation(gate: BFloat16(bitPattern: UInt16(gate)).floatValue,
                                                                      up: BFloat16(bitPattern: up).floatValue, weight: weight,
                                                                      clamp: clamp, fastMath: fastMath)
                    if table(gate: UInt16(gate), up: up, weight: weight).bitPattern != expected.bitPattern { mismatches += 1 }
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: [true, false])
    func bf16OutputIsTheRoundedActivation(fastMath: Bool) throws {
        let (rows, intermediate) = (7, 48)
        let x = Tensor.randn([rows, 2 * intermediate], dtype: .bfloat16, seed: 21, scale: 3)
        let w = Tensor.randn([rows], dtype: .float32, seed: 22)
        let result = try swigluApplyWeightToBF16(x, topkWeights: w, activationClamp: 2, fastMath: fastMath)
        #expect(result.shape == [rows, intermediate] && result.dtype == .bfloat16)
        let (values, weights) = (x.floatValues(), w.floatValues())
        let expected = (0..<rows).flatMap { r in
            (0..<intermediate).map { c in
                let a = MegaMoESwiGLUReference.activation(gate: values[r * 2 * intermediate + c], up: values[r * 2 * intermediate + intermediate + c],
                                                          weight: weights[r], clamp: 2, fastMath: fastMath)
                return BFloat16(a).bitPattern
            }
        }
        #expect(try result.elements(as: UInt16.self) == expected)
        // Hand-computed: gate 20, up 1, w 0.5 gives 10.
        let hand = try Self.bf16([Float](repeating: 20, count: 16) + [Float](repeating: 1, count: 16), rows: 1)
        let out = try swigluApplyWeightToBF16(hand, topkWeights: try Tensor([Float(0.5)], shape: [1]), fastMath: fastMath)
        #expect(out.doubleValues() == [Double](repeating: 10, count: 16))
    }

    @Test func scaleLayoutIsMNMajorTMAAlignedWithZeroPadding() throws {
        // rows = 5 → aligned 8; I = 160 → 5 groups → 2 words, the second holding one byte.
        let x = Tensor.randn([5, 320], dtype: .bfloat16, seed: 3)
        let r = try swigluApplyWeightToFP8(x, topkWeights: nil)
        #expect(r.data.shape == [5, 160] && r.data.dtype == .float8E4M3 && r.data.isContiguous)
        #expect(r.sf.shape == [5, 2] && r.sf.strides == [1, 8] && r.sf.dtype == .int32)
        let words = try r.sf.contiguous().elements(as: Int32.self)
        #expect((0..<5).allSatisfy { UInt32(bitPattern: words[2 * $0 + 1]) >> 8 == 0 })
    }

    @Test func stridedInputGivesTheSameResult() throws {
        let x = Tensor.randn([9, 128], dtype: .bfloat16, seed: 5)
        let w = Tensor.randn([9], dtype: .float32, seed: 6)
        let strided = try stridedCopy(of: x, strides: [1, 9])
        let stridedW = try stridedCopy(of: w, strides: [3])
        let a = try swigluApplyWeightToFP8(x, topkWeights: w)
        let b = try swigluApplyWeightToFP8(strided, topkWeights: stridedW)
        #expect(bitwiseMismatch(a.data, b.data) == nil)
        #expect(bitwiseMismatch(a.sf, b.sf) == nil)
    }

    @Test func zeroRowsGiveEmptyOutputs() throws {
        let r = try swigluApplyWeightToFP8(Tensor(zeros: [0, 64], dtype: .bfloat16), topkWeights: nil)
        #expect(r.data.shape == [0, 32] && r.sf.shape == [0, 1])
    }
}

/// Every argument rule of `swigluApplyWeightToFP8` throws a typed error naming its argument.
struct MegaMoESwiGLUErrorTests {
    static func argument(of call: () throws -> QuantizedTensor) -> String? {
        do { _ = try call(); return nil } catch let error as DeepGEMMError {
            if case .invalidArgument(let argument, _) = error { return argument }
            return "unexpected \(error)"
        } catch { return "unexpected \(error)" }
    }

    @Test func badArgumentsAreNamed() {
        let x = Tensor(zeros: [4, 64], dtype: .bfloat16)
        let cases: [(String, () throws -> QuantizedTensor)] = [
            ("x", { try swigluApplyWeightToFP8(Tensor(zeros: [64], dtype: .bfloat16), topkWeights: nil) }),
            ("x", { try swigluApplyWeightToFP8(Tensor(zeros: [4, 64], dtype: .float32), topkWeights: nil) }),
            ("x", { try swigluApplyWeightToFP8(Tensor(zeros: [4, 96], dtype: .bfloat16), topkWeights: nil) }),
            ("x", { try swigluApplyWeightToFP8(Tensor(zeros: [4, 0], dtype: .bfloat16), topkWeights: nil) }),
            ("topk_weights", { try swigluApplyWeightToFP8(x, topkWeights: Tensor(zeros: [3], dtype: .float32)) }),
            ("topk_weights", { try swigluApplyWeightToFP8(x, topkWeights: Tensor(zeros: [4, 1], dtype: .float32)) }),
            ("topk_weights", { try swigluApplyWeightToFP8(x, topkWeights: Tensor(zeros: [4], dtype: .bfloat16)) }),
            ("activation_clamp", { try swigluApplyWeightToFP8(x, topkWeights: nil, activationClamp: -1) }),
            ("activation_clamp", { try swigluApplyWeightToFP8(x, topkWeights: nil, activationClamp: .nan) }),
        ]
        for (name, call) in cases { #expect(Self.argument(of: call) == name) }
        // BF16 output takes I % 16 == 0: [4, 32] passes there but not for FP8; [4, 48] fails both.
        #expect(Self.argument(of: { try swigluApplyWeightToFP8(Tensor(zeros: [4, 32], dtype: .bfloat16), topkWeights: nil) }) == "x")
        #expect((try? swigluApplyWeightToBF16(Tensor(zeros: [4, 32], dtype: .bfloat16), topkWeights: nil))?.shape == [4, 16])
        let bf16Cases: [(String, () throws -> Tensor)] = [
            ("x", { try swigluApplyWeightToBF16(Tensor(zeros: [4, 48], dtype: .bfloat16), topkWeights: nil) }),
            ("x", { try swigluApplyWeightToBF16(Tensor(zeros: [4, 32], dtype: .float32), topkWeights: nil) }),
            ("topk_weights", { try swigluApplyWeightToBF16(x, topkWeights: Tensor(zeros: [5], dtype: .float32)) }),
            ("activation_clamp", { try swigluApplyWeightToBF16(x, topkWeights: nil, activationClamp: -0.5) }),
        ]
        for (name, call) in bf16Cases { #expect(Self.argument(of: { _ = try call(); return QuantizedTensor(data: x, sf: x) }) == name) }
    }
}
