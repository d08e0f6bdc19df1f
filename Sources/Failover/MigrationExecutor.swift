import Foundation
import Kube
import Logging

/// One API write the controller makes (or, in dry-run, would make).
public enum MigrationAction: Sendable, Hashable, CustomStringConvertible {
    case retainVolume(String)
    case deleteClaim(String)
    case deletePod(String)
    case deleteAttachment(String)
    case createClaim(String)

    /// The metrics label.
    public var name: String {
        switch self {
        case .retainVolume: "retain_volume"
        case .deleteClaim: "delete_claim"
        case .deletePod: "delete_pod"
        case .deleteAttachment: "delete_volume_attachment"
        case .createClaim: "create_claim"
        }
    }

    public var description: String {
        switch self {
        case .retainVolume(let name): "retain PersistentVolume \(name)"
        case .deleteClaim(let key): "delete PersistentVolumeClaim \(key)"
        case .deletePod(let key): "force-delete Pod \(key)"
        case .deleteAttachment(let name): "delete VolumeAttachment \(name)"
        case .createClaim(let key): "recreate PersistentVolumeClaim \(key)"
        }
    }
}

/// Carries out a ``MigrationPlan`` against the API, in the order that keeps the replacement pod
/// from ever binding the old claim: retain the volumes, delete the claims (their protection
/// finalizer holds them while the pod exists), force-delete the pod, and only once each old
/// claim is really gone create its replacement. Every write is retried on conflicts and server
/// errors, logged, counted, recorded as an Event, and skipped in dry-run.
///
/// Two guards run before writes: `mayAct` (this replica still holds leadership) before every
/// one, and a live read of the node (`nodeStatus`) before deleting a claim and before deleting the
/// pod — when the node has recovered, the migration stops there and clears the marks it left.
struct MigrationExecutor: Sendable {
    /// What a live read of the failed node says.
    enum NodeStatus: Sendable, Equatable {
        case stillDown
        /// Ready again, with no out-of-service taint or fencing signal.
        case recovered
        /// The read failed: nothing is known, so nothing destructive happens now.
        case unknown(String)
    }

    let client: KubeClient
    let settings: FailoverSettings
    let recorder: EventRecorder
    let metrics: FailoverMetrics
    let logger: Logger
    let waiter: ClaimDeletionWaiter
    let planner: MigrationPlanner
    let observer: (@Sendable (MigrationAction) -> Void)?
    /// False once this replica may no longer write (its leadership lapsed).
    var mayAct: @Sendable () -> Bool = { true }
    /// A live read of a node.
    var nodeStatus: @Sendable (String) async -> NodeStatus = { _ in .stillDown }

    /// Whether the node is still down right now; when it recovered, clears the marks on the plan's
    /// volumes so nothing later "finishes" a rebuild that no longer should happen.
    private func stillDown(_ plan: MigrationPlan, before step: String) async -> Bool {
        guard !settings.dryRun else { return true }
        switch await nodeStatus(plan.node) {
        case .stillDown:
            return true
        case .recovered:
            logger.notice("node recovered; stopping the migration", metadata: ["pod": "\(plan.podKey)", "node": "\(plan.node)", "before": "\(step)"])
            metrics.aborted("node_recovered")
            recorder.record(plan.pod, reason: "ReboundMigrationStopped", message: "Node \(plan.node) is Ready again; stopped before \(step).")
            for local in plan.localClaims {
                guard let volume = local.volumeName else { continue }
                do {
                    _ = try await client.patch(PersistentVolume.self, volume, .merge(ClaimRecovery.clearPatch))
                } catch let error as KubeAPIError where error.isNotFound {
                } catch {
                    logger.warning("could not clear the failover marks on a volume", metadata: ["volume": "\(volume)", "error": "\(error)"])
                }
            }
            return false
        case .unknown(let error):
            logger.warning("could not read the node before a destructive step; will retry", metadata: ["pod": "\(plan.podKey)", "node": "\(plan.node)", "error": "\(error)"])
            metrics.aborted("node_unreadable")
            return false
        }
    }

    /// Runs the plan; returns true when every step succeeded.
    func execute(_ plan: MigrationPlan) async -> Bool {
        let pod = plan.pod
        let claimList = plan.localClaims.map { "\($0.claim.name) (\($0.owner))" }.joined(separator: ", ")
        logger.notice("moving pod off failed node", metadata: [
            "pod": "\(pod.key)", "node": "\(plan.node)", "reason": "\(plan.reason)", "localClaims": "\(claimList.isEmpty ? "none" : claimList)",
            "attachments": "\(plan.attachments.count)", "dryRun": "\(settings.dryRun)",
        ])
        if !settings.dryRun {
            recorder.record(pod, reason: "ReboundMigrating", message: "Node \(plan.node) failed (\(plan.reason)); force-deleting this pod so it restarts on a healthy node\(plan.localClaims.isEmpty ? "" : " and rebuilding its local claims: \(claimList)").", warning: true)
        }

        // Mark every pinned volume before touching its claim: the mark (failed node, and for
        // claims Rebound recreates, the claim to recreate) is what lets any replica finish the job
        // if this one stops half-way. With retention on, the volume is also kept.
        for local in plan.localClaims {
            guard let volume = local.volumeName else { continue }
            guard settings.retainVolumes || local.recreate else { continue }
            let ok = await perform(.retainVolume(volume)) {
                let patch = ClaimRecovery.markPatch(
                    failedNode: plan.node, retain: settings.retainVolumes,
                    template: local.recreate ? planner.replacement(for: local.claim, failedNode: plan.node) : nil, replacedUID: local.claim.metadata.uid)
                let marked = try await client.patch(PersistentVolume.self, volume, .merge(patch))
                if settings.retainVolumes {
                    recorder.record(marked, reason: "ReboundVolumeRetained", message: "Kept (reclaim policy Retain) because node \(plan.node) failed; its data stays on that node. Claim \(local.claim.key) is rebuilt elsewhere.")
                }
            }
            // Without the volume kept and marked, deleting the claim could lose its data or its spec: stop here.
            guard ok else { return finish(plan, success: false) }
        }

        if !plan.localClaims.isEmpty {
            guard await stillDown(plan, before: "deleting its claims") else { return finish(plan, success: false) }
        }
        for local in plan.localClaims {
            let claim = local.claim
            guard let uid = claim.metadata.uid else { continue }
            if !settings.dryRun { await waiter.expect(key: claim.key, uid: uid) }
            let ok = await perform(.deleteClaim(claim.key)) {
                do {
                    try await client.delete(PersistentVolumeClaim.self, claim.name, namespace: claim.namespace, options: DeleteOptions(preconditions: .init(uid: uid)))
                } catch let error as KubeAPIError where error.isNotFound {
                    return  // already gone
                } catch let error as KubeAPIError where error.isConflict {
                    // A different claim of that name exists: the old one is gone already.
                    let current = try? await client.get(PersistentVolumeClaim.self, claim.name, namespace: claim.namespace)
                    if current?.metadata.uid == uid { throw error }
                    return
                }
                recorder.record(claim, reason: "ReboundClaimDeleted", message: "Deleted because its volume \(local.volumeName ?? "") is on failed node \(plan.node); \(local.owner).")
            }
            guard ok else { return finish(plan, success: false) }
        }

        guard await stillDown(plan, before: "force-deleting it") else { return finish(plan, success: false) }
        let podDeleted = await perform(.deletePod(pod.key)) {
            guard let uid = pod.metadata.uid else { return }
            do {
                try await client.delete(Pod.self, pod.name, namespace: pod.namespace, options: DeleteOptions(gracePeriodSeconds: 0, preconditions: .init(uid: uid)))
            } catch let error as KubeAPIError where error.isNotFound {
                return
            } catch let error as KubeAPIError where error.isConflict {
                let current = try? await client.get(Pod.self, pod.name, namespace: pod.namespace)
                if current?.metadata.uid == uid { throw error }
                return
            }
            recorder.record(pod, reason: "ReboundPodForceDeleted", message: "Force-deleted (grace period 0) because node \(plan.node) failed: \(plan.reason).", warning: true)
        }
        guard podDeleted else { return finish(plan, success: false) }

        var success = true
        if settings.deleteVolumeAttachments {
            for attachment in plan.attachments {
                let ok = await perform(.deleteAttachment(attachment)) {
                    do {
                        try await client.delete(VolumeAttachment.self, attachment)
                    } catch let error as KubeAPIError where error.isNotFound {
                        return
                    }
                }
                success = success && ok
            }
        }

        for local in plan.localClaims where local.recreate {
            let claim = local.claim
            if !settings.dryRun, let uid = claim.metadata.uid {
                let gone = await waiter.waitUntilGone(key: claim.key, uid: uid, timeout: settings.claimDeletionTimeout)
                if !gone {
                    let current = try? await client.get(PersistentVolumeClaim.self, claim.name, namespace: claim.namespace)
                    if current?.metadata.uid == uid {
                        logger.error("old claim is still there; not recreating it", metadata: [
                            "claim": "\(claim.key)", "waited": "\(settings.claimDeletionTimeout)",
                            "hint": "a finalizer other than kubernetes.io/pvc-protection, or a pod still using it, holds the claim",
                        ])
                        recorder.record(claim, reason: "ReboundClaimStuck", message: "Still present \(settings.claimDeletionTimeout) after deletion; the replacement will be created once it is gone.", warning: true)
                        success = false
                        continue
                    }
                }
            }
            let ok = await recreate(planner.replacement(for: claim, failedNode: plan.node), replacing: claim.metadata.uid, volume: local.volumeName, failedNode: plan.node)
            success = success && ok
        }
        return finish(plan, success: success)
    }

    /// Creates `replacement` (unless someone already has) and clears the volume's mark.
    func recreate(_ replacement: PersistentVolumeClaim, replacing oldUID: String?, volume: String?, failedNode: String) async -> Bool {
        let created = await perform(.createClaim(replacement.key)) {
            do {
                let created = try await client.create(replacement)
                recorder.record(created, reason: "ReboundClaimRebuilt", message: "Recreated in place of the claim whose volume was on failed node \(failedNode); it will be provisioned where the pod restarts.")
            } catch let error as KubeAPIError where error.isAlreadyExists {
                // Someone (another replica, the pod's controller) created it first; fine unless it is still the old one.
                let current = try await client.get(PersistentVolumeClaim.self, replacement.name, namespace: replacement.namespace)
                if current.metadata.uid == oldUID { throw error }
            }
        }
        guard created, let volume, !settings.dryRun else { return created }
        do {
            _ = try await client.patch(PersistentVolume.self, volume, .merge(ClaimRecovery.donePatch))
        } catch {
            logger.warning("could not clear the claim template on the volume; the claim exists, so it will be cleared later", metadata: ["volume": "\(volume)", "error": "\(error)"])
        }
        return true
    }

    private func finish(_ plan: MigrationPlan, success: Bool) -> Bool {
        metrics.migration(result: settings.dryRun ? "dry_run" : (success ? "success" : "failure"))
        if success {
            logger.notice(settings.dryRun ? "dry run: pod would be moved" : "pod moved off failed node", metadata: ["pod": "\(plan.podKey)", "node": "\(plan.node)"])
        } else {
            logger.error("pod migration did not complete; it will be retried", metadata: ["pod": "\(plan.podKey)", "node": "\(plan.node)"])
        }
        return success
    }

    /// Runs one write with retries on conflicts, throttling and server errors.
    private func perform(_ action: MigrationAction, _ operation: () async throws -> Void) async -> Bool {
        if settings.dryRun {
            logger.notice("dry run: would \(action)")
            metrics.action(action.name, result: "dry_run")
            observer?(action)
            return true
        }
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
        for attempt in 1...max(1, settings.maxAttempts) {
            guard mayAct() else {
                logger.error("not leading any more; did not \(action)")
                metrics.action(action.name, result: "not_leader")
                return false
            }
            do {
                try await operation()
                logger.info("\(action)", metadata: ["attempt": "\(attempt)"])
                metrics.action(action.name, result: "success")
                observer?(action)
                return true
            } catch let error as KubeAPIError where (error.isRetryable || error.isConflict) && attempt < settings.maxAttempts {
                let delay = error.retryAfterSeconds.map { Duration.seconds($0) } ?? backoff.next()
                logger.warning("retrying \(action)", metadata: ["error": "\(error)", "attempt": "\(attempt)", "delay": "\(delay)"])
                metrics.action(action.name, result: "retry")
                try? await Task.sleep(for: delay)
            } catch let error as KubeClientError where attempt < settings.maxAttempts {
                logger.warning("retrying \(action)", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                metrics.action(action.name, result: "retry")
                try? await Task.sleep(for: backoff.next())
            } catch {
                logger.error("could not \(action)", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                metrics.action(action.name, result: "failure")
                return false
            }
        }
        return false
    }

}
