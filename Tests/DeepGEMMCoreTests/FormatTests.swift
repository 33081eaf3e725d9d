import Testing
import DeepGEMMCore
import DeepGEMMTestSupport

/// Scalar formats against `formats.safetensors` (ml_dtypes and the spec's rules, made by
/// scripts/fixtures/generate.py).
@Suite struct FormatTests {
    static let file = try! SafeTensorsFile.open(path: fixturePath("formats.safetensors"))

    static func floats(_ name: String) throws -> [Float] {
        try #require(try file.tensor(name), "fixture tensor \(name)").elements(as: Float.self)
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        try #require(try file.tensor(name), "fixture tensor \(name)").elements(as: UInt8.self)
    }

    /// Bit equality that treats two NaNs as equal only when their bits match.
    static func sameBits(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern }

    @Test func allE4M3CodesDecode() throws {
        let expected = try Self.floats("e4m3_decode")
        #expect(expected.count == 256)
        for code in 0..<256 {
            #expect(Self.sameBits(Float8E4M3(bitPattern: UInt8(code)).floatValue, expected[code]), "code \(code)")
        }
        #expect(Float8E4M3(bitPattern: 0x7E).floatValue == 448)
        #expect(Float8E4M3(bitPattern: 0x01).floatValue == 0x1p-9)
        #expect(Float8E4M3(bitPattern: 0x7F).isNaN && Float8E4M3(bitPattern: 0xFF).isNaN)
    }

    @Test func allE5M2CodesDecode() throws {
        let expected = try Self.floats("e5m2_decode")
        for code in 0..<256 {
            #expect(Self.sameBits(Float8E5M2(bitPattern: UInt8(code)).floatValue, expected[code]), "code \(code)")
        }
        #expect(Float8E5M2(bitPattern: 0x7C).floatValue == .infinity)
        #expect(Float8E5M2(bitPattern: 0x7B).floatValue == 57344)
    }

    @Test func allFP4CodesDecode() throws {
        let expected = try Self.floats("fp4_decode")
        for code in 0..<16 { #expect(Self.sameBits(Float4E2M1.decode(UInt8(code)), expected[code]), "code \(code)") }
        #expect(Float4E2M1.decode(8).bitPattern == 0, "code 8 decodes to +0")
    }

    @Test(arguments: [FP8Overflow.nan, .saturate])
    func e4m3EncodeMatchesGolden(overflow: FP8Overflow) throws {
        let inputs = try Self.floats("e4m3_in")
        let expected = try Self.bytes(overflow == .nan ? "e4m3_nan" : "e4m3_sat")
        var mismatches = 0
        for (x, code) in zip(inputs, expected) where Float8E4M3(x, overflow: overflow).bitPattern != code {
            mismatches += 1
            if mismatches < 5 { Issue.record("e4m3(\(x) bits \(String(x.bitPattern, radix: 16))) = \(Float8E4M3(x, overflow: overflow).bitPattern), expected \(code)") }
        }
        #expect(mismatches == 0)
        #expect(inputs.count > 1000)
    }

    @Test(arguments: [FP8Overflow.nan, .saturate])
    func e5m2EncodeMatchesGolden(overflow: FP8Overflow) throws {
        let inputs = try Self.floats("e5m2_in")
        let expected = try Self.bytes(overflow == .nan ? "e5m2_nan" : "e5m2_sat")
        let wrong = zip(inputs, expected).filter { Float8E5M2($0.0, overflow: overflow).bitPattern != $0.1 }
        #expect(wrong.isEmpty, "first mismatches: \(wrong.prefix(4).map { "\($0.0) -> \($0.1)" })")
    }

    @Test func bf16EncodeMatchesGolden() throws {
        let inputs = try Self.floats("bf16_in")
        let expected = try #require(try Self.file.tensor("bf16_out")).elements(as: UInt16.self)
        let wrong = zip(inputs, expected).filter { BFloat16($0.0).bitPattern != $0.1 }
        #expect(wrong.isEmpty, "first mismatches: \(wrong.prefix(4).map { "\($0.0) -> \($0.1)" })")
        for (x, bits) in zip(inputs, expected) where !x.isNaN {
            #expect(BFloat16(bitPattern: bits).floatValue == Float(BFloat16(bitPattern: bits)))
        }
    }

    @Test func fp4EncodeMatchesHelperRule() throws {
        let inputs = try Self.floats("fp4_in")
        let expected = try Self.bytes("fp4_code")
        let wrong = zip(inputs, expected).filter { Float4E2M1.encode($0.0) != $0.1 }
        #expect(wrong.isEmpty, "first mismatches: \(wrong.prefix(4).map { "\($0.0) -> \($0.1)" })")
        // Every tie goes to the smaller magnitude.
        let ties: [(Float, UInt8)] = [(0.25, 0), (0.75, 1), (1.25, 2), (1.75, 3), (2.5, 4), (3.5, 5), (5, 6)]
        for (tie, code) in ties {
            #expect(Float4E2M1.encode(tie) == code, "tie \(tie)")
            #expect(Float4E2M1.encode(-tie) == (code == 0 ? 0 : code | 8), "tie -\(tie)")
            #expect(Float4E2M1.encode(tie.nextUp) == code + 1, "above tie \(tie)")
        }
        #expect(Float4E2M1.encode(-0.0) == 0 && Float4E2M1.encode(.nan) == 0 && Float4E2M1.encode(-1e9) == 15)
        #expect(Float4E2M1.pack(0x3, 0xA) == 0xA3)
    }

    @Test func ceilToUE8M0MatchesGolden() throws {
        let inputs = try Self.floats("ue8m0_in")
        let expected = try Self.floats("ue8m0_ceil")
        let wrong = zip(inputs, expected).filter { !Self.sameBits(UE8M0.ceil($0.0), $0.1) }
        #expect(wrong.isEmpty, "first mismatches: \(wrong.prefix(4).map { "\($0.0) -> \($0.1)" })")
        #expect(UE8M0.ceil(0) == 0x1p-126 && UE8M0.ceil(.infinity) == 0x1p127 && UE8M0.ceil(.nan) == 0x1p127)
        #expect(UE8M0.ceil(3) == 4 && UE8M0.ceil(-0.3) == 0.5 && UE8M0.ceil(1) == 1)
    }

    @Test func ue8m0PackingIsLittleEndian() {
        let word = UE8M0.pack(0x7F, 0x80, 0x01, 0xFE)
        #expect(UInt32(bitPattern: word) == 0xFE01_807F)
        #expect((0..<4).map { UE8M0.byte(word, $0) } == [0x7F, 0x80, 0x01, 0xFE])
        #expect(UE8M0.unpackedValue(0) == 0 && UE8M0.scaleValue(0) == 0x1p-127 && UE8M0.scaleValue(127) == 1 && UE8M0.scaleValue(255).isNaN)
    }

    @Test func tf32RoundingMatchesGolden() throws {
        let inputs = try Self.floats("tf32_in")
        let expected = try Self.floats("tf32_out")
        let wrong = zip(inputs, expected).filter { !Self.sameBits(TF32.round($0.0), $0.1) }
        #expect(wrong.isEmpty, "first mismatches: \(wrong.prefix(4).map { "\($0.0) -> \($0.1)" })")
    }

    @Test func float16RoundTripsAllCodes() {
        for bits in 0...UInt16.max {
            let value = Float(halfBits: bits)
            if value.isNaN { #expect(value.halfBits & 0x7C00 == 0x7C00 && value.halfBits & 0x3FF != 0) } else {
                #expect(value.halfBits == bits, "f16 \(bits)")
            }
        }
    }
}
