import Foundation
import PackagePlugin

/// Embeds a target's `.cuh` kernel sources (under `Kernels/`) into a generated Swift file, so the
/// JIT compiler can hand them to NVRTC without reading files next to the binary.
@main
struct EmbedKernelSources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let kernels = target.sourceFiles(withSuffix: "cuh").map(\.url).sorted { $0.path < $1.path }
        let root = target.directoryURL.appending(path: "Kernels")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedKernelSources.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(kernels.count) kernel sources of \(target.name)",
                executable: try context.tool(named: "EmbedKernelSourcesTool").url,
                arguments: [output.path, root.path] + kernels.map(\.path),
                inputFiles: kernels,
                outputFiles: [output]
            ),
        ]
    }
}
