
extension NodeSelector {
    /// Whether a node with these labels and this name satisfies the selector, with the API's
    /// rules: terms are ORed, requirements within a term ANDed; `matchFields` knows `metadata.name`.
    /// An empty selector (no terms) matches nothing, as in Kubernetes.
    public func matches(labels: [String: String], name: String) -> Bool {
        nodeSelectorTerms.contains { term in
            let expressions = term.matchExpressions ?? []
            let fields = term.matchFields ?? []
            // A term with no requirements matches nothing.
            guard !expressions.isEmpty || !fields.isEmpty else { return false }
            return expressions.allSatisfy { $0.matches(labels[$0.key]) }
                && fields.allSatisfy { $0.key == "metadata.name" && $0.matches(name) }
        }
    }
}

extension NodeSelectorRequirement {
    /// Whether a label (or field) value, nil when absent, satisfies the requirement.
    public func matches(_ value: String?) -> Bool {
        let values = self.values ?? []
        switch self.operator {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let value, let actual = Int64(value), values.count == 1, let bound = Int64(values[0]) else { return false }
            return self.operator == "Gt" ? actual > bound : actual < bound
        default: return false
        }
    }
}
