import Foundation
import Kube

extension StatusReport {
    /// The report as one JSON value (`-o json`, `-o yaml`): the same facts as the tables.
    var json: JSONValue {
        func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        func optional(_ number: Int64?) -> JSONValue { number.map { .int(Int($0)) } ?? .null }
        func seconds(_ value: Double?) -> JSONValue { value.map { .number(String(format: "%.0f", $0)) } ?? .null }
        let nodes: [JSONValue] = nodes.map { node in
            [
                "name": .string(node.name), "health": .string(node.health), "healthy": .bool(node.healthy),
                "failover": optional(node.failover), "failed": .bool(node.failed),
                "volumeGroups": .array(node.groups.map { group in
                    ["group": .string(group.group), "freeGiB": optional(group.freeGiB), "reservedGiB": .int(Int(group.reservedGiB)), "usedGiB": .int(Int(group.usedGiB))]
                }),
            ]
        }
        let workloads: [JSONValue] = workloads.map { row in
            [
                "pod": .string(row.pod), "node": optional(row.node), "phase": .string(row.phase), "protected": .bool(row.problems.isEmpty),
                "claims": .array(row.claims.map { claim in
                    ["name": .string(claim.name), "storageClass": optional(claim.storageClass), "volumeGroup": optional(claim.group),
                     "volume": optional(claim.volume), "node": optional(claim.node)]
                }),
                "problems": .array(row.problems.map(JSONValue.string)),
            ]
        }
        let migrations: [JSONValue] = migrations.map { ["object": .string($0.object), "node": .string($0.node), "state": .string($0.state), "reason": .string($0.reason)] }
        let retained: [JSONValue] = retained.map(\.json)
        return [
            "nodes": .array(nodes),
            "protected": ["optedInNamespaces": .array(optedInNamespaces.map(JSONValue.string)), "pods": .array(workloads)],
            "failover": [
                "leader": optional(leader), "leaderRenewedSecondsAgo": seconds(leaderRenewedSecondsAgo),
                "failedNodes": .array(failedNodes.map(JSONValue.string)), "partitionGuard": optional(partitionGuard), "migrations": .array(migrations),
                "recentEvents": .array(recentEvents.map(JSONValue.string)),
            ],
            "retainedVolumes": .array(retained),
            "attention": .array(attention.map(JSONValue.string)),
            "problems": .array(problems.map(JSONValue.string)),
        ]
    }

    /// The report as tables for people; `style` colours headings and warnings on a terminal.
    func text(style: TerminalStyle) -> String {
        var out: [String] = []
        func section(_ title: String) {
            if !out.isEmpty { out.append("") }
            out.append(style.heading(title))
        }
        section("NODES")
        var nodeRows: [[String]] = []
        for node in nodes {
            let health = node.healthy ? node.healthShort : style.warning(node.healthShort)
            let failover = node.failoverShort.map { node.failed ? style.warning($0) : $0 } ?? "-"
            if node.groups.isEmpty { nodeRows.append([node.name, health, failover, "-", "", "", ""]) }
            for (index, group) in node.groups.enumerated() {
                let first = index == 0
                nodeRows.append([first ? node.name : "", first ? health : "", first ? failover : "", group.group,
                                 group.freeGiB.map(String.init) ?? "?", String(group.reservedGiB), String(group.usedGiB)])
            }
        }
        out.append(TextTable.render(["NAME", "HEALTH", "FAILOVER", "GROUP", "FREE GiB", "RESERVED GiB", "USED GiB"], nodeRows, header: style.bold))

        section("PROTECTED WORKLOADS")
        out.append("opted-in namespaces: \(optedInNamespaces.isEmpty ? "none" : optedInNamespaces.joined(separator: ", "))")
        if workloads.isEmpty {
            out.append("no opted-in pods")
        } else {
            let rows = workloads.map { row -> [String] in
                let claims = row.claims.map { claim in
                    "\(claim.name) (\(claim.group ?? "not local")\(claim.node.map { " on \($0)" } ?? ""))"
                }.joined(separator: ", ")
                let problems = row.problems.isEmpty ? "protected" : style.warning(row.problems.joined(separator: "; "))
                return [row.pod, row.node ?? "-", row.phase, claims.isEmpty ? "-" : claims, problems]
            }
            out.append(TextTable.render(["POD", "NODE", "PHASE", "CLAIMS (GROUP, NODE)", "STATUS"], rows, header: style.bold))
        }

        section("FAILOVER")
        let renewed = leaderRenewedSecondsAgo.map { " (renewed \(Self.duration($0)) ago)" } ?? ""
        out.append("leader: \(leader.map { $0 + renewed } ?? style.warning("none"))")
        out.append("partition guard: \(partitionGuard.map(style.warning) ?? "open")")
        out.append("failed nodes: \(failedNodes.isEmpty ? "none" : failedNodes.joined(separator: ", "))")
        if !migrations.isEmpty {
            let rows = migrations.map { [$0.object, $0.node, $0.state == "stuck" ? style.warning($0.state) : $0.state, $0.reason] }
            out.append(TextTable.render(["MIGRATING", "FROM NODE", "STATE", "WHY"], rows, header: style.bold))
        }
        if !recentEvents.isEmpty {
            out.append("recent events:")
            out += recentEvents.map { "  \($0)" }
        }

        section("RETAINED VOLUMES")
        if retained.isEmpty {
            out.append("none")
        } else {
            out.append(Self.retainedTable(retained, style: style))
        }

        if !problems.isEmpty {
            section("COULD NOT READ")
            out += problems.map { "  \($0)" }
        }
        section(attention.isEmpty ? "NOTHING NEEDS ATTENTION" : "NEEDS ATTENTION")
        out += attention.map { "  " + style.warning($0) }
        return out.joined(separator: "\n")
    }

    static func retainedTable(_ volumes: [RetainedVolume], style: TerminalStyle) -> String {
        let rows = volumes.map { volume -> [String] in
            [volume.name, volume.node, volume.ageSeconds.map(duration) ?? "?", volume.sizeGiB.map { "\($0) GiB" } ?? "?", volume.claim ?? "-",
             volume.nodeBack ? "yes" : "no", volume.bound ? style.warning("bound") : volume.phase]
        }
        return TextTable.render(["VOLUME", "FAILED NODE", "AGE", "SIZE", "CLAIM", "NODE BACK", "STATE"], rows, header: style.bold)
    }
}

extension StatusReport.RetainedVolume {
    var json: JSONValue {
        [
            "name": .string(name), "node": .string(node), "failedAt": failedAt.map { .string(KubeTime.format($0, micro: false)) } ?? .null,
            "ageSeconds": ageSeconds.map { .number(String(format: "%.0f", $0)) } ?? .null, "sizeGiB": sizeGiB.map { .int(Int($0)) } ?? .null,
            "storageClass": storageClass.map(JSONValue.string) ?? .null, "claim": claim.map(JSONValue.string) ?? .null,
            "phase": .string(phase), "reclaimPolicy": .string(reclaimPolicy), "nodeBack": .bool(nodeBack), "bound": .bool(bound),
        ]
    }
}

/// ANSI styling on a terminal, nothing elsewhere (`--color auto`, `NO_COLOR` respected).
struct TerminalStyle: Sendable {
    var enabled: Bool

    /// `auto`: only when standard output is a terminal and `NO_COLOR` is unset.
    static func resolve(_ mode: String) -> TerminalStyle {
        switch mode {
        case "always": return TerminalStyle(enabled: true)
        case "never": return TerminalStyle(enabled: false)
        default:
            let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
            return TerminalStyle(enabled: isatty(STDOUT_FILENO) == 1 && !noColor)
        }
    }

    func bold(_ text: String) -> String { enabled ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    func heading(_ text: String) -> String { enabled ? "\u{1B}[1;4m\(text)\u{1B}[0m" : text }
    func warning(_ text: String) -> String { enabled ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
}
