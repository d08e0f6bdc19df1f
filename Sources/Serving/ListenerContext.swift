import Logging
import NIOCore

/// What every connection of one listener shares: its endpoint, limits, buffer budget, metrics
/// and logger. Immutable apart from the budget's atomic counter.
struct ListenerContext: Sendable {
    let name: String
    let endpoint: any HTTPEndpoint
    let limits: ListenerLimits
    let budget: BufferBudget
    let metrics: ListenerMetrics
    let logger: Logger

    init(name: String, endpoint: any HTTPEndpoint, limits: ListenerLimits, metrics: ListenerMetrics, logger: Logger) {
        self.name = name
        self.endpoint = endpoint
        self.limits = limits
        self.budget = BufferBudget(limit: limits.maxBufferedBytes)
        self.metrics = metrics
        self.logger = logger
    }

    /// Counts and logs a refusal, and words its response through the endpoint.
    func refuse(_ refusal: Refusal, target: String?, peer: SocketAddress?) -> ServerResponse {
        metrics.refused(refusal.reason)
        logger.warning("refused a request", metadata: [
            "listener": "\(name)", "reason": "\(refusal.reason)", "problem": "\(refusal.message)",
            "peer": "\(peer.map { "\($0)" } ?? "unknown")", "target": "\(target.map { String($0.prefix(200)) } ?? "")",
        ])
        return endpoint.refused(refusal, target: target)
    }

    /// Takes `bytes` of request body from the listener's budget (and records the level).
    func reserve(_ bytes: Int) -> Bool {
        let reserved = budget.reserve(bytes)
        if reserved { metrics.bufferedBytes(budget.inUse) }
        return reserved
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        budget.release(bytes)
        metrics.bufferedBytes(budget.inUse)
    }
}
