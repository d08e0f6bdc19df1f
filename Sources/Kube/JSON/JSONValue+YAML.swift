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
