import ClusterSim
import Foundation
import Kube
import Testing

func podJSON(_ name: String, namespace: String = "default", labels: [String: String] = [:], node: String? = nil) -> JSONValue {
    var spec: JSONObject = ["containers": [["name": "c", "image": "busybox"]]]
    if let node { spec["nodeName"] = .string(node) }
    return [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": .object(JSONObject(uniqueKeysWithValues: labels.map { ($0.key, JSONValue.string($0.value)) }))],
        "spec": .object(spec), "status": ["phase": "Running"],
    ]
}

/// Reads frames from a watch until `count` arrived.
func frames(_ subscription: SimStore.WatchSubscription, count: Int) async -> [JSONValue] {
    var result: [JSONValue] = []
    for await frame in subscription.frames {
        result.append((try? JSONValue(parsing: frame)) ?? .null)
        if result.count == count { break }
    }
    return result
}

@Suite("SimStore server-side semantics")
struct SimStoreTests {
    @Test("create assigns identity, versions grow, generateName picks a free name")
    func create() async throws {
        let store = SimStore()
        let first = try await store.create(Pod.resourceType, namespace: "default", object: podJSON("a"))
        let second = try await store.create(Pod.resourceType, namespace: "default", object: ["metadata": ["generateName": "web-"], "spec": ["containers": []]])
        #expect(!first.uid.isEmpty && first.uid != second.uid)
        #expect(second.resourceVersion > first.resourceVersion)
        #expect(second.name.hasPrefix("web-") && second.name.count == 9)
        #expect(second.value["kind"] == "Pod")
        await #expect(throws: KubeAPIError.self) { try await store.create(Pod.resourceType, namespace: "missing", object: podJSON("a", namespace: "missing")) }
        let mismatch = await #expect(throws: KubeAPIError.self) { try await store.create(Pod.resourceType, namespace: "kube-system", object: podJSON("b")) }
        #expect(mismatch?.code == 400)
        let badName = await #expect(throws: KubeAPIError.self) { try await store.create(Pod.resourceType, namespace: "default", object: podJSON("Not_Valid")) }
        #expect(badName?.reason == .invalid)
        let wrongKind = await #expect(throws: KubeAPIError.self) { try await store.create(Node.resourceType, namespace: nil, object: podJSON("c")) }
        #expect(wrongKind?.code == 400)
    }

    @Test("writes to the main resource keep the status; /status changes only the status")
    func statusSubresource() async throws {
        let store = SimStore()
        _ = try await store.create(Pod.resourceType, namespace: "default", object: podJSON("a"))
        var changed = podJSON("a", labels: ["x": "y"])
        changed["status"] = ["phase": "Failed"]
        let updated = try await store.update(Pod.resourceType, namespace: "default", name: "a", object: changed)
        #expect(updated.value["status"]?["phase"] == "Running")
        #expect(updated.labels == ["x": "y"])
        var statusOnly = podJSON("a", labels: ["ignored": "yes"])
        statusOnly["status"] = ["phase": "Succeeded"]
        let status = try await store.update(Pod.resourceType, namespace: "default", name: "a", object: statusOnly, subresource: "status")
        #expect(status.value["status"]?["phase"] == "Succeeded")
        #expect(status.labels == ["x": "y"])
        // An update that changes nothing keeps the resource version.
        let same = try await store.update(Pod.resourceType, namespace: "default", name: "a", object: status.value)
        #expect(same.resourceVersion == status.resourceVersion)
    }

    @Test("a filtered watch sees an object that stops matching as deleted, and one that starts as added")
    func filteredWatch() async throws {
        let store = SimStore()
        _ = try await store.create(Pod.resourceType, namespace: "default", object: podJSON("a", labels: ["app": "db"]))
        let watch = try await store.watch(Pod.resourceType, namespace: "default", labels: try LabelSelectorExpression(parsing: "app=db"), from: await store.revision)
        _ = try await store.patch(Pod.resourceType, namespace: "default", name: "a", patchType: .merge, patch: ["metadata": ["labels": ["app": "web"]]])
        _ = try await store.create(Pod.resourceType, namespace: "default", object: podJSON("b", labels: ["app": "web"]))
        _ = try await store.patch(Pod.resourceType, namespace: "default", name: "b", patchType: .merge, patch: ["metadata": ["labels": ["app": "db"]]])
        let events = await frames(watch, count: 2)
        #expect(events.map { $0["type"]?.stringValue } == ["DELETED", "ADDED"])
        #expect(events.map { $0["object"]?["metadata"]?["name"]?.stringValue } == ["a", "b"])
    }

    @Test("a watch resumes from the log and refuses history that was compacted")
    func resumeAndCompaction() async throws {
        let store = SimStore(logCapacity: 3)
        let start = await store.revision
        for name in ["a", "b", "c", "d", "e"] { _ = try await store.create(Pod.resourceType, namespace: "default", object: podJSON(name)) }
        let tooOld = await #expect(throws: KubeAPIError.self) { try await store.watch(Pod.resourceType, namespace: nil, from: start) }
        #expect(tooOld?.isGone == true)
        let recent = try await store.watch(Pod.resourceType, namespace: nil, from: start + 3)
        let events = await frames(recent, count: 2)
        #expect(events.map { $0["object"]?["metadata"]?["name"]?.stringValue } == ["d", "e"])
        let initial = try await store.watch(Pod.resourceType, namespace: nil, from: nil)
        #expect(await frames(initial, count: 5).allSatisfy { $0["type"] == "ADDED" })
    }

    @Test("graceful deletion, shortening, finalizers and namespace deletion")
    func deletion() async throws {
        let store = SimStore()
        _ = try await store.create(Pod.resourceType, namespace: "default", object: podJSON("bound", node: "n1"))
        _ = try await store.create(Pod.resourceType, namespace: "default", object: podJSON("unbound"))
        guard case .pending(let pending) = try await store.delete(Pod.resourceType, namespace: "default", name: "bound", options: .init(gracePeriodSeconds: 60)) else {
            Issue.record("a bound pod with a grace period should stay")
            return
        }
        #expect(pending.metadata["deletionGracePeriodSeconds"] == .number("60"))
        guard case .pending(let shorter) = try await store.delete(Pod.resourceType, namespace: "default", name: "bound", options: .init(gracePeriodSeconds: 10)) else {
            Issue.record("shortening keeps the pod")
            return
        }
        #expect(shorter.metadata["deletionGracePeriodSeconds"] == .number("10"))
        guard case .deleted = try await store.delete(Pod.resourceType, namespace: "default", name: "bound", options: .init(gracePeriodSeconds: 0)) else {
            Issue.record("grace 0 removes")
            return
        }
        // A pod that never reached a node goes at once, whatever the grace period.
        guard case .deleted = try await store.delete(Pod.resourceType, namespace: "default", name: "unbound", options: .init(gracePeriodSeconds: 30)) else {
            Issue.record("an unscheduled pod is deleted at once")
            return
        }

        _ = try await store.create(Namespace.resourceType, namespace: nil, object: ["metadata": ["name": "team"]])
        _ = try await store.create(Pod.resourceType, namespace: "team", object: podJSON("p", namespace: "team"))
        _ = try await store.create(PersistentVolumeClaim.resourceType, namespace: "team", object: ["metadata": ["name": "c", "finalizers": ["kubernetes.io/pvc-protection"]], "spec": [:]])
        _ = try await store.delete(Namespace.resourceType, namespace: nil, name: "team")
        let left = try await store.list(Pod.resourceType, namespace: "team")
        #expect(left.items.isEmpty)
        await #expect(throws: KubeAPIError.self) { try await store.get(Namespace.resourceType, namespace: nil, name: "team") }
    }
}
