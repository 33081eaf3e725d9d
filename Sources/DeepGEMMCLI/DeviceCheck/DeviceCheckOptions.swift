import ArgumentParser
import DeepGEMM
import DeepGEMMCUDA
import Foundation

/// Options every device-check stage takes (`jit precompile|smoke|verify|bench`).
struct DeviceCheckOptions: ParsableArguments {
    @Flag(name: .customLong("fake-device"), help: """
        Run on the CPU standing in for a GPU, to check the stages' plumbing without one: launches run the CPU \
        reference; DG_DEVICE_CHECK_FAKE_HANG=<text> makes cases whose description contains <text> never finish, \
        DG_DEVICE_CHECK_FAKE_FAIL=<text> makes them return wrong outputs.
        """)
    var fakeDevice = false

    @Flag(name: .customLong("gpu-cases"), help: """
        With --fake-device: the GPU's case lists instead of the small host ones, to size the stages' host-side work \
        (inputs, CPU references) and, for precompile, to compile every kernel of the GPU stages.
        """)
    var gpuCases = false

    @Option(help: "Also write one JSON object per case (or kernel) to this file.")
    var json: String?

    @Option(help: "Only cases whose description contains this text.")
    var filter: String?

    @Option(help: "Only the families of this part of the device check (\(DeviceCheckPart.allCases.map(\.rawValue).joined(separator: ", ")); default: all).")
    var part: DeviceCheckPart?

    @Option(name: .customLong("case-deadline"), help: "Seconds one case's device work may take before the run stops with HANG.")
    var caseDeadline: Double = 30

    /// The environment variable naming cases that never finish on the fake device.
    static let fakeHangVariable = "DG_DEVICE_CHECK_FAKE_HANG"
    /// The environment variable naming cases that give a wrong D on the fake device.
    static let fakeFailVariable = "DG_DEVICE_CHECK_FAKE_FAIL"

    /// The stage's cases of `--part` after `--filter`.
    func cases(_ stage: DeviceCheckStage) -> [any DeviceCheckCase] {
        stage.cases(fakeDevice: fakeDevice && !gpuCases, part: part).filter { filter.map($0.description.contains) ?? true }
    }

    /// The GPU's stream, or the fake device.
    func device() throws -> any CheckDevice {
        guard fakeDevice else { return CUDACheckDevice(stream: try CUDAStream(device: try CUDADevice.current())) }
        let environment = ProcessInfo.processInfo.environment
        return HostCheckDevice(hangingCase: environment[Self.fakeHangVariable], failingCase: environment[Self.fakeFailVariable])
    }
}

/// Runs a stage body, turning any thrown error into `error: ...` on standard error and exit status 1.
func runStage(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        printError("error: \(error)")
        throw ExitCode(1)
    }
}
/// `--part A` / `--part B`.
extension DeviceCheckPart: ExpressibleByArgument {}
