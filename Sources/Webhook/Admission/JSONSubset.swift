#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kube

/// Which members of a JSON document to keep while reading it. Reading a subset straight from the
/// bytes skips the rest with a syntax check and no allocation: most of an AdmissionReview (the
/// pod's env, probes, managed fields, status, ...) is never looked at, and building a tree for it
/// was the webhook's largest cost. What is kept is the API server's JSON as sent, never re-encoded.
indirect enum JSONSubset: Sendable {
    /// The whole value.
    case all
    /// For an object, these members (each by its own subset); any other value whole.
    case object([Member])

    /// A wanted member: its name, also as bytes for comparing with the input.
    struct Member: Sendable {
        let name: String
        let bytes: [UInt8]
        let subset: JSONSubset
    }
    /// For an array, its first element (by the subset); any other value whole.
    case firstElement(JSONSubset)

    /// Reads a member name and returns the wanted member it names, if any. Names are compared as
    /// bytes, so the members skipped (most of them) never become Strings; a name written with
    /// escapes is decoded first, so it matches as JSON says it should.
    private static func member(of wanted: [Member], at scanner: inout JSONScanner) throws(JSONError) -> (String, JSONSubset)? {
        guard scanner.peek() == UInt8(ascii: "\"") else {
            _ = try scanner.readString()
            return nil
        }
        let start = scanner.index
        let range = try scanner.valueRange()
        let bytes = UnsafeRawBufferPointer(rebasing: scanner.bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
        if bytes.contains(UInt8(ascii: "\\")) {
            scanner.index = start
            let name = try scanner.readString()
            return wanted.first { $0.name == name }.map { ($0.name, $0.subset) }
        }
        for member in wanted where member.bytes.count == bytes.count && !bytes.isEmpty {
            let equal = member.bytes.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
            if equal { return (member.name, member.subset) }
        }
        return nil
    }

    /// ``object(_:)`` written as a dictionary literal.
    static func members(_ members: KeyValuePairs<String, JSONSubset>) -> JSONSubset {
        .object(members.map { Member(name: $0.key, bytes: Array($0.key.utf8), subset: $0.value) })
    }

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
        case .object(let wanted):
            guard scanner.peek() == UInt8(ascii: "{"), depth < scanner.maxDepth else { return try scanner.readValue(depth: depth) }
            var members = JSONObject()
            try scanner.expect(UInt8(ascii: "{"))
            if scanner.consume(UInt8(ascii: "}")) { return .object(members) }
            repeat {
                scanner.skipWhitespace()
                let match = try Self.member(of: wanted, at: &scanner)
                try scanner.expect(UInt8(ascii: ":"))
                if let (name, subset) = match {
                    members[name] = try subset.read(&scanner, depth: depth + 1)
                } else {
                    try scanner.skipValue(depth: depth + 1)
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"))
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
