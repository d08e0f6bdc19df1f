import ReboundConfig
import ArgumentParser
import Foundation
import Kube
import Logging

/// `rebound check`: connect with the configured credentials, fill the caches once, report.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Connect to the cluster, fill Rebound's caches once and report what it sees, how long it took and the memory used.",
        discussion: """
            Uses the same configuration as `rebound serve` (kube.* keys, --kubeconfig). Useful to check \
            credentials and RBAC before installing, and to size Rebound for a large cluster.
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
        let caches = ClusterCaches(client: client, pageSize: config.int("kube.pageSize"))
        let started = ContinuousClock.now
        let runner = Task { await caches.run() }
        let synced = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await caches.waitUntilSynced()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
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
        ]
        let memory = ProcessMemory.resident()
        if json {
            var object: JSONObject = ["server": .string(client.configuration.server), "syncSeconds": .number(String(format: "%.3f", seconds))]
            for (name, count) in counts { object[name] = .int(count) }
            if let memory {
                object["residentBytes"] = .int(memory.current)
                object["peakResidentBytes"] = .int(memory.peak)
            }
            say(JSONValue.object(object).jsonString)
        } else {
            say("API server: \(client.configuration.server)")
            say(String(format: "caches synced in %.3f s", seconds))
            for (name, count) in counts { say("  \(name): \(count)") }
            if let memory { say("resident memory: \(memory.current / 1_048_576) MiB (peak \(memory.peak / 1_048_576) MiB)") }
        }
        await runner.value
        try? await client.shutdown()
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
