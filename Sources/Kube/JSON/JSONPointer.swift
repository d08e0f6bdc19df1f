import Foundation

/// An RFC 6901 JSON Pointer such as `/metadata/annotations/example.com~1key`.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// The unescaped reference tokens.
    public var tokens: [String]

    public init(tokens: [String]) { self.tokens = tokens }

    /// Parses the string form; it must be empty or start with `/`.
    public init(parsing text: String) throws(JSONPatchError) {
        if text.isEmpty {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else { throw .invalidPointer(text) }
        tokens = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
        // "~" followed by anything but 0 or 1 is not a valid escape.
        var characters = text.makeIterator()
        while let character = characters.next() {
            guard character == "~" else { continue }
            guard let next = characters.next(), next == "0" || next == "1" else { throw .invalidPointer(text) }
        }
    }

    /// Escapes one token: `~` as `~0` and `/` as `~1`. Byte by byte, without Foundation: the
    /// webhook escapes a few tokens per request, and Foundation's replacement dominated its profile.
    public static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(token.utf8.count + 4)
        for byte in token.utf8 {
            switch byte {
            case UInt8(ascii: "~"): escaped.append(contentsOf: [UInt8(ascii: "~"), UInt8(ascii: "0")])
            case UInt8(ascii: "/"): escaped.append(contentsOf: [UInt8(ascii: "~"), UInt8(ascii: "1")])
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    /// The pointer with one more token.
    public func appending(_ token: String) -> JSONPointer { JSONPointer(tokens: tokens + [token]) }

    public var description: String { tokens.map { "/" + Self.escape($0) }.joined() }
}
