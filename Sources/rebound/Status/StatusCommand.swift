import ArgumentParser
import Capacity
import Foundation
import Kube
import ReboundConfig

/// How status-like commands print: tables for people, JSON or YAML for scripts.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json, yaml

    func render(_ value: JSONValue) -> String {
        switch self {
        case .yaml: String(value.yamlText.dropLast(value.yamlText.hasSuffix("\n") ? 1 : 0))
        default: value.jsonString
        }
    }
}

/// `rebound status` (also `kubectl rebound status` with the binary on PATH as `kubectl-rebound`):
/// what Rebound protects, sees and did, from one read of the cluster.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what Rebound protects and sees: nodes and their volume groups, protected workloads, failovers, retained volumes.",
        discussion: """
            Reads the cluster once with the configured credentials (--kubeconfig, --context, or the \
            in-cluster service account) and judges it by Rebound's own rules and configuration \
            (--config, --set): node health as the extender sees it, free / reserved / used GiB per \
            volume group (reserved: the extender's shared reservation ledger), opted-in namespaces and \
            pods with their claims and anything that keeps them from being protected, nodes failover \
            counts as failed, migrations in progress or stuck, the partition guard, the leader, and \
            volumes kept from past failovers.

            Install as a kubectl plugin by putting the binary on PATH as kubectl-rebound \
            (ln -s "$(command -v rebound)" /usr/local/bin/kubectl-rebound); then `kubectl rebound \
            status` works, with the same flags.

            Exit status: 0; 1 when the cluster cannot be read; with --check, 2 when something needs \
            attention (a stuck migration, the partition guard holding, no failover leader).
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: [.short, .long], help: "table, json or yaml.")
    var output = OutputFormat.table

    @Flag(help: "Exit with status 2 when something needs attention (for scripts and probes).")
    var check = false

    @Option(help: "Colour the tables: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color = "auto"

    @Option(help: "Give up reading the cluster after this many seconds.")
    var timeout = 30

    func validate() throws {
        guard ["auto", "always", "never"].contains(color) else { throw ValidationError("--color must be auto, always or never") }
        guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1") }
    }

    func run() async throws {
        let config = try options.resolve()
        ReboundLogging.bootstrap(level: "error", format: config.string("log.format"))
        let keys = config.compatibilityKeys
        let snapshot = try await Self.read(config: config, keys: keys, timeout: timeout)
        let report = StatusReport.build(snapshot, keys: keys, settings: config.failoverSettings, now: Date())
        switch output {
        case .table: say(report.text(style: TerminalStyle.resolve(color)))
        default: say(output.render(report.json))
        }
        if check && !report.attention.isEmpty { throw ExitCode(2) }
    }

    /// Reads the cluster, bounded by `timeout`.
    static func read(config: ResolvedConfig, keys: CompatibilityKeys, timeout: Int) async throws -> StatusSnapshot {
        let client = try KubeClient(try makeClientConfiguration(config))
        let result = await withDeadline(.seconds(timeout)) { try await StatusSnapshot.fetch(client: client, config: config, keys: keys) }
        try? await client.shutdown()
        guard let result else { throw CLIError("the cluster could not be read within \(timeout) s (API server \(client.configuration.server))") }
        do { return try result.get() } catch {
            throw CLIError("cannot read the cluster at \(client.configuration.server): \(error)")
        }
    }
}
