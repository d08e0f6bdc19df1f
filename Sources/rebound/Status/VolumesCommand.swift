import ArgumentParser
import Failover
import Foundation
import Kube
import Logging
import ReboundConfig

/// `rebound volumes`: the PersistentVolumes failover kept on failed nodes (reclaim policy Retain,
/// labelled `rebound.io/failed-node`), and their removal once their data is not needed.
struct VolumesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volumes",
        abstract: "List or prune the volumes failover kept on failed nodes.",
        subcommands: [List.self, Prune.self]
    )

    /// Which retained volumes a command acts on.
    struct Selection: ParsableArguments {
        @Option(help: "Only volumes kept from this node.")
        var node: String?

        @Option(name: .customLong("older-than"), help: ArgumentHelp("Only volumes kept at least this long ago: 90s, 30m, 12h, 7d.", valueName: "duration"))
        var olderThan: String?

        func validate() throws {
            if let olderThan, VolumesCommand.seconds(olderThan) == nil {
                throw ValidationError("--older-than must be a whole number with s, m, h or d (e.g. 7d), not \(olderThan)")
            }
        }

        /// Whether a retained volume matches. A volume without a readable failure time is never
        /// old enough: its age is unknown.
        func matches(_ volume: StatusReport.RetainedVolume) -> Bool {
            if let node, volume.node != node { return false }
            if let olderThan, let limit = VolumesCommand.seconds(olderThan) {
                guard let age = volume.ageSeconds, age >= limit else { return false }
            }
            return true
        }
    }

    /// `90s`, `30m`, `12h`, `7d` in seconds; nil when malformed.
    static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let number = Int(text.dropLast()), number >= 0, number <= 100_000 else { return nil }
        switch unit {
        case "s": return Double(number)
        case "m": return Double(number) * 60
        case "h": return Double(number) * 3600
        case "d": return Double(number) * 86400
        default: return nil
        }
    }

    /// The retained volumes as they are now.
    static func read(client: KubeClient) async throws -> [StatusReport.RetainedVolume] {
        let volumes = try await client.listAll(PersistentVolume.self, options: ListOptions(labelSelector: ClaimRecovery.failedNodeLabel)).items
        guard !volumes.isEmpty else { return [] }
        let nodes = Dictionary(try await client.listAll(Node.self).items.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let claims = Dictionary(try await client.listAll(PersistentVolumeClaim.self).items.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let now = Date()
        return volumes.sorted { $0.name < $1.name }.compactMap { StatusReport.retained($0, nodes: nodes, claims: claims, now: now) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the volumes failover kept: their failed node, age, size, former claim, whether the node is back and whether a claim still uses them.")

        @OptionGroup var options: ConfigOptions
        @OptionGroup var selection: Selection

        @Option(name: [.short, .long], help: "table, json or yaml.")
        var output = OutputFormat.table

        @Option(help: "Colour the table: auto, always or never.")
        var color = "auto"

        func run() async throws {
            let config = try options.resolve()
            ReboundLogging.bootstrap(level: "error", format: config.string("log.format"))
            let client = try KubeClient(try makeClientConfiguration(config))
            let volumes: [StatusReport.RetainedVolume]
            do { volumes = try await VolumesCommand.read(client: client).filter(selection.matches) } catch {
                try? await client.shutdown()
                throw error
            }
            try? await client.shutdown()
            switch output {
            case .table: say(volumes.isEmpty ? "no retained volumes" : StatusReport.retainedTable(volumes, style: TerminalStyle.resolve(color)))
            default: say(output.render(.array(volumes.map(\.json))))
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete retained volumes, and through their driver their logical volumes, once their data is not needed.",
            discussion: """
                Selects retained volumes (labelled rebound.io/failed-node) by --node and --older-than \
                (at least one is required, so nothing is pruned by accident), refuses any that a claim \
                still uses, and sets the others' reclaim policy to Delete: the driver's provisioner then \
                deletes the logical volume and the PersistentVolume, as for any released volume. The \
                driver can only free the space while the volume's node is up; a volume on a node that \
                never returns stays Released until it is deleted by hand. Each change is logged, recorded \
                as an Event on the volume, and made only if the volume did not change since it was read. \
                --dry-run lists what would be pruned and changes nothing.
                """)

        @OptionGroup var options: ConfigOptions
        @OptionGroup var selection: Selection

        @Flag(name: .customLong("dry-run"), help: "Show what would be pruned; change nothing.")
        var dryRun = false

        @Option(name: [.short, .long], help: "table or json: how the outcome is printed.")
        var output = OutputFormat.table

        func validate() throws {
            guard selection.node != nil || selection.olderThan != nil else {
                throw ValidationError("give --node or --older-than (or both): prune never selects every retained volume by default")
            }
        }

        func run() async throws {
            let config = try options.resolve()
            ReboundLogging.bootstrap(level: config.string("log.level"), format: config.string("log.format"))
            let logger = Logger(label: "rebound.volumes")
            let client = try KubeClient(try makeClientConfiguration(config))
            let recorder = EventRecorder(client: client, component: "rebound", instance: "rebound-volumes", logger: logger)
            let volumes: [StatusReport.RetainedVolume]
            do { volumes = try await VolumesCommand.read(client: client).filter(selection.matches) } catch {
                try? await client.shutdown()
                throw error
            }
            var outcomes: [(volume: StatusReport.RetainedVolume, outcome: String)] = []
            for volume in volumes {
                outcomes.append((volume, await prune(volume, client: client, recorder: recorder, logger: logger)))
            }
            await recorder.flush()
            try? await client.shutdown()
            switch output {
            case .table:
                say(outcomes.isEmpty ? "no retained volume matches" : TextTable.render(
                    ["VOLUME", "FAILED NODE", "AGE", "OUTCOME"],
                    outcomes.map { [$0.volume.name, $0.volume.node, $0.volume.ageSeconds.map(StatusReport.duration) ?? "?", $0.outcome] }))
            default:
                say(output.render(.array(outcomes.map { item in
                    var object = item.volume.json
                    object["outcome"] = .string(item.outcome)
                    return object
                })))
            }
            if outcomes.contains(where: { $0.outcome.hasPrefix("failed") }) { throw ExitCode(1) }
        }

        /// Prunes one volume, or says why not.
        func prune(_ volume: StatusReport.RetainedVolume, client: KubeClient, recorder: EventRecorder, logger: Logger) async -> String {
            if volume.bound { return "refused: claim \(volume.claim ?? "?") still uses it" }
            if dryRun { return "would prune (dry run)" }
            do {
                // Read again and write only that version: a volume re-bound since it was listed is never touched.
                let current = try await client.get(PersistentVolume.self, volume.name)
                guard let version = current.metadata.resourceVersion, current.metadata.labels?[ClaimRecovery.failedNodeLabel] == volume.node else {
                    return "skipped: it changed since it was listed"
                }
                if current.status?.phase == "Bound" { return "refused: it is Bound again" }
                _ = try await client.patch(PersistentVolume.self, volume.name, .json([
                    .test(JSONPointer(tokens: ["metadata", "resourceVersion"]), .string(version)),
                    .replace(JSONPointer(tokens: ["spec", "persistentVolumeReclaimPolicy"]), "Delete"),
                ]))
                logger.notice("pruned a retained volume", metadata: ["volume": "\(volume.name)", "node": "\(volume.node)", "claim": "\(volume.claim ?? "")"])
                recorder.record(current, reason: "ReboundVolumePruned", message: "Reclaim policy set to Delete by rebound volumes prune: kept since node \(volume.node) failed\(volume.ageSeconds.map { " \(StatusReport.duration($0)) ago" } ?? ""); the driver deletes the volume and its data.")
                return "pruned: reclaim policy Delete, the driver deletes it"
            } catch {
                logger.warning("could not prune a retained volume", metadata: ["volume": "\(volume.name)", "error": "\(error)"])
                return "failed: \(error)"
            }
        }
    }
}
