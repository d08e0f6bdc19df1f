import Foundation
public import Kube
public import Logging

/// Records what Rebound did as core/v1 Events on the objects involved, so `kubectl describe`
/// shows it. Events are queued and posted in the background, through their own client (and so
/// their own rate limit, as client-go's event broadcaster does): recording never slows a
/// migration down, and failing to record an event is logged and never stops an action.
public final class EventRecorder: Sendable {
    let client: KubeClient
    let component: String
    let instance: String
    let logger: Logger
    private let queue: AsyncStream<Event>.Continuation
    private let worker: Task<Void, Never>

    /// - Parameter client: the client events are posted with (give it its own rate limit).
    public init(client: KubeClient, component: String = "rebound", instance: String, logger: Logger) {
        self.client = client
        self.component = component
        self.instance = instance
        self.logger = logger
        let (stream, continuation) = AsyncStream<Event>.makeStream()
        self.queue = continuation
        self.worker = Task {
            for await event in stream {
                do {
                    _ = try await client.create(event, namespace: event.metadata.namespace)
                } catch {
                    logger.warning("could not record event", metadata: [
                        "object": "\(event.involvedObject.kind ?? "") \(event.involvedObject.namespace.map { "\($0)/" } ?? "")\(event.involvedObject.name ?? "")",
                        "reason": "\(event.reason ?? "")", "error": "\(error)",
                    ])
                }
            }
        }
    }

    deinit { queue.finish() }

    /// Posts the events still queued, then stops.
    public func flush() async {
        queue.finish()
        await worker.value
    }

    /// Queues an event about `object`.
    public func record<T: KubeResource>(_ object: T, reason: String, message: String, warning: Bool = false) {
        let now = KubeTime.now()
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let namespace = object.metadata.namespace ?? "default"
        var event = Event(
            metadata: ObjectMeta(name: "\(object.name).\(suffix)", namespace: namespace),
            involvedObject: ObjectReference(
                apiVersion: T.resourceType.apiVersion, kind: T.resourceType.kind, namespace: object.metadata.namespace,
                name: object.name, uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion),
            reason: reason, message: message, type: warning ? "Warning" : "Normal", source: Event.Source(component: component, host: instance))
        event.firstTimestamp = now
        event.lastTimestamp = now
        event.count = 1
        event.reportingComponent = component
        event.reportingInstance = instance
        queue.yield(event)
    }
}
