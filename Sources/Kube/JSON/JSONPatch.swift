/// Why a patch could not be applied.
public enum JSONPatchError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidPointer(String)
    case pathNotFound(String)
    case testFailed(String)
    case invalidOperation(String)

    public var description: String {
        switch self {
        case .invalidPointer(let text): "invalid JSON pointer \"\(text)\": it must be empty or start with /"
        case .pathNotFound(let path): "path \(path) does not exist in the document"
        case .testFailed(let path): "test operation failed at \(path)"
        case .invalidOperation(let message): "invalid patch operation: \(message)"
        }
    }
}

/// One RFC 6902 operation.
public struct JSONPatchOperation: Sendable, Hashable, Codable {
    public enum Op: String, Sendable, Hashable, Codable {
        case add, remove, replace, move, copy, test
    }

    public var op: Op
    public var path: String
    public var value: JSONValue?
    public var from: String?

    public init(op: Op, path: String, value: JSONValue? = nil, from: String? = nil) {
        self.op = op
        self.path = path
        self.value = value
        self.from = from
    }

    public static func add(_ pointer: JSONPointer, _ value: JSONValue) -> Self {
        .init(op: .add, path: pointer.description, value: value)
    }

    public static func replace(_ pointer: JSONPointer, _ value: JSONValue) -> Self {
        .init(op: .replace, path: pointer.description, value: value)
    }

    public static func remove(_ pointer: JSONPointer) -> Self { .init(op: .remove, path: pointer.description) }

    public static func test(_ pointer: JSONPointer, _ value: JSONValue) -> Self {
        .init(op: .test, path: pointer.description, value: value)
    }

    /// The operation as a JSON object (`value` kept even when it is `null`).
    public var json: JSONValue {
        var members: JSONObject = ["op": .string(op.rawValue), "path": .string(path)]
        if let from { members["from"] = .string(from) }
        if op == .add || op == .replace || op == .test { members["value"] = value ?? .null }
        return .object(members)
    }

    /// Reads an operation from its JSON object form.
    public init(json: JSONValue) throws(JSONPatchError) {
        guard case .object(let members) = json else { throw .invalidOperation("an operation must be an object") }
        guard let name = members["op"]?.stringValue, let op = Op(rawValue: name) else {
            throw .invalidOperation("\"op\" must be one of add, remove, replace, move, copy, test")
        }
        guard let path = members["path"]?.stringValue else { throw .invalidOperation("\"path\" is missing") }
        self.op = op
        self.path = path
        self.value = members["value"]
        self.from = members["from"]?.stringValue
        if (op == .add || op == .replace || op == .test) && value == nil {
            throw .invalidOperation("\(name) at \(path) needs a \"value\"")
        }
        if (op == .move || op == .copy) && from == nil {
            throw .invalidOperation("\(name) at \(path) needs a \"from\"")
        }
    }
}

/// RFC 6902 JSON Patch and RFC 7386 JSON Merge Patch.
public enum JSONPatch {
    /// Parses a JSON Patch document (an array of operations).
    public static func operations(from document: JSONValue) throws(JSONPatchError) -> [JSONPatchOperation] {
        guard case .array(let items) = document else { throw .invalidOperation("a JSON patch must be an array") }
        var result: [JSONPatchOperation] = []
        for item in items { result.append(try JSONPatchOperation(json: item)) }
        return result
    }

    /// Serialises operations as a JSON Patch document.
    public static func document(_ operations: [JSONPatchOperation]) -> JSONValue {
        .array(operations.map(\.json))
    }

    /// Applies operations in order; the whole patch fails if any one does.
    public static func apply(_ operations: [JSONPatchOperation], to document: JSONValue) throws(JSONPatchError) -> JSONValue {
        var result = document
        for operation in operations {
            let pointer = try JSONPointer(parsing: operation.path)
            switch operation.op {
            case .add:
                try put(operation.value ?? .null, at: pointer.tokens[...], in: &result, path: operation.path, replacing: false)
            case .remove:
                _ = try remove(at: pointer.tokens[...], in: &result, path: operation.path)
            case .replace:
                try put(operation.value ?? .null, at: pointer.tokens[...], in: &result, path: operation.path, replacing: true)
            case .move:
                let from = try JSONPointer(parsing: operation.from ?? "")
                if pointer.tokens.starts(with: from.tokens) && pointer.tokens.count > from.tokens.count {
                    throw .invalidOperation("cannot move \(from) into its own child \(pointer)")
                }
                let value = try remove(at: from.tokens[...], in: &result, path: from.description)
                try put(value, at: pointer.tokens[...], in: &result, path: operation.path, replacing: false)
            case .copy:
                let from = try JSONPointer(parsing: operation.from ?? "")
                guard let value = result.value(at: from) else { throw .pathNotFound(from.description) }
                try put(value, at: pointer.tokens[...], in: &result, path: operation.path, replacing: false)
            case .test:
                guard let actual = result.value(at: pointer) else { throw .pathNotFound(operation.path) }
                guard actual.numericallyEquals(operation.value ?? .null) else { throw .testFailed(operation.path) }
            }
        }
        return result
    }

    /// The value's container: an object's members or an array's items, edited in place.
    private enum Container {
        case object(JSONObject)
        case array([JSONValue])
    }

    /// Walks to the container of the last token (every earlier token must exist) and lets `edit`
    /// change it. The storage is moved out while edited, so nothing is copied on the way down.
    private static func withParent<T>(
        of tokens: ArraySlice<String>, in document: inout JSONValue, path: String, _ edit: (inout Container, String) throws(JSONPatchError) -> T
    ) throws(JSONPatchError) -> T {
        guard let token = tokens.first else { throw .invalidOperation("the root has no parent") }
        let rest = tokens.dropFirst()
        switch document {
        case .object(var members):
            document = .null
            defer { document = .object(members) }
            if rest.isEmpty {
                var container = Container.object(members)
                members = [:]
                defer { if case .object(let edited) = container { members = edited } }
                return try edit(&container, token)
            }
            guard var child = members[token] else { throw .pathNotFound(path) }
            members[token] = .null
            defer { members[token] = child }
            return try withParent(of: rest, in: &child, path: path, edit)
        case .array(var items):
            document = .null
            defer { document = .array(items) }
            if rest.isEmpty {
                var container = Container.array(items)
                items = []
                defer { if case .array(let edited) = container { items = edited } }
                return try edit(&container, token)
            }
            guard let position = arrayIndex(token), position < items.count else { throw .pathNotFound(path) }
            var child = items[position]
            items[position] = .null
            defer { items[position] = child }
            return try withParent(of: rest, in: &child, path: path, edit)
        default:
            throw .pathNotFound(path)
        }
    }

    /// RFC 6902 `add` (`replacing` false): sets an object member, or inserts into an array (`-`
    /// appends). `replace` (`replacing` true): replaces an existing value in place (an object
    /// member keeps its position; a missing one is an error).
    private static func put(_ value: JSONValue, at tokens: ArraySlice<String>, in document: inout JSONValue, path: String, replacing: Bool) throws(JSONPatchError) {
        guard !tokens.isEmpty else {
            document = value
            return
        }
        try withParent(of: tokens, in: &document, path: path) { (container: inout Container, token: String) throws(JSONPatchError) in
            switch container {
            case .object(var members):
                if replacing, members[token] == nil { throw .pathNotFound(path) }
                members[token] = value
                container = .object(members)
            case .array(var items):
                if !replacing, token == "-" {
                    items.append(value)
                } else {
                    guard let position = arrayIndex(token), replacing ? position < items.count : position <= items.count else { throw .pathNotFound(path) }
                    if replacing { items[position] = value } else { items.insert(value, at: position) }
                }
                container = .array(items)
            }
        }
    }

    private static func remove(at tokens: ArraySlice<String>, in document: inout JSONValue, path: String) throws(JSONPatchError) -> JSONValue {
        guard !tokens.isEmpty else {
            defer { document = .null }
            return document
        }
        return try withParent(of: tokens, in: &document, path: path) { (container: inout Container, token: String) throws(JSONPatchError) -> JSONValue in
            switch container {
            case .object(var members):
                guard let old = members.removeValue(forKey: token) else { throw .pathNotFound(path) }
                container = .object(members)
                return old
            case .array(var items):
                guard let position = arrayIndex(token), position < items.count else { throw .pathNotFound(path) }
                let old = items.remove(at: position)
                container = .array(items)
                return old
            }
        }
    }

    private static func arrayIndex(_ token: String) -> Int? {
        guard !token.isEmpty, token.allSatisfy(\.isASCII), token.allSatisfy(\.isNumber) else { return nil }
        if token.count > 1 && token.hasPrefix("0") { return nil }
        return Int(token)
    }

    /// Applies an RFC 7386 merge patch: objects merge recursively, `null` deletes, anything else replaces.
    public static func merge(_ patch: JSONValue, into target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var members: JSONObject
        if case .object(let existing) = target { members = existing } else { members = [:] }
        for (key, value) in patchMembers {
            if value.isNull {
                members.removeValue(forKey: key)
            } else {
                members[key] = merge(value, into: members[key] ?? .null)
            }
        }
        return .object(members)
    }

    /// The merge patch that turns `original` into `modified`.
    public static func mergePatch(from original: JSONValue, to modified: JSONValue) -> JSONValue? {
        guard case .object(let old) = original, case .object(let new) = modified else {
            return original == modified ? nil : modified
        }
        var patch = JSONObject()
        for (key, value) in new {
            if let previous = old[key] {
                if let nested = mergePatch(from: previous, to: value) { patch[key] = nested }
            } else {
                patch[key] = value
            }
        }
        for key in old.keys where new[key] == nil { patch[key] = .null }
        return patch.isEmpty ? nil : .object(patch)
    }
}

extension JSONValue {
    /// The value a JSON pointer refers to, or nil.
    public func value(at pointer: JSONPointer) -> JSONValue? {
        var current = self
        for token in pointer.tokens {
            switch current {
            case .object(let members):
                guard let next = members[token] else { return nil }
                current = next
            case .array(let items):
                guard let position = Int(token), items.indices.contains(position) else { return nil }
                current = items[position]
            default:
                return nil
            }
        }
        return current
    }

    /// Equality that treats `1` and `1.0` as the same number, as RFC 6902's `test` requires.
    func numericallyEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.number(let a), .number(let b)): return a == b || Double(a) == Double(b)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.numericallyEquals($1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { value.numericallyEquals($0) } ?? false }
        default: return self == other
        }
    }
}
