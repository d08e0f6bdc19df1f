import Foundation
public import Kube
public import Logging

/// Records what Rebound did as core/v1 Events on the objects involved, so `kubectl describe`
/// shows it. Failing to record an event is logged and never stops the action itself.
public struct EventRecorder: Sendable {
    let client: KubeClient
    let component: String
    let instance: String
    let logger: Logger

    public init(client: KubeClient, component: String = "rebound", instance: String, logger: Logger) {
        self.client = client
        self.component = component
        self.instance = instance
        self.logger = logger
    }

    /// Records an event about `object`.
    public func record<T: KubeResource>(_ object: T, reason: String, message: String, warning: Bool = false) async {
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
        do {
            _ = try await client.create(event, namespace: namespace)
        } catch {
            logger.warning("could not record event", metadata: ["object": "\(T.resourceType.kind) \(object.key)", "reason": "\(reason)", "error": "\(error)"])
        }
    }
}
