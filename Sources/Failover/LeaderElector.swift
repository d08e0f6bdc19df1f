import Foundation
public import Kube
public import Logging

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

    public init(client: KubeClient, settings: Settings, logger: Logger = Logger(label: "rebound.leader"), metrics: FailoverMetrics = FailoverMetrics()) {
        self.client = client
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
    }

    /// Whether this replica holds the lease right now.
    public var isLeader: Bool { leading }

    /// Campaigns for the lease until cancelled; while it is held, runs `work` in a task that is
    /// cancelled (and awaited) as soon as leadership is lost. On cancellation the lease is released.
    public func run(whileLeading work: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            guard await acquire() else { break }
            setLeading(true)
            logger.notice("became leader", metadata: ["lease": "\(settings.namespace)/\(settings.name)", "identity": "\(settings.identity)"])
            let worker = Task { await work() }
            await renewUntilLost()
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
            if await tryAcquireOrRenew() { return true }
            try? await Task.sleep(for: settings.retryPeriod)
        }
        return false
    }

    /// Renews every retry period; returns when a renewal has not succeeded for `renewDeadline`, or on cancellation.
    private func renewUntilLost() async {
        var lastRenewal = clock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.retryPeriod)
            if Task.isCancelled { return }
            if await tryAcquireOrRenew() {
                lastRenewal = clock.now
            } else if clock.now - lastRenewal >= settings.renewDeadline {
                return
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
            do {
                let created = try await client.create(lease)
                observe(created.spec)
                return true
            } catch {
                logger.debug("could not create the lease", metadata: ["error": "\(error)"])
                return false
            }
        } catch {
            logger.warning("could not read the lease", metadata: ["error": "\(error)"])
            return false
        }
        observe(existing.spec)
        let holder = existing.spec?.holderIdentity ?? ""
        if !holder.isEmpty && holder != settings.identity {
            let duration = Duration.seconds(Int(existing.spec?.leaseDurationSeconds ?? durationSeconds))
            if let observedAt, clock.now - observedAt < duration { return false }
        }
        var lease = existing
        var spec = existing.spec ?? Lease.Spec()
        if holder != settings.identity {
            spec.acquireTime = now
            spec.leaseTransitions = (spec.leaseTransitions ?? 0) + (holder.isEmpty ? 0 : 1)
        }
        spec.holderIdentity = settings.identity
        spec.leaseDurationSeconds = durationSeconds
        spec.renewTime = now
        lease.spec = spec
        do {
            let updated = try await client.update(lease)
            observe(updated.spec)
            return true
        } catch {
            logger.debug("could not update the lease", metadata: ["error": "\(error)"])
            return false
        }
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
