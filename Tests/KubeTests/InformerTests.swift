import ClusterSim
import Foundation
import Kube
import TestSupport
import Testing

/// Collects an informer's events until a condition holds.
actor EventLog<Object: KubeResource> {
    var events: [InformerEvent<Object>] = []
    private var waiters: [Int: (condition: @Sendable ([InformerEvent<Object>]) -> Bool, continuation: CheckedContinuation<Void, Never>)] = [:]
    private var nextWaiter = 0

    func append(_ event: InformerEvent<Object>) {
        events.append(event)
        for (id, waiter) in waiters where waiter.condition(events) {
            waiters.removeValue(forKey: id)
            waiter.continuation.resume()
        }
    }

    /// Returns once the events seen so far satisfy `condition`.
    func wait(until condition: @escaping @Sendable ([InformerEvent<Object>]) -> Bool) async {
        if condition(events) { return }
        nextWaiter += 1
        let id = nextWaiter
        await withCheckedContinuation { waiters[id] = (condition, $0) }
    }

    /// Starts collecting from a subscription; the task ends with the stream.
    nonisolated func follow(_ stream: AsyncStream<InformerEvent<Object>>) -> Task<Void, Never> {
        Task {
            for await event in stream { await self.append(event) }
        }
    }
}

func summary(_ event: InformerEvent<Pod>) -> String {
    switch event {
    case .added(let pod): "added \(pod.name)"
    case .modified(_, let pod): "modified \(pod.name) \(pod.metadata.labels?["step"] ?? "")"
    case .deleted(let pod): "deleted \(pod.name)"
    }
}

@Suite("Informer: list, watch, resume, relist")
struct InformerTests {
    @Test("a watch resumes after dropped connections without missing or repeating an event")
    func resumesAfterDrops() async throws {
        try await withSim { sim, client in
            _ = try await client.create(makePod("seed"))
            let informer = Informer<Pod>(client: client, indexers: Informer<Pod>.podsByNode)
            let log = EventLog<Pod>()
            let follower = log.follow(await informer.subscribe())
            let runner = Task { await informer.run() }
            await informer.waitUntilSynced()

            var expected = ["added seed"]
            for round in 0..<5 {
                for index in 0..<20 {
                    let name = "pod-\(round)-\(index)"
                    _ = try await client.create(makePod(name, node: "node-\(index % 3)"))
                    expected.append("added \(name)")
                }
                // The connection drops while events are in flight.
                await sim.store.dropAllWatches()
                for index in stride(from: 0, to: 20, by: 2) {
                    let name = "pod-\(round)-\(index)"
                    _ = try await client.patch(Pod.self, name, namespace: "default", .merge(["metadata": ["labels": ["step": .string("\(round)")]]]))
                    expected.append("modified \(name) \(round)")
                }
                for index in stride(from: 1, to: 20, by: 5) {
                    let name = "pod-\(round)-\(index)"
                    try await client.delete(Pod.self, name, namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0))
                    expected.append("deleted \(name)")
                }
                await sim.store.dropAllWatches()
            }
            let count = expected.count
            await log.wait { $0.count >= count }
            let seen = await log.events.map(summary)
            #expect(seen == expected)

            let statistics = await informer.statistics
            #expect(statistics.relists == 0)
            #expect(statistics.watches >= 2)  // it resumed (drops in quick succession can fold into one)
            let cached = await informer.count
            #expect(cached == 81)  // the seed, and 16 of 20 pods in each of 5 rounds
            let onNode0 = await informer.byIndex(Informer<Pod>.nodeIndex, "node-0")
            #expect(onNode0.count == 30)  // 7 pods a round on node-0, one of them deleted
            runner.cancel()
            await runner.value
            follower.cancel()
        }
    }

    @Test("410 Gone leads to a relist that reports what changed meanwhile")
    func relistsOnGone() async throws {
        try await withSim { sim, client in
            for name in ["a", "b", "c"] { _ = try await client.create(makePod(name)) }
            var options = Informer<Pod>.Options()
            options.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(100))
            let informer = Informer<Pod>(client: client, options: options)
            let log = EventLog<Pod>()
            let follower = log.follow(await informer.subscribe())
            let runner = Task { await informer.run() }
            await informer.waitUntilSynced()
            await log.wait { $0.count == 3 }

            // Keep the informer away while the history it would resume from is compacted.
            await sim.faults.inject(.serviceUnavailable, times: nil, when: SimFaults.Match(watch: true))
            await sim.store.dropAllWatches()
            try await client.delete(Pod.self, "b", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0))
            _ = try await client.create(makePod("d"))
            _ = try await client.patch(Pod.self, "a", namespace: "default", .merge(["metadata": ["labels": ["step": "x"]]]))
            await sim.store.compact()
            await sim.faults.clear()

            await log.wait { $0.count == 6 }
            let tail = await Array(log.events.dropFirst(3).map(summary)).sorted()
            #expect(tail == ["added d", "deleted b", "modified a x"])
            let statistics = await informer.statistics
            #expect(statistics.relists == 1)
            let names = await informer.items().map(\.name).sorted()
            #expect(names == ["a", "c", "d"])
            runner.cancel()
            await runner.value
            follower.cancel()
        }
    }

    @Test("bookmarks advance the resume point without producing events")
    func bookmarks() async throws {
        try await withSim(bookmarkInterval: .milliseconds(50)) { _, client in
            let informer = Informer<Pod>(client: client)
            let runner = Task { await informer.run() }
            await informer.waitUntilSynced()
            let before = await informer.lastResourceVersion
            // Changes to another resource move the cluster's revision; a bookmark carries it to the pod watch.
            _ = try await client.create(makeNode("node-1"))
            var advanced = false
            for _ in 0..<100 {
                if await informer.lastResourceVersion != before { advanced = true; break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(advanced)
            let statistics = await informer.statistics
            #expect(statistics.bookmarks > 0)
            #expect(statistics.events == 0)
            runner.cancel()
            await runner.value
        }
    }

    @Test("watch streams decode ERROR events as typed errors")
    func watchErrorEvent() async throws {
        try await withSim { sim, client in
            _ = try await client.create(makePod("a"))
            await sim.store.compact()
            let watch = try await client.watch(Pod.self, options: ListOptions(resourceVersion: "1"))
            let error = await #expect(throws: KubeAPIError.self) {
                for try await _ in watch {}
            }
            #expect(error?.isGone == true)
            #expect(error?.message.contains("too old resource version") == true)
        }
    }
}

@Suite("Informer bookmarks on kinds with required fields")
struct BookmarkDecodingTests {
    @Test("a bookmark carries only a resource version, whatever the kind")
    func storageClassBookmarks() async throws {
        try await withSim(bookmarkInterval: .milliseconds(30)) { _, client in
            let informer = Informer<StorageClass>(client: client)
            let runner = Task { await informer.run() }
            await informer.waitUntilSynced()
            _ = try await client.create(makeNode("n1"))
            // Bookmarks change no object, so there is no event to await: look every few milliseconds.
            var advanced = false
            for _ in 0..<500 where !advanced {
                advanced = await informer.statistics.bookmarks > 0
                if !advanced { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(advanced)
            #expect(await informer.statistics.errors == 0)
            runner.cancel()
            await runner.value
        }
    }
}
