/// An HTTP request as the simulated API server sees it, independent of the HTTP library.
public struct SimRequest: Sendable {
    public var method: String
    public var path: String
    /// Query parameters, decoded (`+` is a space, as Go's url.ParseQuery reads it).
    public var query: [String: String]
    /// Header values by lower-case name.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Splits `path?query` and decodes the query.
    public init(method: String, uri: String, headers: [String: String] = [:], body: [UInt8] = []) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.init(method: method, path: String(parts[0]), query: parts.count > 1 ? Self.parseQuery(String(parts[1])) : [:], headers: headers, body: body)
    }

    static func parseQuery(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(String(parts[0]))
            result[key] = parts.count > 1 ? percentDecode(String(parts[1])) : ""
        }
        return result
    }

    static func percentDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = iterator.next(), let low = iterator.next(), let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else {
                    bytes.append(byte)
                    continue
                }
                bytes.append(value)
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// True for `?name=true` (and the other spellings Go's ParseBool accepts).
    public func flag(_ name: String) -> Bool {
        guard let value = query[name] else { return false }
        return ["1", "t", "T", "true", "TRUE", "True"].contains(value)
    }
}

/// What the simulated API server answers.
public enum SimResponse: Sendable {
    /// A complete answer.
    case bytes(status: Int, contentType: String, body: [UInt8], headers: [(String, String)])
    /// A chunked stream of watch frames that lasts until the stream ends.
    case stream(contentType: String, frames: AsyncStream<[UInt8]>)

    static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> SimResponse {
        .bytes(status: status, contentType: "application/json", body: value.serialized(), headers: headers)
    }

    public var status: Int {
        switch self {
        case .bytes(let status, _, _, _): status
        case .stream: 200
        }
    }
}

import Kube
