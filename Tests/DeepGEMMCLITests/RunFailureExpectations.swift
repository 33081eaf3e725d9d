import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMCLI

/// Expects each `(op, settings, argument)` run on `input` to fail with a ``DeepGEMMError`` naming
/// `argument` and to leave no file at `output`.
func expectRunFailures(_ failing: [(op: String, settings: [String], argument: String)], input: String, output: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
    for (op, settings, argument) in failing {
        #expect(sourceLocation: sourceLocation) {
            try OpRunner.run(op: op, input: input, output: output, settings: settings)
        } throws: { error in
            (error as? DeepGEMMError)?.argument == argument
        }
        #expect(!FileManager.default.fileExists(atPath: output), "\(op) \(settings) left an output file", sourceLocation: sourceLocation)
    }
}
