/// A configuration value of one of the types configuration keys can have.
public enum ConfigValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case list([String])
    case map([String: String])

    public var description: String {
        switch self {
        case .string(let text): text
        case .int(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        case .list(let items): items.joined(separator: ",")
        case .map(let entries): entries.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
    }

    /// The value as YAML, for the defaults file.
    public var yaml: String {
        switch self {
        case .string(let text): ConfigValue.quoted(text)
        case .int, .double, .bool: description
        case .list(let items): "[" + items.map(ConfigValue.quoted).joined(separator: ", ") + "]"
        case .map(let entries):
            "{" + entries.sorted { $0.key < $1.key }.map { "\(ConfigValue.quoted($0.key)): \(ConfigValue.quoted($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    public static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

import Foundation
