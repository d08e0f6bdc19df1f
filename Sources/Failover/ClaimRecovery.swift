import Foundation
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

    /// The merge patch that marks a volume before its claim is deleted.
    static func markPatch(failedNode: String, retain: Bool, template: PersistentVolumeClaim?) -> JSONValue {
        var metadata: JSONObject = ["labels": [.init(stringLiteral: failedNodeLabel): .string(failedNode), .init(stringLiteral: failedAtLabel): .string(labelTimestamp(Date()))]]
        if let template, let json = try? JSONValue(encoding: template) {
            metadata["annotations"] = [.init(stringLiteral: templateAnnotation): .string(json.jsonString)]
        }
        var patch: JSONObject = ["metadata": .object(metadata)]
        if retain { patch["spec"] = ["persistentVolumeReclaimPolicy": "Retain"] }
        return .object(patch)
    }

    /// The merge patch that clears the template once the claim exists again.
    static let donePatch: JSONValue = ["metadata": ["annotations": [.init(stringLiteral: templateAnnotation): .null]]]

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

    static func step(for volume: PersistentVolume, current: PersistentVolumeClaim?) -> Step? {
        guard let template = pendingTemplate(on: volume) else { return nil }
        guard let current else { return .create(template) }
        return current.metadata.uid == volume.spec?.claimRef?.uid ? .wait : .clear
    }

    /// A timestamp allowed in a label value: `20261121T160500Z`.
    static func labelTimestamp(_ date: Date) -> String {
        KubeTime.format(date, micro: false).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
    }
}
