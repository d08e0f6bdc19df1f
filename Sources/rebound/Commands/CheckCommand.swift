import ReboundConfig
import ArgumentParser
import Foundation
import Kube
import Logging

/// `rebound check`: connect with the configured credentials, ask the API whether they allow
/// every verb Rebound needs, fill the caches once, report.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that Rebound's credentials reach the cluster and may do everything Rebound needs, then fill its caches once and report what it sees.",
        discussion: """
            Uses the same configuration as `rebound serve` (kube.* keys, --kubeconfig). Fails at once, \
            in one line, when the API server cannot be reached. Then asks the API server, with one \
            SelfSubjectAccessReview per verb (as `kubectl auth can-i` does), about every permission \
            Rebound's parts use, and prints them as a table of allowed and denied with the part that \
            needs each. Then fills the caches once and reports what they hold, how long it took and \
            the memory used (to size Rebound for a large cluster). Exits with status 1 when a \
            permission is denied or the caches do not sync.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: "Give up after this many seconds.")
    var timeout = 120

    func run() async throws {
        let config = try options.resolve()
        ReboundLogging.bootstrap(level: "warning", format: config.string("log.format"))
        let client = try KubeClient(try makeClientConfiguration(config))
        do {
            try await AccessReview.probe(client, within: .seconds(min(timeout, 5)))
        } catch {
            try? await client.shutdown()
            throw error
        }
        let checks = RequiredPermissions.checks(config: config)
        let access = await AccessReview.review(client, checks)
        let denied = access.filter { $0.allowed != true }
        let caches = ClusterCaches(client: client, pageSize: config.int("kube.pageSize"), storageCapacities: config.compatibilityKeys.capacityFromStorageCapacity)
        let started = ContinuousClock.now
        let runner = Task { await caches.run() }
        let synced = await withDeadline(.seconds(timeout)) { await caches.waitUntilSynced() } != nil
        let elapsed = ContinuousClock.now - started
        runner.cancel()
        guard synced else {
            try? await client.shutdown()
            throw CLIError("the caches did not sync within \(timeout) s; check the API server address, credentials and RBAC (list/watch nodes, pods, persistentvolumeclaims, persistentvolumes, storageclasses, namespaces, volumeattachments)")
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let counts: [(String, Int)] = [
            ("nodes", await caches.nodes.count), ("pods", await caches.pods.count), ("persistentVolumeClaims", await caches.claims.count),
            ("persistentVolumes", await caches.volumes.count), ("storageClasses", await caches.storageClasses.count),
            ("namespaces", await caches.namespaces.count), ("volumeAttachments", await caches.volumeAttachments.count),
        ] + ((await caches.storageCapacities?.count).map { [("csiStorageCapacities", $0)] } ?? [])
        let memory = ProcessMemory.resident()
        if json {
            var object: JSONObject = ["server": .string(client.configuration.server), "syncSeconds": .number(String(format: "%.3f", seconds))]
            object["permissions"] = .array(access.map { item in
                var entry: JSONObject = [
                    "part": .string(item.check.part), "verb": .string(item.check.verb), "group": .string(item.check.group),
                    "resource": .string(item.check.resource), "allowed": item.allowed.map(JSONValue.bool) ?? .null,
                ]
                if let namespace = item.check.namespace { entry["namespace"] = .string(namespace) }
                if let name = item.check.name { entry["name"] = .string(name) }
                return .object(entry)
            })
            for (name, count) in counts { object[name] = .int(count) }
            if let memory {
                object["residentBytes"] = .int(memory.current)
                object["peakResidentBytes"] = .int(memory.peak)
            }
            say(JSONValue.object(object).jsonString)
        } else {
            say("API server: \(client.configuration.server)")
            say(AccessReview.table(access))
            say(String(format: "caches synced in %.3f s", seconds))
            for (name, count) in counts { say("  \(name): \(count)") }
            if let memory { say("resident memory: \(memory.current / 1_048_576) MiB (peak \(memory.peak / 1_048_576) MiB)") }
        }
        await runner.value
        try? await client.shutdown()
        if !denied.isEmpty {
            throw CLIError("\(denied.count) of \(access.count) permissions Rebound needs are denied or could not be checked: \(denied.map { "\($0.check.verb) \(AccessReview.resourceName($0.check))" }.joined(separator: ", ")); see deploy/base/rbac.yaml")
        }
    }
}

/// The client configuration the `kube.*` keys describe.
func makeClientConfiguration(_ config: ResolvedConfig) throws -> KubeClientConfiguration {
    var configuration: KubeClientConfiguration
    do {
        let context = config.string("kube.context")
        configuration = try KubeClientConfiguration.resolve(kubeconfig: config.string("kube.kubeconfig"), context: context.isEmpty ? nil : context)
    } catch {
        throw CLIError("\(error)")
    }
    configuration.qps = config.double("kube.qps")
    configuration.burst = config.int("kube.burst")
    configuration.requestTimeout = .seconds(config.int("kube.requestTimeoutSeconds"))
    return configuration
}
