/// How one webhook request ended: the `result` label of `rebound_webhook_requests_total`.
public enum WebhookResult: String, Sendable, CaseIterable {
    /// The pod was patched.
    case patched
    /// The pod would have been patched, but the request was a dry run (the answer is the same).
    case dryRun = "dry_run"
    /// Admitted without changes: not opted in, already current, a missing claim, not a CREATE.
    case unchanged
    /// Admitted without changes because of Rebound's own trouble (see the degraded counter).
    case degraded
    /// Not an AdmissionReview of a pod: HTTP 400 or an answer carrying a status.
    case invalid
}
