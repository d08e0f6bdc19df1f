// swift-tools-version:6.1
// libFuzzer targets for Rebound's parsers, built by run.sh with `-sanitize=fuzzer,address`.
// Kept out of the main package so that `swift build` and `swift test` never need the fuzzer
// runtime; it depends on the main package by path.
import Foundation
import PackageDescription

/// The main package's identity: the name of the directory it was cloned into.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let rootPackage = root.lastPathComponent.lowercased()

func fuzzer(_ name: String, _ products: [String], logging: Bool = false) -> Target {
    .executableTarget(
        name: "fuzz-\(name)",
        dependencies: ["FuzzDriver"] + products.map { .product(name: $0, package: rootPackage) }
            + (logging ? [.product(name: "Logging", package: "swift-log")] : []),
        path: "Sources/fuzz-\(name)"
    )
}

let package = Package(
    name: "ReboundFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: ".."), .package(url: "https://github.com/apple/swift-log", from: "1.6.0")],
    targets: [
        .target(name: "FuzzDriver"),
        fuzzer("quantity", ["Capacity"]),
        fuzzer("json", ["Kube"]),
        fuzzer("jsonpatch", ["Kube"]),
        fuzzer("admission", ["Webhook", "Kube", "Capacity"], logging: true),
        fuzzer("extender", ["Extender", "Capacity"]),
        fuzzer("config", ["ReboundConfig"]),
    ]
)
