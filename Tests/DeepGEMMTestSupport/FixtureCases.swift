import DeepGEMMCore

/// One case of a fixture file: an op, its arguments and its tensors.
///
/// A fixture file is a safetensors file whose `__metadata__` has one key `OP#i` per case, valued
/// `name=value;name=value` in the ``ArgumentValue`` syntax, and whose tensors are named `OP#i/NAME`
/// (inputs by DeepGEMM's argument names, expected results as `out`).
public struct FixtureCase: Sendable {
    /// DeepGEMM's name of the op, e.g. `get_tma_aligned_size`.
    public let op: String
    /// The case number within the op.
    public let index: Int
    /// The scalar arguments and expectations, by name.
    public let arguments: [String: ArgumentValue]
    /// The tensors, keyed by the part of their name after the slash.
    public let tensors: [String: Tensor]

    /// Creates a case from its parts.
    public init(op: String, index: Int, arguments: [String: ArgumentValue], tensors: [String: Tensor]) {
        self.op = op
        self.index = index
        self.arguments = arguments
        self.tensors = tensors
    }

    /// The case's key, `OP#i`.
    public var name: String { "\(op)#\(index)" }

    /// The argument `name`, or nil when it is absent or `none`.
    public func optional(_ name: String) -> ArgumentValue? {
        guard let value = arguments[name], value != .none else { return nil }
        return value
    }

    /// The integer argument `name`; nil when absent or `none`.
    public func optionalInt(_ name: String) throws -> Int? {
        guard let value = optional(name) else { return nil }
        guard case .int(let int) = value else { throw mismatch(name, "an integer", value) }
        return int
    }

    /// The integer argument `name`, which must be present.
    public func int(_ name: String) throws -> Int {
        guard let value = try optionalInt(name) else { throw missing(name) }
        return value
    }

    /// The boolean argument `name`; nil when absent or `none`.
    public func optionalBool(_ name: String) throws -> Bool? {
        guard let value = optional(name) else { return nil }
        guard case .bool(let bool) = value else { throw mismatch(name, "a boolean", value) }
        return bool
    }

    /// The integer-list argument `name` (a single integer counts as a one-element list); nil when
    /// absent or `none`.
    public func optionalIntList(_ name: String) throws -> [Int]? {
        switch optional(name) {
        case nil: return nil
        case .list(let list): return list
        case .int(let int): return [int]
        case let value?: throw mismatch(name, "a list of integers", value)
        }
    }

    /// The string argument `name`; nil when absent or `none`.
    public func optionalString(_ name: String) -> String? {
        optional(name)?.description
    }

    /// The tensor `name`, which must be present.
    public func tensor(_ name: String) throws -> Tensor {
        guard let tensor = tensors[name] else { throw FixtureError(message: "\(self.name): missing tensor '\(name)'") }
        return tensor
    }

    private func missing(_ name: String) -> FixtureError {
        FixtureError(message: "\(self.name): missing argument '\(name)'")
    }

    private func mismatch(_ name: String, _ expected: String, _ value: ArgumentValue) -> FixtureError {
        FixtureError(message: "\(self.name): argument '\(name)' should be \(expected), got '\(value)'")
    }
}

/// A malformed fixture file or case.
public struct FixtureError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public let message: String

    /// Creates an error with `message`.
    public init(message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// The path of `Tests/Fixtures/<fileName>` in this checkout.
public func fixturePath(_ fileName: String) -> String {
    let components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    // Drop "DeepGEMMTestSupport/FixtureCases.swift" to reach "Tests".
    return (components.dropLast(2) + ["Fixtures", Substring(fileName)]).joined(separator: "/")
}

/// Every case of the fixture file `Tests/Fixtures/<fileName>`, sorted by op, then index.
public func loadFixtureCases(_ fileName: String) throws -> [FixtureCase] {
    let file = try SafeTensorsFile.open(path: fixturePath(fileName))
    var arguments: [CaseKey: [String: ArgumentValue]] = [:]
    for (key, text) in file.metadata {
        guard let caseKey = CaseKey(key) else { continue }
        arguments[caseKey] = try parseArguments(text, of: key)
    }
    var tensors: [CaseKey: [String: Tensor]] = [:]
    for name in file.names {
        guard let slash = name.firstIndex(of: "/"), let caseKey = CaseKey(String(name[..<slash])) else {
            throw FixtureError(message: "\(fileName): tensor '\(name)' is not named OP#i/NAME")
        }
        tensors[caseKey, default: [:]][String(name[name.index(after: slash)...])] = try file.tensor(name)
    }
    return Set(arguments.keys).union(tensors.keys).sorted().map { key in
        FixtureCase(op: key.op, index: key.index, arguments: arguments[key] ?? [:], tensors: tensors[key] ?? [:])
    }
}

/// Parses `name=value;name=value`.
private func parseArguments(_ text: String, of key: String) throws -> [String: ArgumentValue] {
    var result: [String: ArgumentValue] = [:]
    for item in text.split(separator: ";") where !item.allSatisfy({ $0 == " " }) {
        guard let equals = item.firstIndex(of: "=") else {
            throw FixtureError(message: "\(key): '\(item)' is not name=value")
        }
        let name = item[..<equals].filter { $0 != " " }
        result[name] = ArgumentValue(parsing: String(item[item.index(after: equals)...]))
    }
    return result
}

/// `OP#i`, ordered by op, then index.
private struct CaseKey: Hashable, Comparable {
    let op: String
    let index: Int

    init?(_ text: String) {
        guard let hash = text.lastIndex(of: "#"), let index = Int(text[text.index(after: hash)...]) else { return nil }
        op = String(text[..<hash])
        self.index = index
    }

    static func < (a: CaseKey, b: CaseKey) -> Bool { (a.op, a.index) < (b.op, b.index) }
}
