import Foundation
import Kube
import TestSupport
import Testing

/// `rebound check`: one clear line when the API server cannot be reached; every permission
/// Rebound needs asked with SelfSubjectAccessReview, printed as a table, denials fail the run.
@Suite("rebound check", .timeLimit(.minutes(2)))
struct CheckCommandTests {
    @Test("an API server that cannot be reached is one readable error within seconds, not minutes of retries")
    func unreachable() async throws {
        try await withTemporaryDirectory { directory in
            let port = try freePort()
            let kubeconfig = directory + "/kubeconfig"
            try """
                apiVersion: v1
                kind: Config
                clusters: [{name: c, cluster: {server: "http://127.0.0.1:\(port)"}}]
                users: [{name: u, user: {}}]
                contexts: [{name: x, context: {cluster: c, user: u}}]
                current-context: x
                """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let started = ContinuousClock.now
            let result = try await runCommand(ReboundBinary.path, ["check", "--kubeconfig", kubeconfig])
            let elapsed = ContinuousClock.now - started
            #expect(result.status != 0)
            #expect(result.output.contains("cannot reach the API server at http://127.0.0.1:\(port)"), "\(result.output)")
            #expect(!result.output.contains("retry"), "\(result.output)")
            #expect(elapsed < .seconds(20), "\(elapsed)")
        }
    }

    @Test("every permission asked with SelfSubjectAccessReview: a table naming the part that needs each; a denial fails the run and is named")
    func permissions() async throws {
        try await withSim { sim, _ in
            try await withTemporaryDirectory { directory in
                let kubeconfig = directory + "/kubeconfig"
                try await sim.server.kubeconfig(token: nil, caPEM: nil).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
                let allowed = try await runCommand(ReboundBinary.path, ["check", "--kubeconfig", kubeconfig])
                #expect(allowed.status == 0, "\(allowed.output)")
                #expect(allowed.output.contains("ACCESS   VERB"), "\(allowed.output)")
                #expect(allowed.output.contains("allowed  create  pods/binding"), "\(allowed.output)")
                func row(_ verb: String, _ resource: String, in output: String) -> String? {
                    output.split(separator: "\n").map(String.init).first { $0.contains(" \(verb)  ") && $0.contains(resource) }
                }
                #expect(row("update", "leases.coordination.k8s.io rebound-failover (in rebound-system)", in: allowed.output)?.hasSuffix("leader election") == true, "\(allowed.output)")
                #expect(row("update", "configmaps rebound-reservations (in rebound-system)", in: allowed.output)?.hasSuffix("extender (shared ledger)") == true, "\(allowed.output)")
                #expect(!allowed.output.contains("DENIED"))

                await sim.auth.deny(verb: "create", resource: "pods/binding")
                await sim.auth.deny(verb: "delete", resource: "pods")
                let denied = try await runCommand(ReboundBinary.path, ["check", "--kubeconfig", kubeconfig])
                #expect(denied.status != 0)
                #expect(denied.output.contains("DENIED   create  pods/binding"), "\(denied.output)")
                #expect(row("create", "pods/binding", in: denied.output)?.hasSuffix("extender") == true, "\(denied.output)")
                #expect(row("delete", "pods ", in: denied.output)?.hasPrefix("DENIED") == true, "\(denied.output)")
                #expect(denied.output.contains("2 of "), "\(denied.output)")

                let json = try await runCommand(ReboundBinary.path, ["check", "--kubeconfig", kubeconfig, "--json"])
                let line = try #require(json.output.split(separator: "\n").first { $0.hasPrefix("{") })
                let report = try JSONValue(parsing: Array(line.utf8))
                let permissions = report["permissions"]?.arrayValue ?? []
                #expect(permissions.count > 20)
                #expect(permissions.filter { $0["allowed"] == .bool(false) }.count == 2)
                #expect(permissions.contains { $0["resource"]?.stringValue == "pods/binding" && $0["part"]?.stringValue == "extender" && $0["allowed"] == .bool(false) })
            }
        }
    }

    @Test("rebound serve asks the same questions at start and warns about each permission denied, naming the part")
    func serveWarns() async throws {
        try await withSim { sim, client in
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: "rebound-system")))
            await sim.auth.deny(verb: "create", resource: "pods/binding")
            try await withTemporaryDirectory { directory in
                let kubeconfig = directory + "/kubeconfig"
                try await sim.server.kubeconfig(token: nil, caPEM: nil).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
                let serve = try ChildProcess(ReboundBinary.path, [
                    "serve", "--kubeconfig", kubeconfig, "--set", "webhook.enabled=false", "--set", "extender.address=127.0.0.1",
                    "--set", "extender.port=\(try freePort())", "--set", "health.address=127.0.0.1", "--set", "health.port=\(try freePort())",
                ])
                let warning = await serve.waitForLine { $0.contains("missing permission") }
                #expect(warning?.contains("pods/binding") == true && warning?.contains("extender") == true, "\(serve.printed.suffix(20))")
                #expect(serve.printed.filter { $0.contains("missing permission") }.count == 1, "only the denied one: \(serve.printed)")
                await serve.stop()
            }
        }
    }
}
