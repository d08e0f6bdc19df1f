import Capacity
@testable import Extender
import Kube
import Testing

/// The rebuild after a node fails: many pods at once, while nodes' reported free space lags
/// (here it never changes at all).
@Suite("Extender under a burst of pods", .timeLimit(.minutes(3)))
struct BurstTests {
    static let nodeNames = (1...5).map { "worker-\($0)" }
    static let pods = 50

    static func setUp(_ client: KubeClient) async throws {
        try await ClusterFixtures.createStorageClass(client)
        for name in nodeNames { try await ClusterFixtures.createNode(client, .init(name: name, hdd: "100")) }
    }

    static func podSpec(_ index: Int, uid: String = "") -> GoPayloads.PodSpec {
        GoPayloads.PodSpec(name: "db-\(index)", uid: uid, requests: "{\"carina-vg-hdd\":10}", claims: ["data-db-\(index)"])
    }

    /// kube-scheduler's choice: the passing node with the highest score (ties by name here).
    static func choose(_ harness: ExtenderHarness, pod: String, fullList: Bool) async throws -> String? {
        let filterBody = fullList
            ? GoPayloads.argsWithNodes(pod: pod, nodes: nodeNames.map { GoPayloads.node(.init(name: $0, hdd: "100")) })
            : GoPayloads.argsWithNames(pod: pod, names: nodeNames)
        let filtered = try await harness.post("/filter", filterBody)
        #expect(filtered.code == 200)
        let passing: [String] =
            if fullList {
                filtered.json?["Nodes"]?["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
            } else {
                filtered.json?["NodeNames"]?.arrayValue?.compactMap(\.stringValue) ?? []
            }
        guard !passing.isEmpty else { return nil }
        let prioritizeBody = fullList
            ? GoPayloads.argsWithNodes(pod: pod, nodes: passing.map { GoPayloads.node(.init(name: $0, hdd: "100")) })
            : GoPayloads.argsWithNames(pod: pod, names: passing)
        let scores = try await harness.post("/prioritize", prioritizeBody).json?.arrayValue ?? []
        let ranked = scores.compactMap { entry -> (String, Int64)? in
            guard let host = entry["Host"]?.stringValue, let score = entry["Score"]?.intValue else { return nil }
            return (host, score)
        }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return ranked.first?.0
    }

    @Test("50 pods of 10 GiB, filter → prioritize → bind one after another, fill 5 nodes of 100 GiB exactly", arguments: [false, true])
    func sequentialBurst(fullList: Bool) async throws {
        try await ExtenderHarness.run(setUp: Self.setUp) { harness in
            var placed: [String: Int64] = [:]
            for index in 0..<Self.pods {
                let created = try await ClusterFixtures.createPod(harness.client, Self.podSpec(index))
                let pod = GoPayloads.pod(Self.podSpec(index, uid: created.metadata.uid ?? ""))
                let node = try #require(try await Self.choose(harness, pod: pod, fullList: fullList), "pod \(index) found no node")
                let bound = try await harness.post("/bind", GoPayloads.bindingArgs(pod: "db-\(index)", uid: created.metadata.uid ?? "", node: node))
                #expect(bound.text == "{\"Error\":\"\"}")
                placed[node, default: 0] += 10
            }
            #expect(placed.values.allSatisfy { $0 <= 100 }, "\(placed)")
            #expect(placed == Dictionary(uniqueKeysWithValues: Self.nodeNames.map { ($0, 100) }))
            // The cluster agrees: 10 pods on each node.
            let pods = try await harness.client.listAll(Pod.self, namespace: "default").items
            #expect(pods.count == Self.pods)
            #expect(Dictionary(grouping: pods, by: { $0.nodeName ?? "" }).mapValues(\.count) == Dictionary(uniqueKeysWithValues: Self.nodeNames.map { ($0, 10) }))
            // A 51st pod finds no room anywhere.
            let extra = try await harness.post("/filter", GoPayloads.argsWithNames(pod: GoPayloads.pod(Self.podSpec(99)), names: Self.nodeNames))
            #expect(extra.json?["NodeNames"] == [])
        }
    }

    @Test("binding lags behind scheduling (kube-scheduler binds asynchronously): holds still prevent overcommit")
    func asynchronousBinding() async throws {
        try await ExtenderHarness.run(setUp: Self.setUp) { harness in
            var uids: [Int: String] = [:]
            for index in 0..<Self.pods {
                uids[index] = try await ClusterFixtures.createPod(harness.client, Self.podSpec(index)).metadata.uid
            }
            var placed: [String: Int64] = [:]
            var pending = Array(0..<Self.pods)
            var rounds = 0
            while !pending.isEmpty {
                rounds += 1
                #expect(rounds <= 10, "no progress")
                if rounds > 10 { break }
                // Every pending pod is scheduled before any of them is bound.
                var chosen: [(Int, String)] = []
                for index in pending {
                    let pod = GoPayloads.pod(Self.podSpec(index, uid: uids[index] ?? ""))
                    if let node = try await Self.choose(harness, pod: pod, fullList: false) { chosen.append((index, node)) }
                }
                for (index, node) in chosen {
                    let bound = try await harness.post("/bind", GoPayloads.bindingArgs(pod: "db-\(index)", uid: uids[index] ?? "", node: node))
                    #expect(bound.text == "{\"Error\":\"\"}")
                    placed[node, default: 0] += 10
                }
                #expect(placed.values.allSatisfy { $0 <= 100 }, "round \(rounds): \(placed)")
                pending.removeAll { index in chosen.contains { $0.0 == index } }
            }
            #expect(placed == Dictionary(uniqueKeysWithValues: Self.nodeNames.map { ($0, 100) }))
        }
    }
}
