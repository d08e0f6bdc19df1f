import Capacity
import Foundation
import TestSupport
@testable import Extender
import Kube
import Testing

/// The verbs over real HTTP, with request bodies in kube-scheduler's exact format, in both modes.
@Suite("Extender filter and prioritize over HTTP", .timeLimit(.minutes(2)))
struct FilterPrioritizeTests {
    static let seedPod = GoPayloads.pod(GoPayloads.PodSpec())
    static let seedNames = ClusterFixtures.seedNodes.map(\.name)
    static let node1Reason = "volume group carina-vg-hdd has 0 GiB free, the pod needs 1 GiB"
    static let node4Reason = "node is not ready (Ready=Unknown); node has taint node.kubernetes.io/unreachable"
    static let seedFailures = """
        "FailedNodes":{},"FailedAndUnresolvableNodes":{"dev1-node-1":"\(node1Reason)","dev1-node-4":"\(node4Reason)","dev1-node-5":"\(node1Reason)"},"Error":""}
        """

    @Test("full NodeList: healthy nodes with room pass, echoed byte for byte; the others fail unresolvably with reasons")
    func filterNodeList() async throws {
        try await ExtenderHarness.run(setUp: ClusterFixtures.createSeedCluster) { harness in
            let nodes = ClusterFixtures.seedNodes.map(GoPayloads.node)
            let reply = try await harness.post("/filter", GoPayloads.argsWithNodes(pod: Self.seedPod, nodes: nodes))
            #expect(reply.code == 200)
            #expect(reply.contentType == "application/json")
            let expected = "{\"Nodes\":{\"metadata\":{},\"items\":[\(nodes[1]),\(nodes[2])]},\"NodeNames\":null," + Self.seedFailures
            #expect(reply.text == expected)
        }
    }

    @Test("NodeNames: the same decisions from the node cache")
    func filterNodeNames() async throws {
        try await ExtenderHarness.run(setUp: ClusterFixtures.createSeedCluster) { harness in
            let reply = try await harness.post("/filter", GoPayloads.argsWithNames(pod: Self.seedPod, names: Self.seedNames))
            #expect(reply.code == 200)
            #expect(reply.text == "{\"Nodes\":null,\"NodeNames\":[\"dev1-node-2\",\"dev1-node-3\"]," + Self.seedFailures)
        }
    }

    static func scoringCluster(_ client: KubeClient) async throws {
        try await ClusterFixtures.createStorageClass(client)
        for (name, hdd) in [("node-a", "100"), ("node-b", "50"), ("node-c", "10")] {
            try await ClusterFixtures.createNode(client, .init(name: name, hdd: hdd))
        }
    }

    static let tenGiBPod = GoPayloads.pod(.init(requests: "{\"carina-vg-hdd\":10}"))

    @Test("prioritize: spreadout prefers the most space left, binpack the least, in both modes", arguments: [
        (ScoringStrategy.spreadout, "[{\"Host\":\"node-a\",\"Score\":10},{\"Host\":\"node-b\",\"Score\":4},{\"Host\":\"node-c\",\"Score\":0}]"),
        (.binpack, "[{\"Host\":\"node-a\",\"Score\":0},{\"Host\":\"node-b\",\"Score\":6},{\"Host\":\"node-c\",\"Score\":10}]"),
    ])
    func prioritize(_ strategy: ScoringStrategy, _ expected: String) async throws {
        var settings = ExtenderSettings()
        settings.strategy = strategy
        try await ExtenderHarness.run(settings: settings, setUp: Self.scoringCluster) { harness in
            // Left after placing 10 GiB: 90, 40, 0 of a largest 90.
            let names = ["node-a", "node-b", "node-c"]
            let byName = try await harness.post("/prioritize", GoPayloads.argsWithNames(pod: Self.tenGiBPod, names: names))
            #expect(byName.code == 200)
            #expect(byName.text == expected)
            let nodes = [("node-a", "100"), ("node-b", "50"), ("node-c", "10")].map { GoPayloads.node(.init(name: $0.0, hdd: $0.1)) }
            let byList = try await harness.post("/prioritize", GoPayloads.argsWithNodes(pod: Self.tenGiBPod, nodes: nodes))
            #expect(byList.text == expected)
        }
    }

    @Test("pods without the routing resource pass through untouched and score 0")
    func passThrough() async throws {
        try await ExtenderHarness.run(setUp: ClusterFixtures.createSeedCluster) { harness in
            let pod = GoPayloads.pod(.init(requests: nil, routed: false))
            let nodes = ClusterFixtures.seedNodes.map(GoPayloads.node)
            let list = try await harness.post("/filter", GoPayloads.argsWithNodes(pod: pod, nodes: nodes))
            #expect(list.text == "{\"Nodes\":{\"metadata\":{},\"items\":[\(nodes.joined(separator: ","))]},\"NodeNames\":null,\"FailedNodes\":{},\"FailedAndUnresolvableNodes\":{},\"Error\":\"\"}")
            let names = try await harness.post("/filter", GoPayloads.argsWithNames(pod: pod, names: Self.seedNames + ["not-cached"]))
            #expect(names.json?["NodeNames"]?.arrayValue?.count == 6)
            let scores = try await harness.post("/prioritize", GoPayloads.argsWithNames(pod: pod, names: Self.seedNames))
            #expect(scores.json?.arrayValue?.allSatisfy { $0["Score"]?.intValue == 0 } == true)
            #expect(await harness.extender.state.entry(pod: "default/my-cluster-mysql-0") == nil)
        }
    }

    @Test("a claim already bound to a node lets only that node pass, even when it has no free space left")
    func pinnedClaim() async throws {
        try await ExtenderHarness.run(setUp: { client in
            try await ClusterFixtures.createStorageClass(client)
            for node in ClusterFixtures.seedNodes where node.name != "dev1-node-3" { try await ClusterFixtures.createNode(client, node) }
            try await ClusterFixtures.createNode(client, .init(name: "dev1-node-3", hdd: "0", ssd: "0"))
            try await ClusterFixtures.createClaim(client, "data-my-cluster-mysql-0", boundTo: "dev1-node-3")
        }) { harness in
            let reply = try await harness.post("/filter", GoPayloads.argsWithNames(pod: Self.seedPod, names: Self.seedNames))
            let pinned = "volume default/data-my-cluster-mysql-0 (pvc-data-my-cluster-mysql-0) is bound to node dev1-node-3"
            #expect(reply.text == """
                {"Nodes":null,"NodeNames":["dev1-node-3"],"FailedNodes":{},"FailedAndUnresolvableNodes":{"dev1-node-1":"\(pinned)","dev1-node-2":"\(pinned)","dev1-node-4":"\(Self.node4Reason)","dev1-node-5":"\(pinned)"},"Error":""}
                """)
            // The volume exists already: nothing is held for the pod.
            #expect(await harness.extender.state.entry(pod: "default/my-cluster-mysql-0") == nil)
        }
    }

    @Test("a routed pod whose request cannot be read fails on every node with the reason")
    func unreadableRequest() async throws {
        try await ExtenderHarness.run(setUp: ClusterFixtures.createSeedCluster) { harness in
            let pod = GoPayloads.pod(.init(requests: nil))
            let reply = try await harness.post("/filter", GoPayloads.argsWithNames(pod: pod, names: ["dev1-node-2"]))
            let reason = reply.json?["FailedAndUnresolvableNodes"]?["dev1-node-2"]?.stringValue ?? ""
            #expect(reason.contains("has no rebound.io/volume-requests annotation"))
            #expect(reply.json?["NodeNames"]?.arrayValue == [])
        }
    }

    @Test("space promised to a pod being placed is not offered to the next one (FailedNodes: it may come back)")
    func heldSpace() async throws {
        try await ExtenderHarness.run(setUp: { client in
            try await ClusterFixtures.createStorageClass(client)
            try await ClusterFixtures.createNode(client, .init(name: "node-a", hdd: "15"))
        }) { harness in
            let first = GoPayloads.pod(.init(name: "db-0", uid: "u0", requests: "{\"carina-vg-hdd\":10}", claims: ["data-db-0"]))
            let second = GoPayloads.pod(.init(name: "db-1", uid: "u1", requests: "{\"carina-vg-hdd\":10}", claims: ["data-db-1"]))
            let one = try await harness.post("/filter", GoPayloads.argsWithNames(pod: first, names: ["node-a"]))
            #expect(one.json?["NodeNames"] == ["node-a"])
            let two = try await harness.post("/filter", GoPayloads.argsWithNames(pod: second, names: ["node-a"]))
            #expect(two.text == """
                {"Nodes":null,"NodeNames":[],"FailedNodes":{"node-a":"volume group carina-vg-hdd has 15 GiB free but 10 GiB are promised to pods being placed; the pod needs 10 GiB"},"FailedAndUnresolvableNodes":{},"Error":""}
                """)
            // The first pod asking again (a new attempt) does not compete with itself.
            let again = try await harness.post("/filter", GoPayloads.argsWithNames(pod: first, names: ["node-a"]))
            #expect(again.json?["NodeNames"] == ["node-a"])
        }
    }

    @Test("HTTPS serves the same answers")
    func https() async throws {
        try await ExtenderHarness.run(tls: true, setUp: ClusterFixtures.createSeedCluster) { harness in
            #expect(harness.url.hasPrefix("https://"))
            let reply = try await harness.post("/filter", GoPayloads.argsWithNames(pod: Self.seedPod, names: Self.seedNames))
            #expect(reply.text == "{\"Nodes\":null,\"NodeNames\":[\"dev1-node-2\",\"dev1-node-3\"]," + Self.seedFailures)
            #expect(try await harness.send(.GET, "/healthz").text == "ok")
        }
    }

    @Test("configured paths are served; health and readiness answer")
    func pathsAndHealth() async throws {
        var settings = ExtenderSettings()
        settings.filterPath = "/scheduler/filter"
        settings.prioritizePath = "/scheduler/prioritize"
        try await ExtenderHarness.run(settings: settings, setUp: ClusterFixtures.createSeedCluster) { harness in
            let reply = try await harness.post("/scheduler/filter", GoPayloads.argsWithNames(pod: Self.seedPod, names: ["dev1-node-2"]))
            #expect(reply.json?["NodeNames"] == ["dev1-node-2"])
            #expect(try await harness.post("/scheduler/prioritize", GoPayloads.argsWithNames(pod: Self.seedPod, names: ["dev1-node-2"])).code == 200)
            #expect(try await harness.post("/filter", "{}").code == 404)
            let health = try await harness.send(.GET, "/healthz")
            #expect(health.code == 200 && health.text == "ok")
            let ready = try await harness.send(.GET, "/readyz")
            #expect(ready.code == 200 && ready.text == "ok")
        }
    }
}

extension FilterPrioritizeTests {
    /// The serving certificate's subject, as `openssl s_client` sees it on a new connection.
    static func servedSubject(port: Int) async throws -> String {
        let openssl = try tool("openssl", package: "openssl")
        let shown = try await run(openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"], input: "", timeout: .seconds(20))
        return shown.output.split(separator: "\n").first { $0.hasPrefix("subject=") }.map(String.init) ?? ""
    }

    @Test("a rotated serving certificate is served on new connections without dropping the listener", .requiresTools("openssl"))
    func certificateRotation() async throws {
        try await withTemporaryDirectory { directory in
            for name in ["tls.crt", "tls.key"] { try FileManager.default.copyItem(atPath: TestCertificates.path(name), toPath: directory + "/" + name) }
            var settings = ExtenderSettings()
            settings.tlsCertificateFile = directory + "/tls.crt"
            settings.tlsKeyFile = directory + "/tls.key"
            try await ExtenderHarness.run(settings: settings, tls: true, setUp: ClusterFixtures.createSeedCluster) { harness in
                #expect(try await Self.servedSubject(port: harness.port).contains("rebound.rebound-system.svc"))
                // A new pair, as cert-manager writes it.
                let openssl = try tool("openssl", package: "openssl")
                let made = try await run(openssl, [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", directory + "/new.key",
                    "-out", directory + "/new.crt", "-subj", "/CN=rotated.example", "-days", "1",
                ])
                #expect(made.status == 0, "\(made.output)")
                _ = rename(directory + "/new.key", directory + "/tls.key")
                _ = rename(directory + "/new.crt", directory + "/tls.crt")
                var subject = ""
                for _ in 0..<50 {
                    subject = try await Self.servedSubject(port: harness.port)
                    if subject.contains("rotated.example") { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                // The same listener, on the same port, now hands out the new certificate.
                #expect(subject.contains("rotated.example"), "still served: \(subject)")
            }
        }
    }
}
