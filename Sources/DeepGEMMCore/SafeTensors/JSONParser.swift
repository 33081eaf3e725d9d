/// A strict JSON parser (RFC 8259) for safetensors headers.
///
/// Unlike Foundation's `JSONSerialization` it reports repeated object keys (as
/// ``SafeTensorsError/duplicateName(_:)``), and it bounds nesting at ``maxDepth`` so hostile input
/// cannot exhaust the stack. Keys are compared as Swift strings, so two keys that differ only in
/// Unicode normalization count as the same key. Every other failure is
/// ``SafeTensorsError/invalidJSON(reason:)`` with the byte position.
struct JSONParser {
    /// The deepest nesting of arrays and objects accepted.
    static let maxDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses `bytes` as exactly one JSON value, optionally surrounded by whitespace.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.position < bytes.count { throw parser.failure("unexpected data after the top-level value") }
        return value
    }

    private func failure(_ reason: String) -> SafeTensorsError {
        .invalidJSON(reason: "\(reason) at byte \(position)")
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws(SafeTensorsError) {
        skipWhitespace()
        guard current == byte else {
            throw failure(current == nil ? "unexpected end, expected '\(Character(Unicode.Scalar(byte)))'"
                                         : "expected '\(Character(Unicode.Scalar(byte)))'")
        }
        position += 1
    }

    private mutating func parseValue(depth: Int) throws(SafeTensorsError) -> JSONValue {
        skipWhitespace()
        guard let byte = current else { throw failure("unexpected end, expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw failure("unexpected character (byte 0x\(String(byte, radix: 16)))")
        }
    }

    private mutating func parseObject(depth: Int) throws(SafeTensorsError) -> JSONValue {
        guard depth <= Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth) levels") }
        position += 1
        var members: [(key: String, value: JSONValue)] = []
        var keys = Set<String>()
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else {
                throw failure(current == nil ? "unexpected end, expected an object key" : "expected an object key")
            }
            let key = try parseString()
            guard keys.insert(key).inserted else { throw .duplicateName(key) }
            try expect(UInt8(ascii: ":"))
            members.append((key, try parseValue(depth: depth)))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(members)
            case nil: throw failure("unexpected end, expected ',' or '}'")
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(SafeTensorsError) -> JSONValue {
        guard depth <= Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth) levels") }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(elements)
            case nil: throw failure("unexpected end, expected ',' or ']'")
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    private mutating func parseLiteral(_ word: String) throws(SafeTensorsError) {
        let count = word.utf8.count
        guard bytes.count - position >= count, bytes[position..<position + count].elementsEqual(word.utf8) else {
            throw failure("invalid literal, expected '\(word)'")
        }
        position += count
    }

    /// Reads a number and returns its literal text.
    private mutating func parseNumber() throws(SafeTensorsError) -> String {
        let start = position
        if current == UInt8(ascii: "-") { position += 1 }
        if current == UInt8(ascii: "0") {
            position += 1
        } else if skipDigits() == 0 {
            throw failure("a number needs digits")
        }
        if current == UInt8(ascii: ".") {
            position += 1
            guard skipDigits() > 0 else { throw failure("a fraction needs digits") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard skipDigits() > 0 else { throw failure("an exponent needs digits") }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    private mutating func skipDigits() -> Int {
        let start = position
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { position += 1 }
        return position - start
    }

    /// Reads a string literal (the opening quote is at `position`) and returns its value.
    private mutating func parseString() throws(SafeTensorsError) -> String {
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = current else { throw failure("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                let string = String(decoding: utf8, as: UTF8.self)
                // Decoding replaces ill-formed sequences, so a round trip that changes the bytes means bad UTF-8.
                guard string.utf8.elementsEqual(utf8) else { throw failure("string is not valid UTF-8") }
                return string
            case UInt8(ascii: "\\"):
                position += 1
                try parseEscape(into: &utf8)
            case 0..<0x20:
                throw failure("unescaped control character in string")
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(SafeTensorsError) {
        guard let byte = current else { throw failure("unterminated escape") }
        position += 1
        let simple: UInt8
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): simple = byte
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"):
            utf8.append(contentsOf: String(try parseUnicodeEscape()).utf8)
            return
        default: throw failure("invalid escape '\\\(Character(Unicode.Scalar(byte)))'")
        }
        utf8.append(simple)
    }

    /// Reads the digits of a `\u` escape (and the low half of a surrogate pair).
    private mutating func parseUnicodeEscape() throws(SafeTensorsError) -> Unicode.Scalar {
        let first = try parseHex4()
        switch first {
        case 0xD800...0xDBFF:
            guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                throw failure("high surrogate without a following low surrogate")
            }
            position += 2
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw failure("high surrogate followed by a non-low surrogate") }
            let value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            guard let scalar = Unicode.Scalar(value) else { throw failure("invalid surrogate pair") }
            return scalar
        case 0xDC00...0xDFFF:
            throw failure("lone low surrogate")
        default:
            guard let scalar = Unicode.Scalar(first) else { throw failure("invalid code point") }
            return scalar
        }
    }

    private mutating func parseHex4() throws(SafeTensorsError) -> UInt32 {
        guard bytes.count - position >= 4 else { throw failure("unterminated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}
