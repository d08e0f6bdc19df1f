import Foundation
public import Kube
public import Logging
import Synchronization

/// Leader election on a `coordination.k8s.io` Lease, as client-go's leaderelection does: the
/// holder renews the lease every `retryPeriod`; others take it over only when they have seen it
/// unchanged for `leaseDuration` (measured on their own clock, so clock skew does not matter); a
/// leader that cannot renew for `renewDeadline` stops acting before anyone else can start.
public actor LeaderElector {
    public struct Settings: Sendable {
        public var namespace: String
        public var name: String
        public var identity: String
        public var leaseDuration: Duration = .seconds(15)
        public var renewDeadline: Duration = .seconds(10)
        public var retryPeriod: Duration = .seconds(2)

        public init(namespace: String, name: String, identity: String) {
            self.namespace = namespace
            self.name = name
            self.identity = identity
        }
    }

    public nonisolated let settings: Settings
    private let client: KubeClient
    private let logger: Logger
    private let metrics: FailoverMetrics
    private let clock = ContinuousClock()
    private var observedSpec: Lease.Spec?
    private var observedAt: ContinuousClock.Instant?
    private var leading = false
    /// The renew times this replica wrote lately (a timed-out write may still have landed).
    private var written: [Date] = []
    /// Until when this replica may act: the start of its last successful renewal plus
    /// `renewDeadline`. Read without the actor, before every write the controller makes.
    private let validUntil = Mutex<ContinuousClock.Instant?>(nil)

    /// Told what stops this replica from taking part in the election (the Lease's namespace is
    /// missing, RBAC forbids the Lease…), and nil once it takes part again.
    private let onProblem: @Sendable (String?) -> Void
    private var problem: String?

    /// - Parameters:
    ///   - client: give the elector a client of its own (its own connection pool and rate
    ///     limiter), so no burst of other requests delays a renewal.
    ///   - onProblem: called when a problem that keeps this replica out of the election starts,
    ///     changes or ends (nil).
    public init(
        client: KubeClient, settings: Settings, logger: Logger = Logger(label: "rebound.leader"), metrics: FailoverMetrics = FailoverMetrics(),
        onProblem: @escaping @Sendable (String?) -> Void = { _ in }
    ) {
        self.client = client
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        self.onProblem = onProblem
    }

    /// Records (and logs once, as a warning) a problem that keeps this replica out of the
    /// election; a conflict with another replica is no problem, only a lost race.
    private func noteProblem(_ error: (any Error)?, doing what: String) {
        let message: String?
        if let error {
            if let apiError = error as? KubeAPIError, apiError.isConflict || apiError.isAlreadyExists { return }
            message = "cannot \(what) the Lease \(settings.namespace)/\(settings.name): \(error)"
        } else {
            message = nil
        }
        guard message != problem else { return }
        problem = message
        if let message {
            logger.warning("failover cannot take part in leader election", metadata: ["problem": "\(message)"])
        } else {
            logger.info("failover takes part in leader election again", metadata: ["lease": "\(settings.namespace)/\(settings.name)"])
        }
        onProblem(message)
    }

    /// Whether this replica holds the lease right now.
    public var isLeader: Bool { leading }

    /// Whether this replica may still act as leader: true only until `renewDeadline` after the
    /// start of its last successful renewal, however long a renewal request hangs. Another replica
    /// can only acquire `leaseDuration` after it saw that renewal, later than this turns false.
    public nonisolated func mayAct() -> Bool {
        validUntil.withLock { until in until.map { clock.now < $0 } ?? false }
    }

    /// Campaigns for the lease until cancelled; while it is held, runs `work` in a task that is
    /// cancelled (and awaited) as soon as leadership is lost. On cancellation the lease is released.
    public func run(whileLeading work: @escaping @Sendable () async -> Void) async {
        // 0 until it leads: "no replica leads" is then sum(...) == 0, not an absent series.
        metrics.leader(false)
        while !Task.isCancelled {
            guard await acquire() else { break }
            setLeading(true)
            logger.notice("became leader", metadata: ["lease": "\(settings.namespace)/\(settings.name)", "identity": "\(settings.identity)"])
            let worker = Task { await work() }
            await renewUntilLost()
            validUntil.withLock { $0 = nil }
            worker.cancel()
            await worker.value
            setLeading(false)
            if Task.isCancelled {
                // Released from a fresh task: this one is cancelled, and its requests would be too.
                await Task { await self.release() }.value
                break
            }
            logger.error("lost leadership; stopped acting", metadata: ["lease": "\(settings.namespace)/\(settings.name)", "identity": "\(settings.identity)"])
        }
    }

    private func setLeading(_ value: Bool) {
        leading = value
        metrics.leader(value)
    }

    /// Tries every retry period until the lease is ours; false when cancelled first.
    private func acquire() async -> Bool {
        while !Task.isCancelled {
            let start = clock.now
            if await attempt(until: start + settings.renewDeadline) {
                renewed(at: start)
                return true
            }
            try? await Task.sleep(for: settings.retryPeriod)
        }
        return false
    }

    /// Renews every retry period; returns once no renewal has succeeded for `renewDeadline`
    /// (each attempt is cut off at that deadline, so a hanging request cannot keep it waiting),
    /// or on cancellation.
    private func renewUntilLost() async {
        var lastRenewal = clock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.retryPeriod)
            if Task.isCancelled { return }
            let start = clock.now
            let deadline = lastRenewal + settings.renewDeadline
            if await attempt(until: deadline) {
                lastRenewal = start
                renewed(at: start)
            } else if clock.now >= deadline {
                metrics.leaseProblem("renew_deadline")
                return
            }
        }
    }

    private func renewed(at start: ContinuousClock.Instant) {
        validUntil.withLock { $0 = start + settings.renewDeadline }
    }

    /// One ``tryAcquireOrRenew()`` that gives up at `deadline`: the request goes on in the
    /// background (its answer still updates what was observed), but the caller stops waiting.
    private func attempt(until deadline: ContinuousClock.Instant) async -> Bool {
        guard clock.now < deadline else { return false }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            // Both racers get the continuation at once, before either exists.
            let once = ResumeOnce(continuation)
            let request = Task { once.resume(await self.tryAcquireOrRenew()) }
            Task { [logger, metrics] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                if once.resume(false) {
                    request.cancel()
                    metrics.leaseProblem("request_timeout")
                    logger.warning("a lease request did not finish within the renew deadline; gave up on it")
                }
            }
        }
    }

    /// One attempt to take or keep the lease.
    func tryAcquireOrRenew() async -> Bool {
        let now = KubeTime.now(micro: true)
        let durationSeconds = Int32(settings.leaseDuration.components.seconds)
        let existing: Lease
        do {
            existing = try await client.get(Lease.self, settings.name, namespace: settings.namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            let lease = Lease(
                metadata: ObjectMeta(name: settings.name, namespace: settings.namespace),
                spec: Lease.Spec(holderIdentity: settings.identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0))
            remember(now)
            do {
                let created = try await client.create(lease)
                observe(created.spec)
                noteProblem(nil, doing: "create")
                return true
            } catch {
                logger.debug("could not create the lease", metadata: ["error": "\(error)"])
                noteProblem(error, doing: "create")
                return false
            }
        } catch {
            noteProblem(error, doing: "read")
            return false
        }
        noteProblem(nil, doing: "read")
        observe(existing.spec)
        let holder = existing.spec?.holderIdentity ?? ""
        // The lease names this identity but carries a renewal this replica did not write: another
        // replica runs under the same identity. Treat it as someone else's lease.
        let foreignSameIdentity = holder == settings.identity && !wroteRenewal(existing.spec?.renewTime)
        if foreignSameIdentity {
            if leading {
                metrics.leaseProblem("duplicate_identity")
                logger.error("another replica renews the lease under this replica's identity; identities must be unique (leaderElection.identity, $POD_NAME); stepping down", metadata: [
                    "identity": "\(settings.identity)", "lease": "\(settings.namespace)/\(settings.name)",
                ])
                return false
            }
            logger.notice("the lease names this identity but this process did not renew it (an earlier run, or a duplicate identity); waiting for it to expire", metadata: [
                "identity": "\(settings.identity)", "lease": "\(settings.namespace)/\(settings.name)",
            ])
        }
        if (!holder.isEmpty && holder != settings.identity) || foreignSameIdentity {
            let duration = Duration.seconds(Int(existing.spec?.leaseDurationSeconds ?? durationSeconds))
            if let observedAt, clock.now - observedAt < duration { return false }
        }
        var lease = existing
        var spec = existing.spec ?? Lease.Spec()
        if holder != settings.identity || foreignSameIdentity {
            spec.acquireTime = now
            spec.leaseTransitions = (spec.leaseTransitions ?? 0) + (holder.isEmpty ? 0 : 1)
        }
        spec.holderIdentity = settings.identity
        spec.leaseDurationSeconds = durationSeconds
        spec.renewTime = now
        lease.spec = spec
        remember(now)
        do {
            let updated = try await client.update(lease)
            observe(updated.spec)
            return true
        } catch {
            logger.debug("could not update the lease", metadata: ["error": "\(error)"])
            noteProblem(error, doing: "update")
            return false
        }
    }

    private func remember(_ time: KubeTime) {
        written.append(time.date)
        if written.count > 8 { written.removeFirst(written.count - 8) }
    }

    private func wroteRenewal(_ time: KubeTime?) -> Bool {
        guard let time else { return false }
        return written.contains { abs($0.timeIntervalSince(time.date)) < 0.001 }
    }

    private func observe(_ spec: Lease.Spec?) {
        if spec != observedSpec || observedAt == nil {
            observedSpec = spec
            observedAt = clock.now
        }
    }

    /// Gives the lease up so another replica can take it at once.
    private func release() async {
        guard var lease = try? await client.get(Lease.self, settings.name, namespace: settings.namespace),
            lease.spec?.holderIdentity == settings.identity
        else { return }
        lease.spec?.holderIdentity = ""
        lease.spec?.leaseDurationSeconds = 1
        _ = try? await client.update(lease)
        logger.info("released the lease", metadata: ["lease": "\(settings.namespace)/\(settings.name)"])
    }
}

/// Resumes a continuation exactly once, from whichever of several tasks gets there first.
final class ResumeOnce: Sendable {
    private let pending: Mutex<CheckedContinuation<Bool, Never>?>

    init(_ continuation: CheckedContinuation<Bool, Never>) { pending = Mutex(continuation) }

    /// Resumes with `value` unless already resumed; true when this call resumed it.
    @discardableResult
    func resume(_ value: Bool) -> Bool {
        guard let continuation = pending.withLock({ pending -> CheckedContinuation<Bool, Never>? in
            defer { pending = nil }
            return pending
        }) else { return false }
        continuation.resume(returning: value)
        return true
    }
}
