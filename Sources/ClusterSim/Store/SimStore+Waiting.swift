
public import Kube

extension SimStore {
    /// Waits until `condition` holds, checking it after every change to `resources` (no polling);
    /// returns false if `timeout` passes first.
    public func waitUntil(
        _ resources: [ResourceType] = [Pod.resourceType, PersistentVolumeClaim.resourceType, PersistentVolume.resourceType, Node.resourceType],
        timeout: Duration = .seconds(30), _ condition: @escaping @Sendable () async -> Bool
    ) async -> Bool {
        let (changes, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        var watches: [Task<Void, Never>] = []
        for type in resources {
            guard let watch = try? self.watch(type, namespace: nil, from: revision) else { continue }
            watches.append(Task {
                for await _ in watch.frames { signal.yield() }
            })
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            signal.finish()
        }
        defer {
            for watch in watches { watch.cancel() }
            timer.cancel()
        }
        if await condition() { return true }
        for await _ in changes {
            if await condition() { return true }
        }
        return await condition()
    }
}
