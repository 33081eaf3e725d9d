/// The checksum file of a kernel cache entry: one line `<digest> <bytes> <file>` per file of the
/// entry (sorted by name), written last into the entry before it is renamed into place. An entry
/// is valid only when its files are exactly the listed ones, each with the listed size and
/// ``KernelDigest``; anything else (a truncated or altered file, a lost or damaged manifest, a
/// stray file) makes the entry corrupt.
struct KernelCacheManifest: Equatable {
    /// The manifest's own file name inside an entry.
    static let fileName = "manifest"

    /// Size and digest of one file.
    struct Record: Equatable {
        var byteCount: Int
        var digest: String
    }

    /// File name -> record.
    var records: [String: Record]

    /// The manifest of `files` (name -> contents).
    init(files: [String: [UInt8]]) {
        records = files.mapValues { Record(byteCount: $0.count, digest: KernelDigest.of(bytes: $0)) }
    }

    /// Parses a manifest's text; nil when a line is malformed or a name repeats.
    init?(text: String) {
        var records: [String: Record] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0].count == 32, let count = Int(fields[1]), count >= 0,
                  !fields[2].isEmpty, records[String(fields[2])] == nil else { return nil }
            records[String(fields[2])] = Record(byteCount: count, digest: String(fields[0]))
        }
        guard text.hasSuffix("\n") || text.isEmpty else { return nil }
        self.records = records
    }

    /// The manifest as file contents.
    var text: String {
        records.sorted { $0.key < $1.key }.map { "\($0.value.digest) \($0.value.byteCount) \($0.key)\n" }.joined()
    }

    /// Why `files` (every file of the entry except the manifest) do not match; nil when they do.
    func mismatch(_ files: [String: [UInt8]]) -> String? {
        for name in Set(records.keys).union(files.keys).sorted() {
            guard let record = records[name] else { return "'\(name)' is not in the manifest" }
            guard let contents = files[name] else { return "'\(name)' is missing" }
            guard contents.count == record.byteCount else {
                return "'\(name)' has \(contents.count) bytes, the manifest says \(record.byteCount)"
            }
            guard KernelDigest.of(bytes: contents) == record.digest else { return "'\(name)' does not match its checksum" }
        }
        return nil
    }
}
