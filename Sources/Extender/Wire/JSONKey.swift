import Kube

/// An object key as it appears in a request: its byte range when it has no escapes (nearly
/// always, and then compared without allocating), else its decoded bytes.
enum JSONKey {
    case raw(Range<Int>)
    case decoded([UInt8])
}

extension JSONScanner {
    /// Reads an object key without building a String for it.
    mutating func readKey() throws(JSONError) -> JSONKey {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { throw error("expected a string\(describeHere)") }
        let start = index + 1
        var cursor = start
        while cursor < bytes.count {
            let byte = bytes[cursor]
            if byte == UInt8(ascii: "\"") {
                index = cursor + 1
                return .raw(start..<cursor)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw JSONError(offset: cursor, message: "control character in string") }
            cursor += 1
        }
        return .decoded(Array(try readString().utf8))
    }

    /// Whether `key` is exactly `literal`.
    @inline(__always)
    func key(_ key: JSONKey, is literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        switch key {
        case .raw(let range):
            guard range.count == count else { return false }
            let pointer = literal.utf8Start
            for offset in 0..<count where bytes[range.lowerBound + offset] != pointer[offset] { return false }
            return true
        case .decoded(let decoded):
            return decoded.count == count && decoded.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: count))
        }
    }

    /// Whether `key` is exactly `bytes`.
    @inline(__always)
    func key(_ key: JSONKey, equals expected: [UInt8]) -> Bool {
        switch key {
        case .raw(let range):
            guard range.count == expected.count else { return false }
            for offset in 0..<expected.count where bytes[range.lowerBound + offset] != expected[offset] { return false }
            return true
        case .decoded(let decoded):
            return decoded == expected
        }
    }

    /// Whether `key` starts with `prefix` (and is longer than it).
    @inline(__always)
    func key(_ key: JSONKey, hasPrefix prefix: [UInt8]) -> Bool {
        switch key {
        case .raw(let range):
            guard range.count > prefix.count else { return false }
            for offset in 0..<prefix.count where bytes[range.lowerBound + offset] != prefix[offset] { return false }
            return true
        case .decoded(let decoded):
            return decoded.count > prefix.count && decoded.starts(with: prefix)
        }
    }

    /// The key as a String.
    func string(_ key: JSONKey) -> String {
        switch key {
        case .raw(let range): String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        case .decoded(let decoded): String(decoding: decoded, as: UTF8.self)
        }
    }

    /// Reads an object member by member with raw keys: `body` must consume each value.
    @inline(__always)
    mutating func forEachMember(_ body: (inout JSONScanner, JSONKey) throws(JSONError) -> Void) throws(JSONError) {
        try expect(UInt8(ascii: "{"))
        if consume(UInt8(ascii: "}")) { return }
        repeat {
            let key = try readKey()
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// Reads an object unless the value is `null`.
    @inline(__always)
    mutating func forEachMemberUnlessNull(_ body: (inout JSONScanner, JSONKey) throws(JSONError) -> Void) throws(JSONError) {
        if consumeNull() { return }
        try forEachMember(body)
    }

    /// Reads an array unless the value is `null`.
    @inline(__always)
    mutating func forEachElementUnlessNull(_ body: (inout JSONScanner) throws(JSONError) -> Void) throws(JSONError) {
        if consumeNull() { return }
        try readArray(body)
    }

    /// A scalar's text: a string's contents or a number's literal (quantities may be either).
    mutating func readScalarText() throws(JSONError) -> String {
        skipWhitespace()
        if peek() == UInt8(ascii: "\"") { return try readString() }
        return try readNumberText()
    }

    var describeHere: String {
        guard index < bytes.count else { return ", found end of input" }
        return ", found '\(Character(Unicode.Scalar(bytes[index])))'"
    }
}
