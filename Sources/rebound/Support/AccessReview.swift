import Foundation
import Kube

/// Asking the API server what Rebound's credentials may do: `rebound check` prints it, `rebound
/// serve` warns at start about what is missing.
enum AccessReview {
    /// One request, cut off after `limit`: an API server that cannot be reached is one clear
    /// error, not minutes of retries.
    static func probe(_ client: KubeClient, within limit: Duration) async throws {
        let server = client.configuration.server
        switch await withDeadline(limit, { _ = try await client.send(.GET, "/version") }) {
        case .success: return
        case .failure(let error): throw CLIError("cannot reach the API server at \(server): \(error)")
        case nil: throw CLIError("cannot reach the API server at \(server): no answer within \(limit) (is the address right, and is the server up?)")
        }
    }

    /// Asks the API server whether these credentials may do `check` (a SelfSubjectAccessReview);
    /// nil when it could not say.
    static func canI(_ client: KubeClient, _ check: RequiredPermissions.Check) async -> Bool? {
        let parts = check.resource.split(separator: "/", maxSplits: 1).map(String.init)
        var attributes: JSONObject = ["verb": .string(check.verb), "group": .string(check.group), "resource": .string(parts[0])]
        if parts.count > 1 { attributes["subresource"] = .string(parts[1]) }
        if let namespace = check.namespace { attributes["namespace"] = .string(namespace) }
        if let name = check.name { attributes["name"] = .string(name) }
        let review: JSONValue = [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": ["resourceAttributes": .object(attributes)],
        ]
        guard let response = try? await client.send(.POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body: review.serialized()),
            let answer = try? JSONValue(parsing: response.bytes)
        else { return nil }
        return answer["status"]?["allowed"]?.boolValue ?? false
    }

    static func resourceName(_ check: RequiredPermissions.Check) -> String {
        var text = check.group.isEmpty ? check.resource : "\(check.resource).\(check.group)"
        if let name = check.name { text += " \(name)" }
        if let namespace = check.namespace { text += " (in \(namespace))" }
        return text
    }

    /// The permissions as a table for people.
    static func table(_ access: [(check: RequiredPermissions.Check, allowed: Bool?)]) -> String {
        let rows = access.map { item in
            [item.allowed == true ? "allowed" : item.allowed == false ? "DENIED" : "unknown", item.check.verb, resourceName(item.check), item.check.part]
        }
        return TextTable.render(["ACCESS", "VERB", "RESOURCE", "NEEDED BY"], rows, separator: "  ")
    }

    /// Asks about every check, in order.
    static func review(_ client: KubeClient, _ checks: [RequiredPermissions.Check]) async -> [(check: RequiredPermissions.Check, allowed: Bool?)] {
        var access: [(check: RequiredPermissions.Check, allowed: Bool?)] = []
        for check in checks { access.append((check, await canI(client, check))) }
        return access
    }
}
