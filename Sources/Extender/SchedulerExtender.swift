import Capacity
public import Kube
public import Logging
import Foundation
public import NIOCore
import Synchronization

/// kube-scheduler's extender for Rebound: `filter` keeps the healthy nodes with room in the
/// pod's volume groups, `prioritize` scores them `spreadout` or `binpack`, `bind` records the
/// placement before binding the pod. Pods that do not request the routing resource pass through.
///
/// The verbs take request bodies and return answers; ``ExtenderServer`` puts them on HTTP(S).
/// ``run()`` keeps the node summaries and the reservation ledger up to date from the caches.
public final class SchedulerExtender: Sendable {
    /// An answer to one request.
    public struct Answer: Sendable {
        /// The HTTP status code.
        public var code: Int
        /// A JSON body.
        public var body: ByteBuffer
    }

    public let settings: ExtenderSettings
    let state: ExtenderState
    let caches: ClusterCaches
    let client: KubeClient
    let metrics: ExtenderMetrics
    let logger: Logger
    let reader: CapacityKeyReader
    /// The reservations shared with other replicas, when configured.
    let shared: SharedLedger?
    /// Why the extender is not ready yet, when it is something other than waiting for the caches.
    let startupProblem = Mutex<String?>(nil)
    let allocator = ByteBufferAllocator()

    /// - Parameters:
    ///   - caches: the cluster caches; someone else runs them (``run()`` only waits for them).
    ///   - client: used by the bind verb to create Bindings.
    public init(settings: ExtenderSettings, caches: ClusterCaches, client: KubeClient, metrics: ExtenderMetrics = ExtenderMetrics(), logger: Logger = Logger(label: "rebound.extender")) {
        self.settings = settings
        self.state = ExtenderState(
            strategy: settings.strategy, reservationTTL: settings.reservationTTL, sharing: settings.sharedLedger != nil,
            capacityFromObjects: settings.keys.capacityFromStorageCapacity)
        self.shared = settings.sharedLedger.map {
            SharedLedger(client: client, namespace: $0.namespace, name: $0.name, metrics: metrics, logger: logger)
        }
        self.caches = caches
        self.client = client
        self.metrics = metrics
        self.logger = logger
        self.reader = CapacityKeyReader(keys: settings.keys)
    }

    /// True once the caches have synced and the extender's state was built from them.
    public var isReady: Bool {
        get async { await state.isReady }
    }

    /// Why the extender is not ready (nil when it is): waiting for the caches, or the shared
    /// reservation ledger cannot be read.
    public var readinessProblem: String? {
        get async {
            guard await !state.isReady else { return nil }
            return startupProblem.withLock { $0 } ?? "waiting for the caches to sync"
        }
    }

    /// Returns once the extender is ready (see ``isReady``).
    public func waitUntilReady() async {
        await state.waitUntil { $0.isReady }
    }

    var keys: CompatibilityKeys { settings.keys }

    // MARK: filter

    /// The filter verb: an `ExtenderArgs` body in, an `ExtenderFilterResult` out.
    public func filter(_ body: ByteBuffer) async -> Answer {
        let started = ContinuousClock.now
        let arguments: ExtenderArguments
        do {
            arguments = try parseArguments(body)
        } catch {
            return rejected(.filter, error, started: started) { message in ExtenderResultWriter.filterError(message, allocator: allocator) }
        }
        guard await state.isReady else {
            metrics.request(.filter, .error, duration: .now - started)
            return Answer(code: 200, body: ExtenderResultWriter.filterError(Self.notReadyMessage, allocator: allocator))
        }
        let pod = arguments.pod
        let candidates = Self.candidates(arguments.nodes)
        let names = candidates.names
        var verdicts: [PlacementVerdict]
        let (demand, volumes) = await demand(of: pod)
        switch demand {
        case .notRouted:
            verdicts = Array(repeating: .fits(leftGiB: [:]), count: names.count)
        case .unreadable(let message):
            logger.warning("cannot place pod: its request is unreadable", metadata: ["pod": "\(pod.ledgerKey)", "problem": "\(message)"])
            metrics.unreadableRequest()
            verdicts = Array(repeating: .dropped(.unreadableRequest, message), count: names.count)
        case .needs(let requests):
            verdicts = await state.filter(pod: pod.ref, requests: requests, pins: volumes.pins, candidates: candidates, now: .now)
        }
        if names.isEmpty { logger.notice("filter request with no nodes", metadata: ["pod": "\(pod.ledgerKey)"]) }

        var failures: [ExtenderResultWriter.Failure] = []
        var dropCounts: [DropReason: Int] = [:]
        var passing: [Int] = []
        passing.reserveCapacity(names.count)
        for index in names.indices {
            guard case .dropped(let reason, let message) = verdicts[index] else {
                passing.append(index)
                continue
            }
            failures.append(.init(node: names[index], reason: message, unresolvable: !reason.resolvable))
            dropCounts[reason, default: 0] += 1
        }
        for (reason, count) in dropCounts { metrics.dropped(reason, count: count) }
        let result: ByteBuffer
        switch arguments.nodes {
        case .list(let scanned):
            let ranges = passing.map { scanned[$0].range }
            result = body.withUnsafeReadableBytes { raw in
                ExtenderResultWriter.filterResult(nodesFrom: raw, passing: ranges, failures: failures, allocator: allocator)
            }
        case .names:
            result = ExtenderResultWriter.filterResult(names: passing.map { names[$0] }, failures: failures, allocator: allocator)
        }
        logger.debug("filtered", metadata: [
            "pod": "\(pod.ledgerKey)", "nodes": "\(names.count)", "passed": "\(names.count - failures.count)",
            "dropped": "\(dropCounts.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: ","))",
        ])
        metrics.request(.filter, .ok, duration: .now - started)
        return Answer(code: 200, body: result)
    }

    // MARK: prioritize

    /// The prioritize verb: an `ExtenderArgs` body in, a `HostPriorityList` out.
    public func prioritize(_ body: ByteBuffer) async -> Answer {
        let started = ContinuousClock.now
        let arguments: ExtenderArguments
        do {
            arguments = try parseArguments(body)
        } catch {
            // HostPriorityList has no Error field: every problem is an HTTP error.
            var error = error
            error.kind = .malformed
            return rejected(.prioritize, error, started: started) { _ in ByteBuffer() }
        }
        let pod = arguments.pod
        let candidates = Self.candidates(arguments.nodes)
        let names = candidates.names
        var scores = Array(repeating: Int64(0), count: names.count)
        if await state.isReady, case (.needs(let requests), let volumes) = await demand(of: pod) {
            scores = await state.prioritize(pod: pod.ref, requests: requests, pins: volumes.pins, candidates: candidates, now: .now)
        }
        metrics.request(.prioritize, .ok, duration: .now - started)
        return Answer(code: 200, body: ExtenderResultWriter.priorities(names: names, scores: scores, allocator: allocator))
    }

    // MARK: bind

    /// The bind verb: re-validates everything the caller claims (anyone who reaches the port can
    /// call it), records the placement in the ledger first (so the next pod's filter sees it),
    /// then creates the pod's Binding. An `ExtenderBindingArgs` body in, an
    /// `ExtenderBindingResult` out.
    ///
    /// The pod must exist, match the given UID, request the routing resource (only pods the
    /// webhook routed are Rebound's to bind), and not be bound yet; the node must pass the
    /// extender's own filter for it: known, healthy, allowed by the pod's volumes, with room.
    public func bind(_ body: ByteBuffer) async -> Answer {
        let started = ContinuousClock.now
        let arguments: ExtenderBindingArguments
        do {
            arguments = try body.withUnsafeReadableBytes { raw throws(ExtenderRequestError) in try ExtenderBindingArguments.parse(raw) }
        } catch {
            return rejected(.bind, error, started: started) { message in ExtenderResultWriter.bindingResult(error: message, allocator: allocator) }
        }
        guard await state.isReady else {
            metrics.request(.bind, .error, duration: .now - started)
            return Answer(code: 200, body: ExtenderResultWriter.bindingResult(error: Self.notReadyMessage, allocator: allocator))
        }
        let ref = ExtenderState.PodRef(key: arguments.podKey, uid: arguments.podUID.isEmpty ? nil : arguments.podUID)
        var cached = await caches.pods.get(arguments.podKey)
        if cached == nil || (ref.uid != nil && cached?.metadata.uid != ref.uid) {
            // The cache may lag a pod just created: ask the API before refusing.
            cached = try? await client.get(Pod.self, arguments.podName, namespace: arguments.podNamespace)
        }
        let requests: VolumeGroupRequests
        let checkedUID: String?
        let facts = cached.map { PlacementPod(pod: $0, keys: keys) }
        switch BindAdmission.check(pod: facts, uid: ref.uid, key: arguments.podKey) {
        case .refuse(let message):
            return refusedBinding(arguments, message, started: started)
        case .proceed(let pod):
            checkedUID = pod.uid
            switch await demand(of: pod) {
            case (.needs(let needed), let volumes):
                let verdict: PlacementVerdict
                do {
                    verdict = try await admit(pod: ref, uid: pod.uid, on: arguments.node, requests: needed, pins: volumes.pins)
                } catch {
                    await state.release(pod: ref)
                    return refusedBinding(arguments, "the reservation could not be recorded in the shared ledger \(shared?.location ?? ""): \(error)", started: started)
                }
                if case .dropped(_, let reason) = verdict {
                    return refusedBinding(arguments, "node \(arguments.node) does not pass the extender's filter for this pod: \(reason)", started: started)
                }
                requests = needed
            case (.unreadable(let message), _):
                return refusedBinding(arguments, "the pod's storage request is unreadable: \(message)", started: started)
            case (.notRouted, _):
                return refusedBinding(arguments, BindAdmission.notRoutedMessage, started: started)
            }
        }
        var binding: JSONValue = [
            "apiVersion": "v1", "kind": "Binding",
            "metadata": ["name": .string(arguments.podName), "namespace": .string(arguments.podNamespace)],
            "target": ["apiVersion": "v1", "kind": "Node", "name": .string(arguments.node)],
        ]
        // The UID checked above (the caller's, or the pod's as read): a replacement pod of the
        // same name is never bound by this request.
        if let uid = checkedUID { binding["metadata"]?["uid"] = .string(uid) }
        do {
            _ = try await client.send(.POST, Pod.resourceType.path(namespace: arguments.podNamespace, name: arguments.podName, subresource: "binding"), body: binding.serialized())
        } catch {
            // The pod may be bound after all (to this node or another, e.g. by a retry that
            // raced this one): trust the API, not the attempt.
            let current = try? await client.get(Pod.self, arguments.podName, namespace: arguments.podNamespace)
            if let current, let node = current.nodeName, current.metadata.uid == checkedUID {
                await state.placed(pod: ref, on: node, requests: requests, now: .now)
                await observe(current)
            } else {
                await state.release(pod: ref)
            }
            let message = "binding pod \(arguments.podKey) to node \(arguments.node) failed: \(error)"
            logger.warning("bind failed", metadata: ["pod": "\(arguments.podKey)", "node": "\(arguments.node)", "error": "\(error)"])
            metrics.request(.bind, .error, duration: .now - started)
            return Answer(code: 200, body: ExtenderResultWriter.bindingResult(error: message, allocator: allocator))
        }
        logger.debug("bound", metadata: ["pod": "\(arguments.podKey)", "node": "\(arguments.node)"])
        metrics.request(.bind, .ok, duration: .now - started)
        return Answer(code: 200, body: ExtenderResultWriter.bindingResult(error: "", allocator: allocator))
    }

    /// Judges `node` for the pod and records the placement: in this replica's ledger, and first in
    /// the shared ledger when there is one (judged against every replica's reservations, written
    /// only if no other replica wrote in between).
    private func admit(pod ref: ExtenderState.PodRef, uid: String?, on node: String, requests: VolumeGroupRequests, pins: [VolumePin]) async throws -> PlacementVerdict {
        guard let shared else { return await state.admitBinding(pod: ref, on: node, requests: requests, pins: pins, now: .now) }
        guard let uid, SharedReservation.isValidKey(uid) else { throw SharedLedger.Failure.unusableUID }
        let reservation = SharedReservation(pod: ref.key, uid: uid, node: node, gib: requests.gibByGroup, reservedAt: Date())
        // The written reservation reaches this replica's ledger view through the ConfigMap's watch.
        return try await shared.commit(reservation) { reservations in
            await self.syncShared(reservations)
            return await self.state.admitBinding(pod: ref, on: node, requests: requests, pins: pins, now: .now)
        }
    }

    private func refusedBinding(_ arguments: ExtenderBindingArguments, _ message: String, started: ContinuousClock.Instant) -> Answer {
        logger.warning("refused a binding", metadata: ["pod": "\(arguments.podKey)", "node": "\(arguments.node)", "problem": "\(message)"])
        metrics.request(.bind, .invalid, duration: .now - started)
        return Answer(code: 200, body: ExtenderResultWriter.bindingResult(error: "binding pod \(arguments.podKey) to node \(arguments.node) refused: \(message)", allocator: allocator))
    }

    // MARK: Helpers

    /// Reads an `ExtenderArgs` body (filter's and prioritize's).
    func parseArguments(_ body: ByteBuffer) throws(ExtenderRequestError) -> ExtenderArguments {
        try body.withUnsafeReadableBytes { raw throws(ExtenderRequestError) in try ExtenderArguments.parse(raw, reader: reader) }
    }

    /// What the pod needs (see ``PodDemand``) and what the caches say about its claims.
    func demand(of pod: PlacementPod) async -> (StorageDemand, PodVolumes) {
        guard pod.routed else { return (.notRouted, PodVolumes()) }
        let volumes = await PodVolumes.read(pod: pod, caches: caches, keys: keys)
        let known = volumes.unknownClaims > 0 ? await PodDemand.knownGroups(caches: caches, keys: keys) : []
        return (PodDemand.resolve(pod: pod, volumes: volumes, keys: keys) { known }, volumes)
    }

    static let notReadyMessage = "the Rebound extender has not loaded its caches yet; the pod will be retried"

    static func candidates(_ nodes: ExtenderArguments.Nodes) -> ExtenderState.Candidates {
        switch nodes {
        case .list(let scanned): .scanned(scanned)
        case .names(let names): .names(names)
        }
    }

    /// Answers a request that could not be read: HTTP 400 for malformed bodies, else the verb's
    /// own error form (`makeErrorResult`), counted and logged.
    private func rejected(_ verb: ExtenderMetrics.Verb, _ error: ExtenderRequestError, started: ContinuousClock.Instant, makeErrorResult: (String) -> ByteBuffer) -> Answer {
        logger.warning("rejected an extender request", metadata: ["verb": "\(verb.rawValue)", "problem": "\(error.message)"])
        metrics.request(verb, .invalid, duration: .now - started)
        switch error.kind {
        case .malformed: return Answer(code: 400, body: ExtenderResultWriter.errorBody(error.message, allocator: allocator))
        case .invalid: return Answer(code: 200, body: makeErrorResult(error.message))
        }
    }

    /// Answers a request refused before it was read (too large, wrong method, unknown path).
    func refuse(_ verb: ExtenderMetrics.Verb?, code: Int, message: String) -> Answer {
        logger.warning("refused an extender request", metadata: ["problem": "\(message)"])
        if let verb { metrics.request(verb, .invalid, duration: .zero) }
        return Answer(code: code, body: ExtenderResultWriter.errorBody(message, allocator: allocator))
    }
}
