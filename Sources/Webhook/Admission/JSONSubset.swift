import Kube

/// Which members of a JSON document to keep while reading it. Reading a subset straight from the
/// bytes skips the rest with a syntax check and no allocation: most of an AdmissionReview (the
/// pod's env, probes, managed fields, status, ...) is never looked at, and building a tree for it
/// was the webhook's largest cost. What is kept is the API server's JSON as sent, never re-encoded.
indirect enum JSONSubset: Sendable {
    /// The whole value.
    case all
    /// For an object, these members (each by its own subset); any other value whole.
    case members([String: JSONSubset])
    /// For an array, its first element (by the subset); any other value whole.
    case firstElement(JSONSubset)

    /// The parts of an AdmissionReview the webhook reads.
    static let admissionReview = JSONSubset.members([
        "apiVersion": .all, "kind": .all,
        "request": .members([
            "uid": .all, "operation": .all, "kind": .all, "subResource": .all, "namespace": .all, "name": .all, "dryRun": .all,
            "object": .members([
                "apiVersion": .all, "kind": .all,
                "metadata": .members(["name": .all, "generateName": .all, "namespace": .all, "annotations": .all]),
                "spec": .members([
                    "volumes": .all, "nodeName": .all,
                    "containers": .firstElement(.members(["name": .all, "resources": .all])),
                ]),
            ]),
        ]),
    ])

    /// Reads one document; trailing data other than whitespace is an error.
    func read(_ bytes: some Collection<UInt8>) throws(JSONError) -> JSONValue {
        let result: Result<JSONValue, JSONError> = bytes.withContiguousStorageIfAvailable { buffer in
            read(UnsafeRawBufferPointer(buffer))
        } ?? Array(bytes).withUnsafeBytes { read($0) }
        return try result.get()
    }

    private func read(_ buffer: UnsafeRawBufferPointer) -> Result<JSONValue, JSONError> {
        var scanner = JSONScanner(buffer)
        do {
            let value = try read(&scanner, depth: 0)
            try scanner.expectEnd()
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    func read(_ scanner: inout JSONScanner, depth: Int) throws(JSONError) -> JSONValue {
        scanner.skipWhitespace()
        switch self {
        case .all:
            return try scanner.readValue(depth: depth)
        case .members(let wanted):
            guard scanner.peek() == UInt8(ascii: "{"), depth < scanner.maxDepth else { return try scanner.readValue(depth: depth) }
            var members = JSONObject()
            try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
                if let subset = wanted[key] {
                    members[key] = try subset.read(&scanner, depth: depth + 1)
                } else {
                    try scanner.skipValue(depth: depth + 1)
                }
            }
            return .object(members)
        case .firstElement(let subset):
            guard scanner.peek() == UInt8(ascii: "["), depth < scanner.maxDepth else { return try scanner.readValue(depth: depth) }
            var items: [JSONValue] = []
            try scanner.readArray { (scanner: inout JSONScanner) throws(JSONError) in
                if items.isEmpty {
                    items.append(try subset.read(&scanner, depth: depth + 1))
                } else {
                    try scanner.skipValue(depth: depth + 1)
                }
            }
            return .array(items)
        }
    }
}
