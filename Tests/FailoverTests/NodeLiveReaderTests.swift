@testable import Failover
import Synchronization
import Testing

@Suite("NodeLiveReader")
struct NodeLiveReaderTests {
    @Test("concurrent and recent reads of one node share one GET; failed reads are never reused")
    func coalesces() async throws {
        let reads = Atomic<Int>(0)
        let failing = Atomic<Bool>(false)
        let reader = NodeLiveReader(freshness: .milliseconds(300)) { _ in
            reads.add(1, ordering: .relaxed)
            try? await Task.sleep(for: .milliseconds(50))
            return failing.load(ordering: .relaxed) ? .unknown("boom") : .stillDown
        }
        await withTaskGroup(of: MigrationExecutor.NodeStatus.self) { group in
            for _ in 0..<20 { group.addTask { await reader.status(of: "node-2") } }
            for await status in group { #expect(status == .stillDown) }
        }
        #expect(reads.load(ordering: .relaxed) == 1)
        _ = await reader.status(of: "node-3")
        #expect(reads.load(ordering: .relaxed) == 2)
        try await Task.sleep(for: .milliseconds(350))
        failing.store(true, ordering: .relaxed)
        #expect(await reader.status(of: "node-2") == .unknown("boom"))
        #expect(await reader.status(of: "node-2") == .unknown("boom"))
        #expect(reads.load(ordering: .relaxed) == 4)
    }
}
