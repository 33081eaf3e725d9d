import DeepGEMMCore

/// Prints each kernel configuration line once per process (`DG_PRINT_CONFIGS`).
final class ConfigPrinter: Sendable {
    /// The process-wide printer.
    static let shared = ConfigPrinter()
    private let printed = Locked<Set<String>>([])

    /// Prints `line` to standard error unless it was printed before.
    func printOnce(_ line: String) {
        let isNew = printed.withLock { $0.insert(line).inserted }
        if isNew { printToStandardError("DeepGEMM config: \(line)") }
    }
}
