import Collections
import Kube

/// One change, kept so watches can resume from an older resource version.
struct ChangeRecord: Sendable {
    enum Kind: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
    }

    var kind: Kind
    var object: StoredObject
    /// The object before the change, so filtered watches can tell "stopped matching" apart.
    var previous: StoredObject?
    var revision: UInt64 { object.resourceVersion }
}

/// A registered watch.
struct Watcher {
    var namespace: String?
    var labels: LabelSelectorExpression
    var fields: FieldSelectorExpression
    var bookmarks: Bool
    var continuation: AsyncStream<[UInt8]>.Continuation

    func matches(_ object: StoredObject) -> Bool {
        if let namespace, object.namespace != namespace { return false }
        if !labels.isEmpty && !labels.matches(object.labels) { return false }
        if !fields.terms.isEmpty && !fields.matches({ object.fieldValue($0) }) { return false }
        return true
    }

    /// The event this watcher sees for a change, if any: a change that makes an object stop
    /// matching is a deletion to this watcher, one that makes it start matching an addition.
    func event(for change: ChangeRecord) -> ChangeRecord.Kind? {
        let now = matches(change.object)
        let before = change.previous.map(matches) ?? false
        switch change.kind {
        case .added: return now ? .added : nil
        case .deleted: return now || before ? .deleted : nil
        case .modified:
            switch (before, now) {
            case (true, true): return .modified
            case (false, true): return .added
            case (true, false): return .deleted
            case (false, false): return nil
            }
        }
    }
}

/// The objects of one resource, their recent history and their watchers. A class so the store
/// mutates it in place (a struct in the store's dictionary would be copied on every write).
final class SimTable {
    let resource: SimResource
    var objects: [String: StoredObject] = [:]
    private var sortedKeysCache: [String] = []
    private var sortedKeysValid = true
    var log: Deque<ChangeRecord> = []
    /// Events at or below this revision have been dropped from ``log``.
    var compactedRevision: UInt64 = 0
    var watchers: [Int: Watcher] = [:]

    init(resource: SimResource) { self.resource = resource }

    func sortedKeys() -> [String] {
        if !sortedKeysValid {
            sortedKeysCache = objects.keys.sorted()
            sortedKeysValid = true
        }
        return sortedKeysCache
    }

    func put(_ object: StoredObject) {
        if objects.updateValue(object, forKey: object.key) == nil { sortedKeysValid = false }
    }

    func remove(_ key: String) {
        if objects.removeValue(forKey: key) != nil { sortedKeysValid = false }
    }

    func record(_ change: ChangeRecord, capacity: Int) {
        log.append(change)
        while log.count > capacity, let dropped = log.popFirst() {
            compactedRevision = dropped.revision
        }
    }
}
