import Capacity
@testable import Extender
import Testing

@Suite("Node table")
struct NodeTableTests {
    static func summary(_ name: String, _ free: [String: Int64], healthy: Bool = true) -> NodeSummary {
        NodeSummary(name: name, health: healthy ? .healthy : .unhealthy([.unschedulable]), capacity: NodeCapacity(freeGiB: free))
    }

    @Test("slots follow upserts and removals; columns track every group a node reports or stops reporting")
    func upsertsAndRemovals() {
        var table = NodeTable()
        table.upsert(Self.summary("a", ["hdd": 10]))
        table.upsert(Self.summary("b", ["hdd": 20, "ssd": 5], healthy: false))
        let a = table.slot(of: "a")!
        let b = table.slot(of: "b")!
        #expect(table.column("hdd")?[a] == 10)
        #expect(table.column("ssd")?[a] == NodeTable.notReported, "a column added later covers earlier nodes")
        #expect(table.unhealthyReason(at: b) == "node is cordoned (spec.unschedulable)")
        #expect(table.unhealthyReason(at: a) == nil)

        table.upsert(Self.summary("b", ["ssd": 7]))
        #expect(table.column("hdd")?[b] == NodeTable.notReported, "a group the node no longer reports is cleared")
        #expect(table.column("ssd")?[b] == 7)
        #expect(table.unhealthyReason(at: b) == nil)

        table.remove("a")
        #expect(table.slot(of: "a") == nil)
        #expect(table.count == 1)
        table.upsert(Self.summary("c", ["nvme": 3]))
        #expect(table.slot(of: "c") == a, "a vacant slot is reused")
        #expect(table.column("hdd")?[a] == NodeTable.notReported, "nothing of the removed node is left in its slot")
        #expect(table.column("nvme")?[a] == 3)
        #expect(table.column("nvme")?[b] == NodeTable.notReported)
    }
}
