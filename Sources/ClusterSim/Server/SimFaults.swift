/// Failures the simulated API server injects on demand, so tests can show that clients survive
/// them: error answers for matching requests, added latency.
public actor SimFaults {
    /// Which requests a rule applies to.
    public struct Match: Sendable {
        public var method: String?
        /// The request path must contain this.
        public var pathContains: String?
        /// Only watches (true), only non-watches (false) or both (nil).
        public var watch: Bool?
        /// The request's User-Agent must contain this (tells one client from another).
        public var userAgentContains: String?

        public init(method: String? = nil, pathContains: String? = nil, watch: Bool? = nil, userAgentContains: String? = nil) {
            self.method = method
            self.pathContains = pathContains
            self.watch = watch
            self.userAgentContains = userAgentContains
        }

        func matches(_ request: SimRequest) -> Bool {
            if let method, method != request.method { return false }
            if let pathContains, !request.path.contains(pathContains) { return false }
            if let watch, watch != request.flag("watch") { return false }
            if let userAgentContains, !(request.header("user-agent") ?? "").contains(userAgentContains) { return false }
            return true
        }
    }

    /// An injected answer.
    public struct Failure: Sendable {
        public var code: Int
        public var reason: String
        public var message: String
        /// Sent as `Retry-After` (and `details.retryAfterSeconds`).
        public var retryAfterSeconds: Int?

        public init(code: Int, reason: String, message: String, retryAfterSeconds: Int? = nil) {
            self.code = code
            self.reason = reason
            self.message = message
            self.retryAfterSeconds = retryAfterSeconds
        }

        public static let internalError = Failure(code: 500, reason: "InternalError", message: "Internal error occurred: injected fault")
        public static func tooManyRequests(retryAfter: Int = 1) -> Failure {
            Failure(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.", retryAfterSeconds: retryAfter)
        }
        public static let gone = Failure(code: 410, reason: "Expired", message: "The resourceVersion for the provided list is too old.")
        public static let serviceUnavailable = Failure(code: 503, reason: "ServiceUnavailable", message: "the server is currently unable to handle the request")
    }

    private struct Rule {
        var match: Match
        var failure: Failure
        var remaining: Int?
    }

    private struct DelayRule {
        var match: Match
        var delay: Duration
    }

    private var rules: [Rule] = []
    private var delays: [DelayRule] = []
    /// Bumped by ``clear()``, which ends every delay in progress.
    private var generation = 0
    /// Added before every request is handled.
    public private(set) var latency: Duration = .zero
    /// Requests answered with an injected failure.
    public private(set) var injectedCount = 0

    public init() {}

    /// Answers the next `times` matching requests (every one, when nil) with `failure`.
    public func inject(_ failure: Failure, times: Int? = 1, when match: Match = .init()) {
        rules.append(Rule(match: match, failure: failure, remaining: times))
    }

    public func setLatency(_ latency: Duration) { self.latency = latency }

    /// Holds every matching request for `delay` before handling it (a slow or, with a long
    /// delay, a hanging server or proxy), until ``clear()`` lets them all go.
    public func delay(_ delay: Duration, when match: Match) {
        delays.append(DelayRule(match: match, delay: delay))
    }

    /// Removes every rule and the latency, and ends every delay in progress.
    public func clear() {
        rules = []
        delays = []
        latency = .zero
        generation += 1
    }

    /// Waits out the delay a rule sets for this request, if any.
    func hold(_ request: SimRequest) async {
        guard let rule = delays.first(where: { $0.match.matches(request) }) else { return }
        let started = generation
        let deadline = ContinuousClock.now + rule.delay
        while ContinuousClock.now < deadline, generation == started, !Task.isCancelled {
            try? await Task.sleep(for: min(.milliseconds(20), deadline - ContinuousClock.now))
        }
    }

    /// The failure to answer this request with, if a rule matches (using one of its repetitions).
    func failure(for request: SimRequest) -> Failure? {
        guard let index = rules.firstIndex(where: { $0.match.matches(request) && ($0.remaining ?? 1) > 0 }) else { return nil }
        let failure = rules[index].failure
        if let remaining = rules[index].remaining {
            rules[index].remaining = remaining - 1
            if remaining - 1 == 0 { rules.remove(at: index) }
        }
        injectedCount += 1
        return failure
    }
}
