import Foundation
import Yams

/// A configuration problem, naming the key, where it came from and how to fix it.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
}

/// The configuration after layering defaults, the file, environment variables and `--set` flags.
public struct ResolvedConfig: Sendable {
    public var values: [String: ConfigValue]
    /// Where each non-default value came from (`file.yaml:12`, `REBOUND_X`, `--set`).
    public var sources: [String: String]

    public func string(_ path: String) -> String {
        if case .string(let text)? = values[path] { return text }
        preconditionFailure("configuration key \(path) is not a string")
    }

    public func int(_ path: String) -> Int {
        if case .int(let number)? = values[path] { return number }
        preconditionFailure("configuration key \(path) is not an integer")
    }

    public func double(_ path: String) -> Double {
        if case .double(let number)? = values[path] { return number }
        preconditionFailure("configuration key \(path) is not a number")
    }

    public func bool(_ path: String) -> Bool {
        if case .bool(let flag)? = values[path] { return flag }
        preconditionFailure("configuration key \(path) is not a boolean")
    }

    public func list(_ path: String) -> [String] {
        if case .list(let items)? = values[path] { return items }
        preconditionFailure("configuration key \(path) is not a list")
    }

    public func map(_ path: String) -> [String: String] {
        if case .map(let entries)? = values[path] { return entries }
        preconditionFailure("configuration key \(path) is not a map")
    }

    /// The effective configuration as YAML-ish `key: value` lines, with sources.
    public func describe() -> String {
        ConfigSchema.keys.map { key in
            let value = values[key.path] ?? key.defaultValue
            return "\(key.path): \(value.yaml)" + (sources[key.path].map { "   # from \($0)" } ?? "")
        }.joined(separator: "\n")
    }
}

/// Builds a ``ResolvedConfig``: defaults, then the YAML file, then `REBOUND_*` variables, then `--set`.
public enum ConfigLoader {
    public static func load(file: String?, environment: [String: String], overrides: [String]) throws(ConfigError) -> ResolvedConfig {
        var config = ResolvedConfig(values: Dictionary(uniqueKeysWithValues: ConfigSchema.keys.map { ($0.path, $0.defaultValue) }), sources: [:])
        if let file, !file.isEmpty {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConfigError(message: "cannot read the configuration file \(file); check the path given to --config")
            }
            try apply(yaml: String(decoding: data, as: UTF8.self), source: file, to: &config)
        }
        for key in ConfigSchema.keys {
            guard let text = environment[key.environmentVariable] else { continue }
            guard let value = key.parse(text: text) else {
                throw ConfigError(message: "\(key.environmentVariable)=\(text): \(key.path) must be \(key.expectation)")
            }
            config.values[key.path] = value
            config.sources[key.path] = key.environmentVariable
        }
        let known = Set(ConfigSchema.keys.map(\.environmentVariable))
        for name in environment.keys.sorted() where name.hasPrefix("REBOUND_") && !known.contains(name) {
            throw ConfigError(message: "unknown environment variable \(name)\(suggestion(forVariable: name)); `rebound config defaults` lists every key and its variable")
        }
        for override in overrides {
            let parts = override.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw ConfigError(message: "--set \(override): write it as key=value, for example --set failover.dryRun=true") }
            let path = String(parts[0]).trimmingCharacters(in: .whitespaces)
            guard let key = ConfigSchema.byPath[path] else {
                throw ConfigError(message: "--set \(override): unknown key \(path)\(suggestion(forPath: path))")
            }
            guard let value = key.parse(text: String(parts[1])) else {
                throw ConfigError(message: "--set \(override): \(path) must be \(key.expectation)")
            }
            config.values[path] = value
            config.sources[path] = "--set"
        }
        applyPreset(to: &config)
        try validate(config)
        return config
    }

    /// Reads the YAML file into `config`, refusing unknown keys and values of the wrong type.
    public static func apply(yaml: String, source: String, to config: inout ResolvedConfig) throws(ConfigError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(message: "\(source) is not valid YAML: \(error)")
        }
        guard let root else { return }
        guard case .mapping(let mapping) = root else {
            throw ConfigError(message: "\(source): the configuration must be a mapping of sections (log, kube, webhook, …)")
        }
        try walk(mapping, prefix: "", source: source, into: &config)
    }

    private static func walk(_ mapping: Node.Mapping, prefix: String, source: String, into config: inout ResolvedConfig) throws(ConfigError) {
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.string else { throw ConfigError(message: "\(location(keyNode, source)): keys must be strings") }
            let path = prefix.isEmpty ? name : "\(prefix).\(name)"
            if let key = ConfigSchema.byPath[path] {
                guard let raw = value(of: valueNode, kind: key.kind), let checked = key.check(raw) else {
                    throw ConfigError(message: "\(location(valueNode, source)): \(path) must be \(key.expectation), not \(valueNode.string ?? "a \(describe(valueNode))")")
                }
                config.values[path] = checked
                config.sources[path] = location(valueNode, source)
            } else if case .mapping(let nested) = valueNode, ConfigSchema.keys.contains(where: { $0.path.hasPrefix(path + ".") }) {
                try walk(nested, prefix: path, source: source, into: &config)
            } else if valueNode.null != nil && ConfigSchema.keys.contains(where: { $0.path.hasPrefix(path + ".") }) {
                continue  // an empty section
            } else {
                throw ConfigError(message: "\(location(keyNode, source)): unknown key \(path)\(suggestion(forPath: path)); `rebound config defaults` prints every key")
            }
        }
    }

    private static func value(of node: Node, kind: ConfigKey.Kind) -> ConfigValue? {
        switch node {
        case .scalar:
            switch kind {
            case .string, .choice: return .string(node.string ?? "")
            case .list: return node.string.map { .list([$0]) }
            default:
                if let number = node.int { return .int(number) }
                if let number = node.float { return .double(number) }
                if let flag = node.bool { return .bool(flag) }
                return node.string.map { .string($0) }
            }
        case .sequence(let sequence):
            var items: [String] = []
            for item in sequence {
                guard let text = item.string else { return nil }
                items.append(text)
            }
            return .list(items)
        case .mapping(let mapping):
            var entries: [String: String] = [:]
            for (key, value) in mapping {
                guard let name = key.string, let text = value.string else { return nil }
                entries[name] = text
            }
            return .map(entries)
        case .alias:
            return nil
        }
    }

    private static func describe(_ node: Node) -> String {
        switch node {
        case .scalar: "scalar"
        case .sequence: "list"
        case .mapping: "mapping"
        case .alias: "alias"
        }
    }

    private static func location(_ node: Node, _ source: String) -> String {
        guard let mark = node.mark else { return source }
        return "\(source):\(mark.line)"
    }

    /// Cross-key rules that single values cannot express.
    public static func validate(_ config: ResolvedConfig) throws(ConfigError) {
        if config.int("leaderElection.renewDeadlineSeconds") >= config.int("leaderElection.leaseDurationSeconds") {
            throw ConfigError(message: "leaderElection.renewDeadlineSeconds (\(config.int("leaderElection.renewDeadlineSeconds"))) must be less than leaderElection.leaseDurationSeconds (\(config.int("leaderElection.leaseDurationSeconds"))), or two leaders could overlap")
        }
        if config.int("leaderElection.retryPeriodSeconds") >= config.int("leaderElection.renewDeadlineSeconds") {
            throw ConfigError(message: "leaderElection.retryPeriodSeconds must be less than leaderElection.renewDeadlineSeconds, or a leader gets no second try to renew")
        }
        for path in ["webhook.path", "extender.filterPath", "extender.prioritizePath", "extender.bindPath"] where !config.string(path).hasPrefix("/") {
            throw ConfigError(message: "\(path) must start with /, got \"\(config.string(path))\"")
        }
        for path in ["extender.sharedLedger.namespace", "extender.sharedLedger.name"] where config.bool("extender.sharedLedger.enabled") {
            let value = config.string(path)
            let allowed = value.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E }
            if value.isEmpty || value.utf8.count > 253 || !allowed || value.hasPrefix("-") || value.hasSuffix("-") {
                throw ConfigError(message: "\(path) must be a Kubernetes object name (lower-case letters, digits, '-' and '.'), got \"\(value)\"")
            }
        }
        if config.string("extender.filterPath") == config.string("extender.prioritizePath") {
            throw ConfigError(message: "extender.filterPath and extender.prioritizePath must differ")
        }
        for path in ["extender.filterPath", "extender.prioritizePath"] where config.string(path) == config.string("extender.bindPath") {
            throw ConfigError(message: "\(path) and extender.bindPath must differ")
        }
        for path in ["extender.filterPath", "extender.prioritizePath", "extender.bindPath"] where ["/healthz", "/livez", "/readyz", "/metrics"].contains(config.string(path)) {
            throw ConfigError(message: "\(path) must not be \(config.string(path)), which the extender serves itself")
        }
        if config.bool("webhook.enabled") && config.bool("extender.enabled") && config.int("webhook.port") == config.int("extender.port") {
            throw ConfigError(message: "webhook.port and extender.port are both \(config.int("webhook.port")); give them different ports")
        }
        for port in ["webhook.port", "extender.port"] where config.int(port) == config.int("health.port") {
            throw ConfigError(message: "\(port) and health.port are both \(config.int("health.port")); give them different ports")
        }
        if (config.string("extender.tls.certFile").isEmpty) != (config.string("extender.tls.keyFile").isEmpty) {
            throw ConfigError(message: "extender.tls.certFile and extender.tls.keyFile must be set together (or both left empty for plain HTTP)")
        }
        if !config.string("extender.tls.clientCAFile").isEmpty && config.string("extender.tls.certFile").isEmpty {
            throw ConfigError(message: "extender.tls.clientCAFile needs extender.tls.certFile and extender.tls.keyFile: client certificates are only checked over HTTPS")
        }
        for listener in ["webhook", "extender"] where !config.list("\(listener).tls.clientAllowedNames").isEmpty && config.string("\(listener).tls.clientCAFile").isEmpty {
            throw ConfigError(message: "\(listener).tls.clientAllowedNames needs \(listener).tls.clientCAFile: names are read from verified client certificates")
        }
        for path in ["compat.migrationAnnotation", "compat.namespaceLabel", "capacity.routingResource", "capacity.requestsAnnotation"] {
            let value = config.string(path)
            guard isQualifiedName(value) else {
                throw ConfigError(message: "\(path) \"\(value)\" is not a valid Kubernetes key; use prefix/name, e.g. example.com/name")
            }
        }
        if config.string("capacity.routingResource").hasPrefix(config.string("capacity.allocatablePrefix")) {
            throw ConfigError(message: "capacity.routingResource must not start with capacity.allocatablePrefix: nodes advertise those resources, and kubelet would reject pods requesting them")
        }
    }

    public static func isQualifiedName(_ value: String) -> Bool {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let name = parts.last, !name.isEmpty, name.count <= 63 else { return false }
        if parts.count == 2 && (parts[0].isEmpty || parts[0].count > 253) { return false }
        return value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._/".contains($0)) }
    }

    public static func suggestion(forPath path: String) -> String {
        let best = ConfigSchema.keys.map(\.path).min { distance($0.lowercased(), path.lowercased()) < distance($1.lowercased(), path.lowercased()) }
        guard let best, distance(best.lowercased(), path.lowercased()) <= 3 else { return "" }
        return " (did you mean \(best)?)"
    }

    public static func suggestion(forVariable name: String) -> String {
        let best = ConfigSchema.keys.map(\.environmentVariable).min { distance($0, name) < distance($1, name) }
        guard let best, distance(best, name) <= 3 else { return "" }
        return " (did you mean \(best)?)"
    }

    /// Levenshtein distance, for "did you mean".
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
