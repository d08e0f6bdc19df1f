/// A parsed field selector (`metadata.name=db-0,spec.nodeName!=node-2`), as `fields.ParseSelector`
/// reads it: `=`/`==`/`!=` terms joined by commas, with `\` escaping `,`, `=`, `!` and `\` in values.
public struct FieldSelectorExpression: Sendable, Hashable, CustomStringConvertible {
    public struct Term: Sendable, Hashable {
        public var field: String
        public var value: String
        public var negated: Bool

        public init(field: String, value: String, negated: Bool = false) {
            self.field = field
            self.value = value
            self.negated = negated
        }
    }

    public var terms: [Term]

    public init(terms: [Term] = []) { self.terms = terms }

    /// `metadata.name=<name>`.
    public static func name(_ name: String) -> FieldSelectorExpression {
        FieldSelectorExpression(terms: [Term(field: "metadata.name", value: name)])
    }

    /// Whether an object matches, given a way to read a field's value as a string.
    public func matches(_ field: (String) -> String?) -> Bool {
        terms.allSatisfy { term in
            let actual = field(term.field) ?? ""
            return term.negated ? actual != term.value : actual == term.value
        }
    }

    public var description: String {
        terms.map { "\($0.field)\($0.negated ? "!=" : "=")\(Self.escape($0.value))" }.joined(separator: ",")
    }

    static func escape(_ value: String) -> String {
        var result = ""
        for character in value {
            if character == "\\" || character == "," || character == "=" || character == "!" { result.append("\\") }
            result.append(character)
        }
        return result
    }

    public init(parsing text: String) throws(SelectorError) {
        var terms: [Term] = []
        for part in Self.splitUnescaped(text, separator: ",") where !part.trimmingSpaces.isEmpty {
            let characters = Array(part)
            var index = 0
            var field = ""
            var escaped = false
            while index < characters.count {
                let character = characters[index]
                if !escaped && (character == "=" || character == "!") { break }
                escaped = !escaped && character == "\\"
                if !escaped { field.append(character) }
                index += 1
            }
            let rest = String(characters[index...])
            let negated: Bool
            let valueText: Substring
            if rest.hasPrefix("!=") {
                negated = true
                valueText = rest.dropFirst(2)
            } else if rest.hasPrefix("==") {
                negated = false
                valueText = rest.dropFirst(2)
            } else if rest.hasPrefix("=") {
                negated = false
                valueText = rest.dropFirst()
            } else {
                throw SelectorError(selector: text, problem: "\"\(part)\" is not of the form field=value or field!=value")
            }
            let fieldName = field.trimmingSpaces
            guard !fieldName.isEmpty else { throw SelectorError(selector: text, problem: "empty field name in \"\(part)\"") }
            terms.append(Term(field: fieldName, value: Self.unescape(String(valueText)), negated: negated))
        }
        self.terms = terms
    }

    static func splitUnescaped(_ text: String, separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in text {
            if character == separator && !escaped {
                parts.append(current)
                current = ""
                continue
            }
            escaped = !escaped && character == "\\"
            current.append(character)
        }
        parts.append(current)
        return parts
    }

    static func unescape(_ text: String) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
