/// A level-triggered work queue, as client-go's: a key is queued at most once, a key added while
/// it is being processed is processed again once that finishes (never dropped, never run twice
/// at once), and failing keys come back after a per-key exponential backoff.
actor WorkQueue<Key: Hashable & Sendable> {
    private var order: [Key] = []
    private var head = 0
    /// Keys that need processing (queued, or added again while processing).
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []
    private var waiters: [CheckedContinuation<Key?, Never>] = []
    private var failures: [Key: Int] = [:]
    private var isShutDown = false

    /// Keys waiting to be processed.
    var queuedCount: Int { order.count - head }
    /// Keys that failed at least once and were not processed successfully since.
    var failingCount: Int { failures.count }

    /// Marks `key` as needing processing.
    func add(_ key: Key) {
        guard !isShutDown, !dirty.contains(key) else { return }
        dirty.insert(key)
        guard !processing.contains(key) else { return }
        hand(key)
    }

    /// Adds `key` after the backoff its failures so far call for (0.5 s doubling, up to 60 s).
    func retry(_ key: Key) -> Duration {
        let attempt = (failures[key] ?? 0) + 1
        failures[key] = attempt
        let delay = Duration.milliseconds(min(60_000, 500 << min(attempt - 1, 10)))
        Task {
            try? await Task.sleep(for: delay)
            self.add(key)
        }
        return delay
    }

    /// Clears the backoff of a key that succeeded.
    func forget(_ key: Key) { failures.removeValue(forKey: key) }

    /// The next key to process (it stays "processing" until ``done(_:)``), or nil once shut down
    /// or when the calling task is cancelled.
    func next() async -> Key? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if isShutDown {
                    continuation.resume(returning: nil)
                } else if head < order.count {
                    let key = order[head]
                    head += 1
                    compact()
                    start(key)
                    continuation.resume(returning: key)
                } else {
                    waiters.append(continuation)
                }
            }
        } onCancel: {
            Task { await self.shutDown() }
        }
    }

    /// Ends the processing of `key`; queues it again if it was added meanwhile.
    func done(_ key: Key) {
        processing.remove(key)
        if dirty.contains(key) { hand(key) }
    }

    /// Stops handing out keys; every waiting ``next()`` returns nil.
    func shutDown() {
        isShutDown = true
        let waiting = waiters
        waiters = []
        for waiter in waiting { waiter.resume(returning: nil) }
    }

    private func hand(_ key: Key) {
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            start(key)
            waiter.resume(returning: key)
        } else {
            order.append(key)
        }
    }

    private func start(_ key: Key) {
        dirty.remove(key)
        processing.insert(key)
    }

    private func compact() {
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
