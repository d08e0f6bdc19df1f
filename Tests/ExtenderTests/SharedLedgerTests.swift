import Capacity
@testable import Extender
import Foundation
import Kube
import Logging
import NIOCore
import TestSupport
import Testing

/// Several extender replicas over one cluster, sharing reservations through the ConfigMap.
@Suite("Shared reservation ledger across replicas", .timeLimit(.minutes(2)))
struct SharedLedgerTests {
    static let location = SharedLedgerLocation(namespace: "rebound-system", name: "rebound-reservations")

    /// One replica: its own caches and extender, following the cluster until stopped.
    struct Replica {
        let extender: SchedulerExtender
        let task: Task<Void, Never>

        static func start(_ client: KubeClient, metrics: ExtenderMetrics = ExtenderMetrics()) async -> Replica {
            var settings = ExtenderSettings()
            settings.sharedLedger = SharedLedgerTests.location
            var logger = Logger(label: "test.replica")
            logger.logLevel = .critical
            let caches = ClusterCaches(client: client, logger: logger)
            let extender = SchedulerExtender(settings: settings, caches: caches, client: client, metrics: metrics, logger: logger)
            let task = Task {
                await withDiscardingTaskGroup { group in
                    group.addTask { await caches.run() }
                    group.addTask { await extender.run() }
                }
            }
            await extender.waitUntilReady()
            return Replica(extender: extender, task: task)
        }

        func stop() async {
            task.cancel()
            await task.value
        }

        func bind(_ pod: Pod, to node: String) async -> String {
            let body = GoPayloads.bindingArgs(pod: pod.name, uid: pod.metadata.uid ?? "", node: node)
            let answer = await extender.bind(ByteBuffer(string: body))
            return (try? JSONValue(parsing: Array(answer.body.readableBytesView)))?["Error"]?.stringValue ?? "unreadable answer"
        }
    }

    /// Rebound's namespace, the local class and one node with 100 GiB free.
    static func setUp(_ client: KubeClient) async throws {
        _ = try await client.create(Namespace(metadata: ObjectMeta(name: "rebound-system")))
        try await ClusterFixtures.createStorageClass(client)
        try await ClusterFixtures.createNode(client, .init(name: "n1", hdd: "100"))
    }

    /// A routed pod with one pending claim of `gib` GiB.
    static func pod(_ client: KubeClient, _ name: String, gib: Int) async throws -> Pod {
        try await ClusterFixtures.createClaim(client, "data-\(name)", size: Quantity("\(gib)Gi")!)
        return try await ClusterFixtures.createPod(client, .init(name: name, requests: "{\"carina-vg-hdd\":\(gib)}", claims: ["data-\(name)"]))
    }

    static func ledger(_ client: KubeClient) async throws -> [String: String] {
        try await client.get(ConfigMap.self, location.name, namespace: location.namespace).data ?? [:]
    }

    @Test("two replicas binding onto the same space at once: exactly one wins, the other is judged again and refused")
    func concurrentBinds() async throws {
        try await withSim { _, client in
            try await Self.setUp(client)
            let metrics = ExtenderMetrics()
            let a = await Replica.start(client, metrics: metrics)
            let b = await Replica.start(client, metrics: metrics)
            for round in 0..<5 {
                let first = try await Self.pod(client, "a-\(round)", gib: 60)
                let second = try await Self.pod(client, "b-\(round)", gib: 60)
                async let fromA = a.bind(first, to: "n1")
                async let fromB = b.bind(second, to: "n1")
                let answers = await [fromA, fromB]
                #expect(answers.filter(\.isEmpty).count == 1, "round \(round): \(answers)")
                #expect(answers.contains { $0.contains("does not pass the extender's filter") }, "\(answers)")
                let ledger = try await Self.ledger(client)
                #expect(ledger.count == 1, "round \(round): \(ledger)")
                // Free the node for the next round: delete both pods (the winner's reservation goes with it).
                for pod in [first, second] { try await client.delete(Pod.self, pod.name, namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0)) }
                let cleared = await ReplicasWait.until(.seconds(10)) { ((try? await Self.ledger(client)) ?? ["x": ""]).isEmpty }
                #expect(cleared, "the deleted winner's reservation leaves the shared ledger")
                await a.extender.state.waitUntil { $0.committed(node: "n1", group: "carina-vg-hdd") == 0 }
                await b.extender.state.waitUntil { $0.committed(node: "n1", group: "carina-vg-hdd") == 0 }
            }
            await a.stop()
            await b.stop()
        }
    }

    @Test("a replica started after a bind counts the reservation although the claim is bound (the report lags), and lets go when the report drops")
    func restartKeepsReservations() async throws {
        try await withSim { _, client in
            try await Self.setUp(client)
            let a = await Replica.start(client)
            let first = try await Self.pod(client, "db-0", gib: 60)
            #expect(await a.bind(first, to: "n1") == "")
            try await ClusterFixtures.bindClaim(client, "data-db-0", to: "n1")
            await a.stop()

            // The new process knows nothing but what the API holds.
            let restarted = await Replica.start(client)
            #expect(await restarted.extender.state.committed(node: "n1", group: "carina-vg-hdd") == 60)
            let second = try await Self.pod(client, "db-1", gib: 60)
            let refused = await restarted.bind(second, to: "n1")
            #expect(refused.contains("does not pass"), "\(refused)")

            // The node agent reports the volume: the reservation leaves this replica and the ConfigMap.
            _ = try await client.send(.PATCH, "/api/v1/nodes/n1/status", body: Array(#"{"status":{"allocatable":{"carina.storage.io/carina-vg-hdd":"40"}}}"#.utf8),
                                      contentType: "application/merge-patch+json")
            await restarted.extender.state.waitUntil { $0.committed(node: "n1", group: "carina-vg-hdd") == 0 }
            let cleared = await ReplicasWait.until(.seconds(10)) { ((try? await Self.ledger(client)) ?? ["x": ""]).isEmpty }
            #expect(cleared)
            await restarted.stop()
        }
    }

    @Test("entries nobody can read (hand-edited, oversized, wrong types) are ignored, not trusted and not fatal")
    func malformedEntries() async throws {
        try await withSim { _, client in
            try await Self.setUp(client)
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: Self.location.name, namespace: Self.location.namespace), data: [
                "not-a-uid!": "{}",
                "0b9c3c1e-0000-4000-8000-00000000000a": "not json",
                "0b9c3c1e-0000-4000-8000-00000000000b": #"{"pod":"default/x","node":"n1","gib":{"carina-vg-hdd":-5},"at":"2026-12-04T10:00:00Z"}"#,
                "0b9c3c1e-0000-4000-8000-00000000000c": #"{"pod":"default/y","node":"n1","gib":{"carina-vg-hdd":99999999999999999999},"at":"2026-12-04T10:00:00Z"}"#,
                "0b9c3c1e-0000-4000-8000-00000000000d": String(repeating: "x", count: 10_000),
            ]))
            let replica = await Replica.start(client)
            #expect(await replica.extender.state.committed(node: "n1", group: "carina-vg-hdd") == 0)
            let pod = try await Self.pod(client, "db-0", gib: 60)
            #expect(await replica.bind(pod, to: "n1") == "")
            #expect(try await Self.ledger(client).count == 6)
            await replica.stop()
        }
    }

    @Test("the ConfigMap value round-trips and refuses what it could not have written")
    func reservationCoding() {
        let reservation = SharedReservation(pod: "db/mysql-0", uid: "0b9c3c1e-0000-4000-8000-000000000001", node: "worker-2", gib: ["carina-vg-hdd": 30, "carina-vg-ssd": 5],
                                            reservedAt: Date(timeIntervalSince1970: 1_796_000_000))
        let encoded = reservation.encoded()
        #expect(encoded == #"{"pod":"db/mysql-0","node":"worker-2","gib":{"carina-vg-hdd":30,"carina-vg-ssd":5},"at":"2026-11-30T00:53:20Z"}"#)
        #expect(SharedReservation(key: reservation.uid, value: encoded) == reservation)
        #expect(SharedReservation(key: "bad key", value: encoded) == nil)
        #expect(SharedReservation(key: reservation.uid, value: encoded.replacingOccurrences(of: "db/mysql-0", with: "/mysql-0")) == nil)
        #expect(SharedReservation(key: reservation.uid, value: encoded.replacingOccurrences(of: "30", with: "0")) == nil)
        #expect(SharedReservation(key: reservation.uid, value: encoded.replacingOccurrences(of: "\"node\":\"worker-2\"", with: "\"node\":\"\"")) == nil)
    }
}

enum ReplicasWait {
    /// Polls `condition` until it holds or `timeout` passes.
    static func until(_ timeout: Duration, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }
}
