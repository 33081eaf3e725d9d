// swift-tools-version: 6.1
// libFuzzer targets for swift-deepgemm, outside the root package: a plain `swift build` or
// `swift test` never builds them, since they link only against libFuzzer. Build and run them with
//
//     scripts/sanitizers.sh fuzz
//
// which builds every module with ASan and libFuzzer's coverage instrumentation (`-Xswiftc
// -sanitize=address -Xswiftc -sanitize-coverage=...`, `-Xcc -fsanitize=fuzzer-no-link,address`)
// and runs each target on its seed corpus in Fuzz/corpus/<target>/. Only the fuzz executables link
// the libFuzzer runtime (their linker setting below): passing `-sanitize=fuzzer` to every module
// would also link it into the root package's build-tool executable. SwiftPM points an
// executable's `main` at its Swift entry point, so each target's main.swift hands its
// `LLVMFuzzerTestOneInput` to libFuzzer's driver itself (CFuzzerDriver).
import Foundation
import PackageDescription

/// A path dependency is known by its folder's name (the checkout's name, whatever it is).
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

/// Links the libFuzzer runtime (its driver, `LLVMFuzzerRunDriver`) and ASan.
let fuzzer: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]

let package = Package(
    name: "swift-deepgemm-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver", .product(name: "DeepGEMM", package: root)]),
        .executableTarget(name: "FuzzSafeTensors", dependencies: ["FuzzSupport"], linkerSettings: fuzzer),
        .executableTarget(name: "FuzzRunOp", dependencies: ["FuzzSupport", .product(name: "DeepGEMMCLI", package: root)], linkerSettings: fuzzer),
        .executableTarget(name: "FuzzLayouts", dependencies: ["FuzzSupport"], linkerSettings: fuzzer),
    ],
    swiftLanguageModes: [.v6]
)
