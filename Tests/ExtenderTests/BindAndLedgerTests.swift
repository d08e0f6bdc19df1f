import Capacity
@testable import Extender
import Kube
import Testing

/// The bind verb, and the ledger following the caches when kube-scheduler binds on its own.
@Suite("Extender bind verb and reservations", .timeLimit(.minutes(2)))
struct BindAndLedgerTests {
    static let key = "default/my-cluster-mysql-0"

    static func setUp(_ client: KubeClient) async throws {
        try await ClusterFixtures.createSeedCluster(client)
    }

    @Test("bind reserves the pod's request on its node, then creates the Binding")
    func bindCreatesBinding() async throws {
        try await ExtenderHarness.run(setUp: Self.setUp) { harness in
            let pod = try await ClusterFixtures.createPod(harness.client, GoPayloads.PodSpec())
            let uid = pod.metadata.uid ?? ""
            let body = GoPayloads.pod(.init(uid: uid))
            _ = try await harness.post("/filter", GoPayloads.argsWithNames(pod: body, names: FilterPrioritizeTests.seedNames))
            let held = await harness.extender.state.entry(pod: Self.key)
            #expect(held?.placement == .held(candidates: ["dev1-node-2", "dev1-node-3"]))

            let reply = try await harness.post("/bind", GoPayloads.bindingArgs(pod: "my-cluster-mysql-0", uid: uid, node: "dev1-node-3"))
            #expect(reply.code == 200)
            #expect(reply.text == "{\"Error\":\"\"}")
            let entry = await harness.extender.state.entry(pod: Self.key)
            #expect(entry?.node == "dev1-node-3")
            #expect(entry?.remaining == ["carina-vg-hdd": 1])
            let bound = try await harness.client.get(Pod.self, "my-cluster-mysql-0", namespace: "default")
            #expect(bound.nodeName == "dev1-node-3")
            #expect(bound.status?.conditions?.contains { $0.type == "PodScheduled" && $0.status == "True" } == true)

            // Binding again is refused (by the extender once its cache shows the pod bound, else by
            // the API); the answer says why and the reservation stands.
            let again = try await harness.post("/bind", GoPayloads.bindingArgs(pod: "my-cluster-mysql-0", uid: uid, node: "dev1-node-2"))
            let error = again.json?["Error"]?.stringValue ?? ""
            #expect(error.contains("already bound to node dev1-node-3") || error.contains("is already assigned to node \"dev1-node-3\""), "\(error)")
            await harness.waitForState { $0.entry(pod: Self.key)?.node == "dev1-node-3" }
        }
    }

    @Test("bind for a pod that does not exist is refused, and nothing is reserved")
    func bindMissingPod() async throws {
        try await ExtenderHarness.run(setUp: Self.setUp) { harness in
            let reply = try await harness.post("/bind", GoPayloads.bindingArgs(pod: "ghost", uid: "", node: "dev1-node-2"))
            #expect(reply.code == 200)
            #expect(reply.json?["Error"]?.stringValue?.contains("pod default/ghost does not exist") == true)
            #expect(await harness.extender.state.entry(pod: "default/ghost") == nil)
        }
    }

    /// Posts a binding and returns its `Error`, after checking the pod was left unbound.
    static func refusedBinding(_ harness: ExtenderHarness, pod: String, uid: String, node: String) async throws -> String {
        let reply = try await harness.post("/bind", GoPayloads.bindingArgs(pod: pod, uid: uid, node: node))
        #expect(reply.code == 200)
        let stored = try await harness.client.get(Pod.self, pod, namespace: "default")
        #expect(stored.nodeName == nil, "the refused binding was made")
        return reply.json?["Error"]?.stringValue ?? ""
    }

    @Test("bind refuses what a caller cannot be trusted with: an unrouted pod, a NotReady or unknown node, another pod's UID, a pod that no longer fits")
    func bindRevalidates() async throws {
        try await ExtenderHarness.run(setUp: Self.setUp) { harness in
            // A pending pod Rebound never routed (no routing resource): not Rebound's to bind.
            let plain = try await ClusterFixtures.createPod(harness.client, GoPayloads.PodSpec(name: "victim", requests: nil, routed: false, claims: []))
            let unrouted = try await Self.refusedBinding(harness, pod: "victim", uid: plain.metadata.uid ?? "", node: "dev1-node-2")
            #expect(unrouted.contains("does not request the routing resource"), "\(unrouted)")

            let pod = try await ClusterFixtures.createPod(harness.client, GoPayloads.PodSpec())
            let uid = pod.metadata.uid ?? ""
            let notReady = try await Self.refusedBinding(harness, pod: "my-cluster-mysql-0", uid: uid, node: "dev1-node-4")
            #expect(notReady.contains("does not pass the extender's filter") && notReady.contains("Ready"), "\(notReady)")
            let unknown = try await Self.refusedBinding(harness, pod: "my-cluster-mysql-0", uid: uid, node: "dev1-node-9")
            #expect(unknown.contains("not found"), "\(unknown)")
            let replaced = try await Self.refusedBinding(harness, pod: "my-cluster-mysql-0", uid: "0000-not-this-pod", node: "dev1-node-2")
            #expect(replaced.contains("was replaced"), "\(replaced)")
            #expect(await harness.extender.state.entry(pod: Self.key)?.node == nil)

            // Two pods of 150 GiB (claims not yet created: the requests annotation counts): the
            // first takes node-2 (188 GiB free); the second no longer fits there.
            let first = try await ClusterFixtures.createPod(harness.client, GoPayloads.PodSpec(name: "big-0", requests: "{\"carina-vg-hdd\":150}", claims: ["data-big-0"]))
            let second = try await ClusterFixtures.createPod(harness.client, GoPayloads.PodSpec(name: "big-1", requests: "{\"carina-vg-hdd\":150}", claims: ["data-big-1"]))
            let bound = try await harness.post("/bind", GoPayloads.bindingArgs(pod: "big-0", uid: first.metadata.uid ?? "", node: "dev1-node-2"))
            #expect(bound.text == "{\"Error\":\"\"}")
            let full = try await Self.refusedBinding(harness, pod: "big-1", uid: second.metadata.uid ?? "", node: "dev1-node-2")
            #expect(full.contains("does not pass the extender's filter") && full.contains("carina-vg-hdd"), "\(full)")
            #expect(await harness.extender.state.entry(pod: "default/big-1")?.node == nil)
        }
    }

    @Test("without the bind verb: a pod seen bound is reserved on its node until the node reports its volume (bound claims alone are not enough)")
    func informerPath() async throws {
        try await ExtenderHarness.run(setUp: Self.setUp) { harness in
            try await ClusterFixtures.createClaim(harness.client, "data-my-cluster-mysql-0")
            let pod = try await ClusterFixtures.createPod(harness.client, GoPayloads.PodSpec())
            _ = try await harness.post("/filter", GoPayloads.argsWithNames(pod: GoPayloads.pod(.init(uid: pod.metadata.uid ?? "")), names: FilterPrioritizeTests.seedNames))
            // kube-scheduler binds by itself.
            let binding: JSONValue = ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": "my-cluster-mysql-0"], "target": ["kind": "Node", "name": "dev1-node-2"]]
            _ = try await harness.client.send(.POST, "/api/v1/namespaces/default/pods/my-cluster-mysql-0/binding", body: binding.serialized())
            await harness.waitForState { $0.entry(pod: Self.key)?.node == "dev1-node-2" }
            #expect(await harness.extender.state.committed(node: "dev1-node-2", group: "carina-vg-hdd") == 1)
            #expect(await harness.extender.state.committed(node: "dev1-node-3", group: "carina-vg-hdd") == 0)

            // The provisioner creates the volume and the claim binds; the node has not reported it yet.
            try await ClusterFixtures.bindClaim(harness.client, "data-my-cluster-mysql-0", to: "dev1-node-2")
            await harness.waitForState { $0.entry(pod: Self.key)?.provisioned == true }
            #expect(await harness.extender.state.committed(node: "dev1-node-2", group: "carina-vg-hdd") == 1, "still counted while the report lags")
            // The node agent reports 1 GiB less: that drop is the volume, and the reservation goes.
            let node = try await harness.client.get(Node.self, "dev1-node-2")
            let free = Int(node.status?.allocatable?["carina.storage.io/carina-vg-hdd"].map { "\($0)" } ?? "") ?? 0
            _ = try await harness.client.send(.PATCH, "/api/v1/nodes/dev1-node-2/status", body: Array(#"{"status":{"allocatable":{"carina.storage.io/carina-vg-hdd":"\#(free - 1)"}}}"#.utf8),
                                              contentType: "application/merge-patch+json")
            await harness.waitForState { $0.entry(pod: Self.key) == nil }
        }
    }

    @Test("a claim's selected-node annotation settles a held pod on that node")
    func selectedNode() async throws {
        try await ExtenderHarness.run(setUp: Self.setUp) { harness in
            try await ClusterFixtures.createClaim(harness.client, "data-my-cluster-mysql-0")
            let pod = try await ClusterFixtures.createPod(harness.client, GoPayloads.PodSpec())
            _ = try await harness.post("/filter", GoPayloads.argsWithNames(pod: GoPayloads.pod(.init(uid: pod.metadata.uid ?? "")), names: FilterPrioritizeTests.seedNames))
            _ = try await harness.client.patch(
                PersistentVolumeClaim.self, "data-my-cluster-mysql-0", namespace: "default",
                .merge(["metadata": ["annotations": ["volume.kubernetes.io/selected-node": "dev1-node-3"]]]))
            await harness.waitForState { $0.entry(pod: Self.key)?.node == "dev1-node-3" }
        }
    }

    @Test("a deleted pod's reservation is released")
    func deletedPod() async throws {
        try await ExtenderHarness.run(setUp: Self.setUp) { harness in
            let pod = try await ClusterFixtures.createPod(harness.client, GoPayloads.PodSpec())
            let uid = pod.metadata.uid ?? ""
            _ = try await harness.post("/bind", GoPayloads.bindingArgs(pod: "my-cluster-mysql-0", uid: uid, node: "dev1-node-2"))
            #expect(await harness.extender.state.entry(pod: Self.key)?.node == "dev1-node-2")
            try await harness.client.delete(Pod.self, "my-cluster-mysql-0", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0))
            await harness.waitForState { $0.entry(pod: Self.key) == nil }
        }
    }

    @Test("after a restart, pods already bound with unprovisioned claims are reserved from the caches, by their claims' sizes")
    func rebuiltFromCaches() async throws {
        try await ExtenderHarness.run(setUp: { client in
            try await Self.setUp(client)
            try await ClusterFixtures.createClaim(client, "data-my-cluster-mysql-0", size: "7Gi")
            // The annotation says otherwise: the claim, which the cache holds, decides.
            let pod = try await ClusterFixtures.createPod(client, GoPayloads.PodSpec(requests: "{\"carina-vg-hdd\":2}"))
            let binding: JSONValue = ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(pod.name)], "target": ["kind": "Node", "name": "dev1-node-2"]]
            _ = try await client.send(.POST, "/api/v1/namespaces/default/pods/my-cluster-mysql-0/binding", body: binding.serialized())
        }) { harness in
            #expect(await harness.extender.state.entry(pod: Self.key)?.node == "dev1-node-2")
            #expect(await harness.extender.state.committed(node: "dev1-node-2", group: "carina-vg-hdd") == 7)
        }
    }

    @Test("a pod created on a node with an invented claim and a maximal annotation reserves nothing (and nothing traps)", arguments: [
        "{\"carina-vg-hdd\":9223372036854775807}", "{\"carina-vg-hdd\":8589934592}",
    ])
    func inventedAnnotationReservesNothing(_ annotation: String) async throws {
        try await ExtenderHarness.run(setUp: { client in
            try await Self.setUp(client)
            for name in ["a", "b"] {
                var spec = GoPayloads.PodSpec(requests: annotation)
                spec.name = name
                spec.claims = ["no-such-claim"]
                let pod = try await ClusterFixtures.createPod(client, spec)
                let binding: JSONValue = ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(pod.name)], "target": ["kind": "Node", "name": "dev1-node-2"]]
                _ = try await client.send(.POST, "/api/v1/namespaces/default/pods/\(name)/binding", body: binding.serialized())
            }
        }) { harness in
            #expect(await harness.extender.state.entry(pod: "default/a") == nil)
            #expect(await harness.extender.state.committed(node: "dev1-node-2", group: "carina-vg-hdd") == 0)
            // The next filter answers: for a pod whose claim exists, from the claim.
            try await ClusterFixtures.createClaim(harness.client, "data-my-cluster-mysql-0")
            _ = try await ClusterFixtures.createPod(harness.client, GoPayloads.PodSpec())
            let reply = try await harness.post("/filter", GoPayloads.argsWithNames(pod: GoPayloads.pod(GoPayloads.PodSpec()), names: ["dev1-node-2", "dev1-node-3"]))
            #expect(reply.code == 200)
            #expect(reply.json?["NodeNames"]?.arrayValue?.count == 2, "\(reply.text)")
        }
    }

    @Test("an annotation naming a volume group no local StorageClass provides is refused for a pod whose claim is not known yet")
    func unknownGroupRefused() async throws {
        try await ExtenderHarness.run(setUp: Self.setUp) { harness in
            var spec = GoPayloads.PodSpec(requests: "{\"no-such-group\":1}")
            spec.claims = ["not-created-yet"]
            let reply = try await harness.post("/filter", GoPayloads.argsWithNames(pod: GoPayloads.pod(spec), names: ["dev1-node-2"]))
            #expect(reply.code == 200)
            #expect(reply.json?["NodeNames"]?.arrayValue?.isEmpty == true)
            #expect(reply.text.contains("no-such-group"), "\(reply.text)")
        }
    }
}
