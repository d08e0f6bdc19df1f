import Capacity
import Extender
import Failover
import Foundation
import Kube

/// What `rebound status` shows, decided from one ``StatusSnapshot`` by the same rules Rebound's
/// parts apply (node health, failure timeout, partition guard, volume pinning, claim groups):
/// nodes, protected workloads, failovers and retained volumes, and what needs attention.
struct StatusReport: Sendable {
    /// Free, reserved and used GiB of one volume group on one node.
    struct GroupSpace: Sendable, Hashable {
        var group: String
        /// As the driver reports it; nil when the node does not report the group.
        var freeGiB: Int64?
        /// Counted against the node by the extender's shared ledger (placed, not provisioned yet).
        var reservedGiB: Int64
        /// Held by bound local volumes on the node.
        var usedGiB: Int64
    }

    struct NodeRow: Sendable, Hashable {
        var name: String
        /// `Ready`, or why not, as the extender judges it.
        var health: String
        /// The same in a few words, for the table: `Ready=Unknown, tainted unreachable`.
        var healthShort: String
        var healthy: Bool
        /// Failover's view: nil when healthy; "suspect: counts as failed in 26 s"; "failed: …".
        var failover: String?
        /// The same in a few words, for the table: `suspect (failed in 26 s)`, `failed 2 min ago`.
        var failoverShort: String?
        var failed: Bool
        var groups: [GroupSpace]
    }

    struct ClaimRow: Sendable, Hashable {
        var name: String
        var storageClass: String?
        /// The volume group; nil when the claim is not node-local.
        var group: String?
        var volume: String?
        /// The node its volume is pinned to.
        var node: String?
    }

    struct WorkloadRow: Sendable, Hashable {
        /// `namespace/name`.
        var pod: String
        var node: String?
        var phase: String
        var claims: [ClaimRow]
        /// Why the pod is not (fully) protected; empty when it is.
        var problems: [String]
    }

    struct MigrationRow: Sendable, Hashable {
        /// `namespace/name` of the pod, or of the claim being rebuilt.
        var object: String
        var node: String
        /// `in progress` or `stuck`.
        var state: String
        var reason: String
    }

    struct RetainedVolume: Sendable, Hashable {
        var name: String
        var node: String
        var failedAt: Date?
        var ageSeconds: Double?
        var sizeGiB: Int64?
        var storageClass: String?
        /// The claim it belonged to, `namespace/name`.
        var claim: String?
        var phase: String
        var reclaimPolicy: String
        /// The node exists and is Ready again: its data can be reached.
        var nodeBack: Bool
        /// A claim (the same uid as the volume's claimRef) still uses it: never pruned.
        var bound: Bool
    }

    var nodes: [NodeRow] = []
    /// Namespaces labelled to opt their pods in.
    var optedInNamespaces: [String] = []
    var workloads: [WorkloadRow] = []
    var failedNodes: [String] = []
    var migrations: [MigrationRow] = []
    /// Why the partition guard holds migration; nil when it does not.
    var partitionGuard: String?
    var leader: String?
    /// Seconds since the leader last renewed its Lease.
    var leaderRenewedSecondsAgo: Double?
    var retained: [RetainedVolume] = []
    /// Recent Events Rebound recorded, newest last.
    var recentEvents: [String] = []
    /// What an operator should look at; `--check` exits non-zero when it is not empty.
    var attention: [String] = []
    /// What could not be read.
    var problems: [String] = []

    static func build(_ snapshot: StatusSnapshot, keys: CompatibilityKeys, settings: FailoverSettings, now: Date) -> StatusReport {
        var report = StatusReport()
        report.problems = snapshot.problems
        let classes = StorageClassIndex(snapshot.storageClasses)
        let claimsByKey = Dictionary(snapshot.claims.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let volumesByName = Dictionary(snapshot.volumes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let nodesByName = Dictionary(snapshot.nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

        // Which node a local volume lives on, and its group.
        func group(of claim: PersistentVolumeClaim) -> String? {
            classes.resolve(claim.spec?.storageClassName).flatMap { keys.volumeGroup(of: $0) }
        }
        // The node a volume is pinned to: node-local drivers name it in a one-value node affinity
        // term (its topology key's value is the node's name), which VolumePinning confirms.
        func pinnedNode(_ volume: PersistentVolume) -> String? {
            let term: NodeSelectorTerm? = volume.spec?.nodeAffinity?.required?.nodeSelectorTerms.first
            var named: [String] = []
            for requirement in term?.matchExpressions ?? [] where requirement.operator == "In" && requirement.values?.count == 1 {
                named.append(requirement.values![0])
            }
            for requirement in term?.matchFields ?? [] where requirement.key == "metadata.name" && requirement.values?.count == 1 {
                named.append(requirement.values![0])
            }
            for candidate in named {
                if let node = nodesByName[candidate], VolumePinning.isPinned(volume, to: candidate, nodeLabels: node.metadata.labels) { return candidate }
            }
            return volume.metadata.labels?[ClaimRecovery.failedNodeLabel]
        }

        // Nodes: health, failover state, space.
        let capacities = NodeCapacities.compute(nodes: snapshot.nodes, storageCapacities: snapshot.storageCapacities, keys: keys)
        // Space held by the local volumes on each node: bound ones and retained ones alike.
        var used: [String: [String: Int64]] = [:]
        for volume in snapshot.volumes {
            guard let group = classes.resolve(volume.spec?.storageClassName ?? "").flatMap({ keys.volumeGroup(of: $0) }), let node = pinnedNode(volume) else { continue }
            // Sizes are anyone's to write: the sums saturate rather than trap.
            let gib = volume.spec?.capacity?["storage"]?.ceiling(binaryPower: 3) ?? 0
            used[node, default: [:]][group, default: 0] = (used[node]?[group] ?? 0).saturatingAdd(gib)
        }
        var reserved: [String: [String: Int64]] = [:]
        for reservation in snapshot.ledger.map(SharedReservation.all(in:)) ?? [] {
            for (group, gib) in reservation.gib { reserved[reservation.node, default: [:]][group] = (reserved[reservation.node]?[group] ?? 0).saturatingAdd(gib) }
        }
        let detector = NodeFailureDetector(notReadyTimeout: settings.notReadyTimeout)
        var unhealthyCount = 0
        for node in snapshot.nodes.sorted(by: { $0.name < $1.name }) {
            let verdict = NodeHealth.verdict(for: node.healthFacts)
            let facts = settings.fencing.facts(of: node)
            if !facts.isHealthy { unhealthyCount += 1 }
            var failover: String?
            var failoverShort: String?
            var failed = false
            switch detector.state(of: facts, now: now) {
            case .healthy: break
            case .suspect(let deadline):
                if facts.readySince == nil {
                    failover = "suspect: not Ready since a time the node does not say; failover counts it failed \(Self.duration(settings.notReadyTimeout.seconds)) after first seeing it"
                    failoverShort = "suspect (since unknown)"
                } else {
                    failover = "suspect: counts as failed in \(Self.duration(deadline.timeIntervalSince(now)))"
                    failoverShort = "suspect (failed in \(Self.duration(deadline.timeIntervalSince(now))))"
                }
            case .failed(let reason):
                failover = "failed: \(reason)"
                failed = true
                report.failedNodes.append(node.name)
                if case .notReady(_, let since) = reason {
                    failoverShort = "failed (NotReady \(Self.duration(now.timeIntervalSince(since))))"
                } else {
                    failoverShort = "failed (\(reason))"
                }
            }
            let capacity = capacities[node.name] ?? NodeCapacity()
            let groups = Set(capacity.freeGiB.keys).union(used[node.name].map { Array($0.keys) } ?? []).union(reserved[node.name].map { Array($0.keys) } ?? [])
            var health = "Ready", healthShort = "Ready"
            if case .unhealthy(let reasons) = verdict {
                health = reasons.map(\.description).joined(separator: "; ")
                healthShort = reasons.map(Self.short).joined(separator: ", ")
            }
            report.nodes.append(NodeRow(
                name: node.name, health: health, healthShort: healthShort, healthy: verdict == .healthy, failover: failover, failoverShort: failoverShort, failed: failed,
                groups: groups.sorted().map { GroupSpace(group: $0, freeGiB: capacity[$0], reservedGiB: reserved[node.name]?[$0] ?? 0, usedGiB: used[node.name]?[$0] ?? 0) }))
        }
        let guardFraction = snapshot.nodes.isEmpty ? 0 : Double(unhealthyCount) / Double(snapshot.nodes.count)
        if !PartitionGuard(maxUnhealthyFraction: settings.maxFailedNodeFraction).allowsMigration(unhealthy: unhealthyCount, total: snapshot.nodes.count), unhealthyCount > 0 {
            report.partitionGuard = String(format: "%d of %d nodes unhealthy (%.0f %%), above failover.maxFailedNodeFraction %.0f %%: migration is paused",
                                           unhealthyCount, snapshot.nodes.count, guardFraction * 100, settings.maxFailedNodeFraction * 100)
            report.attention.append("the partition guard holds failover: \(report.partitionGuard!)")
        }

        // Protected workloads.
        report.optedInNamespaces = snapshot.namespaces.filter { $0.metadata.labels?[keys.namespaceLabel] == "true" }.map(\.name).sorted()
        let optedInNamespaces = Set(report.optedInNamespaces)
        for pod in snapshot.pods.sorted(by: { $0.key < $1.key }) {
            let annotation = pod.metadata.annotations?[keys.migrationAnnotation]
            let namespace = pod.namespace ?? ""
            guard CompatibilityKeys.optsIn(annotation) || (optedInNamespaces.contains(namespace) && annotation == "false") else { continue }
            if PodRules.isTerminal(phase: pod.status?.phase) { continue }
            var problems: [String] = []
            if annotation == "false" { problems.append("opted out: its \(keys.migrationAnnotation) annotation is \"false\"") }
            var claims: [ClaimRow] = []
            for claimName in pod.claimNames {
                guard let claim = claimsByKey["\(namespace)/\(claimName)"] else {
                    claims.append(ClaimRow(name: claimName))
                    continue
                }
                let claimGroup = group(of: claim)
                let volume = claim.volumeName.flatMap { volumesByName[$0] }
                claims.append(ClaimRow(name: claimName, storageClass: claim.spec?.storageClassName, group: claimGroup, volume: claim.volumeName, node: volume.flatMap(pinnedNode)))
                if claimGroup == nil {
                    problems.append("claim \(claimName) uses StorageClass \(claim.spec?.storageClassName ?? "(default)"), which is not node-local: failover waits for the node to be confirmed down before moving it")
                }
            }
            if claims.isEmpty { problems.append("no claims: nothing for failover to rebuild (it still restarts the pod elsewhere)") }
            let routed = (pod.spec?.containers ?? []).contains { $0.resources?.requests?[keys.routingResource] != nil }
            if !routed && claims.contains(where: { $0.group != nil }) {
                problems.append("not routed to the extender (no \(keys.routingResource) request): created before the webhook ran? Recreate it")
            }
            report.workloads.append(WorkloadRow(pod: pod.key, node: pod.nodeName, phase: pod.status?.phase ?? "", claims: claims, problems: problems))
        }

        // Leader.
        if let spec = snapshot.lease?.spec, let holder = spec.holderIdentity, !holder.isEmpty {
            let renewed = spec.renewTime.map { now.timeIntervalSince($0.date) }
            let expired = renewed.map { $0 > Double(spec.leaseDurationSeconds ?? 15) } ?? true
            report.leader = expired ? nil : holder
            report.leaderRenewedSecondsAgo = renewed
        }
        if report.leader == nil { report.attention.append("no failover leader: no Rebound replica holds the failover Lease, so failed nodes are not acted on") }

        // Failovers: opted-in pods still on failed nodes, and claims being rebuilt.
        let failed = Set(report.failedNodes)
        for row in report.workloads where row.problems.allSatisfy({ !$0.hasPrefix("opted out") }) {
            guard let node = row.node, failed.contains(node) else { continue }
            let reason: String
            if report.partitionGuard != nil {
                reason = "the partition guard holds migration"
            } else if report.leader == nil {
                reason = "no replica leads failover"
            } else if row.claims.contains(where: { $0.group == nil }), !(snapshot.nodes.first { $0.name == node }.map { settings.fencing.facts(of: $0).outOfService } ?? true) {
                reason = "a claim is not node-local: it moves once the node is confirmed down (taint it node.kubernetes.io/out-of-service)"
            } else {
                reason = "not moved yet: see the Events on the pod and the leader's log"
            }
            report.migrations.append(MigrationRow(object: row.pod, node: node, state: "stuck", reason: reason))
        }
        for volume in snapshot.volumes.sorted(by: { $0.name < $1.name }) where volume.metadata.labels?[ClaimRecovery.failedNodeLabel] != nil {
            guard let template = ClaimRecovery.pendingTemplate(on: volume) else { continue }
            let node = volume.metadata.labels?[ClaimRecovery.failedNodeLabel] ?? ""
            let age = ClaimRecovery.failedAt(on: volume).map { now.timeIntervalSince($0) }
            let stuck = (age ?? 0) > 300
            report.migrations.append(MigrationRow(
                object: "\(template.namespace ?? "")/\(template.name)", node: node, state: stuck ? "stuck" : "in progress",
                reason: "claim rebuild pending (volume \(volume.name) still carries its template)\(age.map { " for \(Self.duration($0))" } ?? "")"))
        }
        for migration in report.migrations where migration.state == "stuck" {
            report.attention.append("\(migration.object) on failed node \(migration.node): \(migration.reason)")
        }

        // Retained volumes.
        for volume in snapshot.volumes.sorted(by: { $0.name < $1.name }) {
            guard let row = Self.retained(volume, nodes: nodesByName, claims: claimsByKey, now: now) else { continue }
            report.retained.append(row)
        }

        // Recent events.
        let events = snapshot.events.sorted { ($0.lastTimestamp?.date ?? .distantPast) < ($1.lastTimestamp?.date ?? .distantPast) }
        report.recentEvents = events.suffix(10).map { event in
            let object = "\(event.involvedObject.kind ?? "")/\(event.involvedObject.namespace.map { "\($0)/" } ?? "")\(event.involvedObject.name ?? "")"
            return "\(event.reason ?? "") \(object): \(event.message ?? "")"
        }
        return report
    }

    /// A volume Rebound kept from a failover (labelled ``ClaimRecovery/failedNodeLabel``), nil for any other.
    static func retained(_ volume: PersistentVolume, nodes: [String: Node], claims: [String: PersistentVolumeClaim], now: Date) -> RetainedVolume? {
        guard let node = volume.metadata.labels?[ClaimRecovery.failedNodeLabel] else { return nil }
        let failedAt = ClaimRecovery.failedAt(on: volume)
        var claim: String?
        var bound = false
        if let reference = volume.spec?.claimRef, let name = reference.name {
            let key = "\(reference.namespace ?? "")/\(name)"
            claim = key
            // Still bound only while the claim it names (that very claim, by uid) exists and uses it.
            if let current = claims[key], current.volumeName == volume.name, reference.uid == nil || current.metadata.uid == reference.uid { bound = true }
        }
        let back = nodes[node].map { NodeHealth.verdict(for: $0.healthFacts) == .healthy } ?? false
        return RetainedVolume(
            name: volume.name, node: node, failedAt: failedAt, ageSeconds: failedAt.map { now.timeIntervalSince($0) },
            sizeGiB: volume.spec?.capacity?["storage"]?.ceiling(binaryPower: 3), storageClass: volume.spec?.storageClassName, claim: claim,
            phase: volume.status?.phase ?? "", reclaimPolicy: volume.spec?.persistentVolumeReclaimPolicy ?? "", nodeBack: back, bound: bound)
    }

    /// An unhealthy reason in a word or two.
    static func short(_ reason: UnhealthyReason) -> String {
        switch reason {
        case .notReady(let status): "Ready=\(status)"
        case .taint(let key): "tainted \(key.split(separator: "/").last.map(String.init) ?? key)"
        case .unschedulable: "cordoned"
        case .deleting: "deleting"
        }
    }

    /// `42 s`, `7 min`, `3 h`, `2 d`.
    static func duration(_ seconds: Double) -> String {
        let seconds = max(0, seconds)
        if seconds < 120 { return "\(Int(seconds)) s" }
        if seconds < 7200 { return "\(Int(seconds / 60)) min" }
        if seconds < 172_800 { return "\(Int(seconds / 3600)) h" }
        return "\(Int(seconds / 86400)) d"
    }
}
