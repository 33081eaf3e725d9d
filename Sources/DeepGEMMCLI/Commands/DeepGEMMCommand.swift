import ArgumentParser
import DeepGEMM
import Foundation

/// The `deepgemm` command line tool.
public struct DeepGEMMCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "deepgemm",
        abstract: "DeepGEMM's FP8/FP4/BF16 GEMMs, quantization helpers and layouts, from Swift.",
        version: DeepGEMMVersion.string,
        subcommands: [RunCommand.self, BenchCommand.self, InfoCommand.self, DemoCommand.self, JITCommand.self, MoECommand.self, MoERankCommand.self]
    )

    public init() {}

    /// Process-wide settings of the `deepgemm` executable, made before the command runs: SIGXFSZ
    /// is ignored, so writing an output past the file-size limit (`ulimit -f`) fails with EFBIG,
    /// which the writers report as an I/O error (leaving no partial file), instead of killing the
    /// process.
    public static func prepareProcess() {
        signal(SIGXFSZ, SIG_IGN)
    }
}

/// Prints one line to standard error.
func printError(_ message: String) {
    var stream = StandardError()
    print(message, to: &stream)
}

/// Standard error as a `TextOutputStream`.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { FileHandle.standardError.write(Data(string.utf8)) }
}
