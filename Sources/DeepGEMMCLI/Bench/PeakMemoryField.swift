import DeepGEMM
import Foundation

/// The peak resident memory `deepgemm bench` adds to every result: a last line of the text, a
/// `peak_resident_bytes` key of the JSON object.
enum PeakMemoryField {
    /// `output` (a result's text, or one JSON object when `json`) with the peak of this process added.
    static func appended(to output: String, json: Bool, peakBytes: Int = PeakResidentMemory.ofThisProcess()) -> String {
        guard json else { return output + "\n  peak resident memory: " + String(format: "%.1f MiB", Double(peakBytes) / 1_048_576) }
        precondition(output.hasSuffix("}"), "bench results print one JSON object")
        return output.dropLast() + ",\"peak_resident_bytes\":\(peakBytes)}"
    }
}
