/// Runs `operation`, giving up after `limit`: its result, or nil when the time ran out first (the
/// operation is then cancelled). For a request that must answer within a deadline however the
/// client underneath retries (a webhook's live look-up, `rebound check`'s first request).
public func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
    await withTaskGroup(of: Result<T, any Error>?.self) { group in
        group.addTask {
            do { return .success(try await operation()) } catch { return .failure(error) }
        }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
