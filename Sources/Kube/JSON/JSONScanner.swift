/// Why a byte sequence is not the JSON that was expected.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset where the problem was found.
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}

/// A forward-only reader over UTF-8 JSON bytes that can read or skip one value at a time
/// without building anything. The full parser (``JSONValue/init(parsing:)``) and the
/// extender's lazy node reader both stand on it.
///
/// It borrows its buffer: use it only inside the `withUnsafeBytes` call that made it.
public struct JSONScanner {
    public let bytes: UnsafeRawBufferPointer
    public var index: Int
    /// Nesting depth allowed before the input is refused (guards the stack against hostile input).
    public var maxDepth = 512

    public init(_ bytes: UnsafeRawBufferPointer, index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    public var isAtEnd: Bool { index >= bytes.count }

    @inlinable @inline(__always)
    public func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    @inlinable
    public func error(_ message: String) -> JSONError { JSONError(offset: index, message: message) }

    @inlinable @inline(__always)
    public mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Skips whitespace, then consumes `byte` or throws.
    @inlinable @inline(__always)
    public mutating func expect(_ byte: UInt8) throws(JSONError) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else {
            throw error("expected '\(Character(Unicode.Scalar(byte)))'\(describeHere())")
        }
        index += 1
    }

    /// Skips whitespace and consumes `byte` if it is next.
    @inlinable @inline(__always)
    public mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        if index < bytes.count, bytes[index] == byte {
            index += 1
            return true
        }
        return false
    }

    @usableFromInline
    func describeHere() -> String {
        guard index < bytes.count else { return ", found end of input" }
        return ", found '\(Character(Unicode.Scalar(bytes[index])))'"
    }

    // MARK: Objects and arrays

    /// Reads an object member by member: `body` gets each key and must consume its value.
    public mutating func readObject(_ body: (inout JSONScanner, String) throws(JSONError) -> Void) throws(JSONError) {
        try expect(UInt8(ascii: "{"))
        if consume(UInt8(ascii: "}")) { return }
        repeat {
            skipWhitespace()
            let key = try readString()
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// Reads an array element by element: `body` must consume each element.
    public mutating func readArray(_ body: (inout JSONScanner) throws(JSONError) -> Void) throws(JSONError) {
        try expect(UInt8(ascii: "["))
        if consume(UInt8(ascii: "]")) { return }
        repeat {
            try body(&self)
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
    }

    /// True if the next value is `null` (consumed), false otherwise (nothing consumed).
    public mutating func consumeNull() -> Bool {
        skipWhitespace()
        if index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
            bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        {
            index += 4
            return true
        }
        return false
    }

    // MARK: Skipping

    /// Consumes a number, `true`, `false` or `null` (``skipValue(depth:)`` walks the rest).
    mutating func skipScalar() throws(JSONError) {
        skipWhitespace()
        guard let byte = peek() else { throw error("expected a value, found end of input") }
        switch byte {
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try readNumberRange()
        }
    }

    /// Consumes a whole value and returns the byte range it occupied.
    public mutating func valueRange() throws(JSONError) -> Range<Int> {
        skipWhitespace()
        let start = index
        try skipValue()
        return start..<index
    }

    @inline(__always)
    mutating func literal(_ word: StaticString) throws(JSONError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("expected \(word)") }
        let start = word.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] {
            throw error("expected \(word)")
        }
        index += count
    }

    /// Reads `true` or `false`.
    public mutating func readBool() throws(JSONError) -> Bool {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        default:
            throw error("expected true or false\(describeHere())")
        }
    }

    // MARK: Strings

    mutating func skipString() throws(JSONError) {
        guard peek() == UInt8(ascii: "\"") else { throw error("expected a string\(describeHere())") }
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return
            }
            if byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if byte < 0x20 { throw error("control character in string") }
            index += 1
        }
        throw error("unterminated string")
    }

    /// Reads a string, decoding escapes.
    public mutating func readString() throws(JSONError) -> String {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { throw error("expected a string\(describeHere())") }
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in string") }
            index += 1
        }
        var decoded = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unterminated escape") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escaped)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xD800..<0xDC00).contains(scalar), index + 6 <= bytes.count,
                        bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                    {
                        index += 2
                        let low = try readHex4()
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            appendScalar(0xFFFD, to: &decoded)
                            scalar = low
                        }
                    }
                    appendScalar(scalar, to: &decoded)
                default:
                    index -= 1
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(escaped)))'")
                }
            default:
                if byte < 0x20 { throw error("control character in string") }
                decoded.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    mutating func readHex4() throws(JSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    func appendScalar(_ value: UInt32, to output: inout [UInt8]) {
        let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
        output.append(contentsOf: UTF8.encode(scalar)!)
    }

    // MARK: Numbers

    /// Consumes a number, checking the JSON grammar, and returns its byte range.
    public mutating func readNumberRange() throws(JSONError) -> Range<Int> {
        skipWhitespace()
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), first >= 0x30, first <= 0x39 else { throw error("expected a value\(describeHere())") }
        index += 1
        if first != 0x30 { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let digit = peek(), digit >= 0x30, digit <= 0x39 else { throw error("expected a digit after '.'") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek(), digit >= 0x30, digit <= 0x39 else { throw error("expected a digit in exponent") }
            skipDigits()
        }
        return start..<index
    }

    @inline(__always)
    mutating func skipDigits() {
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
    }

    /// Reads a number and returns its literal text.
    public mutating func readNumberText() throws(JSONError) -> String {
        let range = try readNumberRange()
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Reads an integer number.
    public mutating func readInt() throws(JSONError) -> Int64 {
        let start = index
        let text = try readNumberText()
        guard let value = Int64(text) else {
            index = start
            throw error("expected an integer, found \(text)")
        }
        return value
    }

    /// Requires that only whitespace remains.
    public mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        if index < bytes.count { throw error("unexpected data after the value") }
    }
}
