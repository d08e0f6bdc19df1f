import Synchronization

/// One part of `rebound serve` as `/readyz` reports it: a name and what, if anything, keeps it
/// from working.
struct PartCheck: Sendable {
    var name: String
    /// Whether the pod is unready while this part has a problem: the parts that serve traffic
    /// through the Service (caches, extender) do; failover, whose problems do not stop the
    /// webhook or the extender from answering, is reported but does not take the pod out.
    var gatesReadiness: Bool
    /// nil when the part works; otherwise why not.
    var problem: @Sendable () async -> String?

    /// The report: one line per part (`name: ok` or `name: problem`), and whether the process is
    /// ready (no gating part has a problem).
    static func report(_ checks: [PartCheck]) async -> (ready: Bool, body: String) {
        var ready = true
        var lines: [String] = []
        for check in checks {
            if let problem = await check.problem() {
                if check.gatesReadiness { ready = false }
                lines.append("\(check.name): \(problem)")
            } else {
                lines.append("\(check.name): ok")
            }
        }
        return (ready, lines.joined(separator: "\n") + "\n")
    }
}

/// A problem one part writes (from wherever it notices it) and a ``PartCheck`` reads.
final class ProblemBox: Sendable {
    private let value = Mutex<String?>(nil)

    func set(_ problem: String?) { value.withLock { $0 = problem } }

    var current: String? { value.withLock { $0 } }
}
