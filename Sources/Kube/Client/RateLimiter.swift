/// A token bucket: `qps` requests a second on average, up to `burst` at once, as client-go's
/// client-side limiter. A non-positive `qps` means no limit.
public actor RateLimiter {
    public nonisolated let qps: Double
    public nonisolated let burst: Int
    private var tokens: Double
    private var last: ContinuousClock.Instant
    private let clock = ContinuousClock()

    public init(qps: Double, burst: Int) {
        self.qps = qps
        self.burst = max(1, burst)
        self.tokens = Double(max(1, burst))
        self.last = clock.now
    }

    /// Takes one token, reserving a future one if none is left, and returns how long the caller
    /// must wait before going ahead. Reservations are first come, first served.
    public func reserve() -> Duration {
        guard qps > 0 else { return .zero }
        let now = clock.now
        let elapsed = now - last
        last = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(Double(burst), tokens + seconds * qps)
        tokens -= 1
        if tokens >= 0 { return .zero }
        return .milliseconds(Int64((-tokens / qps * 1000).rounded(.up)))
    }

    /// Waits for a token.
    public nonisolated func wait() async throws {
        let delay = await reserve()
        if delay > .zero { try await Task.sleep(for: delay) }
    }
}
