import Kube

/// Live reads of nodes for the re-checks before destructive steps, shared between the pods of one
/// node: a read that started less than `freshness` ago answers every caller, and callers arriving
/// while a read is in flight wait for it. Moving 1,000 pods off one node then costs a read or two
/// a second, not two per pod.
actor NodeLiveReader {
    private let read: @Sendable (String) async -> MigrationExecutor.NodeStatus
    private let freshness: Duration
    private var last: [String: (started: ContinuousClock.Instant, status: MigrationExecutor.NodeStatus)] = [:]
    private var inFlight: [String: Task<MigrationExecutor.NodeStatus, Never>] = [:]

    init(freshness: Duration = .seconds(1), read: @escaping @Sendable (String) async -> MigrationExecutor.NodeStatus) {
        self.freshness = freshness
        self.read = read
    }

    func status(of node: String) async -> MigrationExecutor.NodeStatus {
        let now = ContinuousClock.now
        if let last = last[node], now - last.started < freshness { return last.status }
        if let task = inFlight[node] { return await task.value }
        let read = self.read
        let task = Task { await read(node) }
        inFlight[node] = task
        let status = await task.value
        inFlight[node] = nil
        // A failed read is never reused: the next caller tries again.
        if case .unknown = status { last[node] = nil } else { last[node] = (now, status) }
        return status
    }
}
