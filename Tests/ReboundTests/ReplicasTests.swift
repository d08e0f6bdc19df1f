import Foundation
import Kube
import TestSupport
import Testing

/// Several `rebound serve` replicas behind one Service: kube-scheduler's filter, prioritize and
/// bind calls for consecutive pods reach different replicas, while nodes report provisioned space
/// late. No volume group may be overcommitted — with one replica, two, or two of which one
/// restarts in the middle of the burst.
@Suite("Replicas share one reservation ledger", .timeLimit(.minutes(4)))
struct ReplicasTests {
    static let nodes = ["node-a", "node-b", "node-c"]
    static let group = "carina-vg-hdd"

    /// A running `rebound sim --controllers` whose scheduler calls the extender through `proxy`,
    /// and the replicas behind it.
    final class Cluster: @unchecked Sendable {
        let directory: String
        let proxy: RoundRobinProxy
        let sim: ChildProcess
        let client: KubeClient
        var replicas: [(process: ChildProcess, port: Int)] = []

        init(directory: String, proxy: RoundRobinProxy, sim: ChildProcess, client: KubeClient) {
            self.directory = directory
            self.proxy = proxy
            self.sim = sim
            self.client = client
        }

        static func start(directory: String, replicas: Int) async throws -> Cluster {
            let proxy = try await RoundRobinProxy.start()
            let schedulerConfig = directory + "/scheduler.yaml"
            try """
                apiVersion: kubescheduler.config.k8s.io/v1
                kind: KubeSchedulerConfiguration
                extenders:
                - urlPrefix: http://127.0.0.1:\(proxy.port)
                  filterVerb: filter
                  prioritizeVerb: prioritize
                  bindVerb: bind
                  weight: 5
                  nodeCacheCapable: true
                  ignorable: false
                  httpTimeout: 5s
                  managedResources:
                  - name: rebound.io/local-capacity
                    ignoredByScheduler: true
                """.write(toFile: schedulerConfig, atomically: true, encoding: .utf8)
            let kubeconfig = directory + "/sim.kubeconfig"
            let sim = try ChildProcess(ReboundBinary.path, [
                "sim", "--port", "0", "--controllers", "--scheduler-config", schedulerConfig, "--capacity-report-delay", "10",
                "--kubeconfig-out", kubeconfig, "--log-level", "warning",
            ])
            guard let line = await sim.waitForLine(where: { $0.hasPrefix("ClusterSim API server:") }) else {
                await sim.stop()
                await proxy.stop()
                throw ClusterError.didNotStart("rebound sim: \(sim.printed.joined(separator: "\n"))")
            }
            let url = line.replacingOccurrences(of: "ClusterSim API server:", with: "").trimmingCharacters(in: .whitespaces)
            var configuration = KubeClientConfiguration(server: url)
            configuration.qps = 0
            let cluster = Cluster(directory: directory, proxy: proxy, sim: sim, client: try KubeClient(configuration))
            try await cluster.createWorld()
            for index in 0..<replicas { try await cluster.startReplica(index, port: try freePort()) }
            proxy.setBackends(cluster.replicas.map(\.port))
            return cluster
        }

        /// Rebound's namespace, an opted-in namespace, Carina's HDD class and three Ready nodes of 100 GiB.
        func createWorld() async throws {
            for name in ["rebound-system", "db"] { _ = try await client.create(Namespace(metadata: ObjectMeta(name: name))) }
            _ = try await client.create(StorageClass(
                metadata: ObjectMeta(name: "csi-carina-sc"), provisioner: "carina.storage.io",
                parameters: ["carina.storage.io/disk-type": ReplicasTests.group], reclaimPolicy: "Delete", volumeBindingMode: "WaitForFirstConsumer"))
            for name in ReplicasTests.nodes {
                _ = try await client.create(Node(
                    metadata: ObjectMeta(name: name, labels: ["kubernetes.io/hostname": name]),
                    status: NodeStatus(
                        capacity: ["carina.storage.io/\(ReplicasTests.group)": "100", "cpu": "8", "memory": "32Gi", "pods": "110"],
                        allocatable: ["carina.storage.io/\(ReplicasTests.group)": "100", "cpu": "8", "memory": "32Gi", "pods": "110"],
                        conditions: [NodeCondition(type: "Ready", status: "True")])))
            }
        }

        func startReplica(_ index: Int, port: Int) async throws {
            let serve = try ChildProcess(ReboundBinary.path, [
                "serve", "--kubeconfig", directory + "/sim.kubeconfig", "--set", "webhook.enabled=false", "--set", "failover.enabled=false",
                "--set", "extender.address=127.0.0.1", "--set", "extender.port=\(port)",
                "--set", "health.address=127.0.0.1", "--set", "health.port=\(try freePort())", "--set", "log.level=info",
            ])
            guard await serve.waitForLine(timeout: .seconds(60), where: { $0.contains("extender ready") }) != nil else {
                await serve.stop()
                throw ClusterError.didNotStart("replica \(index): \(serve.printed.suffix(30).joined(separator: "\n"))")
            }
            if index < replicas.count {
                replicas[index] = (serve, port)
            } else {
                replicas.append((serve, port))
            }
        }

        /// Stops replica `index` and starts it again on the same port (the proxy skips it meanwhile).
        func restartReplica(_ index: Int) async throws {
            await replicas[index].process.stop()
            try await startReplica(index, port: replicas[index].port)
        }

        /// `count` StatefulSet-like pods from `first` on, each with a 30 GiB claim of the local
        /// class, marked as the webhook marks them.
        func createPods(_ range: Range<Int>) async throws {
            for index in range {
                let claim: JSONValue = [
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": ["name": .string("data-db-\(index)"), "namespace": "db"],
                    "spec": ["accessModes": ["ReadWriteOnce"], "storageClassName": "csi-carina-sc", "resources": ["requests": ["storage": "30Gi"]]],
                ]
                _ = try await client.send(.POST, PersistentVolumeClaim.resourceType.path(namespace: "db"), body: claim.serialized())
                let pod: JSONValue = [
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": [
                        "name": .string("db-\(index)"), "namespace": "db",
                        "annotations": ["rebound.io/volume-requests": .string("{\"\(ReplicasTests.group)\":30}")],
                    ],
                    "spec": [
                        "containers": [["name": "db", "image": "mysql:8", "resources": [
                            "requests": ["rebound.io/local-capacity": "1"], "limits": ["rebound.io/local-capacity": "1"],
                        ]]],
                        "volumes": [["name": "data", "persistentVolumeClaim": ["claimName": .string("data-db-\(index)")]]],
                    ],
                ]
                _ = try await client.send(.POST, Pod.resourceType.path(namespace: "db"), body: pod.serialized())
            }
        }

        func pods() async throws -> [Pod] { try await client.list(Pod.self, namespace: "db").items }

        /// Each node's reported free GiB, in node order.
        func reports() async throws -> [String] {
            try await client.list(Node.self).items.sorted { $0.name < $1.name }.map { node in
                node.status?.allocatable?["carina.storage.io/\(ReplicasTests.group)"].map { "\($0)" } ?? "-"
            }
        }

        func stop() async {
            for replica in replicas { await replica.process.stop() }
            await sim.stop()
            await proxy.stop()
            try? await client.shutdown()
        }

        /// What a failed test should show: the replicas' last words.
        var logs: String {
            replicas.enumerated().map { "replica \($0.offset):\n" + $0.element.process.printed.suffix(15).joined(separator: "\n") }.joined(separator: "\n")
        }
    }

    enum ClusterError: Error {
        case didNotStart(String)
    }

    /// Polls until `condition` holds or `timeout` passes; returns whether it held.
    static func eventually(_ timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return try await condition()
    }

    /// The burst and its checks: 15 pods of 30 GiB onto 3 nodes of 100 GiB whose reports lag
    /// 10 s. Exactly 9 fit; they run, nothing fails to provision, no node holds more than 100 GiB.
    func burst(replicas: Int, restartMidBurst: Bool) async throws {
        try await withTemporaryDirectory { directory in
            let cluster = try await Cluster.start(directory: directory, replicas: replicas)
            do {
                if restartMidBurst {
                    // The first pods are placed and provisioned; their space is not reported yet
                    // when a replica restarts and the rest of the burst arrives.
                    try await cluster.createPods(0..<5)
                    let placed = try await Self.eventually(.seconds(8)) { try await cluster.pods().filter { $0.nodeName != nil }.count == 5 }
                    #expect(placed, "the first 5 pods were not placed: \(cluster.logs)")
                    try await cluster.restartReplica(0)
                    let reported = try await cluster.reports()
                    #expect(reported == ["100", "100", "100"], "the reports should still lag when the replica is back")
                    try await cluster.createPods(5..<15)
                } else {
                    try await cluster.createPods(0..<15)
                }
                // Every report lands (10 s after the last placement) and shows 10 GiB left per node.
                let settled = try await Self.eventually(.seconds(60)) {
                    let running = try await cluster.pods().filter { $0.status?.phase == "Running" }.count
                    let reports = try await cluster.reports()
                    return running == 9 && reports == ["10", "10", "10"]
                }
                // Nothing else is placed once the reports are in.
                try await Task.sleep(for: .seconds(2))
                let pods = try await cluster.pods()
                let bound = pods.filter { $0.nodeName != nil }
                #expect(settled, "\(pods.map { "\($0.name)@\($0.nodeName ?? "-"):\($0.status?.phase ?? "")" }) \(cluster.logs)")
                #expect(bound.count == 9)
                #expect(bound.allSatisfy { $0.status?.phase == "Running" })
                let perNode = Dictionary(grouping: bound, by: { $0.nodeName ?? "" }).mapValues { $0.count * 30 }
                #expect(perNode.values.allSatisfy { $0 <= 100 }, "\(perNode)")
                let volumes = try await cluster.client.list(PersistentVolume.self).items
                var provisioned: [String: Int] = [:]
                for volume in volumes {
                    let node = volume.spec?.nodeAffinity?.required?.nodeSelectorTerms.first?.matchExpressions?.first?.values?.first ?? ""
                    provisioned[node, default: 0] += 30
                }
                #expect(provisioned.values.allSatisfy { $0 <= 100 } && volumes.count == 9, "\(provisioned)")
                let events = try await cluster.client.list(Event.self, namespace: "db").items
                #expect(!events.contains { $0.reason == "ProvisioningFailed" }, "\(events.filter { $0.reason == "ProvisioningFailed" }.map { $0.message ?? "" })")
                if replicas > 1 {
                    #expect(cluster.proxy.answered.count == replicas, "every replica answered: \(cluster.proxy.answered)")
                }
            } catch {
                await cluster.stop()
                throw error
            }
            await cluster.stop()
        }
    }

    @Test("one replica: exactly 9 of 15 pods of 30 GiB run on 3 nodes of 100 GiB while reports lag 10 s")
    func oneReplica() async throws {
        try await burst(replicas: 1, restartMidBurst: false)
    }

    @Test("two replicas taking turns on every request: exactly 9 run, none fails to provision")
    func twoReplicas() async throws {
        try await burst(replicas: 2, restartMidBurst: false)
    }

    @Test("two replicas, one restarted mid-burst while the first volumes are not reported yet: no reservation lost")
    func restartMidBurst() async throws {
        try await burst(replicas: 2, restartMidBurst: true)
    }
}
