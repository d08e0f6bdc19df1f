import Capacity
import Testing

@Suite("Free capacity read from Node reports")
struct NodeCapacityTests {
    static let carina = CompatibilityKeys()
    static let topolvm: CompatibilityKeys = {
        var keys = CompatibilityKeys()
        keys.capacitySource = .annotation(prefix: "capacity.topolvm.io/")
        return keys
    }()

    @Test("allocatable GiB per group, legacy names mapped, other resources ignored", arguments: [
        (["carina.storage.io/carina-vg-hdd": "188", "carina.storage.io/carina-vg-ssd": "189", "cpu": "4", "memory": "16Gi"],
         ["carina-vg-hdd": 188, "carina-vg-ssd": 189]),
        (["carina.storage.io/hdd": "20", "carina.storage.io/ssd": "0"], ["carina-vg-hdd": 20, "carina-vg-ssd": 0]),
        // The full name wins over a legacy alias, whichever is read first.
        (["carina.storage.io/hdd": "5", "carina.storage.io/carina-vg-hdd": "50"], ["carina-vg-hdd": 50]),
        // Rounded down: 10.5 GiB holds a 10 GiB volume, not an 11 GiB one; negatives are 0.
        (["carina.storage.io/carina-vg-hdd": "10500m", "carina.storage.io/other": "-3"], ["carina-vg-hdd": 10, "other": 0]),
        ([:], [:]),
        (["carina.storage.io/": "5"], [:]),
    ] as [([String: String], [String: Int64])])
    func allocatable(_ report: [String: String], _ expected: [String: Int64]) {
        let capacity = NodeCapacity(reading: report, keys: Self.carina)
        #expect(capacity.freeGiB == expected)
        #expect(capacity.unreadable.isEmpty)
    }

    @Test("annotation bytes per device class, rounded down to GiB", arguments: [
        (["capacity.topolvm.io/ssd": "10737418240"], ["carina-vg-ssd": 10]),
        (["capacity.topolvm.io/fast": "10737418239"], ["fast": 9]),
        (["capacity.topolvm.io/00default": "0", "carina.storage.io/carina-vg-hdd": "188"], ["00default": 0]),
    ] as [([String: String], [String: Int64])])
    func annotation(_ report: [String: String], _ expected: [String: Int64]) {
        #expect(NodeCapacity(reading: report, keys: Self.topolvm).freeGiB == expected)
    }

    @Test("unreadable values are reported and their group left out")
    func unreadable() {
        let capacity = NodeCapacity(reading: ["carina.storage.io/carina-vg-hdd": "lots", "carina.storage.io/carina-vg-ssd": "7"], keys: Self.carina)
        #expect(capacity.freeGiB == ["carina-vg-ssd": 7])
        #expect(capacity.unreadable == ["carina.storage.io/carina-vg-hdd=\"lots\""])
        #expect(capacity["carina-vg-hdd"] == nil)
    }

    @Test("a legacy alias read after the full name does not override it")
    func legacyAfterFullName() {
        var capacity = NodeCapacity()
        capacity.read(key: "carina.storage.io/hdd", value: "5", keys: Self.carina)
        capacity.read(key: "carina.storage.io/carina-vg-hdd", value: "50", keys: Self.carina)
        capacity.read(key: "carina.storage.io/hdd", value: "7", keys: Self.carina)
        #expect(capacity.freeGiB == ["carina-vg-hdd": 50])
    }

    @Test("decoded quantities read the same as their text")
    func quantities() {
        var fromQuantity = NodeCapacity()
        fromQuantity.read(key: "carina.storage.io/carina-vg-hdd", quantity: Quantity(188), keys: Self.carina)
        #expect(fromQuantity == NodeCapacity(reading: ["carina.storage.io/carina-vg-hdd": "188"], keys: Self.carina))
    }
}

@Suite("Node health verdicts")
struct NodeHealthTests {
    @Test("each fact that keeps pods away is a reason", arguments: [
        (NodeHealthFacts(ready: "True"), [UnhealthyReason]()),
        (NodeHealthFacts(ready: "False"), [.notReady(status: "False")]),
        (NodeHealthFacts(ready: "Unknown"), [.notReady(status: "Unknown")]),
        (NodeHealthFacts(ready: nil), [.notReady(status: "missing")]),
        (NodeHealthFacts(ready: "True", taintKeys: ["node.kubernetes.io/unreachable"]), [.taint("node.kubernetes.io/unreachable")]),
        (NodeHealthFacts(ready: "True", taintKeys: ["node.kubernetes.io/not-ready"]), [.taint("node.kubernetes.io/not-ready")]),
        (NodeHealthFacts(ready: "True", taintKeys: ["node.kubernetes.io/out-of-service"]), [.taint("node.kubernetes.io/out-of-service")]),
        (NodeHealthFacts(ready: "True", taintKeys: ["node.kubernetes.io/unschedulable"]), [.taint("node.kubernetes.io/unschedulable")]),
        (NodeHealthFacts(ready: "True", taintKeys: ["dedicated"]), []),
        (NodeHealthFacts(ready: "True", unschedulable: true), [.unschedulable]),
        (NodeHealthFacts(ready: "True", deleting: true), [.deleting]),
        (NodeHealthFacts(ready: "False", taintKeys: ["node.kubernetes.io/unreachable"], unschedulable: true, deleting: true),
         [.notReady(status: "False"), .taint("node.kubernetes.io/unreachable"), .unschedulable, .deleting]),
    ])
    func verdict(_ facts: NodeHealthFacts, _ reasons: [UnhealthyReason]) {
        let verdict = NodeHealth.verdict(for: facts)
        #expect(verdict == (reasons.isEmpty ? .healthy : .unhealthy(reasons)))
    }

    @Test("reasons read as sentences")
    func descriptions() {
        #expect(UnhealthyReason.notReady(status: "Unknown").description == "node is not ready (Ready=Unknown)")
        #expect(UnhealthyReason.taint("node.kubernetes.io/unreachable").description == "node has taint node.kubernetes.io/unreachable")
    }
}

@Suite("A pod's storage demand")
struct StorageDemandTests {
    @Test("pods without the routing resource pass through; routed pods need the annotated GiB")
    func demand() {
        #expect(StorageDemand.read(routed: false, annotation: "{\"carina-vg-hdd\":1}", annotationKey: "a/b") == .notRouted)
        #expect(StorageDemand.read(routed: true, annotation: "{\"carina-vg-hdd\":1,\"carina-vg-ssd\":5}", annotationKey: "a/b")
            == .needs(VolumeGroupRequests(["carina-vg-hdd": 1, "carina-vg-ssd": 5])))
        guard case .unreadable(let missing) = StorageDemand.read(routed: true, annotation: nil, annotationKey: "rebound.io/volume-requests") else {
            Issue.record("a routed pod without the annotation must be unreadable")
            return
        }
        #expect(missing.contains("rebound.io/volume-requests"))
        guard case .unreadable(let garbled) = StorageDemand.read(routed: true, annotation: "{\"hdd\":-1}", annotationKey: "x/y") else {
            Issue.record("a negative request must be unreadable")
            return
        }
        #expect(garbled.contains("{\"hdd\":-1}"))
    }

    @Test("provisioned claims are taken off the request, never below zero")
    func subtracting() {
        let needs = VolumeGroupRequests(["hdd": 10, "ssd": 5])
        #expect(needs.subtracting(VolumeGroupRequests(["hdd": 4])) == VolumeGroupRequests(["hdd": 6, "ssd": 5]))
        #expect(needs.subtracting(VolumeGroupRequests(["hdd": 40, "ssd": 5])).isEmpty)
    }
}
