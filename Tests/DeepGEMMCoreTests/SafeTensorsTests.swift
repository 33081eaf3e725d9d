import Foundation
import Testing
@testable import DeepGEMMCore

/// Raw safetensors bytes: the little-endian length of `json`, `json`, then `dataBytes` bytes 0, 1, 2, ...
private func rawFile(_ json: String, dataBytes: Int = 0, length: UInt64? = nil) -> [UInt8] {
    let header = Array(json.utf8)
    let prefix = withUnsafeBytes(of: (length ?? UInt64(header.count)).littleEndian) { Array($0) }
    return prefix + header + (0..<dataBytes).map { UInt8(truncatingIfNeeded: $0) }
}

/// The error parsing `bytes` throws, or nil if it parses (or throws something else).
private func parseError(_ bytes: [UInt8]) -> SafeTensorsError? {
    do {
        _ = try SafeTensorsFile(bytes: bytes)
        return nil
    } catch {
        return error as? SafeTensorsError
    }
}

private func parseError(_ json: String, dataBytes: Int = 0) -> SafeTensorsError? {
    parseError(rawFile(json, dataBytes: dataBytes))
}

extension SafeTensorsError {
    /// The case name, for tests that check the case but not the wording of its reason.
    var caseName: String {
        switch self {
        case .io: return "io"
        case .modified: return "modified"
        case .truncated: return "truncated"
        case .headerTooLarge: return "headerTooLarge"
        case .invalidJSON: return "invalidJSON"
        case .invalidHeader: return "invalidHeader"
        case .duplicateName: return "duplicateName"
        case .unknownDType: return "unknownDType"
        case .sizeMismatch: return "sizeMismatch"
        case .offsetsOutOfRange: return "offsetsOutOfRange"
        case .overlapping: return "overlapping"
        case .gap: return "gap"
        case .invalidName: return "invalidName"
        }
    }
}

/// A unique path under /tmp (nothing is created).
private func temporaryPath(_ suffix: String = ".safetensors") -> String {
    "/tmp/safetensors-test-\(getpid())-\(UUID().uuidString)\(suffix)"
}

/// A contiguous tensor of `dtype` filled with bytes from `seed`.
private func randomBytesTensor(_ shape: [Int], dtype: DType, seed: UInt64) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let tensor = Tensor(zeros: shape, dtype: dtype)
    for i in 0..<tensor.byteCount {
        tensor.dataPointer.storeBytes(of: UInt8(truncatingIfNeeded: generator.next()), toByteOffset: i, as: UInt8.self)
    }
    return tensor
}

private func bytes(of tensor: Tensor) -> [UInt8] {
    let data = tensor.contiguous()
    return Array(UnsafeRawBufferPointer(start: data.dataPointer, count: data.byteCount))
}

// MARK: - Round trips

@Test(arguments: DType.allCases)
func safeTensorsRoundTripEveryDType(dtype: DType) throws {
    let matrix = randomBytesTensor([3, 5], dtype: dtype, seed: 7)
    let scalar = randomBytesTensor([], dtype: dtype, seed: 8)
    let empty = Tensor(zeros: [0, 4], dtype: dtype)
    let transposed = try randomBytesTensor([4, 3], dtype: dtype, seed: 9).transposed()
    #expect(!transposed.isContiguous)
    let inputs: [(name: String, tensor: Tensor)] = [("matrix", matrix), ("scalar", scalar), ("empty", empty), ("view", transposed)]
    let file = try SafeTensorsFile(bytes: SafeTensorsWriter.serialize(inputs))
    let expectedType = try #require(DType(safetensorsName: dtype.safetensorsName))
    #expect(file.names == ["matrix", "scalar", "empty", "view"])
    for (name, input) in inputs {
        let output = try #require(file[name])
        #expect(output.dtype == expectedType)
        #expect(output.shape == input.shape)
        #expect(output.isContiguous)
        #expect(bytes(of: output) == bytes(of: input), "\(name) of \(dtype)")
    }
    #expect(try file.tensor("scalar")?.count == 1)
    #expect(try file.tensor("empty")?.byteCount == 0)
}

@Test func safeTensorsMetadataRoundTrip() throws {
    let metadata = ["format": "pt", "quote\"back\\slash": "tab\tnewline\nbell\u{7}", "ünï": "😀 \u{1}", "": ""]
    let serialized = try SafeTensorsWriter.serialize([("x", Tensor([Float(1)], shape: [1]))], metadata: metadata)
    let file = try SafeTensorsFile(bytes: serialized)
    #expect(file.metadata == metadata)
    #expect(file.names == ["x"])
}

@Test func safeTensorsMetadataWrittenOnlyWhenPresent() throws {
    let tensors: [(name: String, tensor: Tensor)] = [("x", try Tensor([Int32(5)], shape: [1]))]
    let plain = String(decoding: try SafeTensorsWriter.serialize(tensors), as: UTF8.self)
    let tagged = String(decoding: try SafeTensorsWriter.serialize(tensors, metadata: ["a": "b"]), as: UTF8.self)
    #expect(!plain.contains("__metadata__"))
    #expect(tagged.contains("\"__metadata__\":{\"a\":\"b\"}"))
    #expect(try SafeTensorsFile(bytes: Array(plain.utf8)).metadata.isEmpty)
}

@Test func safeTensorsHeaderIsPaddedJSONThatFoundationReads() throws {
    let tensors: [(name: String, tensor: Tensor)] = [
        ("b", try Tensor([Float(1), 2, 3], shape: [3])),
        ("a\"\n", try Tensor([Int8(1)], shape: [1, 1])),
    ]
    let serialized = try SafeTensorsWriter.serialize(tensors, metadata: ["k": "v"])
    let length = Int(serialized[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    #expect(length % 8 == 0)
    #expect(serialized.count == 8 + length + 13)
    let header = Array(serialized[8..<8 + length])
    let json = try #require(JSONSerialization.jsonObject(with: Data(header)) as? [String: Any])
    let b = try #require(json["b"] as? [String: Any])
    #expect(b["dtype"] as? String == "F32")
    #expect(b["shape"] as? [Int] == [3])
    #expect(b["data_offsets"] as? [Int] == [0, 12])
    let a = try #require(json["a\"\n"] as? [String: Any])
    #expect(a["dtype"] as? String == "I8")
    #expect(a["data_offsets"] as? [Int] == [12, 13])
    #expect(json["__metadata__"] as? [String: String] == ["k": "v"])
    let trimmed = header.reversed().drop { $0 == UInt8(ascii: " ") }
    #expect(trimmed.first == UInt8(ascii: "}"))
}

@Test func safeTensorsWritesTransposedViewRowMajor() throws {
    let matrix = try Tensor([Float(1), 2, 3, 4, 5, 6], shape: [2, 3])
    let serialized = try SafeTensorsWriter.serialize([("t", try matrix.transposed())])
    let floats = serialized.suffix(24).withUnsafeBytes { raw in (0..<6).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
    #expect(floats == [1, 4, 2, 5, 3, 6])
    let file = try SafeTensorsFile(bytes: serialized)
    #expect(try file["t"]?.shape == [3, 2])
    #expect(try file["t"]?.elements(as: Float.self) == [1, 4, 2, 5, 3, 6])
}

@Test func safeTensorsNamesFollowDataOffsets() throws {
    let json = #"{"late":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},"empty":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"early":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#
    let file = try SafeTensorsFile(bytes: rawFile(json, dataBytes: 6))
    #expect(file.names == ["early", "empty", "late"])
    #expect(try file["late"]?.elements(as: UInt8.self) == [4, 5])
    #expect(try file["early"]?.elements(as: UInt8.self) == [0, 1, 2, 3])
}

@Test func safeTensorsMisalignedTensorIsCopiedWithCorrectValues() throws {
    // A 3-byte tensor first puts the F32 tensor at an odd offset; it must still read correctly.
    let value: Float = 1.5
    let json = #"{"bytes":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"f":{"dtype":"F32","shape":[1],"data_offsets":[3,7]}}"#
    var raw = rawFile(json) + [9, 8, 7]
    raw += withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
    let file = try SafeTensorsFile(bytes: raw)
    let f = try #require(file["f"])
    #expect(try f.elements(as: Float.self) == [value])
    #expect(Int(bitPattern: f.dataPointer) % MemoryLayout<Float>.alignment == 0)
    #expect(try file["bytes"]?.elements(as: UInt8.self) == [9, 8, 7])
    #expect(try f.storage !== file["bytes"]?.storage)
}

@Test func safeTensorsScalarAndEmptyHeaderParse() throws {
    let scalar = try SafeTensorsFile(bytes: rawFile(#"{"s":{"dtype":"I16","shape":[],"data_offsets":[0,2]}}"#, dataBytes: 2))
    #expect(try scalar["s"]?.shape == [])
    #expect(try scalar["s"]?.elements(as: Int16.self) == [0x0100])
    let empty = try SafeTensorsFile(bytes: rawFile("{}   "))
    #expect(empty.names.isEmpty)
    #expect(try empty["s"] == nil)
}

// MARK: - Files

@Test func safeTensorsOpenFromTemporaryFile() throws {
    let path = temporaryPath()
    defer { unlink(path) }
    let a = randomBytesTensor([8, 16], dtype: .bfloat16, seed: 1)
    let b = try Tensor([Int64(-3), 4, Int64.max], shape: [3])
    try SafeTensorsWriter.write([("a", a), ("b", b)], metadata: ["origin": "test"], to: path)
    let file = try SafeTensorsFile.open(path: path)
    #expect(file.names == ["a", "b"])
    #expect(file.metadata == ["origin": "test"])
    #expect(try #require(file["a"]).bitwiseEqual(a))
    #expect(try file["b"]?.elements(as: Int64.self) == [-3, 4, Int64.max])
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(SafeTensorsWriter.serialize([("a", a), ("b", b)], metadata: ["origin": "test"])))
}

@Test func safeTensorsOpenIsZeroCopyAndPrivate() throws {
    let path = temporaryPath()
    defer { unlink(path) }
    try SafeTensorsWriter.write([("x", try Tensor([Float(1), 2], shape: [2])), ("y", try Tensor([Int32(7)], shape: [1]))], to: path)
    let fileSize = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    weak var released: TensorStorage?
    do {
        let file = try SafeTensorsFile.open(path: path, mappingThreshold: 0)
        #expect(file.isMapped)
        let x = try #require(file["x"]), y = try #require(file["y"])
        #expect(x.storage === y.storage)
        #expect(x.storage.byteCount == fileSize)
        let headerEnd = fileSize - 12
        #expect(x.dataPointer == x.storage.baseAddress + headerEnd)
        #expect(y.dataPointer == x.storage.baseAddress + headerEnd + 8)
        x.dataPointer.storeBytes(of: Float(99), as: Float.self)
        #expect(try x.elements(as: Float.self) == [99, 2])
        released = x.storage
    }
    #expect(released == nil)
    #expect(try SafeTensorsFile.open(path: path)["x"]?.elements(as: Float.self) == [1, 2])
}

@Test func safeTensorsOpenMissingFileIsIOError() {
    let path = temporaryPath()
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile.open(path: path) }
    #expect(error?.caseName == "io")
    if case .io(let reported, _) = error { #expect(reported == path) }
}

@Test func safeTensorsOpenDirectoryIsIOError() throws {
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile.open(path: "/tmp") }
    #expect(error == .io(path: "/tmp", reason: "not a regular file"))
}

@Test func safeTensorsOpenShortFilesAreTruncated() throws {
    for content in [[UInt8](), [1, 2, 3, 4, 5]] {
        let path = temporaryPath()
        defer { unlink(path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(content)))
        let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile.open(path: path) }
        #expect(error?.caseName == "truncated")
    }
}

@Test func safeTensorsWriteReplacesExistingFile() throws {
    let path = temporaryPath()
    defer { unlink(path) }
    try SafeTensorsWriter.write([("old", try Tensor([UInt8(1)], shape: [1]))], to: path)
    try SafeTensorsWriter.write([("new", try Tensor([UInt8(2)], shape: [1]))], to: path)
    #expect(try SafeTensorsFile.open(path: path).names == ["new"])
}

/// The entries of `/tmp` whose names contain `marker`.
private func leftovers(_ marker: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter { $0.contains(marker) }
}

@Test func safeTensorsAtomicWriteLeavesNothingOnDuplicateName() throws {
    let marker = "dup-\(UUID().uuidString)"
    let path = "/tmp/\(marker).safetensors"
    let t = try Tensor([Float(1)], shape: [1])
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsWriter.write([("a", t), ("b", t), ("a", t)], to: path) }
    #expect(error == .invalidName("a"))
    #expect(try leftovers(marker).isEmpty)
    #expect(throws: SafeTensorsError.invalidName("")) { try SafeTensorsWriter.serialize([("", t)]) }
    #expect(throws: SafeTensorsError.invalidName("__metadata__")) { try SafeTensorsWriter.serialize([("__metadata__", t)]) }
}

@Test func safeTensorsAtomicWriteLeavesNothingWhenDirectoryIsMissing() throws {
    let directory = temporaryPath("-missing")
    let path = directory + "/model.safetensors"
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsWriter.write([("a", try Tensor([Float(1)], shape: [1]))], to: path) }
    #expect(error?.caseName == "io")
    #expect(!FileManager.default.fileExists(atPath: directory))
    #expect(!FileManager.default.fileExists(atPath: path))
}

@Test func safeTensorsAtomicWriteOverDirectoryRemovesTemporaryFile() throws {
    let marker = "dir-\(UUID().uuidString)"
    let path = "/tmp/\(marker)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    defer { rmdir(path) }
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsWriter.write([("a", try Tensor([Float(1)], shape: [1]))], to: path) }
    #expect(error?.caseName == "io")
    #expect(try leftovers(marker) == [marker])
    #expect(try FileManager.default.contentsOfDirectory(atPath: path).isEmpty)
}

// MARK: - Malformed input

@Test func safeTensorsShorterThanEightBytesIsTruncated() {
    #expect(parseError([])?.caseName == "truncated")
    #expect(parseError([1, 0, 0, 0, 0, 0, 0])?.caseName == "truncated")
}

@Test func safeTensorsHeaderLengthPastEndIsTruncated() {
    #expect(parseError(rawFile("{}", length: 3))?.caseName == "truncated")
    #expect(parseError(rawFile("{}", length: 100_000_000))?.caseName == "truncated")
}

@Test func safeTensorsHugeHeaderLengthIsTooLarge() {
    #expect(parseError(rawFile("{}", length: 1 << 63)) == .headerTooLarge(length: 1 << 63))
    #expect(parseError(rawFile("{}", length: 100_000_001)) == .headerTooLarge(length: 100_000_001))
}

@Test(arguments: [
    ("truncated", #"{"a":{"dtype":"F32""#),
    ("trailing comma", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},}"#),
    ("trailing comma in array", #"{"a":{"dtype":"F32","shape":[1,],"data_offsets":[0,4]}}"#),
    ("bad escape", #"{"a\q":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#),
    ("lone high surrogate", #"{"\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#),
    ("lone low surrogate", #"{"\udc00x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#),
    ("trailing garbage", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x"#),
    ("control character", "{\"a\u{1}\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"),
    ("leading zero", #"{"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}"#),
    ("bare word", #"{"a":{"dtype":F32,"shape":[1],"data_offsets":[0,4]}}"#),
    ("single quotes", #"{'a':1}"#),
    ("empty", ""),
    ("deep nesting", String(repeating: "[", count: 10_000)),
])
func safeTensorsInvalidJSON(label: String, json: String) {
    #expect(parseError(json, dataBytes: 4)?.caseName == "invalidJSON", "\(label)")
}

@Test func safeTensorsInvalidUTF8IsInvalidJSON() {
    var raw = rawFile(#"{"ab":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, dataBytes: 1)
    raw[10] = 0xFF
    #expect(parseError(raw)?.caseName == "invalidJSON")
}

@Test func safeTensorsNestingLimitIs64Levels() {
    let nested = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
    // 64 levels parse (and then fail the structure check); 65 are rejected by the parser.
    #expect(parseError("{\"a\":" + nested + "}")?.caseName == "invalidHeader")
    #expect(parseError("{\"a\":[" + nested + "]}")?.caseName == "invalidJSON")
}

@Test func safeTensorsEscapesAndSurrogatePairsDecode() throws {
    let json = #"{"\ud83d\ude00\u00e9\n\/\"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
    let file = try SafeTensorsFile(bytes: rawFile(json, dataBytes: 1))
    #expect(file.names == ["😀é\n/\""])
}

@Test func safeTensorsTopLevelArrayIsInvalidHeader() {
    #expect(parseError("[]")?.caseName == "invalidHeader")
    #expect(parseError("\"s\"")?.caseName == "invalidHeader")
}

@Test func safeTensorsUnknownDType() {
    #expect(parseError(#"{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}"#, dataBytes: 16)
            == .unknownDType(tensor: "w", dtype: "F128"))
    #expect(parseError(#"{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4)
            == .unknownDType(tensor: "w", dtype: "f32"))
}

@Test func safeTensorsShapeTimesDTypeMustMatchRange() {
    let error = parseError(#"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, dataBytes: 20)
    #expect(error?.caseName == "sizeMismatch")
    if case .sizeMismatch(let tensor, _) = error { #expect(tensor == "w") }
}

@Test func safeTensorsShapeProductOverflowIsSizeMismatch() {
    let huge = #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#
    #expect(parseError(huge, dataBytes: 4)?.caseName == "sizeMismatch")
    let bytesOverflow = #"{"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}}"#
    #expect(parseError(bytesOverflow, dataBytes: 8)?.caseName == "sizeMismatch")
    // A zero size does not excuse the other sizes: the stride computation would still overflow.
    let zeroed = #"{"w":{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}"#
    #expect(parseError(zeroed)?.caseName == "sizeMismatch")
}

@Test func safeTensorsNegativeShapeIsInvalidHeader() {
    #expect(parseError(#"{"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}"#, dataBytes: 1)?.caseName == "invalidHeader")
}

@Test func safeTensorsNonIntegerNumbersAreInvalidHeader() {
    for shape in ["1.0", "1e0", "9223372036854775808", "\"1\"", "null", "true"] {
        let json = #"{"w":{"dtype":"U8","shape":["# + shape + #"],"data_offsets":[0,1]}}"#
        #expect(parseError(json, dataBytes: 1)?.caseName == "invalidHeader", "\(shape)")
    }
    #expect(parseError(#"{"w":{"dtype":"U8","shape":[1],"data_offsets":[0.0,1]}}"#, dataBytes: 1)?.caseName == "invalidHeader")
    #expect(parseError(#"{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}"#, dataBytes: 1)?.caseName == "invalidHeader")
    #expect(parseError(#"{"w":{"dtype":"U8","shape":1,"data_offsets":[0,1]}}"#, dataBytes: 1)?.caseName == "invalidHeader")
    #expect(parseError(#"{"w":{"dtype":8,"shape":[1],"data_offsets":[0,1]}}"#, dataBytes: 1)?.caseName == "invalidHeader")
}

@Test func safeTensorsMissingOrExtraFieldsAreInvalidHeader() {
    #expect(parseError(#"{"w":{"dtype":"U8","shape":[1]}}"#, dataBytes: 1)?.caseName == "invalidHeader")
    #expect(parseError(#"{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1}}"#, dataBytes: 1)?.caseName == "invalidHeader")
    #expect(parseError(#"{"w":[1]}"#)?.caseName == "invalidHeader")
}

@Test func safeTensorsBeginAfterEndIsOutOfRange() {
    let error = parseError(#"{"w":{"dtype":"U8","shape":[0],"data_offsets":[2,1]}}"#, dataBytes: 2)
    #expect(error?.caseName == "offsetsOutOfRange")
    if case .offsetsOutOfRange(let tensor, _) = error { #expect(tensor == "w") }
}

@Test func safeTensorsEndPastDataIsOutOfRange() {
    let error = parseError(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 7)
    #expect(error?.caseName == "offsetsOutOfRange")
    if case .offsetsOutOfRange(let tensor, _) = error { #expect(tensor == "w") }
}

@Test func safeTensorsOverlappingRanges() {
    let json = #"{"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]},"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#
    #expect(parseError(json, dataBytes: 6) == .overlapping(first: "a", second: "b"))
    let same = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}}"#
    #expect(parseError(same, dataBytes: 4) == .overlapping(first: "a", second: "b"))
}

@Test func safeTensorsGapsAreReported() {
    let between = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}}"#
    #expect(parseError(between, dataBytes: 5)?.caseName == "gap")
    let leading = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#
    #expect(parseError(leading, dataBytes: 3)?.caseName == "gap")
    let trailing = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#
    #expect(parseError(trailing, dataBytes: 3)?.caseName == "gap")
    #expect(parseError("{}", dataBytes: 1)?.caseName == "gap")
}

@Test func safeTensorsDuplicateNames() {
    let json = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
    #expect(parseError(json, dataBytes: 2) == .duplicateName("a"))
    #expect(parseError(#"{"__metadata__":{"k":"1","k":"2"}}"#) == .duplicateName("k"))
}

@Test func safeTensorsMetadataMustMapStringsToStrings() {
    #expect(parseError(#"{"__metadata__":{"k":1}}"#)?.caseName == "invalidHeader")
    #expect(parseError(#"{"__metadata__":{"k":{"nested":"x"}}}"#)?.caseName == "invalidHeader")
    #expect(parseError(#"{"__metadata__":["k"]}"#)?.caseName == "invalidHeader")
}

@Test func safeTensorsEmptyNameIsInvalid() {
    #expect(parseError(#"{"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, dataBytes: 1) == .invalidName(""))
}

@Test func safeTensorsErrorDescriptionsNameTheTensor() {
    #expect(SafeTensorsError.unknownDType(tensor: "w", dtype: "F128").description.contains("'w'"))
    #expect(SafeTensorsError.overlapping(first: "a", second: "b").description.contains("'a' and 'b'"))
    #expect(SafeTensorsError.headerTooLarge(length: 5).description.contains("100000000"))
}
