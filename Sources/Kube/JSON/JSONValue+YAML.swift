import Yams

extension JSONValue {
    /// Reads every document of a YAML stream (`---`-separated, as `kubectl apply -f` takes),
    /// typing scalars by YAML 1.1's core rules: `"188"` stays a string, `188` becomes a number.
    /// Empty documents are skipped.
    public static func documents(fromYAML text: String) throws -> [JSONValue] {
        var result: [JSONValue] = []
        // The parser directly, not compose_all: its sequence ends quietly at a syntax error.
        let parser = try Parser(yaml: text)
        while let node = try parser.nextRoot() {
            let value = try JSONValue(yamlNode: node)
            if !value.isNull { result.append(value) }
        }
        return result
    }

    init(yamlNode node: Yams.Node) throws {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: self = .null
            case .bool: self = node.bool.map { .bool($0) } ?? .string(scalar.string)
            case .int:
                if let whole = node.int { self = .number(String(whole)) } else { self = .string(scalar.string) }
            case .float:
                if (try? JSONValue(parsing: scalar.string))?.doubleValue != nil {
                    self = .number(scalar.string)
                } else if let number = node.float, number.isFinite {
                    self = .number(String(number))
                } else {
                    self = .string(scalar.string)
                }
            default: self = .string(scalar.string)
            }
        case .sequence(let sequence):
            self = .array(try sequence.map { try JSONValue(yamlNode: $0) })
        case .mapping(let mapping):
            var members = JSONObject()
            for (key, value) in mapping {
                guard let name = key.string else { throw YAMLConversionError(message: "a mapping key is not a string") }
                members[name] = try JSONValue(yamlNode: value)
            }
            self = .object(members)
        case .alias:
            throw YAMLConversionError(message: "YAML aliases are not supported in Kubernetes manifests")
        }
    }
}

/// A YAML document that has no JSON equivalent.
public struct YAMLConversionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension JSONValue {
    /// The value as a YAML document (`-o yaml`), reading back to the same value: members in
    /// order, strings that YAML would read as something else (numbers, booleans, null, or with
    /// special characters) double-quoted.
    public var yamlText: String {
        (try? Yams.serialize(node: yamlNode, sortKeys: false)) ?? "\(self)\n"
    }

    private var yamlNode: Yams.Node {
        switch self {
        case .null: return Yams.Node("null", Tag(.null))
        case .bool(let flag): return Yams.Node(flag ? "true" : "false", Tag(.bool))
        case .number(let text): return Yams.Node(text, Tag(.int))
        case .string(let text):
            return Yams.Node(text, Tag(.str), Self.isPlainYAML(text) ? .plain : .doubleQuoted)
        case .array(let items): return Yams.Node(items.map(\.yamlNode))
        case .object(let members): return Yams.Node(members.map { (Yams.Node($0.key, Tag(.str), Self.isPlainYAML($0.key) ? .plain : .doubleQuoted), $0.value.yamlNode) })
        }
    }

    /// Whether a string can be written unquoted and still read back as that string.
    private static func isPlainYAML(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        let allowed = text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._/-".unicodeScalars.contains($0)) }
        let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf"]
        return allowed && !reserved.contains(text.lowercased())
    }
}
