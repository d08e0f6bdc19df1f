public import Kube

/// A control loop that runs inside ClusterSim, as kube-controller-manager's loops run beside
/// the real API server: it watches the store and reconciles whenever something it cares about
/// changes.
public protocol SimController: Sendable {
    /// A name for logs.
    var name: String { get }
    /// The resources whose changes trigger a reconcile.
    var watches: [ResourceType] { get }
    /// Brings the world closer to what it should be. Errors are logged and retried on the next change.
    func reconcile() async throws
}

extension SimController {
    /// Reconciles once, then after every change to the watched resources (coalescing bursts),
    /// until cancelled.
    public func run(store: SimStore) async {
        let (changes, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await withDiscardingTaskGroup { group in
            for type in watches {
                group.addTask {
                    // Watches end when the server drops them (fault injection does): watch again.
                    while !Task.isCancelled {
                        guard let watch = try? await store.watch(type, namespace: nil, from: await store.revision) else { return }
                        signal.yield()
                        for await _ in watch.frames { signal.yield() }
                    }
                }
            }
            group.addTask {
                try? await reconcile()
                for await _ in changes {
                    if Task.isCancelled { break }
                    try? await reconcile()
                }
            }
        }
    }
}
