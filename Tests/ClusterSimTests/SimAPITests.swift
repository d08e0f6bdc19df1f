import ClusterSim
import Foundation
import Kube
import Testing

@Suite("SimAPI routing, discovery and answers")
struct SimAPITests {
    let api = SimAPI(store: SimStore(), auth: SimAuth())

    func get(_ uri: String, headers: [String: String] = [:]) async -> (Int, JSONValue) {
        let response = await api.handle(SimRequest(method: "GET", uri: uri, headers: headers))
        guard case .bytes(let status, _, let body, _) = response else { return (response.status, .null) }
        return (status, (try? JSONValue(parsing: body)) ?? .string(String(decoding: body, as: UTF8.self)))
    }

    @Test("discovery documents list every served resource")
    func discovery() async {
        let (versionStatus, version) = await get("/version")
        #expect(versionStatus == 200 && version["minor"] == "32")
        let (_, core) = await get("/api/v1")
        let names = core["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names.contains("pods") && names.contains("pods/status") && names.contains("nodes"))
        let (_, groups) = await get("/apis")
        let groupNames = groups["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(groupNames.contains("storage.k8s.io") && groupNames.contains("coordination.k8s.io") && groupNames.contains("apps"))
        let (storageStatus, storage) = await get("/apis/storage.k8s.io/v1")
        #expect(storageStatus == 200)
        #expect(storage["resources"]?.arrayValue?.contains { $0["name"] == "volumeattachments" } == true)
        let (openAPIStatus, openAPI) = await get("/openapi/v3/api/v1")
        #expect(openAPIStatus == 200 && openAPI["paths"]?.objectValue?.isEmpty == false)
        let (missing, _) = await get("/apis/nonexistent.io/v1/things")
        #expect(missing == 404)
    }

    @Test("kubectl's Table is served for pods")
    func table() async throws {
        _ = try await api.store.create(Pod.resourceType, namespace: "default", object: podJSON("web", node: "n1"))
        let (status, table) = await get("/api/v1/namespaces/default/pods", headers: ["accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"])
        #expect(status == 200 && table["kind"] == "Table")
        #expect(table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }.prefix(3) == ["Name", "Ready", "Status"])
        #expect(table["rows"]?[0]?["cells"]?[2] == "Running")
    }

    @Test("bad requests get Status answers, and the server keeps going")
    func badRequests() async {
        let notJSON = await api.handle(SimRequest(method: "POST", uri: "/api/v1/namespaces/default/pods", body: Array("{nope".utf8)))
        #expect(notJSON.status == 400)
        let noBody = await api.handle(SimRequest(method: "POST", uri: "/api/v1/namespaces/default/pods"))
        #expect(noBody.status == 400)
        let patchType = await api.handle(SimRequest(method: "PATCH", uri: "/api/v1/namespaces/default/pods/x", headers: ["content-type": "application/apply-patch+yaml"], body: Array("{}".utf8)))
        #expect(patchType.status == 415)
        let huge = await SimAPI(store: SimStore(), maxBodyBytes: 10).handle(SimRequest(method: "POST", uri: "/api/v1/namespaces", body: Array(repeating: 0x20, count: 11)))
        #expect(huge.status == 413)
        let method = await api.handle(SimRequest(method: "POST", uri: "/api/v1/namespaces/default/pods/x"))
        #expect(method.status == 405)
        let (status, _) = await get("/api/v1/namespaces")
        #expect(status == 200)
    }

    @Test("bearer tokens are required when configured")
    func authentication() async {
        let secured = SimAPI(store: SimStore(), auth: SimAuth(tokens: ["t"]))
        #expect(await secured.handle(SimRequest(method: "GET", uri: "/api/v1/nodes")).status == 401)
        #expect(await secured.handle(SimRequest(method: "GET", uri: "/api/v1/nodes", headers: ["authorization": "Bearer x"])).status == 401)
        #expect(await secured.handle(SimRequest(method: "GET", uri: "/api/v1/nodes", headers: ["authorization": "Bearer t"])).status == 200)
        #expect(await secured.handle(SimRequest(method: "GET", uri: "/version")).status == 200)
    }

    @Test("query strings decode + as a space, as Go does")
    func queryDecoding() {
        let request = SimRequest(method: "GET", uri: "/api/v1/pods?labelSelector=a+in+%28b%2Cc%29&watch=1")
        #expect(request.query["labelSelector"] == "a in (b,c)")
        #expect(request.flag("watch"))
    }
}

@Suite("Scenarios")
struct ScenarioTests {
    @Test("objects load in dependency order with their status kept")
    func loads() async throws {
        let store = SimStore()
        let scenario = try SimScenario(yaml: """
            apiVersion: v1
            kind: Pod
            metadata: {name: db-0, namespace: mysql}
            spec: {nodeName: n1, containers: [{name: c, image: x}]}
            status: {phase: Running}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: mysql}
            ---
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Node
              metadata: {name: n1}
              status: {allocatable: {carina.storage.io/carina-vg-hdd: "188"}, conditions: [{type: Ready, status: "True"}]}
            """)
        let created = try await scenario.load(into: store)
        #expect(created.map(\.name) == ["mysql", "n1", "db-0"])
        let node = try await store.get(Node.resourceType, namespace: nil, name: "n1")
        #expect(node.value["status"]?["allocatable"]?["carina.storage.io/carina-vg-hdd"] == "188")
        #expect(try await store.get(Pod.resourceType, namespace: "mysql", name: "db-0").value["status"]?["phase"] == "Running")
    }

    @Test("errors name the object", arguments: [
        ("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", "does not serve example.com/v1 Widget"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: nowhere}\n", "Pod nowhere/p"),
        ("- just\n- a list\n", "not a Kubernetes object"),
        ("a: [unclosed\n", "not valid YAML"),
    ])
    func errors(_ yaml: String, _ expected: String) async {
        do {
            try await SimScenario(yaml: yaml).load(into: SimStore())
            Issue.record("expected an error for \(yaml)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("a synthetic cluster has the requested size and realistic objects")
    func synthetic() async throws {
        let store = SimStore()
        try await SyntheticCluster(nodes: 10, pods: 30, namespaces: 3).load(into: store)
        #expect(try await store.list(Node.resourceType, namespace: nil).items.count == 10)
        let pods = try await store.list(Pod.resourceType, namespace: nil).items
        #expect(pods.count == 30)
        let pod = try #require(pods.first).value.decode(as: Pod.self)
        #expect(pod.claimNames.count == 1)
        #expect(pod.nodeName?.hasPrefix("node-") == true)
        let node = try await store.list(Node.resourceType, namespace: nil).items[0].value.decode(as: Node.self)
        #expect(node.status?.allocatable?["carina.storage.io/carina-vg-hdd"] != nil)
        #expect(node.healthFacts.ready == "True")
    }
}
