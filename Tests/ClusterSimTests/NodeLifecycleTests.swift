import ClusterSim
import Foundation
import Kube
import Testing

@Suite("NodeLifecycle: heartbeats, grace period, unreachable taints")
struct NodeLifecycleTests {
    func node(_ name: String, ready: String) -> JSONValue {
        ["metadata": ["name": .string(name)], "status": ["conditions": [["type": "Ready", "status": .string(ready)]]]]
    }

    func state(_ store: SimStore, _ name: String) async throws -> (ready: String?, taints: [String]) {
        let value = try await store.get(Node.resourceType, namespace: nil, name: name).value
        let ready = value["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }?["status"]?.stringValue
        let taints = (value["spec"]?["taints"]?.arrayValue ?? []).map { "\($0["key"]?.stringValue ?? ""):\($0["effect"]?.stringValue ?? "")" }
        return (ready, taints.sorted())
    }

    @Test("a kubelet stopped before its first heartbeat still gets the grace period; a node that starts NotReady stays so; recovery clears the taints")
    func gracePeriod() async throws {
        let store = SimStore()
        for (name, ready) in [("a", "True"), ("b", "Unknown"), ("c", "True")] {
            _ = try await store.create(Node.resourceType, namespace: nil, object: node(name, ready: ready))
        }
        let lifecycle = await NodeLifecycle(store: store, heartbeatInterval: .milliseconds(50), gracePeriod: .milliseconds(600))
        await lifecycle.fail("a")
        await lifecycle.step()
        // Inside the grace period nothing changes: not a, not b (whose kubelet never ran).
        #expect(try await state(store, "a") == ("True", []))
        #expect(try await state(store, "b").ready == "Unknown")
        #expect(try await state(store, "c") == ("True", []))
        #expect(try await store.get(Lease.resourceType, namespace: "kube-node-lease", name: "c").value["spec"]?["renewTime"] != nil)

        try await Task.sleep(for: .milliseconds(700))
        await lifecycle.step()
        let unreachable = ["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"]
        #expect(try await state(store, "a") == ("Unknown", unreachable))
        #expect(try await state(store, "b") == ("Unknown", unreachable))
        #expect(try await state(store, "c") == ("True", []))

        await lifecycle.recover("a")
        await lifecycle.step()
        #expect(try await state(store, "a") == ("True", []))
        #expect(try await state(store, "b").ready == "Unknown")
    }
}
