/// One configuration key: its dotted path in the YAML file, its type, its default and what it
/// does. The list in ``ConfigSchema`` is the single source of truth for the file, the
/// environment variables, `--set`, the defaults printout and the docs.
public struct ConfigKey: Sendable {
    public enum Kind: Sendable {
        case string
        /// A string from a fixed set.
        case choice([String])
        case int(ClosedRange<Int>)
        case double(ClosedRange<Double>)
        case bool
        case list
        case map
    }

    public let path: String
    public let kind: Kind
    public let defaultValue: ConfigValue
    public let help: String

    /// `REBOUND_` and the path in upper snake case: `webhook.tls.certFile` → `REBOUND_WEBHOOK_TLS_CERT_FILE`;
    /// an acronym stays one word: `webhook.tls.clientCAFile` → `REBOUND_WEBHOOK_TLS_CLIENT_CA_FILE`.
    public var environmentVariable: String {
        var name = "REBOUND_"
        let characters = Array(path)
        for (index, character) in characters.enumerated() {
            if character == "." {
                name += "_"
                continue
            }
            if character.isUppercase, index > 0 {
                let previous = characters[index - 1]
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                // A word starts after a lower-case letter, or at the last capital of an acronym.
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && next?.isLowercase == true) { name += "_" }
            }
            name += character.uppercased()
        }
        return name
    }

    /// What the key accepts, for help and errors.
    public var expectation: String {
        switch kind {
        case .string: "a string"
        case .choice(let options): "one of " + options.joined(separator: ", ")
        case .int(let range): "a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .double(let range): "a number from \(range.lowerBound) to \(range.upperBound)"
        case .bool: "true or false"
        case .list: "a list of strings (in flags and variables: comma-separated)"
        case .map: "a map of strings (in flags and variables: key=value,key=value)"
        }
    }

    /// Reads a value written as text (an environment variable or `--set`).
    public func parse(text: String) -> ConfigValue? {
        switch kind {
        case .string: return .string(text)
        case .choice(let options): return options.contains(text) ? .string(text) : nil
        case .int(let range):
            guard let number = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(number) else { return nil }
            return .int(number)
        case .double(let range):
            guard let number = Double(text.trimmingCharacters(in: .whitespaces)), range.contains(number) else { return nil }
            return .double(number)
        case .bool:
            switch text.lowercased() {
            case "true", "1", "yes": return .bool(true)
            case "false", "0", "no": return .bool(false)
            default: return nil
            }
        case .list:
            return .list(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        case .map:
            var entries: [String: String] = [:]
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { return nil }
                entries[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
            }
            return .map(entries)
        }
    }

    /// Checks a value from the YAML file against the key's type and range.
    public func check(_ value: ConfigValue) -> ConfigValue? {
        switch (kind, value) {
        case (.string, .string): return value
        case (.string, .int(let number)): return .string(String(number))
        case (.choice(let options), .string(let text)): return options.contains(text) ? value : nil
        case (.int(let range), .int(let number)): return range.contains(number) ? value : nil
        case (.double(let range), .double(let number)): return range.contains(number) ? value : nil
        case (.double(let range), .int(let number)): return range.contains(Double(number)) ? .double(Double(number)) : nil
        case (.bool, .bool), (.list, .list), (.map, .map): return value
        case (.list, .string(let text)): return .list([text])
        default: return nil
        }
    }
}

import Foundation
