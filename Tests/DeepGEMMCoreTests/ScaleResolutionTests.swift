import Testing
@testable import DeepGEMMCore

/// Recipe resolution of FP8/FP4 GEMM scales (spec §3) into dense grids.
@Suite struct ScaleResolutionTests {
    static func floats(_ shape: [Int], _ value: (Int) -> Float) throws -> Tensor {
        try Tensor((0..<shape.reduce(1, *)).map(value), shape: shape)
    }

    @Test func defaultRecipeKeepsFloatScalesInTheUnion() throws {
        // Non-power-of-two scales: only the SM90 rules accept them, so the union does.
        let sfa = try Self.floats([5, 2]) { Float($0) * 0.3 + 0.1 }
        let sfb = try Self.floats([1, 2]) { Float($0) + 1.5 }
        let resolved = try resolveGEMMScales(sfa: sfa, sfb: sfb, m: 5, n: 100, k: 200, recipe: nil, recipeA: nil, recipeB: nil, settings: .default)
        #expect(resolved.granKA == 128 && resolved.granKB == 128)
        #expect(resolved.a.count == 1 && resolved.a[0].granRows == 1 && resolved.b[0].granRows == 128)
        #expect(resolved.a[0].scale(row: 3, k: 130) == Float(7) * 0.3 + 0.1)
        #expect(resolved.b[0].scale(row: 99, k: 0) == 1.5)
        // SM100 alone rejects them.
        #expect(throws: DeepGEMMError.self) {
            try resolveGEMMScales(sfa: sfa, sfb: sfb, m: 5, n: 100, k: 200, recipe: nil, recipeA: nil, recipeB: nil,
                                  settings: DeepGEMMSettings(arch: .sm100), strictArch: true)
        }
    }

    @Test func packedAndPerOperandRecipesDecodeToPowersOfTwo() throws {
        // A: f32 powers of two, gk 32; B: packed UE8M0 int32, gk 128, MN-major TMA-aligned.
        let sfa = try Self.floats([4, 8]) { Float(sign: .plus, exponent: $0 % 5 - 2, significand: 1) }
        let sfbValues = try Self.floats([8, 2]) { Float(sign: .plus, exponent: $0 % 3, significand: 1) }
        let sfb = try getMNMajorTMAAlignedPackedUE8M0Tensor(sfbValues)
        let resolved = try resolveGEMMScales(sfa: sfa, sfb: sfb, m: 4, n: 8, k: 256, recipe: nil, recipeA: [1, 32], recipeB: [1, 128], settings: .default)
        #expect(resolved.granKA == 32 && resolved.granKB == 128)
        #expect(resolved.a[0].scale(row: 2, k: 100) == Float(sign: .plus, exponent: 19 % 5 - 2, significand: 1))
        #expect(resolved.b[0].scale(row: 5, k: 200) == Float(sign: .plus, exponent: 11 % 3, significand: 1))
    }

    @Test func groupedScalesGiveOneGridPerGroup() throws {
        let sfb = try Self.floats([3, 1, 2]) { Float($0 + 1) }
        let sfa = try Self.floats([6, 2]) { _ in 1 }
        let resolved = try resolveGEMMScales(sfa: sfa, sfb: sfb, m: 6, n: 64, k: 256, recipe: [1, 128, 128], recipeA: nil, recipeB: nil,
                                             numGroupsB: 3, settings: DeepGEMMSettings(arch: .sm90), strictArch: true)
        #expect(resolved.b.count == 3 && resolved.b[2].scale(row: 0, k: 200) == 6)
    }

    /// Packed UE8M0 groups (SM100 rules) decode when read, marked as decoded from UE8M0.
    @Test func packedGroupsDecodeWhenRead() throws {
        let sfb = try Self.floats([3, 64, 2]) { Float(sign: .plus, exponent: $0 % 7 - 3, significand: 1) }
        let sfa = try Self.floats([6, 2]) { _ in 0.5 }
        let resolved = try resolveGEMMScales(sfa: sfa, sfb: sfb, m: 6, n: 64, k: 256, recipe: [1, 1, 128], recipeA: nil, recipeB: nil,
                                             numGroupsB: 3, settings: DeepGEMMSettings(arch: .sm100), strictArch: true)
        #expect(resolved.b.count == 3 && resolved.b.granK == 128 && resolved.granKB == 128)
        let group = resolved.b[1]
        #expect(group.decodedFromUE8M0 && !resolved.a.isEmpty && resolved.a[0].decodedFromUE8M0)
        #expect(group.scale(row: 5, k: 200) == Float(sign: .plus, exponent: (64 * 2 + 5 * 2 + 1) % 7 - 3, significand: 1))
    }

    /// Packed words decode for every row past the decoder's sixteen-row blocks and for a K tail
    /// (10 blocks: words of 4, 4 and 2 bytes); byte 0 reads 2^-127 and byte 255 NaN.
    @Test func packedWordsDecodeEveryByte() throws {
        let (rows, blocks) = (37, 10)
        func byte(_ row: Int, _ block: Int) -> UInt8 { UInt8((row * 53 + block * 29) % 256) }
        let aligned = 40
        var words = [Int32](repeating: 0, count: aligned * 3)
        for row in 0..<rows {
            for word in 0..<3 {
                let b = (0..<4).map { 4 * word + $0 < blocks ? byte(row, 4 * word + $0) : 0 }
                words[word * aligned + row] = UE8M0.pack(b[0], b[1], b[2], b[3])
            }
        }
        let storage = try Tensor(words, shape: [aligned * 3])
        let sfb = try Tensor(storage: storage.storage, dtype: .int32, shape: [rows, 3], strides: [1, aligned], offset: 0)
        let sfa = try Self.floats([1, 10]) { _ in 1 }
        let resolved = try resolveGEMMScales(sfa: sfa, sfb: sfb, m: 1, n: rows, k: 32 * blocks, recipe: nil, recipeA: [1, 32], recipeB: [1, 32],
                                             settings: DeepGEMMSettings(arch: .sm100), strictArch: true)
        let grid = resolved.b[0]
        for row in 0..<rows {
            for block in 0..<blocks {
                let value = grid.scale(row: row, k: 32 * block), b = byte(row, block)
                if b == 255 { #expect(value.isNaN) } else { #expect(value == (b == 0 ? 0x1p-127 : Float(bitPattern: UInt32(b) << 23)), "(\(row), \(block))") }
            }
        }
    }

    /// F32 scales on the SM100 UE8M0 path are checked and used without packing: every grid value is
    /// what packing and decoding would give (+0 reads 2^-127), for groups, an MN-major input and rows
    /// broadcast by gran_mn; an unpackable value fails naming the GEMM's argument and the element.
    @Test func floatUE8M0ScalesGiveThePackedValues() throws {
        let sm100 = DeepGEMMSettings(arch: .sm100)
        func power(_ i: Int) -> Float { i % 11 == 0 ? 0 : Float(sign: .plus, exponent: i % 9 - 4, significand: 1) }
        func decoded(_ value: Float) -> Float { value == 0 ? 0x1p-127 : value }
        let sfa = try Self.floats([2, 10]) { _ in 1 }
        let grouped = try Self.floats([3, 40, 10], power)
        let resolved = try resolveGEMMScales(sfa: sfa, sfb: grouped, m: 2, n: 40, k: 320, recipe: nil, recipeA: [1, 32], recipeB: [1, 32],
                                             numGroupsB: 3, settings: sm100, strictArch: true)
        for group in 0..<3 {
            #expect(resolved.b[group].decodedFromUE8M0)
            for row in 0..<40 {
                for block in 0..<10 {
                    #expect(resolved.b[group].scale(row: row, k: 32 * block) == decoded(power((group * 40 + row) * 10 + block)))
                }
            }
        }
        let mnMajor = try Self.floats([40, 10], power).transposed().clone().transposed()
        let fromMNMajor = try resolveGEMMScales(sfa: sfa, sfb: mnMajor, m: 2, n: 40, k: 320, recipe: nil, recipeA: [1, 32], recipeB: [1, 32],
                                                settings: sm100, strictArch: true)
        #expect(fromMNMajor.b[0].scale(row: 33, k: 32 * 7) == decoded(power(33 * 10 + 7)))
        let broadcast = try Self.floats([2, 10], power)
        let rows = try resolveGEMMScales(sfa: sfa, sfb: broadcast, m: 2, n: 200, k: 320, recipe: nil, recipeA: [1, 32], recipeB: [128, 32],
                                         settings: sm100, strictArch: true)
        #expect(rows.b[0].scale(row: 150, k: 32 * 3) == decoded(power(13)) && rows.b[0].scale(row: 0, k: 0) == 0x1p-127)
        var values = try Self.floats([40, 10], power).elements(as: Float.self)
        values[17 * 10 + 3] = 0.75
        values[30 * 10 + 1] = -1
        do {
            _ = try resolveGEMMScales(sfa: sfa, sfb: try Tensor(values, shape: [40, 10]), m: 2, n: 40, k: 320, recipe: nil,
                                      recipeA: [1, 32], recipeB: [1, 32], settings: sm100, strictArch: true)
            Issue.record("an unpackable scale was accepted")
        } catch let error as DeepGEMMError {
            #expect(error.argument == "b_sf" && "\(error)".contains("[17, 3]"), "\(error)")
        }
    }

    @Test func recipeRules() throws {
        let sf = try Self.floats([4, 1]) { _ in 1 }
        func argument(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch let error as DeepGEMMError { return error.argument } catch { return "untyped" }
        }
        #expect(argument { _ = try resolveGEMMScales(sfa: sf, sfb: sf, m: 4, n: 4, k: 128, recipe: nil, recipeA: [1, 128], recipeB: nil, settings: .default) } == "recipe_b")
        #expect(argument { _ = try resolveGEMMScales(sfa: sf, sfb: sf, m: 4, n: 4, k: 128, recipe: [1, 1, 128], recipeA: [1, 128], recipeB: [1, 128], settings: .default) } == "recipe")
        #expect(argument { _ = try resolveGEMMScales(sfa: sf, sfb: sf, m: 4, n: 4, k: 128, recipe: [1, 128], recipeA: nil, recipeB: nil, settings: .default) } == "recipe")
        #expect(argument { _ = try resolveGEMMScales(sfa: sf, sfb: sf, m: 4, n: 4, k: 128, recipe: nil, recipeA: [1, 1, 128], recipeB: [1, 128], settings: .default) } == "recipe_a")
        // Wrong SF shape for the recipe.
        #expect(argument { _ = try resolveGEMMScales(sfa: sf, sfb: sf, m: 5, n: 4, k: 128, recipe: [1, 1, 128], recipeA: nil, recipeB: nil, settings: .default) } == "a_sf")
    }
}
