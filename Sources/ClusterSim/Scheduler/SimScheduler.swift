import AsyncHTTPClient
import Capacity
public import Foundation
public import Kube
public import Logging
import NIOCore
import NIOSSL
import Synchronization

/// One placement the scheduler made, with how it scored the candidates.
public struct SchedulingDecision: Sendable {
    public var pod: String
    public var podUID: String
    public var node: String
    /// Per candidate node: the scheduler's own score (0…100) and each extender's weighted score.
    public var scores: [String: (own: Int64, extender: Int64)]
    public var at: Date
}

/// The default scheduler's essentials, in one loop: for each pending pod of a served scheduler
/// name, filter nodes (Ready, not cordoned, taints tolerated, nodeSelector, cpu/memory/pods and
/// extended resources fit, bound volumes' node affinity), ask the extenders that are interested
/// in the pod (through `managedResources`) to filter and prioritize — over HTTP(S) in
/// kube-scheduler's wire format, full NodeList or NodeNames — combine the scores (own
/// LeastAllocated 0…100, plus each extender's 0…10 × weight × 10), and bind, through the
/// extender's bind verb when it has one.
public final class SimScheduler: SimController {
    public let configuration: SchedulerConfiguration
    let api: SimAPI
    let logger: Logger
    private let clients = Mutex<[Int: HTTPClient]>([:])
    private let decisionsLog = Mutex<[SchedulingDecision]>([])

    public init(api: SimAPI, configuration: SchedulerConfiguration, logger: Logger = Logger(label: "rebound.sim.scheduler")) {
        self.api = api
        self.configuration = configuration
        self.logger = logger
    }

    public var name: String { "scheduler" }
    public var watches: [ResourceType] { [Pod.resourceType, Node.resourceType, PersistentVolumeClaim.resourceType, PersistentVolume.resourceType] }

    /// Every placement so far, oldest first.
    public var decisions: [SchedulingDecision] { decisionsLog.withLock { $0 } }

    public func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for client in all { try? await client.shutdown() }
    }

    public func reconcile() async throws {
        let store = api.store
        let pending = try await store.list(Pod.resourceType, namespace: nil).items.filter { pod in
            !pod.isDeleting && (pod.value["spec"]?["nodeName"]?.stringValue ?? "").isEmpty
                && configuration.schedulerNames.contains(pod.value["spec"]?["schedulerName"]?.stringValue ?? "default-scheduler")
        }
        // Oldest first, as kube-scheduler's queue would take them.
        for pod in pending.sorted(by: { $0.resourceVersion < $1.resourceVersion }) {
            guard let current = try? await store.get(Pod.resourceType, namespace: pod.namespace, name: pod.name),
                (current.value["spec"]?["nodeName"]?.stringValue ?? "").isEmpty, current.uid == pod.uid
            else { continue }
            await schedule(current)
        }
    }

    // MARK: One pod

    private func schedule(_ pod: StoredObject) async {
        let store = api.store
        guard let snapshot = try? await ClusterSnapshot.take(store, ignoring: ignoredResources) else { return }
        var reasons: [String: String] = [:]
        var candidates: [ClusterSnapshot.NodeInfo] = []
        for node in snapshot.nodes {
            if let reason = snapshot.unfit(pod.value, on: node, namespace: pod.namespace) {
                reasons[node.name] = reason
            } else {
                candidates.append(node)
            }
        }
        var extenderScores: [String: Int64] = [:]
        let interested = configuration.extenders.enumerated().filter { $0.element.isInterested(in: pod.value) }
        for (index, extender) in interested where !candidates.isEmpty {
            do {
                if let verb = extender.filterVerb {
                    let (passing, failed) = try await filter(pod.value, candidates, with: extender, index: index, snapshot: snapshot)
                    for (node, reason) in failed { reasons[node] = "\(reason) (extender)" }
                    candidates = candidates.filter { passing.contains($0.name) }
                    _ = verb
                }
                if let verb = extender.prioritizeVerb, !candidates.isEmpty {
                    let scores = try await prioritize(pod.value, candidates, verb: verb, with: extender, index: index, snapshot: snapshot)
                    for (node, score) in scores { extenderScores[node, default: 0] += score * extender.weight * 10 }
                }
            } catch {
                if extender.ignorable { continue }
                await fail(pod, message: "extender \(extender.urlPrefix) failed: \(error)")
                return
            }
        }
        guard !candidates.isEmpty else {
            let summary = Dictionary(grouping: reasons.values, by: { $0 }).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
            await fail(pod, message: "0/\(snapshot.nodes.count) nodes are available: \(summary.isEmpty ? "no nodes" : summary).")
            return
        }
        var scores: [String: (own: Int64, extender: Int64)] = [:]
        for node in candidates { scores[node.name] = (snapshot.leastAllocatedScore(pod.value, on: node), extenderScores[node.name] ?? 0) }
        let chosen = candidates.map(\.name).max { lhs, rhs in
            let (left, right) = (scores[lhs]!.own + scores[lhs]!.extender, scores[rhs]!.own + scores[rhs]!.extender)
            return left == right ? lhs > rhs : left < right
        }!
        // Recorded before binding, so whoever sees the binding can look the scores up.
        decisionsLog.withLock { $0.append(SchedulingDecision(pod: pod.key, podUID: pod.uid, node: chosen, scores: scores, at: Date())) }
        do {
            var bound = false
            // kube-scheduler's extendersBinding: the first interested binder binds; when it fails
            // and is ignorable, the scheduler skips it and binds the pod itself.
            if let (index, extender) = interested.first(where: { $0.element.bindVerb != nil }) {
                do {
                    try await bind(pod, to: chosen, with: extender, index: index)
                    bound = true
                } catch where extender.ignorable {
                    logger.info("skipping an ignorable extender's failed bind", metadata: ["pod": "\(pod.key)", "error": "\(error)"])
                }
            }
            if !bound {
                _ = try await store.bind(namespace: pod.namespace, binding: [
                    "apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(pod.name), "uid": .string(pod.uid)],
                    "target": ["kind": "Node", "name": .string(chosen)],
                ], podName: pod.name)
            }
        } catch {
            decisionsLog.withLock { log in log.removeAll { $0.podUID == pod.uid && $0.node == chosen } }
            await fail(pod, message: "binding to \(chosen) failed: \(error)")
            return
        }
        logger.info("scheduled", metadata: ["pod": "\(pod.key)", "node": "\(chosen)", "candidates": "\(candidates.count)"])
        await event(pod, reason: "Scheduled", message: "Successfully assigned \(pod.key) to \(chosen)", warning: false)
    }

    private func fail(_ pod: StoredObject, message: String) async {
        logger.info("cannot schedule", metadata: ["pod": "\(pod.key)", "why": "\(message)"])
        await event(pod, reason: "FailedScheduling", message: message, warning: true)
    }

    private func event(_ pod: StoredObject, reason: String, message: String, warning: Bool) async {
        let now = JSONValue.string(KubeTime.format(Date(), micro: false))
        let event: JSONValue = [
            "metadata": ["name": .string("\(pod.name).\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"), "namespace": .string(pod.namespace)],
            "involvedObject": ["apiVersion": "v1", "kind": "Pod", "namespace": .string(pod.namespace), "name": .string(pod.name), "uid": .string(pod.uid)],
            "reason": .string(reason), "message": .string(message), "type": warning ? "Warning" : "Normal",
            "source": ["component": "default-scheduler"], "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        ]
        _ = try? await api.store.create(Event.resourceType, namespace: pod.namespace, object: event)
    }

    private var ignoredResources: Set<String> {
        Set(configuration.extenders.flatMap { $0.managedResources.filter(\.ignoredByScheduler).map(\.name) })
    }

    // MARK: Talking to extenders (kube-scheduler's wire format: Go field names)

    private func filter(
        _ pod: JSONValue, _ candidates: [ClusterSnapshot.NodeInfo], with extender: SchedulerConfiguration.Extender, index: Int, snapshot: ClusterSnapshot
    ) async throws -> (passing: Set<String>, failed: [String: String]) {
        let answer = try await call(extender, index: index, verb: extender.filterVerb ?? "filter", body: arguments(pod, candidates, extender))
        if let error = answer["Error"]?.stringValue, !error.isEmpty { throw SimSchedulerError.extender(error) }
        var passing: Set<String> = []
        if extender.nodeCacheCapable {
            for name in answer["NodeNames"]?.arrayValue ?? [] { if let text = name.stringValue { passing.insert(text) } }
        } else {
            for node in answer["Nodes"]?["items"]?.arrayValue ?? [] { if let name = node["metadata"]?["name"]?.stringValue { passing.insert(name) } }
        }
        var failed: [String: String] = [:]
        for key in ["FailedNodes", "FailedAndUnresolvableNodes"] {
            for (node, reason) in answer[key]?.objectValue ?? [:] { failed[node] = reason.stringValue ?? "rejected" }
        }
        return (passing, failed)
    }

    private func prioritize(
        _ pod: JSONValue, _ candidates: [ClusterSnapshot.NodeInfo], verb: String, with extender: SchedulerConfiguration.Extender, index: Int, snapshot: ClusterSnapshot
    ) async throws -> [String: Int64] {
        let answer = try await call(extender, index: index, verb: verb, body: arguments(pod, candidates, extender))
        var scores: [String: Int64] = [:]
        for entry in answer.arrayValue ?? [] {
            guard let host = entry["Host"]?.stringValue, let score = entry["Score"]?.intValue else { continue }
            scores[host] = min(max(score, 0), 10)
        }
        return scores
    }

    private func arguments(_ pod: JSONValue, _ candidates: [ClusterSnapshot.NodeInfo], _ extender: SchedulerConfiguration.Extender) -> JSONValue {
        if extender.nodeCacheCapable {
            return ["Pod": pod, "Nodes": .null, "NodeNames": .array(candidates.map { .string($0.name) })]
        }
        return ["Pod": pod, "Nodes": ["metadata": [:], "items": .array(candidates.map(\.json))], "NodeNames": .null]
    }

    private func bind(_ pod: StoredObject, to node: String, with extender: SchedulerConfiguration.Extender, index: Int) async throws {
        let body: JSONValue = ["PodName": .string(pod.name), "PodNamespace": .string(pod.namespace), "PodUID": .string(pod.uid), "Node": .string(node)]
        let answer = try await call(extender, index: index, verb: extender.bindVerb ?? "bind", body: body)
        if let error = answer["Error"]?.stringValue, !error.isEmpty { throw SimSchedulerError.extender(error) }
    }

    private func call(_ extender: SchedulerConfiguration.Extender, index: Int, verb: String, body: JSONValue) async throws -> JSONValue {
        let client = try client(for: extender, index: index)
        let prefix = extender.urlPrefix.hasSuffix("/") ? String(extender.urlPrefix.dropLast()) : extender.urlPrefix
        var request = HTTPClientRequest(url: prefix + "/" + (verb.hasPrefix("/") ? String(verb.dropFirst()) : verb))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body.serialized()))
        let response = try await client.execute(request, timeout: .nanoseconds(extender.httpTimeout.components.seconds * 1_000_000_000 + extender.httpTimeout.components.attoseconds / 1_000_000_000))
        let bytes = try await response.body.collect(upTo: 256 * 1024 * 1024)
        guard response.status.code == 200 else {
            throw SimSchedulerError.extender("HTTP \(response.status.code): \(String(buffer: bytes).prefix(300))")
        }
        return try JSONValue(parsing: Array(bytes.readableBytesView))
    }

    private func client(for extender: SchedulerConfiguration.Extender, index: Int) throws -> HTTPClient {
        if let existing = clients.withLock({ $0[index] }) { return existing }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = extender.caPEM { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca)) }
        if extender.insecure { tls.certificateVerification = .none }
        var certificatePEM = extender.clientCertificatePEM, keyPEM = extender.clientKeyPEM
        if certificatePEM == nil, let file = extender.clientCertificateFile, let data = FileManager.default.contents(atPath: file) { certificatePEM = Array(data) }
        if keyPEM == nil, let file = extender.clientKeyFile, let data = FileManager.default.contents(atPath: file) { keyPEM = Array(data) }
        if let certificatePEM, let keyPEM {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificatePEM).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
        let winner = clients.withLock { clients -> HTTPClient in
            if let existing = clients[index] { return existing }
            clients[index] = client
            return client
        }
        if winner !== client { Task { try? await client.shutdown() } }
        return winner
    }
}

enum SimSchedulerError: Error, CustomStringConvertible {
    case extender(String)

    var description: String {
        switch self {
        case .extender(let message): message
        }
    }
}
