public import Capacity
public import Kube

/// Plans pod migrations from cached values; no I/O.
public struct MigrationPlanner: Sendable {
    public var keys: CompatibilityKeys

    public init(keys: CompatibilityKeys) { self.keys = keys }

    /// Why `pod` must not be moved, or nil if it should be.
    public func skipReason(for pod: Pod) -> SkipReason? {
        if !keys.optsIn(pod) { return .notOptedIn }
        if pod.metadata.controller?.kind == "DaemonSet" { return .daemonSet }
        if pod.metadata.annotations?["kubernetes.io/config.mirror"] != nil { return .mirrorPod }
        if pod.isTerminal { return .completed }
        return nil
    }

    /// The plan for one eligible pod.
    ///
    /// - Parameters:
    ///   - reason: why the node failed; VolumeAttachments are listed only when it is confirmed down.
    ///   - claims: the pod's claims by name (missing ones are simply not in the map).
    ///   - volumes: PersistentVolumes by name.
    ///   - attachments: VolumeAttachments on the failed node.
    ///   - claimTemplates: the volumeClaimTemplates names of the StatefulSet that owns the pod, when
    ///     it does and it could be read (its controller recreates those claims with the pod).
    public func plan(
        pod: Pod, node: String, nodeLabels: [String: String]?, reason: FailureReason, claims: [String: PersistentVolumeClaim],
        volumes: [String: PersistentVolume], attachments: [VolumeAttachment], claimTemplates: [String]?
    ) -> MigrationPlan {
        var localClaims: [MigrationPlan.LocalClaim] = []
        var networkVolumes: Set<String> = []
        for volume in pod.spec?.volumes ?? [] {
            let claimName: String
            let ephemeral: Bool
            if let source = volume.persistentVolumeClaim {
                claimName = source.claimName
                ephemeral = false
            } else if volume.ephemeral != nil {
                claimName = PodRules.ephemeralClaimName(pod: pod.name, volume: volume.name)
                ephemeral = true
            } else {
                continue
            }
            guard let claim = claims[claimName] else { continue }
            let bound = claim.volumeName.flatMap { volumes[$0] }
            if let bound, VolumePinning.isPinned(bound, to: node, nodeLabels: nodeLabels) {
                let owner: String
                let recreate: Bool
                if ephemeral {
                    (owner, recreate) = ("generic ephemeral volume, recreated with the pod", false)
                } else if let templates = claimTemplates, templates.contains(where: { PodRules.statefulSetClaimName(template: $0, pod: pod.name) == claimName }) {
                    (owner, recreate) = ("StatefulSet \(pod.metadata.controller?.name ?? "") recreates it with the pod", false)
                } else {
                    (owner, recreate) = ("recreated by Rebound", true)
                }
                localClaims.append(MigrationPlan.LocalClaim(claim: claim, volumeName: bound.name, recreate: recreate, owner: owner))
            } else if let bound {
                networkVolumes.insert(bound.name)
            }
        }
        let attachmentNames = !reason.isConfirmed ? [] : attachments
            .filter { $0.spec.nodeName == node && $0.spec.source.persistentVolumeName.map(networkVolumes.contains) == true }
            .map(\.name)
            .sorted()
        var plan = MigrationPlan(pod: pod, node: node, reason: reason, localClaims: localClaims, attachments: attachmentNames)
        plan.networkVolumes = networkVolumes.sorted()
        return plan
    }

    /// Why `plan` must wait, or nil when it may run now.
    ///
    /// - Parameters:
    ///   - claimUsers: every pod that uses each of the plan's local claims, by claim key.
    ///   - requireConfirmation: pods with network volumes wait for their node to be confirmed down.
    public func hold(for plan: MigrationPlan, claimUsers: [String: [Pod]], requireConfirmation: Bool) -> MigrationHold? {
        if requireConfirmation, !plan.reason.isConfirmed, !plan.networkVolumes.isEmpty {
            return .awaitingConfirmation(volumes: plan.networkVolumes)
        }
        for local in plan.localClaims {
            for user in claimUsers[local.claim.key] ?? [] where user.metadata.uid != plan.pod.metadata.uid {
                if !keys.optsIn(user) { return .sharedClaim(claim: local.claim.key, pod: user.key, why: "is not opted in to migration") }
                if let node = user.nodeName, node != plan.node { return .sharedClaim(claim: local.claim.key, pod: user.key, why: "runs on node \(node)") }
            }
        }
        return nil
    }

    /// Annotations the binding machinery puts on a claim; a rebuilt claim must start without them.
    public static let bindingAnnotations: Set<String> = [
        "pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller", "volume.kubernetes.io/selected-node",
        "volume.beta.kubernetes.io/storage-provisioner", "volume.kubernetes.io/storage-provisioner", "volume.kubernetes.io/storage-resizer",
        "pv.kubernetes.io/migrated-to",
    ]

    /// The claim to create in place of `old`: same name, namespace, labels, annotations (without the
    /// binding ones), owner references and spec, unbound, so it is provisioned afresh wherever the
    /// replacement pod lands.
    public func replacement(for old: PersistentVolumeClaim, failedNode: String) -> PersistentVolumeClaim {
        var metadata = ObjectMeta(name: old.metadata.name, namespace: old.metadata.namespace)
        metadata.labels = old.metadata.labels
        var annotations = (old.metadata.annotations ?? [:]).filter { !Self.bindingAnnotations.contains($0.key) }
        annotations["rebound.io/rebuilt-from-node"] = failedNode
        metadata.annotations = annotations
        metadata.ownerReferences = old.metadata.ownerReferences
        var spec = old.spec ?? PersistentVolumeClaimSpec()
        spec.volumeName = nil
        return PersistentVolumeClaim(metadata: metadata, spec: spec)
    }
}
