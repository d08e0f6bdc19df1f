import Capacity
import Foundation
import Kube
import Logging

/// The reservations every replica of the extender sees: one ConfigMap in Rebound's namespace,
/// one key per placed pod (its uid), written with optimistic concurrency.
///
/// The bind verb is the commit point. Before a pod is bound, its reservation is judged against
/// everything already in the ConfigMap (as of one resource version) and written with that
/// version as a precondition: of two replicas binding onto the same space at once, one write
/// fails with a conflict and that replica judges again with the other's reservation counted.
/// A replica that starts (or restarts mid-burst) reads every reservation before it answers, so
/// none is lost with a replica. Reservations leave the ConfigMap when a replica's ledger stops
/// counting them (the node's report shows the volumes, the pod is gone, the TTL passed).
///
/// Writes from this replica are serialised (one at a time), so they never conflict with each other.
actor SharedLedger {
    let client: KubeClient
    let namespace: String
    let name: String
    let logger: Logger
    let metrics: ExtenderMetrics
    /// Most reservations kept; a bind that would add more is refused. ~200 bytes each keeps the
    /// ConfigMap well under the API's 1 MiB object limit.
    let capacity: Int

    /// The last version of the ConfigMap this replica has seen (read, written or watched).
    private var current: ConfigMap?
    /// Keys already logged as unreadable (each is logged once).
    private var unreadableKeys: Set<String> = []
    private var writing = false
    private var writeWaiters: [CheckedContinuation<Void, Never>] = []

    /// Why a shared write could not be made.
    enum Failure: Error, CustomStringConvertible {
        case notLoaded
        case full(Int)
        case contended(Int)
        case unusableUID

        var description: String {
            switch self {
            case .notLoaded: "the shared reservation ledger has not been read yet"
            case .full(let count): "the shared reservation ledger holds \(count) reservations, its limit"
            case .contended(let attempts): "the shared reservation ledger changed under \(attempts) attempts in a row"
            case .unusableUID: "the pod's uid cannot key a reservation"
            }
        }
    }

    init(client: KubeClient, namespace: String, name: String, capacity: Int = 4000, metrics: ExtenderMetrics, logger: Logger) {
        self.client = client
        self.namespace = namespace
        self.name = name
        self.capacity = capacity
        self.metrics = metrics
        self.logger = logger
    }

    nonisolated var location: String { "\(namespace)/\(name)" }

    /// Every readable reservation in the last version seen; malformed entries are logged and skipped.
    var reservations: [SharedReservation] { current.map { reservations(in: $0) } ?? [] }

    // MARK: Reading

    /// Reads the ConfigMap, creating it (empty) when it does not exist yet. Returns the reservations.
    @discardableResult
    func load() async throws -> [SharedReservation] {
        do {
            current = try await client.get(ConfigMap.self, name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            let empty = ConfigMap(metadata: ObjectMeta(name: name, namespace: namespace, labels: ["app.kubernetes.io/name": "rebound", "app.kubernetes.io/component": "extender"]), data: [:])
            do {
                current = try await client.create(empty, namespace: namespace)
                logger.info("created the shared reservation ledger", metadata: ["configmap": "\(location)"])
            } catch let error as KubeAPIError where error.isAlreadyExists {
                current = try await client.get(ConfigMap.self, name, namespace: namespace)
            }
        }
        return reservations
    }

    /// Takes a version of the ConfigMap seen by the watch. Returns its reservations when it is
    /// newer than the version held, nil when it is not (a watch event can trail this replica's
    /// own write).
    func observe(_ configMap: ConfigMap) -> [SharedReservation]? {
        guard Self.isNewer(configMap.metadata.resourceVersion, than: current?.metadata.resourceVersion) else { return nil }
        current = configMap
        return reservations
    }

    // MARK: Writing

    /// Adds `reservation` if `admit` — given every reservation in the version about to be
    /// written over — lets it through. Retries with the newer version on a conflict. Returns the
    /// verdict `admit` gave last.
    func commit(_ reservation: SharedReservation, admit: @Sendable ([SharedReservation]) async -> PlacementVerdict) async throws -> PlacementVerdict {
        try await write(.commit) { data in
            let verdict = await admit(reservations(in: data))
            guard verdict.fits else { return (nil, verdict) }
            if data[reservation.uid] == nil, data.count >= capacity { throw Failure.full(data.count) }
            var changed = data
            changed[reservation.uid] = reservation.encoded()
            return (changed, verdict)
        }
    }

    /// Removes the reservations of the given pods (uid) where they are still on the given node.
    /// Returns the reservations left.
    @discardableResult
    func remove(_ released: [(uid: String, node: String)]) async throws -> [SharedReservation] {
        try await write(.remove) { data in
            var changed = data
            for (uid, node) in released {
                guard let value = changed[uid] else { continue }
                // A reservation that cannot be read is removed too: nothing counts it.
                if let reservation = SharedReservation(key: uid, value: value), reservation.node != node { continue }
                changed[uid] = nil
            }
            return (changed.count == data.count ? nil : changed, ())
        }
        return reservations
    }

    /// One write, serialised with this replica's others: `change` gets the data of the version
    /// held and returns what to write (nil: nothing) and the caller's result; the write carries
    /// that version as a precondition, and a conflict (another replica wrote first) reads the
    /// ConfigMap again and calls `change` again.
    private func write<Result>(
        _ operation: ExtenderMetrics.LedgerOperation, change: ([String: String]) async throws -> (data: [String: String]?, result: Result)
    ) async throws -> Result {
        await beginWrite()
        defer { endWrite() }
        let attempts = 8
        for _ in 0..<attempts {
            guard var base = current else { throw Failure.notLoaded }
            let (data, result) = try await change(base.data ?? [:])
            guard let data else { return result }
            base.data = data
            do {
                current = try await client.update(base)
                metrics.sharedLedgerWrite(operation, .ok)
                return result
            } catch let error as KubeAPIError where error.isConflict {
                metrics.sharedLedgerWrite(operation, .conflict)
                try await load()
            } catch {
                metrics.sharedLedgerWrite(operation, .error)
                throw error
            }
        }
        throw Failure.contended(attempts)
    }

    private func beginWrite() async {
        while writing { await withCheckedContinuation { writeWaiters.append($0) } }
        writing = true
    }

    private func endWrite() {
        writing = false
        if !writeWaiters.isEmpty { writeWaiters.removeFirst().resume() }
    }

    // MARK: Helpers

    private func reservations(in configMap: ConfigMap) -> [SharedReservation] { reservations(in: configMap.data ?? [:]) }

    private func reservations(in data: [String: String]) -> [SharedReservation] {
        var result: [SharedReservation] = []
        for (key, value) in data {
            if let reservation = SharedReservation(key: key, value: value) {
                result.append(reservation)
            } else if unreadableKeys.count < 1000, unreadableKeys.insert(key).inserted {
                logger.warning("ignoring an unreadable entry in the shared reservation ledger", metadata: ["key": "\(key.prefix(80))"])
            }
        }
        return result
    }

    /// Resource versions are opaque, but the API server's are increasing integers: compare them
    /// as such when both are; otherwise take the newcomer.
    static func isNewer(_ candidate: String?, than held: String?) -> Bool {
        guard let candidate, let held, let new = UInt64(candidate), let old = UInt64(held) else { return true }
        return new > old
    }
}
