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
            try await Self.probe(client, within: .seconds(min(timeout, 5)))
        } catch {
            try? await client.shutdown()
            throw error
        }
        let checks = RequiredPermissions.checks(
            leaseNamespace: config.string("leaderElection.namespace"), leaseName: config.string("leaderElection.leaseName"),
            ledgerNamespace: config.string("extender.sharedLedger.namespace"), ledgerName: config.string("extender.sharedLedger.name"))
        var access: [(check: RequiredPermissions.Check, allowed: Bool?)] = []
        for check in checks { access.append((check, await Self.canI(client, check))) }
        let denied = access.filter { $0.allowed != true }
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
            say(Self.table(access))
            say(String(format: "caches synced in %.3f s", seconds))
            for (name, count) in counts { say("  \(name): \(count)") }
            if let memory { say("resident memory: \(memory.current / 1_048_576) MiB (peak \(memory.peak / 1_048_576) MiB)") }
        }
        await runner.value
        try? await client.shutdown()
        if !denied.isEmpty {
            throw CLIError("\(denied.count) of \(access.count) permissions Rebound needs are denied or could not be checked: \(denied.map { "\($0.check.verb) \(Self.resourceName($0.check))" }.joined(separator: ", ")); see deploy/base/rbac.yaml")
        }
    }

    /// One request, cut off after `limit`: an API server that cannot be reached is one clear
    /// error, not minutes of retries.
    static func probe(_ client: KubeClient, within limit: Duration) async throws {
        let server = client.configuration.server
        let outcome: Result<Void, any Error>? = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
            group.addTask {
                do {
                    _ = try await client.send(.GET, "/version")
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success: return
        case .failure(let error): throw CLIError("cannot reach the API server at \(server): \(error)")
        case nil: throw CLIError("cannot reach the API server at \(server): no answer within \(limit) (is the address right, and is the server up?)")
        }
    }

    /// Asks the API server whether these credentials may do `check` (a SelfSubjectAccessReview);
    /// nil when it could not say.
    static func canI(_ client: KubeClient, _ check: RequiredPermissions.Check) async -> Bool? {
        let parts = check.resource.split(separator: "/", maxSplits: 1).map(String.init)
        var attributes: JSONObject = ["verb": .string(check.verb), "group": .string(check.group), "resource": .string(parts[0])]
        if parts.count > 1 { attributes["subresource"] = .string(parts[1]) }
        if let namespace = check.namespace { attributes["namespace"] = .string(namespace) }
        if let name = check.name { attributes["name"] = .string(name) }
        let review: JSONValue = [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": ["resourceAttributes": .object(attributes)],
        ]
        guard let response = try? await client.send(.POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body: review.serialized()),
            let answer = try? JSONValue(parsing: response.bytes)
        else { return nil }
        return answer["status"]?["allowed"]?.boolValue ?? false
    }

    static func resourceName(_ check: RequiredPermissions.Check) -> String {
        var text = check.group.isEmpty ? check.resource : "\(check.resource).\(check.group)"
        if let name = check.name { text += " \(name)" }
        if let namespace = check.namespace { text += " (in \(namespace))" }
        return text
    }

    /// The permissions as a table for people.
    static func table(_ access: [(check: RequiredPermissions.Check, allowed: Bool?)]) -> String {
        let rows = access.map { item in
            [item.allowed == true ? "allowed" : item.allowed == false ? "DENIED" : "unknown", item.check.verb, resourceName(item.check), item.check.part]
        }
        let header = ["ACCESS", "VERB", "RESOURCE", "NEEDED BY"]
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
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
