import Foundation
public import Kube

/// The simulated API server's request handling: routing, discovery, CRUD, watch, auth and fault
/// injection, over ``SimStore``. Independent of the HTTP library so it can be tested directly;
/// ``SimServer`` puts it on a socket.
public final class SimAPI: Sendable {
    public let store: SimStore
    public let faults: SimFaults
    public let auth: SimAuth
    /// Largest request body accepted (the API server's limit is 3 MiB).
    public let maxBodyBytes: Int
    /// Mutating admission webhooks, called on every create (nil: none).
    public let admission: SimAdmission?
    let resources: [SimResource]

    public init(
        store: SimStore, resources: [SimResource] = SimResource.all, faults: SimFaults = SimFaults(), auth: SimAuth = SimAuth(),
        admission: SimAdmission? = nil, maxBodyBytes: Int = 3 * 1024 * 1024
    ) {
        self.store = store
        self.faults = faults
        self.auth = auth
        self.admission = admission
        self.maxBodyBytes = maxBodyBytes
        self.resources = resources
    }

    enum Route {
        case version
        case health
        case apiVersions
        case groupList
        case group(String)
        case resourceList(group: String, version: String)
        case openAPIIndex
        case openAPI(group: String, version: String)
        case resource(SimResource, namespace: String?, name: String?, subresource: String?)
    }

    /// Answers one request.
    public func handle(_ request: SimRequest, serverAddress: String = "127.0.0.1") async -> SimResponse {
        let latency = await faults.latency
        if latency > .zero { try? await Task.sleep(for: latency) }
        await faults.hold(request)
        if !request.path.hasPrefix("/version") && !request.path.hasPrefix("/healthz") && !request.path.hasPrefix("/readyz") && !request.path.hasPrefix("/livez") {
            guard await auth.allows(request.header("authorization")) else { return Self.error(.unauthorized()) }
        }
        if let failure = await faults.failure(for: request) {
            let error = KubeAPIError.make(failure.code, KubeAPIError.Reason(rawValue: failure.reason) ?? .unknown, failure.message, retryAfter: failure.retryAfterSeconds)
            return Self.error(error)
        }
        if request.body.count > maxBodyBytes {
            return Self.error(.tooLarge("the request body is \(request.body.count) bytes, more than the limit of \(maxBodyBytes)"))
        }
        if request.path == Self.accessReviewPath {
            return await reviewAccess(request)
        }
        guard let route = route(request.path) else {
            return Self.error(.make(404, .notFound, "the server could not find the requested resource"))
        }
        let discovery = SimDiscovery(resources: resources, serverAddress: serverAddress)
        switch route {
        case .version: return .json(200, SimDiscovery.version)
        case .health: return .bytes(status: 200, contentType: "text/plain", body: Array("ok".utf8), headers: [])
        case .apiVersions: return .json(200, discovery.coreVersions)
        case .groupList: return .json(200, discovery.groupList)
        case .group(let name):
            guard let group = discovery.group(name) else { return Self.error(.make(404, .notFound, "the server could not find the requested resource")) }
            return .json(200, group)
        case .resourceList(let group, let version):
            guard let list = discovery.resourceList(group: group, version: version) else {
                return Self.error(.make(404, .notFound, "the server could not find the requested resource"))
            }
            return .json(200, list)
        case .openAPIIndex: return .json(200, discovery.openAPIIndex)
        case .openAPI(let group, let version):
            guard let document = discovery.openAPIDocument(group: group, version: version) else {
                return Self.error(.make(404, .notFound, "the server could not find the requested resource"))
            }
            return .json(200, document)
        case .resource(let resource, let namespace, let name, let subresource):
            do {
                return try await handleResource(request, resource: resource, namespace: namespace, name: name, subresource: subresource)
            } catch {
                return Self.error(error)
            }
        }
    }

    // MARK: In-process writes

    /// Creates an object as a request would (the path ClusterSim's own controllers use), so the
    /// same server-side processing applies whoever creates it.
    public func create(_ type: ResourceType, namespace: String?, object: JSONValue, dryRun: Bool = false) async throws(KubeAPIError) -> StoredObject {
        var object = object
        if let admission {
            object = try await admission.mutate(object, type: type, namespace: namespace ?? object["metadata"]?["namespace"]?.stringValue, store: store, dryRun: dryRun)
        }
        return try await store.create(type, namespace: namespace, object: object, dryRun: dryRun)
    }

    // MARK: Routing

    func route(_ path: String) -> Route? {
        let parts = path.split(separator: "/").map(String.init)
        switch parts.first {
        case "version": return .version
        case "healthz", "readyz", "livez": return .health
        case "openapi":
            if parts.count == 2 && parts[1] == "v3" { return .openAPIIndex }
            if parts.count == 4 && parts[1] == "v3" && parts[2] == "api" { return .openAPI(group: "", version: parts[3]) }
            if parts.count == 5 && parts[1] == "v3" && parts[2] == "apis" { return .openAPI(group: parts[3], version: parts[4]) }
            return nil
        case "api":
            if parts.count == 1 { return .apiVersions }
            if parts.count == 2 { return resources.contains { $0.type.group.isEmpty && $0.type.version == parts[1] } ? .resourceList(group: "", version: parts[1]) : nil }
            return resourceRoute(group: "", version: parts[1], rest: Array(parts[2...]))
        case "apis":
            if parts.count == 1 { return .groupList }
            if parts.count == 2 { return .group(parts[1]) }
            if parts.count == 3 { return .resourceList(group: parts[1], version: parts[2]) }
            return resourceRoute(group: parts[1], version: parts[2], rest: Array(parts[3...]))
        default: return nil
        }
    }

    private func resourceRoute(group: String, version: String, rest: [String]) -> Route? {
        func find(_ plural: String) -> SimResource? {
            resources.first { $0.type.group == group && $0.type.version == version && $0.type.plural == plural }
        }
        if rest.count >= 3, rest[0] == "namespaces", let resource = find(rest[2]), resource.type.namespaced {
            guard rest.count <= 5 else { return nil }
            return .resource(resource, namespace: rest[1], name: rest.count > 3 ? rest[3] : nil, subresource: rest.count > 4 ? rest[4] : nil)
        }
        guard let resource = find(rest[0]), rest.count <= 3 else { return nil }
        return .resource(resource, namespace: nil, name: rest.count > 1 ? rest[1] : nil, subresource: rest.count > 2 ? rest[2] : nil)
    }

    // MARK: Resources

    private func handleResource(_ request: SimRequest, resource: SimResource, namespace: String?, name: String?, subresource: String?) async throws(KubeAPIError) -> SimResponse {
        let type = resource.type
        if subresource == "binding", type == Pod.resourceType, let namespace, let name {
            guard request.method == "POST" else { throw .methodNotAllowed("\(request.method) is not supported on pods/binding; use POST") }
            _ = try await store.bind(namespace: namespace, binding: try parseBody(request), podName: name, dryRun: request.query["dryRun"] == "All")
            return .json(201, ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": 201])
        }
        if let subresource, subresource != "status" {
            throw .make(404, .notFound, "the server could not find the requested resource (\(type)/\(subresource))")
        }
        let dryRun = request.query["dryRun"] == "All"
        let wantsTable = (request.header("accept") ?? "").contains("as=Table")
        switch (request.method, name) {
        case ("GET", nil):
            let labels = try parseLabels(request.query["labelSelector"])
            let fields = try parseFields(request.query["fieldSelector"])
            if request.flag("watch") {
                return try await watch(request, type: type, namespace: namespace, labels: labels, fields: fields, table: wantsTable)
            }
            let limit = request.query["limit"].flatMap { Int($0) }
            let page = try await store.list(type, namespace: namespace, labels: labels, fields: fields, limit: limit, continueToken: request.query["continue"])
            if wantsTable { return .json(200, SimTableView.table(for: type, objects: page.items.map(\.value), resourceVersion: page.resourceVersion, continueToken: page.continueToken)) }
            return .bytes(status: 200, contentType: "application/json", body: Self.listBody(type, page), headers: [])
        case ("GET", let name?):
            let object = try await store.get(type, namespace: namespace, name: name)
            if wantsTable { return .json(200, SimTableView.table(for: type, objects: [object.value], resourceVersion: object.resourceVersion, continueToken: nil)) }
            return .bytes(status: 200, contentType: "application/json", body: object.encoded, headers: [])
        case ("POST", nil):
            let body = try parseBody(request)
            let created = try await create(type, namespace: namespace, object: body, dryRun: dryRun)
            return .bytes(status: 201, contentType: "application/json", body: created.encoded, headers: [])
        case ("PUT", let name?):
            let body = try parseBody(request)
            let updated = try await store.update(type, namespace: namespace, name: name, object: body, subresource: subresource, dryRun: dryRun)
            return .bytes(status: 200, contentType: "application/json", body: updated.encoded, headers: [])
        case ("PATCH", let name?):
            let contentType = (request.header("content-type") ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard let patchType = SimStore.PatchType(rawValue: contentType) else { throw .unsupportedMediaType(contentType) }
            let body = try parseBody(request)
            let patched = try await store.patch(type, namespace: namespace, name: name, patchType: patchType, patch: body, subresource: subresource, dryRun: dryRun)
            return .bytes(status: 200, contentType: "application/json", body: patched.encoded, headers: [])
        case ("DELETE", let name?):
            let options = try deleteOptions(request)
            let outcome = try await store.delete(type, namespace: namespace, name: name, options: options)
            switch outcome {
            case .pending(let object):
                return .bytes(status: 200, contentType: "application/json", body: object.encoded, headers: [])
            case .deleted(let object):
                if resource.gracefulDeletion { return .bytes(status: 200, contentType: "application/json", body: object.encoded, headers: []) }
                var details: JSONObject = ["name": .string(object.name), "kind": .string(type.plural), "uid": .string(object.uid)]
                details["group"] = .string(type.group)
                return .json(200, ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "details": .object(details)])
            }
        case ("DELETE", nil):
            let labels = try parseLabels(request.query["labelSelector"])
            let fields = try parseFields(request.query["fieldSelector"])
            let options = try deleteOptions(request)
            let page = try await store.list(type, namespace: namespace, labels: labels, fields: fields)
            for object in page.items {
                _ = try? await store.delete(type, namespace: object.namespace.isEmpty ? nil : object.namespace, name: object.name, options: options)
            }
            return .json(200, ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success"])
        default:
            throw .methodNotAllowed("\(request.method) is not supported on \(name == nil ? "collections" : "objects") of \(type)")
        }
    }

    private func watch(_ request: SimRequest, type: ResourceType, namespace: String?, labels: LabelSelectorExpression, fields: FieldSelectorExpression, table: Bool) async throws(KubeAPIError) -> SimResponse {
        let from = request.query["resourceVersion"].flatMap { UInt64($0) }
        let subscription: SimStore.WatchSubscription
        do {
            subscription = try await store.watch(type, namespace: namespace, labels: labels, fields: fields, from: from, bookmarks: request.flag("allowWatchBookmarks"))
        } catch {
            // Past authentication, watch failures travel inside the stream, as an ERROR event.
            let (frames, continuation) = AsyncStream<[UInt8]>.makeStream()
            continuation.yield(SimStore.errorFrame(error))
            continuation.finish()
            return .stream(contentType: "application/json", frames: frames)
        }
        let timeout = request.query["timeoutSeconds"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        let store = self.store
        let id = subscription.id
        let (frames, continuation) = AsyncStream<[UInt8]>.makeStream()
        let forward = Task {
            var first = true
            for await frame in subscription.frames {
                if table, let converted = SimTableView.frame(frame, type: type, includeColumns: first) {
                    continuation.yield(converted)
                } else {
                    continuation.yield(frame)
                }
                first = false
            }
            continuation.finish()
        }
        let timer = timeout.map { seconds in
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                await store.stopWatch(type, id: id)
            }
        }
        continuation.onTermination = { _ in
            forward.cancel()
            timer?.cancel()
            Task { await store.stopWatch(type, id: id) }
        }
        return .stream(contentType: "application/json", frames: frames)
    }

    // MARK: Parsing

    private func parseBody(_ request: SimRequest) throws(KubeAPIError) -> JSONValue {
        guard !request.body.isEmpty else { throw .badRequest("the request has no body; send a JSON object") }
        do {
            return try JSONValue(parsing: request.body)
        } catch {
            throw .badRequest("the request body is not valid JSON: \(error)")
        }
    }

    private func parseLabels(_ text: String?) throws(KubeAPIError) -> LabelSelectorExpression {
        guard let text, !text.isEmpty else { return LabelSelectorExpression() }
        do {
            return try LabelSelectorExpression(parsing: text)
        } catch {
            throw .badRequest(error.description)
        }
    }

    private func parseFields(_ text: String?) throws(KubeAPIError) -> FieldSelectorExpression {
        guard let text, !text.isEmpty else { return FieldSelectorExpression() }
        do {
            return try FieldSelectorExpression(parsing: text)
        } catch {
            throw .badRequest(error.description)
        }
    }

    private func deleteOptions(_ request: SimRequest) throws(KubeAPIError) -> SimStore.DeleteOptions {
        var options = SimStore.DeleteOptions()
        if !request.body.isEmpty {
            let body = try parseBody(request)
            options.gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue
            options.preconditionUID = body["preconditions"]?["uid"]?.stringValue
            options.preconditionResourceVersion = body["preconditions"]?["resourceVersion"]?.stringValue
            options.propagationPolicy = body["propagationPolicy"]?.stringValue
            options.dryRun = body["dryRun"]?.arrayValue?.contains(.string("All")) ?? false
        }
        if let grace = request.query["gracePeriodSeconds"].flatMap({ Int64($0) }) { options.gracePeriodSeconds = grace }
        if let policy = request.query["propagationPolicy"] { options.propagationPolicy = policy }
        if request.query["dryRun"] == "All" { options.dryRun = true }
        return options
    }

    // MARK: Answers

    static func listBody(_ type: ResourceType, _ page: SimStore.ListPage) -> [UInt8] {
        var metadata: JSONObject = ["resourceVersion": .string(String(page.resourceVersion))]
        if let token = page.continueToken { metadata["continue"] = .string(token) }
        if let remaining = page.remainingItemCount { metadata["remainingItemCount"] = .int(remaining) }
        var body: [UInt8] = []
        body.reserveCapacity(page.items.reduce(256) { $0 + $1.encoded.count + 1 })
        body.append(contentsOf: "{\"kind\":\"\(type.kind)List\",\"apiVersion\":\"\(type.apiVersion)\",\"metadata\":".utf8)
        JSONValue.object(metadata).serialize(into: &body)
        body.append(contentsOf: ",\"items\":[".utf8)
        for (index, item) in page.items.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: item.encoded)
        }
        body.append(contentsOf: "]}".utf8)
        return body
    }

    static func error(_ error: KubeAPIError) -> SimResponse {
        let body = (try? JSONValue(encoding: error.status))?.serialized() ?? Array(error.message.utf8)
        var headers: [(String, String)] = []
        if let retryAfter = error.retryAfterSeconds { headers.append(("Retry-After", String(retryAfter))) }
        return .bytes(status: error.code, contentType: "application/json", body: body, headers: headers)
    }
}

extension SimAPI {
    static let accessReviewPath = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

    /// `POST …/selfsubjectaccessreviews` (what `kubectl auth can-i` sends): may the caller do
    /// `spec.resourceAttributes`? Answered from ``SimAuth``: an authenticated caller may do
    /// anything but what a test denied it.
    func reviewAccess(_ request: SimRequest) async -> SimResponse {
        guard request.method == "POST" else { return Self.error(.methodNotAllowed("\(request.method) is not supported on selfsubjectaccessreviews; use POST")) }
        guard var review = try? JSONValue(parsing: request.body), let attributes = review["spec"]?["resourceAttributes"] else {
            return Self.error(.invalid(ResourceType(group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview", plural: "selfsubjectaccessreviews", namespaced: false),
                                       name: "", "spec.resourceAttributes is required", field: "spec.resourceAttributes"))
        }
        var resource = attributes["resource"]?.stringValue ?? ""
        if let subresource = attributes["subresource"]?.stringValue, !subresource.isEmpty { resource += "/\(subresource)" }
        let denied = await auth.denies(request.header("authorization"), verb: attributes["verb"]?.stringValue ?? "", group: attributes["group"]?.stringValue ?? "", resource: resource)
        review["status"] = denied ? ["allowed": false, "denied": true, "reason": "denied by the test's rules"] : ["allowed": true, "reason": "ClusterSim allows authenticated callers"]
        review["apiVersion"] = "authorization.k8s.io/v1"
        review["kind"] = "SelfSubjectAccessReview"
        return .json(201, review)
    }
}

/// Bearer tokens the simulated server accepts; none configured means no authentication. Tests
/// can deny verbs on resources (to a token, or to every caller) for access reviews.
public actor SimAuth {
    private var tokens: Set<String>?
    /// Denied `verb group/resource` per token ("" for every caller).
    private var denials: [String: Set<String>] = [:]

    public init(tokens: Set<String>? = nil) { self.tokens = tokens }

    /// Replaces the accepted tokens (nil turns authentication off), e.g. to rotate a token in a test.
    public func setTokens(_ tokens: Set<String>?) { self.tokens = tokens }

    /// Denies `verb` on `group`/`resource` (`pods`, `pods/binding`…) to `token`, or to every
    /// caller when nil. Only access reviews consult denials; requests themselves are not checked.
    public func deny(verb: String, group: String = "", resource: String, token: String? = nil) {
        denials[token ?? "", default: []].insert("\(verb) \(group)/\(resource)")
    }

    func denies(_ authorization: String?, verb: String, group: String, resource: String) -> Bool {
        let key = "\(verb) \(group)/\(resource)"
        let token = authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
        return denials[""]?.contains(key) == true || denials[token]?.contains(key) == true
    }

    func allows(_ authorization: String?) -> Bool {
        guard let tokens else { return true }
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        return tokens.contains(String(authorization.dropFirst(7)))
    }
}
