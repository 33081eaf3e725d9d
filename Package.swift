// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swift-deepgemm",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DeepGEMM", targets: ["DeepGEMM"]),
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
            dependencies: ["DeepGEMM", "DeepGEMMCUDA", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: - Tests
        .target(name: "DeepGEMMTestSupport", dependencies: ["DeepGEMMCore"], path: "Tests/DeepGEMMTestSupport"),
        // The kernels' arithmetic headers (schedulers, shared-memory layouts) built for the host
        .target(name: "DeepGEMMKernelHost", path: "Tests/DeepGEMMKernelHost",
                cxxSettings: [.headerSearchPath("../../Sources/DeepGEMMCUDA/Kernels"), .headerSearchPath("../../Sources/CDeepGEMMCPU")]),
        .testTarget(name: "DeepGEMMCoreTests", dependencies: ["DeepGEMMCore", "DeepGEMMTestSupport"]),
        .testTarget(name: "DeepGEMMCPUTests", dependencies: ["DeepGEMMCPU", "DeepGEMMCore", "DeepGEMMTestSupport"]),
        .testTarget(name: "DeepGEMMCLITests", dependencies: ["DeepGEMMCLI", "DeepGEMM", "DeepGEMMTestSupport"]),
        .testTarget(name: "DeepGEMMCUDATests", dependencies: ["DeepGEMMCUDA", "CCUDA", "DeepGEMM", "DeepGEMMCPU", "DeepGEMMCore", "DeepGEMMTestSupport",
                                                        "DeepGEMMKernelHost"]),
        .testTarget(name: "DeepGEMMTests", dependencies: ["DeepGEMM", "DeepGEMMTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
