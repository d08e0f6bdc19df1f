/// Exponential backoff with jitter: each delay doubles up to `maximum`, and a random share
/// of up to `jitter` is added so that many clients do not retry in step.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var jitter: Double
    private var current: Duration

    public init(initial: Duration = .milliseconds(200), maximum: Duration = .seconds(30), jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self.current = initial
    }

    /// The next delay to wait.
    public mutating func next() -> Duration {
        let base = min(current, maximum)
        current = min(current * 2, maximum)
        return base * (1 + Double.random(in: 0...max(0, jitter)))
    }

    /// Starts again from `initial` (after a success).
    public mutating func reset() { current = initial }
}
