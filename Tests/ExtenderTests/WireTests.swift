import Capacity
@testable import Extender
import Kube
import NIOCore
import Testing

/// Reading kube-scheduler's requests and writing its results, without a server.
@Suite("Extender wire format")
struct WireTests {
    static func parse(_ body: String, keys: CompatibilityKeys = CompatibilityKeys()) throws -> ExtenderArguments {
        let bytes = Array(body.utf8)
        return try bytes.withUnsafeBytes { raw throws(ExtenderRequestError) in try ExtenderArguments.parse(raw, reader: CapacityKeyReader(keys: keys)) }
    }

    @Test("a full NodeList is scanned into the same summaries the cache builds from decoded Nodes")
    func scanMatchesDecode() throws {
        let specs: [GoPayloads.NodeSpec] = ClusterFixtures.seedNodes + [
            .init(name: "cordoned", unschedulable: true),
            .init(name: "leaving", deleting: true),
            .init(name: "legacy", hdd: nil),
        ]
        let nodes = specs.map(GoPayloads.node)
        let body = GoPayloads.argsWithNodes(pod: GoPayloads.pod(.init()), nodes: nodes)
        let arguments = try Self.parse(body)
        guard case .list(let scanned) = arguments.nodes else {
            Issue.record("expected a node list")
            return
        }
        #expect(scanned.count == nodes.count)
        let bytes = Array(body.utf8)
        for (node, text) in zip(scanned, nodes) {
            #expect(String(decoding: bytes[node.range], as: UTF8.self) == text, "the range covers exactly the node's bytes")
            let decoded = try JSONValue(parsing: text).decode(as: Node.self)
            #expect(node.summary == NodeSummary(node: decoded, keys: CompatibilityKeys()).withoutLabels, "\(node.name)")
        }
        #expect(scanned[3].summary.health == .unhealthy([.notReady(status: "Unknown"), .taint("node.kubernetes.io/unreachable")]))
        #expect(scanned[5].summary.health == .unhealthy([.unschedulable]))
        #expect(scanned[6].summary.health == .unhealthy([.deleting]))
        #expect(scanned[1].summary.capacity.freeGiB == ["carina-vg-hdd": 188, "carina-vg-ssd": 189])
        #expect(arguments.pod.name == "my-cluster-mysql-0")
        #expect(arguments.pod.requestsAnnotation == "{\"carina-vg-hdd\":1}")
    }

    @Test("the Pod is scanned into the same facts as a decoded Pod gives", arguments: [
        GoPayloads.pod(.init()),
        GoPayloads.pod(.init(name: "db-1", namespace: "prod", uid: "u-1", requests: nil, routed: false, claims: ["a", "b"])),
        // A generic ephemeral volume, the routing resource on an init container, a bound pod, a finished one.
        """
        {"metadata":{"name":"job-0","namespace":"ns","annotations":{"rebound.io/volume-requests":"{\\"carina-vg-ssd\\":3}"}},\
        "spec":{"nodeName":"n1","volumes":[{"name":"scratch","ephemeral":{"volumeClaimTemplate":{"spec":{"storageClassName":"x"}}}},{"name":"cfg","configMap":{"name":"c"}}],\
        "initContainers":[{"name":"init","resources":{"limits":{"rebound.io/local-capacity":"3"}}}],"containers":[{"name":"main"}]},\
        "status":{"phase":"Succeeded"}}
        """,
    ])
    func podFacts(_ pod: String) throws {
        let arguments = try Self.parse(GoPayloads.argsWithNames(pod: pod, names: []))
        let decoded = try JSONValue(parsing: pod).decode(as: Pod.self)
        #expect(arguments.pod == PlacementPod(pod: decoded, keys: CompatibilityKeys()))
    }

    @Test("TopoLVM-style capacity annotations in bytes are read from metadata")
    func annotationSource() throws {
        var keys = CompatibilityKeys()
        keys.capacitySource = .annotation(prefix: "capacity.topolvm.io/")
        let node = """
            {"metadata":{"name":"n1","annotations":{"capacity.topolvm.io/ssd":"21474836480","capacity.topolvm.io/00default":"1073741824","other":"x"}},\
            "spec":{},"status":{"allocatable":{"carina.storage.io/carina-vg-hdd":"188"},"conditions":[{"status":"True","type":"Ready"}]}}
            """
        let arguments = try Self.parse(GoPayloads.argsWithNodes(pod: GoPayloads.pod(.init()), nodes: [node]), keys: keys)
        guard case .list(let scanned) = arguments.nodes else {
            Issue.record("expected a node list")
            return
        }
        #expect(scanned[0].summary.capacity.freeGiB == ["carina-vg-ssd": 20, "00default": 1])
        #expect(scanned[0].summary.health == .healthy, "condition keys in any order")
    }

    @Test("escaped keys, nulls and unknown members are read like plain ones")
    func escapesAndNulls() throws {
        let node = """
            {"metadata":{"na\\u006de":"esc\\"aped","labels":null,"annotations":null},"spec":null,\
            "status":{"allocatable":{"carina.storage.io\\/carina-vg-hdd":"5"},"conditions":null,"extra":[1,2.5e3,true,false,null,{"a":[]}]}}
            """
        let body = "{\"Extra\":{\"x\":[1]},\"Pod\":\(GoPayloads.pod(.init())),\"Nodes\":{\"metadata\":{},\"items\":[\(node)]},\"NodeNames\":null}"
        let arguments = try Self.parse(body)
        guard case .list(let scanned) = arguments.nodes else {
            Issue.record("expected a node list")
            return
        }
        #expect(scanned[0].name == "esc\"aped")
        #expect(scanned[0].summary.capacity.freeGiB == ["carina-vg-hdd": 5])
        #expect(scanned[0].summary.health == .unhealthy([.notReady(status: "missing")]))
    }

    @Test("NodeNames mode reads the names")
    func names() throws {
        let arguments = try Self.parse(GoPayloads.argsWithNames(pod: GoPayloads.pod(.init()), names: ["a", "b"]))
        guard case .names(let names) = arguments.nodes else {
            Issue.record("expected names")
            return
        }
        #expect(names == ["a", "b"])
    }

    @Test("bad requests say what is wrong", arguments: [
        ("{\"Pod\":", ExtenderRequestError.Kind.malformed, "the request body is not valid JSON: invalid JSON at byte 7: expected a value, found end of input"),
        ("[]", .malformed, "the request body is not valid JSON: invalid JSON at byte 0: expected '{', found '['"),
        ("{\"NodeNames\":[]}", .invalid, "the request has no Pod; kube-scheduler sends ExtenderArgs {\"Pod\": …, \"Nodes\" or \"NodeNames\": …}"),
        ("{\"Pod\":{},\"NodeNames\":[1]}", .malformed, "the request body is not valid JSON: invalid JSON at byte 23: expected a string, found '1'"),
    ])
    func errors(_ body: String, _ kind: ExtenderRequestError.Kind, _ message: String) {
        #expect(throws: ExtenderRequestError(kind: kind, message: message)) { try Self.parse(body) }
    }

    @Test("binding arguments")
    func binding() throws {
        let body = Array(GoPayloads.bindingArgs(pod: "db-0", namespace: "ns", uid: "u-1", node: "n1").utf8)
        let arguments = try body.withUnsafeBytes { raw throws(ExtenderRequestError) in try ExtenderBindingArguments.parse(raw) }
        #expect(arguments == ExtenderBindingArguments(podName: "db-0", podNamespace: "ns", podUID: "u-1", node: "n1"))
        #expect(arguments.podKey == "ns/db-0")
    }

    @Test("results are written in kube-scheduler's shapes, with reasons escaped")
    func results() {
        let allocator = ByteBufferAllocator()
        let failures = [
            ExtenderResultWriter.Failure(node: "b", reason: "has \"quotes\"", unresolvable: false),
            ExtenderResultWriter.Failure(node: "c", reason: "gone", unresolvable: true),
        ]
        let names = ExtenderResultWriter.filterResult(names: ["a"], failures: failures, allocator: allocator)
        #expect(String(buffer: names) == "{\"Nodes\":null,\"NodeNames\":[\"a\"],\"FailedNodes\":{\"b\":\"has \\\"quotes\\\"\"},\"FailedAndUnresolvableNodes\":{\"c\":\"gone\"},\"Error\":\"\"}")
        let error = ExtenderResultWriter.filterError("no", allocator: allocator)
        #expect(String(buffer: error) == "{\"Nodes\":null,\"NodeNames\":null,\"FailedNodes\":null,\"FailedAndUnresolvableNodes\":null,\"Error\":\"no\"}")
        let priorities = ExtenderResultWriter.priorities(names: ["a", "b"], scores: [3, 10], allocator: allocator)
        #expect(String(buffer: priorities) == "[{\"Host\":\"a\",\"Score\":3},{\"Host\":\"b\",\"Score\":10}]")
        #expect(String(buffer: ExtenderResultWriter.bindingResult(error: "", allocator: allocator)) == "{\"Error\":\"\"}")
    }
}

extension NodeSummary {
    /// Nodes scanned from a request carry no labels; compare the rest.
    var withoutLabels: NodeSummary {
        var copy = self
        copy.labels = [:]
        return copy
    }
}
