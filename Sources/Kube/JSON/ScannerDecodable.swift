public import Capacity
public import Foundation

/// A model that decodes itself straight from JSON bytes with ``JSONScanner``: one pass, nothing
/// built for fields it does not keep. The caches use it for the objects that come by the
/// ten-thousand (pods, nodes), where Foundation's JSONDecoder would first build a tree of the
/// whole page. It must produce exactly what the type's `Decodable` conformance produces.
public protocol ScannerDecodable {
    init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError)
}

/// State shared while decoding one document: interned strings, so that the label and annotation
/// keys repeated across thousands of objects are stored once.
public struct ScanContext {
    private var interned: [String: String] = [:]

    public init() {}

    /// The stored copy of `text`, shared by every object that uses the same text.
    public mutating func intern(_ text: String) -> String {
        if text.utf8.count <= 15 { return text }  // small strings live inline: nothing to share
        if let existing = interned[text] { return existing }
        if interned.count < 100_000 { interned[text] = text }
        return text
    }
}

extension ScannerDecodable {
    /// Decodes one value of this type from a complete JSON document.
    public static func decode(scanning bytes: UnsafeRawBufferPointer) throws(JSONError) -> Self {
        var scanner = JSONScanner(bytes)
        var context = ScanContext()
        let value = try Self(scanning: &scanner, context: &context)
        try scanner.expectEnd()
        return value
    }

    public static func decode(scanning data: some ContiguousBytes) throws(JSONError) -> Self {
        let result: Result<Self, JSONError> = data.withUnsafeBytes { buffer in
            do throws(JSONError) {
                return .success(try Self.decode(scanning: buffer))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

// MARK: Reading helpers

extension JSONScanner {
    /// Reads a string, or nil for `null`.
    public mutating func readOptionalString() throws(JSONError) -> String? {
        if consumeNull() { return nil }
        return try readString()
    }

    /// Reads an integer, or nil for `null`.
    public mutating func readOptionalInt() throws(JSONError) -> Int64? {
        if consumeNull() { return nil }
        return try readInt()
    }

    public mutating func readOptionalBool() throws(JSONError) -> Bool? {
        if consumeNull() { return nil }
        return try readBool()
    }

    /// Reads a JSON object of strings; nil for `null`.
    public mutating func readStringMap(_ context: inout ScanContext) throws(JSONError) -> [String: String]? {
        if consumeNull() { return nil }
        var result: [String: String] = [:]
        try readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            if let value = try scanner.readOptionalString() { result[context.intern(key)] = value }
        }
        return result
    }

    /// Reads a JSON array of strings; nil for `null`.
    public mutating func readStringArray(_ context: inout ScanContext) throws(JSONError) -> [String]? {
        if consumeNull() { return nil }
        var result: [String] = []
        try readArray { (scanner: inout JSONScanner) throws(JSONError) in
            result.append(context.intern(try scanner.readString()))
        }
        return result
    }

    /// Reads an array of decodable elements; nil for `null`.
    public mutating func readArray<T: ScannerDecodable>(of type: T.Type, _ context: inout ScanContext) throws(JSONError) -> [T]? {
        if consumeNull() { return nil }
        var result: [T] = []
        try readArray { (scanner: inout JSONScanner) throws(JSONError) in
            result.append(try T(scanning: &scanner, context: &context))
        }
        return result
    }

    /// Reads an optional nested value.
    public mutating func readOptional<T: ScannerDecodable>(_ type: T.Type, _ context: inout ScanContext) throws(JSONError) -> T? {
        if consumeNull() { return nil }
        return try T(scanning: &self, context: &context)
    }

    /// Reads a quantity given as a string or a number. A value too long or too large to read is
    /// ``Quantity/beyondRange(negative:)`` (see there); malformed text is an error.
    public mutating func readQuantity() throws(JSONError) -> Quantity {
        skipWhitespace()
        let start = index
        let text: String
        if peek() == UInt8(ascii: "\"") {
            text = try readString()
        } else {
            text = try readNumberText()
        }
        do {
            return try Quantity(parsing: text.trimmingCharacters(in: .whitespaces))
        } catch .tooLong(_), .outOfRange(_) {
            return .beyondRange(negative: text.utf8.first == UInt8(ascii: "-"))
        } catch {
            index = start
            throw self.error(error.description)
        }
    }

    /// Reads a map of resource names to quantities; nil for `null`. Entries that are not
    /// quantities at all (which the API server never stores) are left out rather than making the
    /// whole object, and with it a cache's list, unreadable.
    public mutating func readQuantityMap(_ context: inout ScanContext) throws(JSONError) -> [String: Quantity]? {
        if consumeNull() { return nil }
        var result: [String: Quantity] = [:]
        try readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            if scanner.consumeNull() { return }
            let start = scanner.index
            do {
                result[context.intern(key)] = try scanner.readQuantity()
            } catch {
                scanner.index = start
                try scanner.skipValue()
            }
        }
        return result
    }

    /// Reads an RFC 3339 time; nil for `null`.
    public mutating func readTime() throws(JSONError) -> KubeTime? {
        if consumeNull() { return nil }
        let start = index
        let text = try readString()
        guard let date = KubeTime.parse(text) else {
            index = start
            throw error("\"\(text)\" is not an RFC 3339 time")
        }
        return KubeTime(date, micro: text.contains("."))
    }
}
