import Foundation

/// The certificate set Rebound's webhook needs: a CA (whose PEM, base64, is the
/// MutatingWebhookConfiguration's `caBundle`), a serving certificate for the webhook Service's
/// names, and a client certificate from the same CA (for clients when client certificates are
/// required, and for tests). `rebound certs` writes it.
public struct WebhookCertificates: Sendable {
    public var authority: CertificateAuthority
    public var serving: IssuedCertificate
    public var client: IssuedCertificate
    /// kube-scheduler's client certificate for the extender (common name `kube-scheduler`, the
    /// name `extender.tls.clientAllowedNames` expects).
    public var scheduler: IssuedCertificate

    /// The common name of kube-scheduler's client certificate.
    public static let schedulerClientName = "kube-scheduler"

    /// The names a Service is reached by from inside the cluster.
    public static func serviceNames(service: String, namespace: String) -> [String] {
        [service, "\(service).\(namespace)", "\(service).\(namespace).svc", "\(service).\(namespace).svc.cluster.local"]
    }

    /// Local names, so the same certificate serves a webhook run on a workstation and in tests.
    public static let localNames = ["localhost", "127.0.0.1", "::1"]

    /// Issues a serving and a client certificate, from `authority` or from a new CA.
    ///
    /// - Parameters:
    ///   - hosts: extra DNS names or IP addresses for the serving certificate.
    public static func generate(
        service: String = "rebound", namespace: String = "rebound-system", hosts: [String] = [],
        validity: Duration = .days(825), authority: CertificateAuthority? = nil
    ) throws -> WebhookCertificates {
        let authority = try authority ?? CertificateAuthority.generate()
        var names: [String] = []
        for name in serviceNames(service: service, namespace: namespace) + localNames + hosts where !names.contains(name) {
            names.append(name)
        }
        let serving = try authority.issue(commonName: "\(service).\(namespace).svc", hosts: names, usages: [.server], validity: validity)
        let client = try authority.issue(commonName: "\(service)-client", hosts: [], usages: [.client], validity: validity)
        let scheduler = try authority.issue(commonName: schedulerClientName, hosts: [], usages: [.client], validity: validity)
        return WebhookCertificates(authority: authority, serving: serving, client: client, scheduler: scheduler)
    }

    /// The `caBundle` value: the CA certificate's PEM, base64-encoded.
    public var caBundle: String { Data(authority.root.certificatePEM.utf8).base64EncodedString() }

    /// The files ``write(to:)`` creates, by name.
    public var files: [(name: String, contents: String, secret: Bool)] {
        [
            ("ca.crt", authority.root.certificatePEM, false), ("ca.key", authority.root.privateKeyPEM, true),
            ("tls.crt", serving.certificatePEM, false), ("tls.key", serving.privateKeyPEM, true),
            ("client.crt", client.certificatePEM, false), ("client.key", client.privateKeyPEM, true),
            ("scheduler.crt", scheduler.certificatePEM, false), ("scheduler.key", scheduler.privateKeyPEM, true),
        ]
    }

    /// Writes `ca.crt`, `ca.key`, `tls.crt`, `tls.key`, `client.crt` and `client.key` into
    /// `directory` (created if needed); keys are readable by the owner only. Each file is
    /// replaced atomically, so a webhook watching them never reads half a file.
    public func write(to directory: String) throws {
        try Self.write(files, to: directory)
    }

    /// Writes `files` into `directory` (created if needed), each atomically (a temporary file
    /// renamed over the old one); secret ones are created readable by the owner only (mode 0600
    /// from the moment they exist, never widened later).
    public static func write(_ files: [(name: String, contents: String, secret: Bool)], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file.name)
            try writeAtomically(Array(file.contents.utf8), to: path, mode: file.secret ? 0o600 : 0o644)
        }
    }

    private static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let temporary = "\(path).tmp-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary]) }
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let result = Foundation.write(descriptor, raw.baseAddress! + written, raw.count - written)
                if result < 0 { if errno == EINTR { continue }; return false }
                written += result
            }
            return true
        }
        // The mode given to open() is narrowed by the umask; set it exactly (never wider than asked).
        let chmodded = fchmod(descriptor, mode) == 0
        close(descriptor)
        guard ok, chmodded, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}
