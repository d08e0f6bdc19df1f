import Foundation
import Kube
import TestSupport
import Testing

/// `rebound serve` says what is wrong: a warning for each part that cannot work, and `/readyz`
/// naming each part with its reason.
@Suite("rebound serve reports each part's readiness", .timeLimit(.minutes(2)))
struct ServeReadinessTests {
    @Test("without Rebound's namespace: a warning for failover and the extender, /readyz 503 naming both; ready once the namespace exists")
    func missingNamespace() async throws {
        try await withTemporaryDirectory { directory in
            let kubeconfig = directory + "/sim.kubeconfig"
            let sim = try ChildProcess(ReboundBinary.path, ["sim", "--port", "0", "--kubeconfig-out", kubeconfig, "--log-level", "warning"])
            guard let line = await sim.waitForLine(where: { $0.hasPrefix("ClusterSim API server:") }) else {
                await sim.stop()
                Issue.record("rebound sim did not start: \(sim.printed)")
                return
            }
            let url = line.replacingOccurrences(of: "ClusterSim API server:", with: "").trimmingCharacters(in: .whitespaces)
            let healthPort = try freePort()
            let serve = try ChildProcess(ReboundBinary.path, [
                "serve", "--kubeconfig", kubeconfig, "--set", "webhook.enabled=false", "--set", "extender.address=127.0.0.1",
                "--set", "extender.port=\(try freePort())", "--set", "health.address=127.0.0.1", "--set", "health.port=\(healthPort)",
                "--set", "leaderElection.identity=replica-a",
            ])
            let failoverWarning = await serve.waitForLine { $0.contains("failover cannot take part in leader election") }
            #expect(failoverWarning?.contains("rebound-system") == true, "\(serve.printed.suffix(20))")
            let extenderWarning = await serve.waitForLine { $0.contains("cannot read the shared reservation ledger") }
            #expect(extenderWarning != nil, "\(serve.printed.suffix(20))")
            let unready = await httpGet("http://127.0.0.1:\(healthPort)/readyz")
            #expect(unready?.status == 503)
            #expect(unready?.body.contains("caches: ok") == true, "\(unready?.body ?? "")")
            #expect(unready?.body.contains("extender: cannot read the shared reservation ledger rebound-system/rebound-reservations") == true, "\(unready?.body ?? "")")
            #expect(unready?.body.contains("failover: cannot create the Lease rebound-system/rebound-failover") == true, "\(unready?.body ?? "")")

            var configuration = KubeClientConfiguration(server: url)
            configuration.qps = 0
            let client = try KubeClient(configuration)
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: "rebound-system")))
            // The extender reads its ledger at once; the elector tries again every retry period (2 s).
            var ready: (status: Int, body: String)?
            for _ in 0..<60 {
                ready = await httpGet("http://127.0.0.1:\(healthPort)/readyz")
                if ready?.body == "caches: ok\nfailover: ok\nextender: ok\n" { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(ready?.status == 200, "\(ready?.body ?? "")")
            #expect(ready?.body == "caches: ok\nfailover: ok\nextender: ok\n", "\(ready?.body ?? "")")
            try? await client.shutdown()
            await serve.stop()
            await sim.stop()
        }
    }
}

@Suite("rebound serve exits non-zero on a fatal error", .timeLimit(.minutes(1)))
struct ServeFatalExitTests {
    @Test("a port already in use stops serve with exit status 1 and says which port")
    func portInUse() async throws {
        try await withSim { sim, _ in
            try await withTemporaryDirectory { directory in
                let kubeconfig = directory + "/kubeconfig"
                try await sim.server.kubeconfig(token: nil, caPEM: nil).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
                // The simulated API server's own port is taken.
                let taken = await sim.server.port
                let result = try await runCommand(ReboundBinary.path, [
                    "serve", "--kubeconfig", kubeconfig, "--set", "webhook.enabled=false", "--set", "failover.enabled=false",
                    "--set", "extender.address=127.0.0.1", "--set", "extender.port=\(taken)",
                    "--set", "health.address=127.0.0.1", "--set", "health.port=\(try freePort())",
                ])
                #expect(result.status == 1, "\(result.output.suffix(600))")
                #expect(result.output.contains("\(taken)"), "\(result.output.suffix(600))")
            }
        }
    }
}
