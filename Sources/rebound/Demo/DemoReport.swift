import Capacity
import ClusterSim
import Foundation
import Kube

/// How a demo ended: whether the story completed, the timeline, and the cluster's final state.
struct DemoReport: Sendable {
    struct PodRow: Sendable {
        var key: String
        var node: String
        var phase: String
        var optedIn: Bool
    }

    struct NodeRow: Sendable {
        var name: String
        var ready: String
        /// Free GiB per volume group, as the node reports it.
        var free: [String: Int64]
        /// GiB held by volumes on the node per group (bound or retained).
        var used: [String: Int64]
    }

    var success: Bool
    var problems: [String]
    var failedNode: String
    var moved: Int
    var stuck: Int
    /// Seconds since the demo started.
    var kubeletStoppedAt: Double
    var nodeNotReadyAt: Double?
    var countedFailedAt: Double?
    /// When Rebound's first migration started (its first ReboundMigrating event).
    var reboundActedAt: Double?
    /// Seconds since the demo started when each moved pod ran again, by pod.
    var runningAgainAt: [String: Double]
    var endedAt: Double
    var timeline: [DemoTimeline.Entry]
    var pods: [PodRow]
    var nodes: [NodeRow]
    var scale: Bool

    /// The last moved pod ran again this long after Rebound counted the node failed.
    var recoverySeconds: Double? {
        guard let counted = countedFailedAt, let last = runningAgainAt.values.max() else { return nil }
        return last - counted
    }

    static func build(
        store: SimStore, provisioner: LocalVolumeProvisioner, victim: String, moving: [StoredObject], stuck: [StoredObject], recovered: Bool,
        stoppedAt: Double, endedAt: Double, marks: [String: Double], timeline: [DemoTimeline.Entry], scale: Bool
    ) async throws -> DemoReport {
        var problems: [String] = []
        let pods = try await store.list(Pod.resourceType, namespace: nil).items
        let byKey = Dictionary(uniqueKeysWithValues: pods.map { ($0.key, $0) })
        var runningAgain: [String: Double] = [:]
        for old in moving {
            guard let pod = byKey[old.key], pod.uid != old.uid, pod.value["status"]?["phase"] == "Running" else {
                problems.append("\(old.key) is not running again")
                continue
            }
            if pod.value["spec"]?["nodeName"]?.stringValue == victim { problems.append("\(old.key) came back on the failed node") }
            if let at = marks["running \(pod.uid)"] { runningAgain[old.key] = at }
        }
        for old in stuck {
            // On Kubernetes a pod that did not opt in stays bound to the dead node; so must it here.
            guard let pod = byKey[old.key], pod.uid == old.uid, pod.value["spec"]?["nodeName"]?.stringValue == victim else {
                problems.append("\(old.key), which did not opt in, was moved")
                continue
            }
        }
        // Volumes held on each node. The provisioner never takes more than a group has free and
        // records ProvisioningFailed when asked to: any such event means a pod was placed on a
        // node without room, which is the overcommit the extender exists to prevent.
        let used = try await provisioner.provisioned()
        let free = try await provisioner.reportedFree()
        var nodeRows: [NodeRow] = []
        for node in try await store.list(Node.resourceType, namespace: nil).items {
            let ready = node.value["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }?["status"]?.stringValue ?? "?"
            nodeRows.append(NodeRow(name: node.name, ready: ready, free: free[node.name] ?? [:], used: used[node.name] ?? [:]))
        }
        let refused = try await store.list(Event.resourceType, namespace: nil).items.filter { $0.value["reason"] == "ProvisioningFailed" }
        for event in refused { problems.append("overcommit refused by the provisioner: \(event.value["message"]?.stringValue ?? "")") }
        if !recovered { problems.append("the moved pods did not all run again in time") }
        let optedIn = Set(pods.filter { $0.value["metadata"]?["annotations"]?["carina.storage.io/allow-pod-migration-if-node-notready"] == "true" }.map(\.uid))
        let podRows = pods.map {
            PodRow(key: $0.key, node: $0.value["spec"]?["nodeName"]?.stringValue ?? "", phase: $0.value["status"]?["phase"]?.stringValue ?? "", optedIn: optedIn.contains($0.uid))
        }
        return DemoReport(
            success: problems.isEmpty, problems: problems, failedNode: victim, moved: moving.count, stuck: stuck.count, kubeletStoppedAt: stoppedAt,
            runningAgainAt: runningAgain, endedAt: endedAt, timeline: timeline, pods: podRows.sorted { $0.key < $1.key },
            nodes: nodeRows.sorted { $0.name < $1.name }, scale: scale)
    }

    // MARK: Output

    func printText() {
        say("")
        say("Summary")
        say("  failed node:         \(failedNode) (kubelet stopped at \(Self.seconds(kubeletStoppedAt)))")
        if let notReady = nodeNotReadyAt { say("  node NotReady:       \(Self.seconds(notReady))") }
        if let counted = countedFailedAt { say("  counts as failed:    \(Self.seconds(counted)) (NotReady + failover.notReadyTimeoutSeconds)") }
        if let acted = reboundActedAt { say("  Rebound acted:       \(Self.seconds(acted))") }
        say("  opted-in pods moved: \(runningAgainAt.count)/\(moved)" + (recoverySeconds.map { String(format: ", all running again %.2f s after the node counted as failed", $0) } ?? ""))
        if stuck > 0 { say("  other pods on the node: \(stuck), left there as Kubernetes would") }
        say("")
        if !scale {
            say(table(["POD", "NODE", "PHASE", "OPTED IN"], pods.map { [$0.key, $0.node.isEmpty ? "-" : $0.node, $0.phase, $0.optedIn ? "yes" : "no"] }))
            say("")
        }
        let groups = Array(Set(nodes.flatMap { $0.free.keys })).sorted()
        let rows = nodes.map { node -> [String] in
            [node.name, node.ready] + groups.map { group in "\(node.free[group] ?? 0) free, \(node.used[group] ?? 0) used" }
        }
        say(table(["NODE", "READY"] + groups.map { "\($0.uppercased()) (GiB)" }, scale ? Array(rows.prefix(6)) + (rows.count > 6 ? [["…"] + Array(repeating: "", count: groups.count + 1)] : []) : rows))
        say("")
        if success {
            say("The story completed: every opted-in pod on \(failedNode) runs again on a healthy node, and no volume group is overcommitted.")
        } else {
            say("The story did NOT complete:")
            for problem in problems { say("  - \(problem)") }
        }
    }

    var json: JSONValue {
        var object: JSONObject = [
            "success": .bool(success), "problems": .array(problems.map { .string($0) }), "failedNode": .string(failedNode),
            "movedPods": .int(moved), "stuckPods": .int(stuck), "kubeletStoppedAt": .number(Self.number(kubeletStoppedAt)),
            "runningAgainAt": .object(JSONObject(uniqueKeysWithValues: runningAgainAt.sorted { $0.key < $1.key }.map { ($0.key, .number(Self.number($0.value))) })),
            "timeline": .array(timeline.map { ["seconds": .number(Self.number($0.seconds)), "text": .string($0.text)] }),
            "pods": .array(pods.map { ["pod": .string($0.key), "node": .string($0.node), "phase": .string($0.phase), "optedIn": .bool($0.optedIn)] }),
            "nodes": .array(nodes.map { node in
                ["name": .string(node.name), "ready": .string(node.ready),
                 "freeGiB": .object(JSONObject(uniqueKeysWithValues: node.free.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) })),
                 "usedGiB": .object(JSONObject(uniqueKeysWithValues: node.used.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) }))]
            }),
        ]
        if let notReady = nodeNotReadyAt { object["nodeNotReadyAt"] = .number(Self.number(notReady)) }
        if let counted = countedFailedAt { object["countedFailedAt"] = .number(Self.number(counted)) }
        if let acted = reboundActedAt { object["reboundActedAt"] = .number(Self.number(acted)) }
        if let recovery = recoverySeconds { object["recoverySeconds"] = .number(Self.number(recovery)) }
        return .object(object)
    }

    static func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }
    static func number(_ value: Double) -> String { String(format: "%.3f", value) }

    func table(_ header: [String], _ rows: [[String]]) -> String { TextTable.render(header, rows) }
}
