import Capacity
import Kube

/// A node read from a full NodeList request: its summary and where its bytes lie in the request,
/// so a passing node is echoed back by copying them rather than re-serialising it.
struct ScannedNode: Sendable {
    var summary: NodeSummary
    /// The node object's bytes in the request body.
    var range: Range<Int>

    var name: String { summary.name }

    /// Reads one `v1.Node` from `scanner`, looking only at what placement needs: the name, the
    /// deletion timestamp, the capacity annotations (when capacity comes from annotations),
    /// `spec.unschedulable`, `spec.taints`, the capacity keys of `status.allocatable` and the
    /// Ready condition. Everything else is skipped without being built.
    static func read(_ scanner: inout JSONScanner, reader: CapacityKeyReader) throws(JSONError) -> ScannedNode {
        scanner.skipWhitespace()
        let start = scanner.index
        var name = ""
        var ready: String?
        var taints: [String] = []
        var unschedulable = false
        var deleting = false
        var capacity = NodeCapacity()
        try scanner.forEachMember { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
            if s.key(key, is: "metadata") {
                try s.forEachMemberUnlessNull { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                    if s.key(key, is: "name") {
                        name = try s.readOptionalString() ?? ""
                    } else if s.key(key, is: "deletionTimestamp") {
                        deleting = !s.consumeNull()
                        if deleting { try s.skipValue() }
                    } else if !reader.inAllocatable, s.key(key, is: "annotations") {
                        try reader.readEntries(&s, into: &capacity)
                    } else {
                        try s.skipValue()
                    }
                }
            } else if s.key(key, is: "spec") {
                try s.forEachMemberUnlessNull { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                    if s.key(key, is: "unschedulable") {
                        unschedulable = s.consumeNull() ? false : try s.readBool()
                    } else if s.key(key, is: "taints") {
                        try s.forEachElementUnlessNull { (s: inout JSONScanner) throws(JSONError) in
                            var taintKey = ""
                            var effect = ""
                            try s.forEachMember { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                                if s.key(key, is: "key") {
                                    taintKey = try s.readOptionalString() ?? ""
                                } else if s.key(key, is: "effect") {
                                    effect = try s.readOptionalString() ?? ""
                                } else {
                                    try s.skipValue()
                                }
                            }
                            // The same rule as Node.healthFacts: only taints that keep pods away count.
                            if effect == "NoSchedule" || effect == "NoExecute" { taints.append(taintKey) }
                        }
                    } else {
                        try s.skipValue()
                    }
                }
            } else if s.key(key, is: "status") {
                try s.forEachMemberUnlessNull { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                    if reader.inAllocatable, s.key(key, is: "allocatable") {
                        try reader.readEntries(&s, into: &capacity)
                    } else if s.key(key, is: "conditions") {
                        try s.forEachElementUnlessNull { (s: inout JSONScanner) throws(JSONError) in
                            var isReady = false
                            var status: String?
                            try s.forEachMember { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                                if s.key(key, is: "type") {
                                    isReady = try s.readOptionalString() == "Ready"
                                } else if s.key(key, is: "status") {
                                    status = try s.readOptionalString()
                                } else {
                                    try s.skipValue()
                                }
                            }
                            if isReady { ready = status ?? "" }
                        }
                    } else {
                        try s.skipValue()
                    }
                }
            } else {
                try s.skipValue()
            }
        }
        let facts = NodeHealthFacts(ready: ready, taintKeys: taints, unschedulable: unschedulable, deleting: deleting)
        return ScannedNode(summary: NodeSummary(name: name, health: NodeHealth.verdict(for: facts), capacity: capacity), range: start..<scanner.index)
    }
}

/// Reads the capacity entries of a node's allocatable map or annotations, building strings only
/// for keys under the configured prefix.
struct CapacityKeyReader: Sendable {
    let keys: CompatibilityKeys
    let prefix: [UInt8]
    let inAllocatable: Bool
    /// Whether the Node carries capacity at all.
    let reads: Bool

    init(keys: CompatibilityKeys) {
        self.keys = keys
        self.inAllocatable = keys.capacityInAllocatable
        switch keys.capacitySource {
        case .allocatable(let prefix), .annotation(let prefix): self.prefix = Array(prefix.utf8)
        // Capacity is not on the Node: the prefix is never matched (see `reads`).
        case .storageCapacity: self.prefix = []
        }
        reads = !keys.capacityFromStorageCapacity
    }

    func readEntries(_ scanner: inout JSONScanner, into capacity: inout NodeCapacity) throws(JSONError) {
        guard reads else { return try scanner.skipValue() }
        try scanner.forEachMemberUnlessNull { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
            if s.key(key, hasPrefix: prefix) {
                let name = s.string(key)
                let value = try s.readScalarText()
                capacity.read(key: name, value: value, keys: keys)
            } else {
                try s.skipValue()
            }
        }
    }
}
