// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swift-deepgemm",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "DeepGEMM", targets: ["DeepGEMM"]),
        .executable(name: "deepgemm", targets: ["deepgemm"]),
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
        .target(name: "DeepGEMMCUDA", dependencies: ["DeepGEMMCore", "CCUDA"]),
        .target(
            name: "DeepGEMMCLI",
            dependencies: ["DeepGEMM", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: - Tests
        .testTarget(name: "DeepGEMMCoreTests", dependencies: ["DeepGEMMCore"], exclude: []),
        .testTarget(name: "DeepGEMMCPUTests", dependencies: ["DeepGEMMCPU", "DeepGEMMCore"]),
        .testTarget(name: "DeepGEMMCLITests", dependencies: ["DeepGEMMCLI", "DeepGEMM"]),
    ],
    swiftLanguageModes: [.v6]
)
