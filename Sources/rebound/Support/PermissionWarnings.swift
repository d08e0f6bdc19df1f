import Kube
import Logging
import ServiceLifecycle

/// Asks once, at start, whether the credentials allow everything Rebound's parts use (the
/// questions `rebound check` asks) and logs a warning for each permission denied, naming the
/// part that needs it; then waits for shutdown. A missing permission shows at start, not when the
/// part first needs it.
struct PermissionWarnings: Service {
    let client: KubeClient
    let checks: [RequiredPermissions.Check]
    let logger: Logger

    func run() async throws {
        let access = await AccessReview.review(client, checks)
        for item in access where item.allowed == false {
            logger.warning("missing permission: this part will fail when it needs it", metadata: [
                "verb": "\(item.check.verb)", "resource": "\(AccessReview.resourceName(item.check))", "neededBy": "\(item.check.part)",
            ])
        }
        let unknown = access.filter { $0.allowed == nil }.count
        if unknown > 0 { logger.notice("could not ask the API server about some permissions (SelfSubjectAccessReview)", metadata: ["unanswered": "\(unknown)"]) }
        try? await gracefulShutdown()
    }
}
