/// A parsed label selector in the string form the API accepts
/// (`app=db,tier!=cache,env in (a,b),!legacy,zone`), with the same grammar as `labels.Parse`.
public struct LabelSelectorExpression: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable {
        case equals = "="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    public struct Requirement: Sendable, Hashable {
        public var key: String
        public var op: Operator
        public var values: [String]

        public init(key: String, op: Operator, values: [String] = []) {
            self.key = key
            self.op = op
            self.values = values
        }

        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .equals: return value == values.first
            case .notEquals: return value != values.first
            case .in: return value.map(values.contains) ?? false
            case .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan, .lessThan:
                guard let value, let number = Int64(value), let bound = values.first.flatMap({ Int64($0) }) else { return false }
                return op == .greaterThan ? number > bound : number < bound
            }
        }

        var text: String {
            switch op {
            case .equals, .notEquals: return "\(key)\(op.rawValue)\(values.first ?? "")"
            case .in, .notIn: return "\(key) \(op.rawValue) (\(values.joined(separator: ",")))"
            case .exists: return key
            case .doesNotExist: return "!\(key)"
            case .greaterThan: return "\(key)>\(values.first ?? "")"
            case .lessThan: return "\(key)<\(values.first ?? "")"
            }
        }
    }

    /// All must hold (the empty selector matches everything).
    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    /// The selector `matchLabels` and `matchExpressions` describe.
    public init(_ selector: LabelSelector) {
        var requirements = (selector.matchLabels ?? [:]).sorted { $0.key < $1.key }.map {
            Requirement(key: $0.key, op: .equals, values: [$0.value])
        }
        for expression in selector.matchExpressions ?? [] {
            let op: Operator =
                switch expression.operator {
                case "In": .in
                case "NotIn": .notIn
                case "Exists": .exists
                default: .doesNotExist
                }
            requirements.append(Requirement(key: expression.key, op: op, values: expression.values ?? []))
        }
        self.requirements = requirements
    }

    public func matches(_ labels: [String: String]?) -> Bool {
        let labels = labels ?? [:]
        return requirements.allSatisfy { $0.matches(labels) }
    }

    public var isEmpty: Bool { requirements.isEmpty }

    public var description: String { requirements.map(\.text).joined(separator: ",") }

    /// Parses the string form; errors name the offending part.
    public init(parsing text: String) throws(SelectorError) {
        var lexer = SelectorLexer(text)
        var requirements: [Requirement] = []
        while true {
            lexer.skipSpaces()
            if lexer.isAtEnd { break }
            var negated = false
            if lexer.consume("!") { negated = true }
            let key = lexer.readIdentifier()
            guard !key.isEmpty else { throw SelectorError(selector: text, problem: "expected a label key at position \(lexer.position)") }
            try Self.validateKey(key, in: text)
            lexer.skipSpaces()
            if negated {
                requirements.append(Requirement(key: key, op: .doesNotExist))
            } else if lexer.isAtEnd || lexer.peek() == "," {
                requirements.append(Requirement(key: key, op: .exists))
            } else if lexer.consume("==") || lexer.consume("=") {
                requirements.append(Requirement(key: key, op: .equals, values: [try Self.value(&lexer, text)]))
            } else if lexer.consume("!=") {
                requirements.append(Requirement(key: key, op: .notEquals, values: [try Self.value(&lexer, text)]))
            } else if lexer.consume(">") {
                requirements.append(Requirement(key: key, op: .greaterThan, values: [try Self.value(&lexer, text)]))
            } else if lexer.consume("<") {
                requirements.append(Requirement(key: key, op: .lessThan, values: [try Self.value(&lexer, text)]))
            } else {
                let word = lexer.readIdentifier()
                let op: Operator
                switch word {
                case "in": op = .in
                case "notin": op = .notIn
                default: throw SelectorError(selector: text, problem: "unknown operator \"\(word)\" after \"\(key)\"")
                }
                lexer.skipSpaces()
                guard lexer.consume("(") else { throw SelectorError(selector: text, problem: "expected '(' after \(word)") }
                var values: [String] = []
                while true {
                    lexer.skipSpaces()
                    if lexer.consume(")") { break }
                    let value = lexer.readIdentifier()
                    try Self.validateValue(value, in: text)
                    values.append(value)
                    lexer.skipSpaces()
                    if lexer.consume(",") { continue }
                    guard lexer.consume(")") else { throw SelectorError(selector: text, problem: "expected ',' or ')' in the value set of \"\(key)\"") }
                    break
                }
                guard !values.isEmpty else { throw SelectorError(selector: text, problem: "\"\(key) \(word)\" needs at least one value") }
                requirements.append(Requirement(key: key, op: op, values: values))
            }
            lexer.skipSpaces()
            if lexer.isAtEnd { break }
            guard lexer.consume(",") else { throw SelectorError(selector: text, problem: "expected ',' at position \(lexer.position)") }
        }
        self.requirements = requirements
    }

    private static func value(_ lexer: inout SelectorLexer, _ text: String) throws(SelectorError) -> String {
        lexer.skipSpaces()
        let value = lexer.readIdentifier()
        try validateValue(value, in: text)
        return value
    }

    static func validateKey(_ key: String, in text: String) throws(SelectorError) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last, !name.isEmpty, name.count <= 63,
            parts.count == 1 || (!parts[0].isEmpty && parts[0].count <= 253)
        else { throw SelectorError(selector: text, problem: "invalid label key \"\(key)\"") }
    }

    static func validateValue(_ value: String, in text: String) throws(SelectorError) {
        guard value.count <= 63 else { throw SelectorError(selector: text, problem: "label value \"\(value)\" is longer than 63 characters") }
    }
}

/// A selector that could not be parsed.
public struct SelectorError: Error, Sendable, Equatable, CustomStringConvertible {
    public var selector: String
    public var problem: String

    public var description: String { "unable to parse selector \"\(selector)\": \(problem)" }
}

/// Splits selector text into identifiers and punctuation.
struct SelectorLexer {
    let characters: [Character]
    var position = 0

    init(_ text: String) { characters = Array(text) }

    var isAtEnd: Bool { position >= characters.count }

    func peek() -> Character? { isAtEnd ? nil : characters[position] }

    mutating func skipSpaces() {
        while let character = peek(), character == " " || character == "\t" { position += 1 }
    }

    mutating func consume(_ token: String) -> Bool {
        let tokenCharacters = Array(token)
        guard position + tokenCharacters.count <= characters.count,
            Array(characters[position..<position + tokenCharacters.count]) == tokenCharacters
        else { return false }
        position += tokenCharacters.count
        return true
    }

    /// Reads a run of characters allowed in keys and values.
    mutating func readIdentifier() -> String {
        let start = position
        while let character = peek(), character.isLetter || character.isNumber || "-_./".contains(character) {
            position += 1
        }
        return String(characters[start..<position])
    }
}
