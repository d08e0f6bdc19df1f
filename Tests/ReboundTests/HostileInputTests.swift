import Foundation
import Kube
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The reproductions of the hardening report, against `rebound serve` run as operators run it,
/// talking to `rebound sim`: every hostile input gets an answer and the next normal request is
/// served by the same process.
@Suite("rebound serve under hostile input", .serialized, .timeLimit(.minutes(3)), .requiresTools("curl"))
struct HostileInputTests {
    static let root = URL(fileURLWithPath: TestCertificates.directory).deletingLastPathComponent().path

    /// `rebound sim` with the webhook benchmark's cluster, and `rebound serve` against it.
    struct Processes {
        let sim: ChildProcess
        let serve: ChildProcess
        let kubeconfig: String
        let webhookPort: Int
        let extenderPort: Int
        let healthPort: Int
        let arguments: [String]

        func stop() async {
            await serve.stop()
            await sim.stop()
        }
    }

    static func start(directory: String, extraArguments: [String] = []) async throws -> Processes {
        let kubeconfig = directory + "/kubeconfig"
        let sim = try ChildProcess(ReboundBinary.path, [
            "sim", "--port", "0", "--scenario", root + "/Benchmarks/webhook/scenario.yaml", "--kubeconfig-out", kubeconfig, "--log-level", "warning",
        ])
        guard await sim.waitForLine(where: { $0.hasPrefix("ClusterSim API server:") }) != nil else {
            await sim.stop()
            throw ToolMissing("rebound sim did not start: \(sim.printed)")
        }
        let webhookPort = try freePort(), extenderPort = try freePort(), healthPort = try freePort()
        let arguments = [
            "serve", "--kubeconfig", kubeconfig, "--set", "webhook.address=127.0.0.1", "--set", "webhook.port=\(webhookPort)",
            "--set", "webhook.tls.certFile=\(TestCertificates.path("tls.crt"))", "--set", "webhook.tls.keyFile=\(TestCertificates.path("tls.key"))",
            "--set", "extender.address=127.0.0.1", "--set", "extender.port=\(extenderPort)",
            "--set", "health.address=127.0.0.1", "--set", "health.port=\(healthPort)", "--set", "failover.enabled=false",
        ] + extraArguments
        let serve = try ChildProcess(ReboundBinary.path, arguments)
        let processes = Processes(sim: sim, serve: serve, kubeconfig: kubeconfig, webhookPort: webhookPort, extenderPort: extenderPort, healthPort: healthPort, arguments: arguments)
        guard await serve.waitForLine(where: { $0.contains("caches synced") }) != nil,
            await serve.waitForLine(where: { $0.contains("scheduler extender listening") }) != nil
        else {
            await processes.stop()
            throw ToolMissing("rebound serve did not start: \(serve.printed.joined(separator: "\n"))")
        }
        return processes
    }

    /// An AdmissionReview of a pod in the opted-in namespace with the given volumes.
    static func review(uid: String, volumes: String) -> String {
        """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"\(uid)",\
        "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},\
        "namespace":"mysql","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod",\
        "metadata":{"generateName":"hostile-","namespace":"mysql"},\
        "spec":{"containers":[{"name":"c","image":"busybox"}],"volumes":[\(volumes)]}}}}
        """
    }

    static func ephemeral(_ name: String, storage: String) -> String {
        #"{"name":"\#(name)","ephemeral":{"volumeClaimTemplate":{"spec":{"storageClassName":"csi-carina-sc","accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":\#(storage)}}}}}}"#
    }

    /// POSTs a body from a file to the webhook with curl; the HTTP code and the body.
    static func postReview(_ body: String, port: Int, directory: String, http2: Bool = true) async throws -> (code: String, body: String, seconds: Double) {
        let file = directory + "/review-\(UUID().uuidString).json"
        try body.write(toFile: file, atomically: true, encoding: .utf8)
        let curl = try tool("curl", package: "curl")
        let result = try await run(curl, [
            "-sS", http2 ? "--http2" : "--http1.1", "--cacert", TestCertificates.path("ca.crt"), "-H", "content-type: application/json",
            "--data-binary", "@" + file, "-o", "-", "-w", "\n%{http_code} %{time_total}", "--max-time", "30", "https://127.0.0.1:\(port)/mutate-pod",
        ])
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        let last = (lines.last ?? "").split(separator: " ")
        return (String(last.first ?? ""), lines.dropLast().joined(separator: "\n"), Double(last.last ?? "") ?? -1)
    }

    static func metrics(port: Int) async throws -> String {
        let curl = try tool("curl", package: "curl")
        return try await run(curl, ["-sS", "http://127.0.0.1:\(port)/metrics"]).output
    }

    @Test("AdmissionReviews with 9e27-byte volumes, a 100,000-digit and a 3 MiB quantity are answered; the process keeps serving")
    func hostileReviews() async throws {
        try await withTemporaryDirectory { directory in
            let processes = try await Self.start(directory: directory)
            do {
                let port = processes.webhookPort
                // Two ephemeral volumes of 9e27 bytes each: the sum used to trap.
                let huge = try await Self.postReview(
                    Self.review(uid: "u-huge", volumes: Self.ephemeral("a", storage: "\"9e27\"") + "," + Self.ephemeral("b", storage: "\"9e27\"")),
                    port: port, directory: directory)
                #expect(huge.code == "200", "\(huge.body)")
                #expect(huge.body.contains(#""uid":"u-huge""#) && huge.body.contains(#""patchType":"JSONPatch""#), "\(huge.body)")

                // A quantity of 100,000 digits: refused by the quantity reader, the pod admitted unrouted with a warning.
                let digits = String(repeating: "9", count: 100_000)
                let long = try await Self.postReview(Self.review(uid: "u-long", volumes: Self.ephemeral("a", storage: "\"\(digits)\"")), port: port, directory: directory)
                #expect(long.code == "200")
                #expect(long.body.contains(#""uid":"u-long""#) && long.body.contains("longer than the 64"), "\(long.body.prefix(500))")
                #expect(long.body.contains("spec.volumes[0].ephemeral.volumeClaimTemplate.spec.resources.requests.storage"))

                // A review that is nearly all digits, as a JSON number, up to the 3 MiB body limit.
                let filler = 3 * 1024 * 1024 - 2000
                let number = try await Self.postReview(
                    Self.review(uid: "u-number", volumes: Self.ephemeral("a", storage: "1" + String(repeating: "0", count: filler))),
                    port: port, directory: directory, http2: false)
                #expect(number.code == "200", "\(number.body.prefix(300))")
                #expect(number.body.contains(#""uid":"u-number""#) && number.body.contains("longer than the 64"))

                // The next normal review is answered by the same process.
                let normal = try await Self.postReview(Self.review(uid: "u-normal", volumes: Self.ephemeral("a", storage: "\"1Gi\"")), port: port, directory: directory)
                #expect(normal.code == "200" && normal.body.contains(#""patchType":"JSONPatch""#), "\(normal.body)")
                let metrics = try await Self.metrics(port: processes.healthPort)
                #expect(metrics.contains("rebound_webhook_unreadable_requests_total 2"), "\(metrics)")
            } catch {
                await processes.stop()
                throw error
            }
            await processes.stop()
        }
    }

    @Test("pods bound by hand with an invented claim and an Int64.max annotation neither crash /filter nor a restarted process")
    func hostilePods() async throws {
        try await withTemporaryDirectory { directory in
            var processes = try await Self.start(directory: directory)
            do {
                let client = try KubeClient(try KubeClientConfiguration.kubeconfig(path: processes.kubeconfig))
                defer { Task { try? await client.shutdown() } }
                for name in ["evil-a", "evil-b"] {
                    let pod = """
                        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)","namespace":"mysql",\
                        "annotations":{"rebound.io/volume-requests":"{\\"carina-vg-hdd\\":9223372036854775807}"}},\
                        "spec":{"nodeName":"dev1-node-2","containers":[{"name":"c","image":"busybox",\
                        "resources":{"requests":{"rebound.io/local-capacity":"1"},"limits":{"rebound.io/local-capacity":"1"}}}],\
                        "volumes":[{"name":"d","persistentVolumeClaim":{"claimName":"no-such-claim"}}]}}
                        """
                    _ = try await client.send(.POST, "/api/v1/namespaces/mysql/pods", body: Array(pod.utf8))
                }
                let filter = """
                    {"Pod":{"metadata":{"name":"db-0","namespace":"mysql","annotations":{"rebound.io/volume-requests":"{\\"carina-vg-hdd\\":1}"}},\
                    "spec":{"containers":[{"name":"db","resources":{"limits":{"rebound.io/local-capacity":"1"},"requests":{"rebound.io/local-capacity":"1"}}}],\
                    "volumes":[{"name":"d","persistentVolumeClaim":{"claimName":"data-my-cluster-mysql-0"}}]}},"Nodes":null,"NodeNames":["dev1-node-2"]}
                    """
                let extender = try KubeClient(KubeClientConfiguration(server: "http://127.0.0.1:\(processes.extenderPort)"))
                defer { Task { try? await extender.shutdown() } }
                for round in 0..<2 {
                    let answer = try JSONValue(parsing: try await extender.send(.POST, "/filter", body: Array(filter.utf8)).bytes)
                    #expect(answer["NodeNames"] == ["dev1-node-2"], "round \(round): \(answer)")
                    guard round == 0 else { break }
                    // The ledger is rebuilt from the caches at start-up: a restart must survive too.
                    await processes.serve.stop()
                    let serve = try ChildProcess(ReboundBinary.path, processes.arguments)
                    processes = Processes(sim: processes.sim, serve: serve, kubeconfig: processes.kubeconfig, webhookPort: processes.webhookPort,
                                          extenderPort: processes.extenderPort, healthPort: processes.healthPort, arguments: processes.arguments)
                    #expect(await serve.waitForLine(where: { $0.contains("extender ready") }) != nil, "\(serve.printed.joined(separator: "\n"))")
                }
            } catch {
                await processes.stop()
                throw error
            }
            await processes.stop()
        }
    }

    @Test("after SIGTERM the process exits within server.shutdownGraceSeconds even with every serving event loop stuck")
    func boundedShutdown() async throws {
        try await withTemporaryDirectory { directory in
            let processes = try await Self.start(directory: directory)
            await processes.serve.stop()
            // serve is started again by a shell, which can signal it and time its exit.
            let script = """
                "$0" "$@" --set server.shutdownGraceSeconds=2 --test-stall-on-shutdown 60 > "\(directory)/serve.log" 2>&1 &
                pid=$!
                for i in $(seq 300); do grep -q "caches synced" "\(directory)/serve.log" && break; sleep 0.1; done
                start=$(date +%s%N); kill -TERM $pid; wait $pid; status=$?; end=$(date +%s%N)
                echo "status=$status milliseconds=$(( (end - start) / 1000000 ))"
                """
            let result = try await run("/bin/sh", ["-c", script, ReboundBinary.path] + processes.arguments, timeout: .seconds(90))
            await processes.sim.stop()
            let milliseconds = result.output.firstMatch(of: #/milliseconds=([0-9]+)/#).flatMap { Int($0.output.1) }
            let status = result.output.firstMatch(of: #/status=([0-9]+)/#).flatMap { Int($0.output.1) }
            #expect(status == 1, "\(result.output)")
            let elapsed = try #require(milliseconds, "\(result.output)")
            #expect(elapsed >= 1_900 && elapsed < 6_000, "exited \(elapsed) ms after SIGTERM")
            let log = (try? String(contentsOfFile: directory + "/serve.log", encoding: .utf8)) ?? ""
            #expect(log.contains("still running") && log.contains("server.shutdownGraceSeconds"), "\(log.suffix(2000))")
        }
    }
}
