import ClusterSim
import Kube
import TestSupport
import Testing

/// `POST pods/{name}/binding`, as kube-scheduler (or an extender's bind verb) calls it.
@Suite("ClusterSim pods/binding")
struct BindingTests {
    static func pod(_ name: String) -> Pod {
        Pod(metadata: ObjectMeta(name: name, namespace: "default"), spec: PodSpec(containers: [Container(name: "app", image: "busybox")]))
    }

    static func binding(_ name: String, node: String, uid: String? = nil, kind: String = "Node", annotations: JSONValue? = nil) -> [UInt8] {
        var metadata: JSONValue = ["name": .string(name)]
        if let uid { metadata["uid"] = .string(uid) }
        if let annotations { metadata["annotations"] = annotations }
        let body: JSONValue = ["apiVersion": "v1", "kind": "Binding", "metadata": metadata, "target": ["apiVersion": "v1", "kind": .string(kind), "name": .string(node)]]
        return body.serialized()
    }

    static func post(_ client: KubeClient, _ pod: String, _ body: [UInt8]) async throws -> KubeClient.Response {
        try await client.send(.POST, "/api/v1/namespaces/default/pods/\(pod)/binding", body: body)
    }

    @Test("binds a pending pod: nodeName, annotations and PodScheduled in one write, answered 201 Success")
    func binds() async throws {
        try await withSim { _, client in
            let created = try await client.create(Self.pod("web-0"))
            let response = try await Self.post(client, "web-0", Self.binding("web-0", node: "node-1", uid: created.metadata.uid, annotations: ["a/b": "c"]))
            #expect(response.code == 201)
            let status = try JSONValue(parsing: response.bytes)
            #expect(status["kind"] == "Status")
            #expect(status["status"] == "Success")
            let bound = try await client.get(Pod.self, "web-0", namespace: "default")
            #expect(bound.nodeName == "node-1")
            #expect(bound.metadata.annotations?["a/b"] == "c")
            #expect(bound.status?.conditions?.first { $0.type == "PodScheduled" }?.status == "True")
            #expect(Int(bound.metadata.resourceVersion ?? "0")! == Int(created.metadata.resourceVersion ?? "0")! + 1, "a single write")
        }
    }

    @Test("a pod already assigned is a 409 Conflict on pods/binding, as the API server answers")
    func alreadyAssigned() async throws {
        try await withSim { _, client in
            _ = try await client.create(Self.pod("web-0"))
            _ = try await Self.post(client, "web-0", Self.binding("web-0", node: "node-1"))
            let error = await #expect(throws: KubeAPIError.self) { try await Self.post(client, "web-0", Self.binding("web-0", node: "node-2")) }
            #expect(error?.code == 409)
            #expect(error?.isConflict == true)
            #expect(error?.message == "Operation cannot be fulfilled on pods/binding \"web-0\": pod web-0 is already assigned to node \"node-1\"")
            #expect(try await client.get(Pod.self, "web-0", namespace: "default").nodeName == "node-1")
        }
    }

    @Test("refuses a wrong uid, a pod being deleted, a missing pod, a bad target and other methods", arguments: [0, 1, 2, 3, 4, 5])
    func refusals(_ scenario: Int) async throws {
        try await withSim { _, client in
            var created = try await client.create(Self.pod("web-0"))
            let error = await #expect(throws: KubeAPIError.self) {
                switch scenario {
                case 0: _ = try await Self.post(client, "web-0", Self.binding("web-0", node: "n", uid: "not-the-uid"))
                case 1:
                    created.metadata.finalizers = ["example.com/hold"]
                    _ = try await client.update(created)
                    try await client.delete(Pod.self, "web-0", namespace: "default")
                    _ = try await Self.post(client, "web-0", Self.binding("web-0", node: "n"))
                case 2: _ = try await Self.post(client, "nobody", Self.binding("nobody", node: "n"))
                case 3: _ = try await Self.post(client, "web-0", Self.binding("web-0", node: "n", kind: "Pod"))
                case 4: _ = try await Self.post(client, "web-0", Self.binding("other", node: "n"))
                default: _ = try await client.send(.PUT, "/api/v1/namespaces/default/pods/web-0/binding", body: Self.binding("web-0", node: "n"))
                }
            }
            let expected: [(Int, String)] = [
                (409, "Precondition failed: UID in precondition: not-the-uid"),
                (409, "pod web-0 is being deleted, cannot be assigned to a host"),
                (404, "pods \"nobody\" not found"),
                (422, "Unsupported value: \"Pod\""),
                (400, "name in URL does not match name in Binding object"),
                (405, "PUT is not supported on pods/binding"),
            ]
            #expect(error?.code == expected[scenario].0)
            #expect(error?.message.contains(expected[scenario].1) == true, "\(error?.message ?? "")")
            #expect(try await client.get(Pod.self, "web-0", namespace: "default").nodeName == nil)
        }
    }
}
