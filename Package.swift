// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swift-deepgemm",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DeepGEMM", targets: ["DeepGEMM"]),
        // The op table: every op by DeepGEMM name with its parameters, defaults and results.
        .library(name: "DeepGEMMOps", targets: ["DeepGEMMOps"]),
        // The C ABI (Sources/CDeepGEMMABI/include/deepgemm.h): libDeepGEMMC.so.
        // (The product cannot be called deepgemm, the executable's name; scripts/build-c-abi.sh installs it as
        // libdeepgemm.so.)
        .library(name: "DeepGEMMC", type: .dynamic, targets: ["DeepGEMMC"]),
        .executable(name: "deepgemm", targets: ["deepgemm"]),
        // The CLI as a library, for in-process callers such as the fuzz targets of Fuzz/Package.swift.
        .library(name: "DeepGEMMCLI", targets: ["DeepGEMMCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - Public API
        .target(name: "DeepGEMM", dependencies: ["DeepGEMMCore", "DeepGEMMCPU", "DeepGEMMCUDA"]),
        .target(name: "DeepGEMMOps", dependencies: ["DeepGEMM"]),
        .target(name: "CDeepGEMMABI"),
        .target(name: "DeepGEMMC", dependencies: ["DeepGEMM", "DeepGEMMOps", "CDeepGEMMABI"]),
        .executableTarget(name: "deepgemm", dependencies: ["DeepGEMMCLI"]),

        // MARK: - Implementation
        .target(name: "DeepGEMMCore"),
        .target(name: "DeepGEMMCPU", dependencies: ["DeepGEMMCore", "CDeepGEMMCPU"]),
        .target(name: "CDeepGEMMCPU"),
        .target(name: "CCUDA"),
        .target(name: "DeepGEMMCUDA", dependencies: ["DeepGEMMCore", "CCUDA"], plugins: ["EmbedKernelSources"]),
        .executableTarget(name: "EmbedKernelSourcesTool"),
        .plugin(name: "EmbedKernelSources", capability: .buildTool(), dependencies: ["EmbedKernelSourcesTool"]),
        .target(
            name: "DeepGEMMCLI",
            dependencies: ["DeepGEMM", "DeepGEMMOps", "DeepGEMMCUDA", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: - Tests
        .target(name: "DeepGEMMTestSupport", dependencies: ["DeepGEMMCore"], path: "Tests/DeepGEMMTestSupport"),
        // The kernels' arithmetic headers (schedulers, shared-memory layouts) built for the host
        .target(name: "DeepGEMMKernelHost", path: "Tests/DeepGEMMKernelHost",
                cxxSettings: [.headerSearchPath("../../Sources/DeepGEMMCUDA/Kernels"), .headerSearchPath("../../Sources/CDeepGEMMCPU")]),
        .testTarget(name: "DeepGEMMCoreTests", dependencies: ["DeepGEMMCore", "DeepGEMMTestSupport"]),
        .testTarget(name: "DeepGEMMCPUTests", dependencies: ["DeepGEMMCPU", "DeepGEMMCore", "DeepGEMMTestSupport"]),
        .testTarget(name: "DeepGEMMCLITests", dependencies: ["DeepGEMMCLI", "DeepGEMMOps", "DeepGEMM", "DeepGEMMTestSupport"]),
        .testTarget(name: "DeepGEMMCUDATests", dependencies: ["DeepGEMMCUDA", "CCUDA", "DeepGEMM", "DeepGEMMCPU", "DeepGEMMCore", "DeepGEMMTestSupport",
                                                        "DeepGEMMKernelHost"]),
        .testTarget(name: "DeepGEMMTests", dependencies: ["DeepGEMM", "DeepGEMMTestSupport"]),
        .testTarget(name: "DeepGEMMOpsTests", dependencies: ["DeepGEMMOps", "DeepGEMMC", "CDeepGEMMABI", "DeepGEMMCLI", "DeepGEMM"]),
    ],
    swiftLanguageModes: [.v6]
)
