/// A 128-bit content digest for cache keys: two FNV-1a 64-bit lanes with different offset bases,
/// each finished with a splitmix64 avalanche. Not cryptographic; collisions between honest kernel
/// sources are what it guards against.
public struct KernelDigest: Sendable {
    private var low: UInt64 = 0xcbf2_9ce4_8422_2325
    private var high: UInt64 = 0x6c62_272e_07bb_0142
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// An empty digest.
    public init() {}

    /// Feeds `text` followed by a separator byte, so ("ab", "c") and ("a", "bc") differ.
    public mutating func update(_ text: String) {
        update(bytes: text.utf8)
    }

    /// Feeds `bytes` followed by the separator byte (a file's contents, for cache checksums).
    public mutating func update(bytes: some Sequence<UInt8>) {
        for byte in bytes { feed(byte) }
        feed(0xff)
    }

    private mutating func feed(_ byte: UInt8) {
        low = (low ^ UInt64(byte)) &* KernelDigest.prime
        high = (high ^ UInt64(byte ^ 0x5a)) &* KernelDigest.prime
    }

    /// 32 lowercase hex digits.
    public var hexValue: String {
        func mix(_ value: UInt64) -> UInt64 {
            var z = value &+ 0x9e37_79b9_7f4a_7c15
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(mix(low)) + hex(mix(high ^ low))
    }

    /// The digest of one block of bytes.
    public static func of(bytes: [UInt8]) -> String {
        var digest = KernelDigest()
        digest.update(bytes: bytes)
        return digest.hexValue
    }

    /// The digest of `parts`, in order.
    public static func of(_ parts: [String]) -> String {
        var digest = KernelDigest()
        for part in parts { digest.update(part) }
        return digest.hexValue
    }
}
