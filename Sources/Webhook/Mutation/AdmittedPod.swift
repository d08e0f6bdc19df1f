public import Kube

/// The members of a Pod the webhook's decision reads, taken from the API server's JSON as sent:
/// read once, straight from the review's bytes (``read(_:depth:)``) or from a parsed pod
/// (``init(pod:)``), so the decision and the patch never walk a JSON tree.
public struct AdmittedPod: Sendable, Equatable {
    /// `metadata`, when it is an object.
    public struct Metadata: Sendable, Equatable {
        public var name: String?
        public var generateName: String?
        public var namespace: String?
        /// `metadata.annotations`, when it is an object.
        public var annotations: JSONObject?

        public init(name: String? = nil, generateName: String? = nil, namespace: String? = nil, annotations: JSONObject? = nil) {
            self.name = name
            self.generateName = generateName
            self.namespace = namespace
            self.annotations = annotations
        }
    }

    /// The first entry of `spec.containers`, when it is an object.
    public struct Container: Sendable, Equatable {
        /// Its `resources`, when that is an object.
        public var resources: JSONObject?

        public init(resources: JSONObject? = nil) { self.resources = resources }
    }

    /// `kind`, when it is a string.
    public var kind: String?
    public var metadata: Metadata?
    /// Whether `spec` is an object.
    public var hasSpec = false
    /// The claims of `spec.volumes`, in volume order.
    public var claims: [PodClaimReference] = []
    /// `spec.nodeName`, when it is a string.
    public var nodeName: String?
    public var firstContainer: Container?

    public init(kind: String? = nil, metadata: Metadata? = nil, hasSpec: Bool = false, claims: [PodClaimReference] = [], nodeName: String? = nil, firstContainer: Container? = nil) {
        self.kind = kind
        self.metadata = metadata
        self.hasSpec = hasSpec
        self.claims = claims
        self.nodeName = nodeName
        self.firstContainer = firstContainer
    }

    /// The facts of `pod` (a Pod object; any other value has none).
    public init(pod: JSONValue) {
        guard case .object(let pod) = pod else { return }
        kind = pod["kind"]?.stringValue
        if case .object(let metadata)? = pod["metadata"] {
            self.metadata = Metadata(
                name: metadata["name"]?.stringValue, generateName: metadata["generateName"]?.stringValue,
                namespace: metadata["namespace"]?.stringValue, annotations: metadata["annotations"]?.objectValue)
        }
        guard case .object(let spec)? = pod["spec"] else { return }
        hasSpec = true
        if case .array(let volumes)? = spec["volumes"] {
            claims = volumes.enumerated().compactMap { index, volume in volume.objectValue.flatMap { PodClaimReference(volume: $0, index: index) } }
        }
        nodeName = spec["nodeName"]?.stringValue
        if case .array(let containers)? = spec["containers"], case .object(let container)? = containers.first {
            firstContainer = Container(resources: container["resources"]?.objectValue)
        }
    }

    // MARK: Reading from bytes

    private static let podMembers = ObjectMembers(["kind", "metadata", "spec"])
    private static let metadataMembers = ObjectMembers(["name", "generateName", "namespace", "annotations"])
    private static let specMembers = ObjectMembers(["volumes", "nodeName", "containers"])
    /// What the first container's facts need; the rest of it (image, env, probes, ...) is skipped.
    private static let container = JSONSubset.members(["resources": .all])
    /// What a volume's claim reference needs; the rest of the volume is skipped.
    private static let volume = JSONSubset.members([
        "name": .all,
        "persistentVolumeClaim": .members(["claimName": .all]),
        "ephemeral": .members(["volumeClaimTemplate": .members(["spec": .members([
            "storageClassName": .all, "resources": .members(["requests": .members(["storage": .all])]),
        ])])]),
    ])

    /// Reads the pod object at the scanner's position (after whitespace), keeping only the facts
    /// and checking the syntax of everything it skips. Duplicate members: the last one counts,
    /// as when the object is parsed whole.
    static func read(_ scanner: inout JSONScanner, depth: Int) throws(JSONError) -> AdmittedPod {
        var facts = AdmittedPod()
        try forEachMember(&scanner, podMembers, depth: depth) { (scanner: inout JSONScanner, member: Int) throws(JSONError) in
            switch member {
            case 0:
                facts.kind = try scanner.readValue(depth: depth + 1).stringValue
            case 1:
                facts.metadata = try readMetadata(&scanner, depth: depth + 1)
            default:
                try readSpec(&scanner, depth: depth + 1, into: &facts)
            }
        }
        return facts
    }

    private static func readMetadata(_ scanner: inout JSONScanner, depth: Int) throws(JSONError) -> Metadata? {
        guard scanner.peek() == UInt8(ascii: "{") else {
            try scanner.skipValue(depth: depth)
            return nil
        }
        var metadata = Metadata()
        try forEachMember(&scanner, metadataMembers, depth: depth) { (scanner: inout JSONScanner, member: Int) throws(JSONError) in
            let value = try scanner.readValue(depth: depth + 1)
            switch member {
            case 0: metadata.name = value.stringValue
            case 1: metadata.generateName = value.stringValue
            case 2: metadata.namespace = value.stringValue
            default: metadata.annotations = value.objectValue
            }
        }
        return metadata
    }

    private static func readSpec(_ scanner: inout JSONScanner, depth: Int, into facts: inout AdmittedPod) throws(JSONError) {
        facts.claims = []
        facts.nodeName = nil
        facts.firstContainer = nil
        guard scanner.peek() == UInt8(ascii: "{") else {
            facts.hasSpec = false
            try scanner.skipValue(depth: depth)
            return
        }
        facts.hasSpec = true
        try forEachMember(&scanner, specMembers, depth: depth) { (scanner: inout JSONScanner, member: Int) throws(JSONError) in
            switch member {
            case 0:
                facts.claims = []
                try forEachElement(&scanner, depth: depth + 1) { (scanner: inout JSONScanner, index: Int) throws(JSONError) in
                    guard scanner.peek() == UInt8(ascii: "{") else { return try scanner.skipValue(depth: depth + 2) }
                    if let volume = try volume.read(&scanner, depth: depth + 2).objectValue, let claim = PodClaimReference(volume: volume, index: index) {
                        facts.claims.append(claim)
                    }
                }
            case 1:
                facts.nodeName = try scanner.readValue(depth: depth + 1).stringValue
            default:
                facts.firstContainer = nil
                try forEachElement(&scanner, depth: depth + 1) { (scanner: inout JSONScanner, position: Int) throws(JSONError) in
                    guard position == 0, scanner.peek() == UInt8(ascii: "{") else { return try scanner.skipValue(depth: depth + 2) }
                    let container = try container.read(&scanner, depth: depth + 2)
                    facts.firstContainer = Container(resources: container["resources"]?.objectValue)
                }
            }
        }
    }

    /// Calls `body` with the index (in `members`) of each wanted member, positioned at its value,
    /// which `body` must consume; other members are skipped. The value must be an object.
    private static func forEachMember(
        _ scanner: inout JSONScanner, _ members: ObjectMembers, depth: Int, _ body: (inout JSONScanner, Int) throws(JSONError) -> Void
    ) throws(JSONError) {
        scanner.skipWhitespace()
        guard depth < scanner.maxDepth else { throw scanner.error("nesting deeper than \(scanner.maxDepth)") }
        try scanner.expect(UInt8(ascii: "{"))
        if scanner.consume(UInt8(ascii: "}")) { return }
        repeat {
            scanner.skipWhitespace()
            let match = try members.member(at: &scanner)
            try scanner.expect(UInt8(ascii: ":"))
            scanner.skipWhitespace()
            if let match {
                try body(&scanner, match)
            } else {
                try scanner.skipValue(depth: depth + 1)
            }
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "}"))
    }

    /// Calls `body` with the position of each element of the array at the scanner's position,
    /// which `body` must consume; a value that is not an array is skipped.
    private static func forEachElement(
        _ scanner: inout JSONScanner, depth: Int, _ body: (inout JSONScanner, Int) throws(JSONError) -> Void
    ) throws(JSONError) {
        scanner.skipWhitespace()
        guard scanner.peek() == UInt8(ascii: "["), depth < scanner.maxDepth else { return try scanner.skipValue(depth: depth) }
        var position = 0
        try scanner.readArray { (scanner: inout JSONScanner) throws(JSONError) in
            scanner.skipWhitespace()
            try body(&scanner, position)
            position += 1
        }
    }
}
