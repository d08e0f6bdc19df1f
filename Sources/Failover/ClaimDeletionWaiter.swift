import Kube

/// Lets a migration wait until a deleted claim is really gone (its `kubernetes.io/pvc-protection`
/// finalizer holds it until the pod that used it is gone), fed by the claims informer's events.
/// Only claims a migration announced with ``expect(key:uid:)`` are tracked.
actor ClaimDeletionWaiter {
    private struct Expectation {
        var gone = false
        var continuations: [CheckedContinuation<Bool, Never>] = []
    }

    private var expectations: [String: Expectation] = [:]

    private static func id(_ key: String, _ uid: String) -> String { key + "#" + uid }

    /// Announces that the claim is about to be deleted and someone will wait for it.
    func expect(key: String, uid: String) {
        if expectations[Self.id(key, uid)] == nil { expectations[Self.id(key, uid)] = Expectation() }
    }

    /// Whether a migration in this process announced (and will wait for) this claim's deletion.
    func isExpected(key: String, uid: String) -> Bool { expectations[Self.id(key, uid)] != nil }

    /// Called for every claim deletion the informer reports.
    func claimDeleted(key: String, uid: String) {
        let id = Self.id(key, uid)
        guard var expectation = expectations[id] else { return }
        expectation.gone = true
        let waiting = expectation.continuations
        expectation.continuations = []
        expectations[id] = expectation
        for continuation in waiting { continuation.resume(returning: true) }
    }

    /// Waits until the announced claim has been deleted, or `timeout` passes (false). Ends the expectation.
    func waitUntilGone(key: String, uid: String, timeout: Duration) async -> Bool {
        let id = Self.id(key, uid)
        defer { expectations.removeValue(forKey: id) }
        if expectations[id]?.gone == true { return true }
        if expectations[id] == nil { expectations[id] = Expectation() }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.timeOut(id)
        }
        defer { timer.cancel() }
        // A cancelled migration (leadership lost, shutdown) stops waiting at once.
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if expectations[id]?.gone == true || Task.isCancelled {
                    continuation.resume(returning: expectations[id]?.gone == true)
                } else {
                    expectations[id]?.continuations.append(continuation)
                }
            }
        } onCancel: {
            Task { await self.timeOut(id) }
        }
    }

    private func timeOut(_ id: String) {
        let waiting = expectations[id]?.continuations ?? []
        expectations[id]?.continuations = []
        for continuation in waiting { continuation.resume(returning: false) }
    }
}
