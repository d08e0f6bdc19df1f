import Foundation
public import Testing

/// Command-line tools and Python modules some tests drive (h2load, kubectl,
/// kubernetes-validate, …). On a machine without them those tests are skipped, with the reason
/// in the test report; with `CI=true` (as `.ci/run` sets) they always run, so a missing tool
/// fails CI instead of hiding a test.
public enum OptionalTools {
    /// `CI=true` in the environment.
    public static var inCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether an executable called `name` is on the usual paths.
    public static func installed(_ name: String) -> Bool {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/bin"]
        return paths.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }

    /// Whether `python3` can import every one of `modules`.
    public static func pythonHas(_ modules: [String]) async -> Bool {
        guard installed("python3") else { return false }
        let result = try? await run("/usr/bin/env", ["python3", "-c", modules.map { "import \($0)" }.joined(separator: "; ")], timeout: .seconds(30))
        return result?.status == 0
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only when every one of `tools` is installed — always under `CI=true`.
    public static func requiresTools(_ tools: String...) -> Self {
        .enabled(
            if: OptionalTools.inCI || tools.allSatisfy(OptionalTools.installed),
            Comment(rawValue: "skipped: needs \(tools.joined(separator: ", ")) (bash .ci/run installs them; CI=true runs it regardless)"))
    }

    /// Runs the test only when `python3` can import every one of `modules` — always under `CI=true`.
    public static func requiresPython(_ modules: String...) -> Self {
        .enabled(Comment(rawValue: "skipped: needs python3 with \(modules.joined(separator: ", ")) (bash .ci/run installs them; CI=true runs it regardless)")) {
            if OptionalTools.inCI { return true }
            return await OptionalTools.pythonHas(modules)
        }
    }
}
