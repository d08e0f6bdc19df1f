import Capacity
@testable import Extender
import Kube
import Testing

/// Bad requests get a clear answer, are logged, and never stop the server.
@Suite("Extender bad input", .timeLimit(.minutes(2)))
struct BadInputTests {
    static let pod = GoPayloads.pod(GoPayloads.PodSpec())

    /// After each bad request the server must still answer a good one.
    static func stillServes(_ harness: ExtenderHarness) async throws {
        let reply = try await harness.post("/filter", GoPayloads.argsWithNames(pod: pod, names: ["dev1-node-2"]))
        #expect(reply.code == 200)
        #expect(reply.json?["NodeNames"] == ["dev1-node-2"])
    }

    @Test("malformed JSON is a 400 naming the byte, on every verb", arguments: ["/filter", "/prioritize", "/bind"])
    func malformed(_ path: String) async throws {
        try await ExtenderHarness.run(setUp: ClusterFixtures.createSeedCluster) { harness in
            for body in ["{\"Pod\": {", "not json", "{\"Pod\":{},\"NodeNames\":[\"a\",]}", "{\"NodeNames\":[]} trailing", ""] {
                let reply = try await harness.post(path, body)
                #expect(reply.code == 400, "\(body)")
                let message = reply.json?["Error"]?.stringValue ?? ""
                #expect(message.hasPrefix("the request body is not valid JSON: invalid JSON at byte"), "\(message)")
                try await Self.stillServes(harness)
            }
        }
    }

    @Test("a request without a Pod, or without nodes, fails the attempt with a message in Error")
    func missingParts() async throws {
        try await ExtenderHarness.run(setUp: ClusterFixtures.createSeedCluster) { harness in
            let noPod = try await harness.post("/filter", "{\"Pod\":null,\"Nodes\":null,\"NodeNames\":[\"dev1-node-2\"]}")
            #expect(noPod.code == 200)
            #expect(noPod.json?["Error"]?.stringValue?.hasPrefix("the request has no Pod") == true)
            #expect(noPod.json?["NodeNames"]?.isNull == true)

            let noNodes = try await harness.post("/filter", "{\"Pod\":\(Self.pod),\"Nodes\":null,\"NodeNames\":null}")
            #expect(noNodes.json?["Error"]?.stringValue == "the request has neither Nodes nor NodeNames")

            let notAPod = try await harness.post("/filter", "{\"Pod\":42,\"NodeNames\":[]}")
            #expect(notAPod.json?["Error"]?.stringValue?.hasPrefix("the Pod in the request could not be read") == true)

            // Prioritize's answer has no Error field: a 400 with the message.
            let prioritize = try await harness.post("/prioritize", "{\"NodeNames\":[\"dev1-node-2\"]}")
            #expect(prioritize.code == 400)
            #expect(prioritize.json?["Error"]?.stringValue?.hasPrefix("the request has no Pod") == true)

            let bind = try await harness.post("/bind", "{\"PodName\":\"x\",\"PodNamespace\":\"default\"}")
            #expect(bind.code == 200)
            #expect(bind.json?["Error"]?.stringValue?.hasPrefix("the binding request lacks Node") == true)
            try await Self.stillServes(harness)
        }
    }

    @Test("an empty node list gets an empty answer, in both modes")
    func emptyList() async throws {
        try await ExtenderHarness.run(setUp: ClusterFixtures.createSeedCluster) { harness in
            let list = try await harness.post("/filter", GoPayloads.argsWithNodes(pod: Self.pod, nodes: []))
            #expect(list.text == "{\"Nodes\":{\"metadata\":{},\"items\":[]},\"NodeNames\":null,\"FailedNodes\":{},\"FailedAndUnresolvableNodes\":{},\"Error\":\"\"}")
            let names = try await harness.post("/filter", GoPayloads.argsWithNames(pod: Self.pod, names: []))
            #expect(names.text == "{\"Nodes\":null,\"NodeNames\":[],\"FailedNodes\":{},\"FailedAndUnresolvableNodes\":{},\"Error\":\"\"}")
            let itemsNull = try await harness.post("/filter", "{\"Pod\":\(Self.pod),\"Nodes\":{\"metadata\":{},\"items\":null}}")
            #expect(itemsNull.json?["Nodes"]?["items"] == [])
            let scores = try await harness.post("/prioritize", GoPayloads.argsWithNames(pod: Self.pod, names: []))
            #expect(scores.text == "[]")
            try await Self.stillServes(harness)
        }
    }

    @Test("names missing from the cache fail unresolvably; the rest are judged")
    func unknownNames() async throws {
        try await ExtenderHarness.run(setUp: ClusterFixtures.createSeedCluster) { harness in
            let reply = try await harness.post("/filter", GoPayloads.argsWithNames(pod: Self.pod, names: ["dev1-node-2", "no-such-node"]))
            #expect(reply.text == """
                {"Nodes":null,"NodeNames":["dev1-node-2"],"FailedNodes":{},"FailedAndUnresolvableNodes":{"no-such-node":"node not found in the extender's node cache"},"Error":""}
                """)
            let scores = try await harness.post("/prioritize", GoPayloads.argsWithNames(pod: Self.pod, names: ["no-such-node", "dev1-node-2"]))
            #expect(scores.text == "[{\"Host\":\"no-such-node\",\"Score\":0},{\"Host\":\"dev1-node-2\",\"Score\":10}]")
        }
    }

    @Test("a body over the limit is refused with 413 and a message")
    func tooLarge() async throws {
        var settings = ExtenderSettings()
        settings.limits.maxBodyBytes = 16 * 1024
        try await ExtenderHarness.run(settings: settings, setUp: ClusterFixtures.createSeedCluster) { harness in
            let nodes = (0..<20).map { GoPayloads.node(.init(name: "node-\($0)")) }
            let body = GoPayloads.argsWithNodes(pod: Self.pod, nodes: nodes)
            #expect(body.utf8.count > settings.limits.maxBodyBytes)
            for path in ["/filter", "/prioritize", "/bind"] {
                let reply = try await harness.post(path, body)
                #expect(reply.code == 413)
                let error = reply.json?["Error"]?.stringValue ?? ""
                #expect(error.contains("larger than the 16384 bytes") && error.contains("extender.maxBodyBytes"), "\(error)")
                try await Self.stillServes(harness)
            }
        }
    }

    @Test("wrong methods and unknown paths are refused")
    func methodsAndPaths() async throws {
        try await ExtenderHarness.run(setUp: ClusterFixtures.createSeedCluster) { harness in
            let get = try await harness.send(.GET, "/filter")
            #expect(get.code == 405)
            #expect(get.json?["Error"]?.stringValue?.contains("kube-scheduler sends POST") == true)
            let unknown = try await harness.send(.POST, "/nope", body: Array("{}".utf8))
            #expect(unknown.code == 404)
            #expect(try await harness.send(.GET, "/metrics").code == 404, "no registry given to this server")
            try await Self.stillServes(harness)
        }
    }
}
