import AsyncHTTPClient
import Foundation
import Kube
public import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The API server's mutating admission: on every create, the MutatingWebhookConfigurations in
/// the store are consulted and each matching webhook is called as kube-apiserver calls it — an
/// `admission.k8s.io/v1` AdmissionReview over HTTPS, the server's certificate checked against the
/// configuration's `caBundle` — and its JSON Patch applied. `failurePolicy`, `timeoutSeconds`,
/// `namespaceSelector`, `objectSelector` and `rules` are honoured.
public final class SimAdmission: Sendable {
    /// Where a webhook `service` reference points (in-cluster DNS does not exist here):
    /// `namespace/name` → `host:port`.
    private let serviceEndpoints: Mutex<[String: String]>
    let logger: Logger
    private let clients = Mutex<[String: HTTPClient]>([:])
    private let calls = Mutex(0)

    public init(serviceEndpoints: [String: String] = [:], logger: Logger = Logger(label: "rebound.sim.admission")) {
        self.serviceEndpoints = Mutex(serviceEndpoints)
        self.logger = logger
    }

    /// Points a webhook service reference (`namespace/name`) at `host:port`.
    public func setServiceEndpoint(_ key: String, _ endpoint: String) { serviceEndpoints.withLock { $0[key] = endpoint } }

    /// Webhook calls made so far.
    public var callCount: Int { calls.withLock { $0 } }

    /// Closes the HTTP clients.
    public func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for client in all { try? await client.shutdown() }
    }

    /// Runs every matching mutating webhook over `object` (being created) and returns the result.
    func mutate(_ object: JSONValue, type: ResourceType, namespace: String?, store: SimStore, dryRun: Bool) async throws(KubeAPIError) -> JSONValue {
        let configurations = (try? await store.list(MutatingWebhook.configurationType, namespace: nil).items) ?? []
        guard !configurations.isEmpty else { return object }
        var namespaceLabels: [String: String] = [:]
        if let namespace, let stored = try? await store.get(Namespace.resourceType, namespace: nil, name: namespace) { namespaceLabels = stored.labels }
        var current = object
        for configuration in configurations.sorted(by: { $0.name < $1.name }) {
            for webhookJSON in configuration.value["webhooks"]?.arrayValue ?? [] {
                guard let webhook = try? webhookJSON.decode(as: MutatingWebhook.self) else { continue }
                guard webhook.matches(type: type, operation: "CREATE", namespace: namespace, namespaceLabels: namespaceLabels, objectLabels: Self.labels(of: current)) else { continue }
                current = try await call(webhook, object: current, type: type, namespace: namespace, dryRun: dryRun)
            }
        }
        return current
    }

    private static func labels(of object: JSONValue) -> [String: String] {
        var labels: [String: String] = [:]
        for (key, value) in object["metadata"]?["labels"]?.objectValue ?? [:] { labels[key] = value.stringValue }
        return labels
    }

    private func call(_ webhook: MutatingWebhook, object: JSONValue, type: ResourceType, namespace: String?, dryRun: Bool) async throws(KubeAPIError) -> JSONValue {
        calls.withLock { $0 += 1 }
        let uid = UUID().uuidString.lowercased()
        let review: JSONValue = [
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": [
                "uid": .string(uid),
                "kind": ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)],
                "resource": ["group": .string(type.group), "version": .string(type.version), "resource": .string(type.plural)],
                "requestKind": ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)],
                "requestResource": ["group": .string(type.group), "version": .string(type.version), "resource": .string(type.plural)],
                "name": .string(object["metadata"]?["name"]?.stringValue ?? ""),
                "namespace": .string(namespace ?? ""),
                "operation": "CREATE",
                "userInfo": ["username": "system:serviceaccount:kube-system:statefulset-controller", "groups": ["system:serviceaccounts", "system:authenticated"]],
                "object": object, "oldObject": .null, "dryRun": .bool(dryRun),
                "options": ["kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"],
            ],
        ]
        let answer: JSONValue
        do {
            answer = try await send(review, to: webhook)
        } catch {
            return try failed(webhook, object: object, "failed calling webhook \"\(webhook.name)\": \(error)")
        }
        do {
            guard let response = answer["response"], response["uid"]?.stringValue == uid else {
                return try failed(webhook, object: object, "webhook \"\(webhook.name)\" answered without a response for uid \(uid)")
            }
            guard response["allowed"]?.boolValue == true else {
                let message = response["status"]?["message"]?.stringValue ?? "no reason given"
                throw KubeAPIError.make(400, .badRequest, "admission webhook \"\(webhook.name)\" denied the request: \(message)")
            }
            guard let encoded = response["patch"]?.stringValue, !encoded.isEmpty else { return object }
            guard response["patchType"]?.stringValue == "JSONPatch", let data = Data(base64Encoded: encoded), let document = try? JSONValue(parsing: data) else {
                return try failed(webhook, object: object, "webhook \"\(webhook.name)\" returned a patch that is not a base64 JSONPatch")
            }
            do {
                return try JSONPatch.apply(JSONPatch.operations(from: document), to: object)
            } catch {
                return try failed(webhook, object: object, "webhook \"\(webhook.name)\" returned a patch that does not apply: \(error)")
            }
        }
    }

    /// What a failed call means: with failurePolicy Ignore the object goes on unchanged.
    private func failed(_ webhook: MutatingWebhook, object: JSONValue, _ message: String) throws(KubeAPIError) -> JSONValue {
        if webhook.failurePolicy == "Ignore" {
            logger.warning("webhook call failed; admitting the object unchanged (failurePolicy Ignore)", metadata: ["webhook": "\(webhook.name)", "error": "\(message)"])
            return object
        }
        throw KubeAPIError.internalError(message)
    }

    private func send(_ review: JSONValue, to webhook: MutatingWebhook) async throws -> JSONValue {
        let url: String
        if let direct = webhook.clientConfig.url {
            url = direct
        } else if let service = webhook.clientConfig.service {
            let key = "\(service.namespace)/\(service.name)"
            guard let endpoint = serviceEndpoints.withLock({ $0[key] }) else {
                throw SimAdmissionError.unresolvable("service \(key) has no endpoint in ClusterSim (map it with a service endpoint)")
            }
            url = "https://\(endpoint)\(service.path ?? "/")"
        } else {
            throw SimAdmissionError.unresolvable("clientConfig has neither url nor service")
        }
        let client = try client(caBundle: webhook.clientConfig.caBundle)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: review.serialized()))
        let response = try await client.execute(request, timeout: .seconds(Int64(webhook.timeoutSeconds ?? 10)))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        guard response.status.code == 200 else {
            throw SimAdmissionError.badAnswer("HTTP \(response.status.code): \(String(buffer: body).prefix(300))")
        }
        return try JSONValue(parsing: Array(body.readableBytesView))
    }

    /// One HTTP client per CA bundle, verifying the webhook's certificate as kube-apiserver does.
    private func client(caBundle: String?) throws -> HTTPClient {
        let key = caBundle ?? ""
        if let existing = clients.withLock({ $0[key] }) { return existing }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caBundle, let pem = Data(base64Encoded: caBundle) {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem)))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let winner = clients.withLock { clients -> HTTPClient in
            if let existing = clients[key] { return existing }
            clients[key] = client
            return client
        }
        if winner !== client { Task { try? await client.shutdown() } }
        return winner
    }
}

enum SimAdmissionError: Error, CustomStringConvertible {
    case unresolvable(String)
    case badAnswer(String)

    var description: String {
        switch self {
        case .unresolvable(let message), .badAnswer(let message): message
        }
    }
}

/// One webhook of an `admissionregistration.k8s.io/v1` MutatingWebhookConfiguration.
struct MutatingWebhook: Decodable {
    static let configurationType = ResourceType(group: "admissionregistration.k8s.io", version: "v1", kind: "MutatingWebhookConfiguration", plural: "mutatingwebhookconfigurations", namespaced: false)

    struct ClientConfig: Decodable {
        struct Service: Decodable {
            var namespace: String
            var name: String
            var path: String?
            var port: Int?
        }

        var url: String?
        var service: Service?
        var caBundle: String?
    }

    struct Rule: Decodable {
        var operations: [String]?
        var apiGroups: [String]?
        var apiVersions: [String]?
        var resources: [String]?
        var scope: String?
    }

    var name: String
    var clientConfig: ClientConfig
    var rules: [Rule]?
    var failurePolicy: String?
    var namespaceSelector: LabelSelector?
    var objectSelector: LabelSelector?
    var timeoutSeconds: Int?

    func matches(type: ResourceType, operation: String, namespace: String?, namespaceLabels: [String: String], objectLabels: [String: String]) -> Bool {
        func covers(_ list: [String]?, _ value: String) -> Bool { (list ?? []).contains("*") || (list ?? []).contains(value) }
        let ruleMatches = (rules ?? []).contains { rule in
            covers(rule.operations, operation) && covers(rule.apiGroups, type.group) && covers(rule.apiVersions, type.version)
                && covers(rule.resources, type.plural) && (rule.scope == nil || rule.scope == "*" || rule.scope == (type.namespaced ? "Namespaced" : "Cluster"))
        }
        guard ruleMatches else { return false }
        if type.namespaced, let selector = namespaceSelector, !LabelSelectorExpression(selector).matches(namespaceLabels) { return false }
        if let selector = objectSelector, !LabelSelectorExpression(selector).matches(objectLabels) { return false }
        return true
    }
}
