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
    case object(ObjectMembers)
    /// A Pod object, read into ``AdmittedPod`` (handed back beside the tree, where it stands as an
    /// empty object); any other value whole.
    case pod

    /// ``object(_:)`` written as a dictionary literal.
    static func members(_ members: KeyValuePairs<String, JSONSubset>) -> JSONSubset {
        .object(ObjectMembers(members.map { ($0.key, $0.value) }))
    }

    /// The parts of an AdmissionReview the webhook reads.
    static let admissionReview = JSONSubset.members([
        "apiVersion": .all, "kind": .all,
        "request": .members([
            "uid": .all, "operation": .all, "kind": .members(["group": .all, "kind": .all]), "subResource": .all,
            "namespace": .all, "name": .all, "dryRun": .all,
            "object": .pod,
        ]),
    ])

    /// Reads one document; trailing data other than whitespace is an error. `pod` holds the facts
    /// of the pod a ``pod`` subset met, if any.
    func read(_ bytes: some Collection<UInt8>) throws(JSONError) -> (value: JSONValue, pod: AdmittedPod?) {
        let result: Result<(value: JSONValue, pod: AdmittedPod?), JSONError> = bytes.withContiguousStorageIfAvailable { buffer in
            read(UnsafeRawBufferPointer(buffer))
        } ?? Array(bytes).withUnsafeBytes { read($0) }
        return try result.get()
    }

    private func read(_ buffer: UnsafeRawBufferPointer) -> Result<(value: JSONValue, pod: AdmittedPod?), JSONError> {
        var scanner = JSONScanner(buffer)
        var pod: AdmittedPod?
        do {
            let value = try read(&scanner, depth: 0, pod: &pod)
            try scanner.expectEnd()
            return .success((value, pod))
        } catch {
            return .failure(error)
        }
    }

    /// Reads the value at the scanner's position; a ``pod`` subset within it is not expected.
    func read(_ scanner: inout JSONScanner, depth: Int) throws(JSONError) -> JSONValue {
        var pod: AdmittedPod?
        return try read(&scanner, depth: depth, pod: &pod)
    }

    func read(_ scanner: inout JSONScanner, depth: Int, pod: inout AdmittedPod?) throws(JSONError) -> JSONValue {
        scanner.skipWhitespace()
        switch self {
        case .all:
            return try scanner.readValue(depth: depth)
        case .pod:
            guard scanner.peek() == UInt8(ascii: "{") else {
                pod = nil  // a repeated member: the last one counts
                return try scanner.readValue(depth: depth)
            }
            pod = try AdmittedPod.read(&scanner, depth: depth)
            return .emptyObject
        case .object(let wanted):
            guard scanner.peek() == UInt8(ascii: "{"), depth < scanner.maxDepth else { return try scanner.readValue(depth: depth) }
            var members = JSONObject()
            members.reserveCapacity(wanted.names.count)
            try scanner.expect(UInt8(ascii: "{"))
            if scanner.consume(UInt8(ascii: "}")) { return .object(members) }
            repeat {
                scanner.skipWhitespace()
                let match = try wanted.member(at: &scanner)
                try scanner.expect(UInt8(ascii: ":"))
                if let match {
                    members[wanted.names[match]] = try wanted.subsets[match].read(&scanner, depth: depth + 1, pod: &pod)
                } else {
                    try scanner.skipValue(depth: depth + 1)
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"))
            return .object(members)
        }
    }
}

/// The members an ``JSONSubset/object(_:)`` keeps. Names are compared as bytes against one
/// contiguous buffer, so the members skipped (most of them) never become Strings, and looking
/// one up touches no reference counts.
final class ObjectMembers: Sendable {
    let names: [String]
    let subsets: [JSONSubset]
    private let blob: [UInt8]
    private let ranges: [Range<Int>]

    /// Members read by hand (the subsets are not used).
    convenience init(_ names: [String]) {
        self.init(names.map { ($0, JSONSubset.all) })
    }

    init(_ members: [(String, JSONSubset)]) {
        names = members.map(\.0)
        subsets = members.map(\.1)
        var blob: [UInt8] = []
        var ranges: [Range<Int>] = []
        for (name, _) in members {
            let start = blob.count
            blob.append(contentsOf: name.utf8)
            ranges.append(start..<blob.count)
        }
        self.blob = blob
        self.ranges = ranges
    }

    /// Reads a member name and returns the index of the wanted member it names, if any. A name
    /// written with escapes is decoded first, so it matches as JSON says it should.
    func member(at scanner: inout JSONScanner) throws(JSONError) -> Int? {
        let start = scanner.index
        let range = try scanner.skipStringRange()
        let key = UnsafeRawBufferPointer(rebasing: scanner.bytes[range])
        if key.contains(UInt8(ascii: "\\")) {
            scanner.index = start
            let name = try scanner.readString()
            return names.firstIndex(of: name)
        }
        guard let keyBase = key.baseAddress, !key.isEmpty else { return nil }
        return blob.withUnsafeBytes { blob in
            ranges.withUnsafeBufferPointer { ranges in
                for (position, range) in ranges.enumerated() where range.count == key.count {
                    if memcmp(blob.baseAddress! + range.lowerBound, keyBase, key.count) == 0 { return position }
                }
                return nil
            }
        }
    }
}
