public import Foundation
public import Kube

/// The durable record of a claim rebuild in progress, kept on the old PersistentVolume (which
/// outlives the claim): the failed node and time as labels, and — for claims Rebound recreates
/// itself — the replacement claim as an annotation until it exists. A controller that stops
/// between deleting a claim and recreating it leaves this mark, and whichever replica leads next
/// finishes the rebuild from it. Everything Rebound needs is in the API.
public enum ClaimRecovery {
    public static let failedNodeLabel = "rebound.io/failed-node"
    public static let failedAtLabel = "rebound.io/failed-at"
    /// JSON of the claim to create, present only while it has not been created.
    public static let templateAnnotation = "rebound.io/claim-template"
    /// The uid of the claim being replaced (a volume's claimRef may lack one).
    public static let replacedUIDAnnotation = "rebound.io/replaced-claim-uid"

    /// The merge patch that marks a volume before its claim is deleted.
    static func markPatch(failedNode: String, retain: Bool, template: PersistentVolumeClaim?, replacedUID: String?) -> JSONValue {
        var metadata: JSONObject = ["labels": [.init(stringLiteral: failedNodeLabel): .string(failedNode), .init(stringLiteral: failedAtLabel): .string(labelTimestamp(Date()))]]
        if let template, let replacedUID, let json = try? JSONValue(encoding: template) {
            metadata["annotations"] = [.init(stringLiteral: templateAnnotation): .string(json.jsonString), .init(stringLiteral: replacedUIDAnnotation): .string(replacedUID)]
        }
        var patch: JSONObject = ["metadata": .object(metadata)]
        if retain { patch["spec"] = ["persistentVolumeReclaimPolicy": "Retain"] }
        return .object(patch)
    }

    /// The merge patch that clears the template once the claim exists again.
    static let donePatch: JSONValue = ["metadata": ["annotations": [.init(stringLiteral: templateAnnotation): .null, .init(stringLiteral: replacedUIDAnnotation): .null]]]

    /// The merge patch that removes every mark, when a migration stops because its node recovered.
    static let clearPatch: JSONValue = ["metadata": [
        "labels": [.init(stringLiteral: failedNodeLabel): .null, .init(stringLiteral: failedAtLabel): .null],
        "annotations": [.init(stringLiteral: templateAnnotation): .null, .init(stringLiteral: replacedUIDAnnotation): .null],
    ]]

    /// The uid of the claim a marked volume replaces.
    public static func replacedUID(on volume: PersistentVolume) -> String? {
        volume.metadata.annotations?[replacedUIDAnnotation] ?? volume.spec?.claimRef?.uid
    }

    /// The claim a marked volume still waits for, if any.
    public static func pendingTemplate(on volume: PersistentVolume) -> PersistentVolumeClaim? {
        guard let text = volume.metadata.annotations?[templateAnnotation], let json = try? JSONValue(parsing: text) else { return nil }
        return try? json.decode(as: PersistentVolumeClaim.self)
    }

    /// What to do for a marked volume, given the claim of that name now (nil when absent).
    enum Step: Equatable {
        /// The old claim is still there (being deleted): wait.
        case wait
        /// Nothing is there: create the claim.
        case create(PersistentVolumeClaim)
        /// A new claim exists: clear the mark.
        case clear
    }

    /// - Parameter usedOnFailedNode: a pod bound to a failed node still uses the claim's name; a new
    ///   claim now could be provisioned for that pod, on that node, so wait until it is gone.
    static func step(for volume: PersistentVolume, current: PersistentVolumeClaim?, usedOnFailedNode: Bool) -> Step? {
        guard let template = pendingTemplate(on: volume), let replaced = replacedUID(on: volume) else { return nil }
        guard let current else { return usedOnFailedNode ? .wait : .create(template) }
        return current.metadata.uid == replaced ? .wait : .clear
    }

    /// When the failover that kept `volume` happened, from its ``failedAtLabel``.
    public static func failedAt(on volume: PersistentVolume) -> Date? {
        // 20261121T160500Z → 2026-11-21T16:05:00Z. The label is anyone's to edit: read bytes, not characters.
        guard let bytes = volume.metadata.labels?[failedAtLabel].map({ Array($0.utf8) }), bytes.count == 16 else { return nil }
        func part(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        return KubeTime.parse("\(part(0..<4))-\(part(4..<6))-\(part(6..<8))T\(part(9..<11)):\(part(11..<13)):\(part(13..<15))Z")
    }

    /// A timestamp allowed in a label value: `20261121T160500Z`.
    static func labelTimestamp(_ date: Date) -> String {
        KubeTime.format(date, micro: false).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
    }
}
