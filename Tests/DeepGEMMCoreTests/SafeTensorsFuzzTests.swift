import Testing
@testable import DeepGEMMCore

/// Small valid files to mutate.
private func fuzzSeeds() throws -> [[UInt8]] {
    let first: [(name: String, tensor: Tensor)] = [
        ("w", Tensor.randn([3, 4], dtype: .float32, seed: 1)),
        ("b", Tensor.randn([4], dtype: .bfloat16, seed: 2)),
        ("s", try Tensor([Int64(12)], shape: [])),
    ]
    let second: [(name: String, tensor: Tensor)] = [
        ("scale", try Tensor([UInt8(127), 128, 3], shape: [3], dtype: .ue8m0)),
        ("q", Tensor.uniform([2, 2, 2], dtype: .float8E4M3, seed: 3, low: -4, high: 4)),
        ("empty", Tensor(zeros: [0, 5], dtype: .float16)),
        ("flag", try Tensor([true, false], shape: [2])),
    ]
    let third: [(name: String, tensor: Tensor)] = [("x", try Tensor([Int16(-1), 2, 3, 4, 5, 6], shape: [2, 3]).transposed())]
    return [
        try SafeTensorsWriter.serialize(first, metadata: ["format": "pt"]),
        try SafeTensorsWriter.serialize(second),
        try SafeTensorsWriter.serialize(third, metadata: ["a": "\u{e9}\"", "b": ""]),
    ]
}

private let fuzzTokens = [
    "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "\\udc00", "null", "true", "false", "-1", "0",
    "1.5", "1e3", "9223372036854775807", "9223372036854775808", "\"__metadata__\"", "\"dtype\"", "\"shape\"",
    "\"data_offsets\"", "\"F32\"", "\"F8_E8M0\"", "\"X9\"", " ", "\u{1}", "\u{e9}", "[0,4]", "[]", "{}",
]

private extension SeededGenerator {
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
}

/// The header length a file claims, or 0 when it is too short to say.
private func claimedLength(_ bytes: [UInt8]) -> Int {
    guard bytes.count >= 8 else { return 0 }
    return Int(min(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }, UInt64(bytes.count)))
}

private func setLength(_ bytes: inout [UInt8], _ length: UInt64) {
    guard bytes.count >= 8 else { return }
    withUnsafeBytes(of: length.littleEndian) { for i in 0..<8 { bytes[i] = $0[i] } }
}

/// Applies one random mutation of a randomly chosen kind.
private func mutate(_ bytes: inout [UInt8], _ generator: inout SeededGenerator) {
    let header = 8..<max(8, 8 + min(claimedLength(bytes), bytes.count - 8))
    switch generator.below(8) {
    case 0:  // flip bits of one byte
        guard !bytes.isEmpty else { return }
        bytes[generator.below(bytes.count)] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
    case 1:  // truncate
        bytes.removeLast(generator.below(bytes.count + 1))
    case 2:  // insert random bytes
        let inserted = (0..<1 + generator.below(4)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        bytes.insert(contentsOf: inserted, at: generator.below(bytes.count + 1))
    case 3:  // delete a range
        guard !bytes.isEmpty else { return }
        let start = generator.below(bytes.count)
        bytes.removeSubrange(start..<min(bytes.count, start + 1 + generator.below(6)))
    case 4:  // overwrite the length prefix
        let choices: [UInt64] = [0, 1, 7, UInt64(claimedLength(bytes)) &+ 1, UInt64(claimedLength(bytes)) &- 1,
                                 100_000_000, 100_000_001, 1 << 63, UInt64.max, generator.next() % 4096]
        setLength(&bytes, choices[generator.below(choices.count)])
    case 5, 6:  // mutate a digit inside the JSON
        let digits = header.filter { $0 < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) }
        guard !digits.isEmpty else { return }
        let replacements = Array("0123456789-.e+ ,".utf8)
        bytes[digits[generator.below(digits.count)]] = replacements[generator.below(replacements.count)]
    default:  // splice a JSON token into the header, usually keeping the length prefix consistent
        guard !header.isEmpty else { return }
        let token = Array(fuzzTokens[generator.below(fuzzTokens.count)].utf8)
        let at = header.lowerBound + generator.below(header.count + 1)
        let removed = min(generator.below(3), header.upperBound - at)
        bytes.replaceSubrange(at..<at + removed, with: token)
        if generator.below(4) != 0 { setLength(&bytes, UInt64(header.count - removed + token.count)) }
    }
}

/// Checks the invariants of a file that parsed: every view lies inside its storage, and its byte
/// count is the product of its shape times the element size (computed without overflow).
private func checkParsed(_ file: SafeTensorsFile, bufferCount: Int) -> Bool {
    guard Set(file.names).count == file.names.count else { return false }
    for name in file.names {
        guard let tensor = try? file[name], tensor.isContiguous, !name.isEmpty else { return false }
        var count = 1
        for size in tensor.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, size >= 0 else { return false }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: tensor.dtype.size)
        guard !overflow, tensor.byteCount == byteCount else { return false }
        let start = tensor.offset * tensor.dtype.size
        guard tensor.offset >= 0, start + byteCount <= tensor.storage.byteCount else { return false }
        // A view of the file's buffer has the buffer's size; a copied (misaligned) tensor has exactly its own bytes.
        guard tensor.storage.byteCount == bufferCount || tensor.storage.byteCount == byteCount else { return false }
    }
    return true
}

@Test func safeTensorsFuzzedInputNeverCrashesOrEscapesTheBuffer() throws {
    let seeds = try fuzzSeeds()
    for seed in seeds { #expect(checkParsed(try SafeTensorsFile(bytes: seed), bufferCount: seed.count)) }
    var generator = SeededGenerator(seed: 0x5AFE_7E45)
    var parsed = 0, rejected = 0
    var rejectedKinds = Set<String>()
    for iteration in 0..<6000 {
        var bytes = seeds[iteration % seeds.count]
        for _ in 0..<1 + generator.below(3) { mutate(&bytes, &generator) }
        do {
            let file = try SafeTensorsFile(bytes: bytes)
            parsed += 1
            #expect(checkParsed(file, bufferCount: bytes.count), "iteration \(iteration)")
        } catch let error as SafeTensorsError {
            rejected += 1
            rejectedKinds.insert(error.caseName)
        } catch {
            Issue.record("iteration \(iteration) threw a non-safetensors error: \(error)")
        }
    }
    // The mutations must exercise both outcomes and reach deep into the validation.
    #expect(parsed > 50)
    #expect(rejected > 3000)
    for kind in ["truncated", "headerTooLarge", "invalidJSON", "invalidHeader", "unknownDType", "sizeMismatch", "offsetsOutOfRange", "gap"] {
        #expect(rejectedKinds.contains(kind), "no mutation produced \(kind)")
    }
}
