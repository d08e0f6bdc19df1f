import ClusterSim
import Foundation
import Kube

/// What happened during a demo, in order, with the time since the demo started.
actor DemoTimeline {
    struct Entry: Sendable {
        var seconds: Double
        var text: String
    }

    private let start = ContinuousClock.now
    private(set) var entries: [Entry] = []
    /// When `mark` was first called for each name.
    private(set) var marks: [String: Double] = [:]
    /// Print entries as they happen.
    let live: Bool

    init(live: Bool) { self.live = live }

    var now: Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    func record(_ text: String) {
        let entry = Entry(seconds: now, text: text)
        entries.append(entry)
        if live { say(Self.format(entry)) }
    }

    /// Remembers when something first happened (for the summary), without printing it.
    func mark(_ name: String) {
        if marks[name] == nil { marks[name] = now }
    }

    /// Waits (bounded) until every name in `names` is marked: the observer follows the store
    /// through a watch, so it may be a moment behind the state the demo just saw.
    func waitForMarks(_ names: [String], timeout: Duration = .seconds(5)) async {
        let deadline = ContinuousClock.now + timeout
        while names.contains(where: { marks[$0] == nil }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    static func format(_ entry: Entry) -> String {
        String(format: "%7.2fs  ", entry.seconds) + entry.text
    }
}

/// Turns store changes into timeline entries a person can follow: node readiness, pods created,
/// scheduled, running and deleted, claims created, bound and deleted, and the events Rebound and
/// the scheduler record.
struct DemoObserver {
    let store: SimStore
    let timeline: DemoTimeline
    let scheduler: SimScheduler
    /// Namespaces whose pods and claims are narrated one by one (all of them when nil).
    let verboseNamespaces: Set<String>?
    private let watching = AsyncStream<Void>.makeStream()

    init(store: SimStore, timeline: DemoTimeline, scheduler: SimScheduler, verboseNamespaces: Set<String>?) {
        self.store = store
        self.timeline = timeline
        self.scheduler = scheduler
        self.verboseNamespaces = verboseNamespaces
    }

    func run() async {
        let types = [Node.resourceType, Pod.resourceType, PersistentVolumeClaim.resourceType, Event.resourceType]
        // Every watch starts from the same revision, taken before anything of the story happens.
        let start = await store.revision
        var watches: [(ResourceType, SimStore.WatchSubscription)] = []
        for type in types {
            if let watch = try? await store.watch(type, namespace: nil, from: start) { watches.append((type, watch)) }
        }
        var known: [String: JSONValue] = [:]
        for node in (try? await store.list(Node.resourceType, namespace: nil).items) ?? [] { known[node.key] = node.value }
        watching.continuation.finish()
        let nodes = known
        await withDiscardingTaskGroup { group in
            for (type, watch) in watches {
                let seen = type == Node.resourceType ? nodes : [:]
                group.addTask { await follow(type, watch, seen: seen) }
            }
        }
    }

    /// Returns once the observer watches, so nothing that follows goes unnarrated.
    func waitUntilWatching() async {
        for await _ in watching.stream {}
    }

    private func follow(_ type: ResourceType, _ watch: SimStore.WatchSubscription, seen initial: [String: JSONValue]) async {
        var seen = initial
        for await frame in watch.frames {
            guard let event = try? JSONValue(parsing: frame), let object = event["object"], let kind = event["type"]?.stringValue else { continue }
            let name = object["metadata"]?["name"]?.stringValue ?? ""
            let namespace = object["metadata"]?["namespace"]?.stringValue ?? ""
            let key = namespace.isEmpty ? name : "\(namespace)/\(name)"
            let previous = seen[key]
            if kind == "DELETED" { seen.removeValue(forKey: key) } else { seen[key] = object }
            await narrate(type, kind: kind, key: key, namespace: namespace, object: object, previous: previous)
        }
    }

    private func verbose(_ namespace: String) -> Bool { verboseNamespaces.map { $0.contains(namespace) } ?? true }

    private func narrate(_ type: ResourceType, kind: String, key: String, namespace: String, object: JSONValue, previous: JSONValue?) async {
        switch type.kind {
        case "Node":
            let ready = Self.readyStatus(object)
            guard ready != Self.readyStatus(previous), previous != nil else { return }
            let message = object["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }?["message"]?.stringValue ?? ""
            if ready != "True" { await timeline.mark("notready \(key)") }
            await timeline.record(ready == "True" ? "node \(key) is Ready" : "node \(key) is NotReady (Ready=\(ready ?? "missing")): \(message)")
        case "Pod":
            let node = object["spec"]?["nodeName"]?.stringValue ?? ""
            let uid = object["metadata"]?["uid"]?.stringValue ?? ""
            let phase = object["status"]?["phase"]?.stringValue ?? ""
            switch kind {
            case "ADDED":
                await timeline.mark("created \(uid)")
                guard verbose(namespace) else { return }
                let annotation = object["metadata"]?["annotations"]?["carina.storage.io/allow-pod-migration-if-node-notready"]?.stringValue
                let routed = object["metadata"]?["annotations"]?["rebound.io/volume-requests"]?.stringValue
                var text = "pod \(key) created"
                if let annotation { text += "; webhook set allow-pod-migration=\(annotation)" }
                if let routed { text += ", volume requests \(routed) (routed to the extender)" }
                await timeline.record(text)
            case "DELETED":
                await timeline.mark("deleted \(uid)")
                if verbose(namespace) { await timeline.record("pod \(key) deleted from \(node.isEmpty ? "no node" : node)") }
            default:
                let previousNode = previous?["spec"]?["nodeName"]?.stringValue ?? ""
                if previousNode.isEmpty && !node.isEmpty {
                    await timeline.mark("scheduled \(uid)")
                    if verbose(namespace) { await timeline.record("pod \(key) scheduled to \(node)\(scores(for: uid))") }
                }
                if phase == "Running" && previous?["status"]?["phase"]?.stringValue != "Running" {
                    await timeline.mark("running \(uid)")
                    if verbose(namespace) { await timeline.record("pod \(key) is Running on \(node)") }
                }
                if object["metadata"]?["deletionTimestamp"] != nil && previous?["metadata"]?["deletionTimestamp"] == nil && verbose(namespace) {
                    await timeline.record("pod \(key) is Terminating")
                }
            }
        case "PersistentVolumeClaim":
            guard verbose(namespace) else { return }
            let volume = object["spec"]?["volumeName"]?.stringValue ?? ""
            switch kind {
            case "ADDED": await timeline.record("claim \(key) created (unbound)")
            case "DELETED": await timeline.record("claim \(key) deleted")
            default:
                if !volume.isEmpty && (previous?["spec"]?["volumeName"]?.stringValue ?? "").isEmpty {
                    let node = object["metadata"]?["annotations"]?["volume.kubernetes.io/selected-node"]?.stringValue ?? "?"
                    await timeline.record("claim \(key) bound to \(volume) on \(node)")
                }
                if object["metadata"]?["deletionTimestamp"] != nil && previous?["metadata"]?["deletionTimestamp"] == nil {
                    await timeline.record("claim \(key) is Terminating (held until its pod is gone)")
                }
            }
        case "Event":
            guard kind == "ADDED", let reason = object["reason"]?.stringValue, reason.hasPrefix("Rebound") || reason == "FailedScheduling" else { return }
            let involved = object["involvedObject"]
            let target = "\(involved?["kind"]?.stringValue ?? "") \(involved?["namespace"]?.stringValue.map { "\($0)/" } ?? "")\(involved?["name"]?.stringValue ?? "")"
            let involvedNamespace = involved?["namespace"]?.stringValue ?? namespace
            if reason == "ReboundMigrating" { await timeline.mark("rebound acted") }
            guard verbose(involvedNamespace) || reason == "ReboundVolumeRetained" && verboseNamespaces == nil else { return }
            await timeline.record("event \(reason) on \(target): \(object["message"]?.stringValue ?? "")")
        default:
            break
        }
    }

    private func scores(for uid: String) -> String {
        guard let decision = scheduler.decisions.last(where: { $0.podUID == uid }) else { return "" }
        let ranked = decision.scores.sorted { ($0.value.own + $0.value.extender, $1.key) > ($1.value.own + $1.value.extender, $0.key) }
        let text = ranked.prefix(4).map { "\($0.key) \($0.value.extender / 10) (scheduler \($0.value.own))" }.joined(separator: ", ")
        return "; extender scores: \(text)\(ranked.count > 4 ? ", …" : "")"
    }

    static func readyStatus(_ node: JSONValue?) -> String? {
        node?["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }?["status"]?.stringValue
    }
}
