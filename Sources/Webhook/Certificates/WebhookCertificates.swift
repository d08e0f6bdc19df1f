import Foundation

/// The certificate set Rebound's webhook needs: a CA (whose PEM, base64, is the
/// MutatingWebhookConfiguration's `caBundle`), a serving certificate for the webhook Service's
/// names, and a client certificate from the same CA (for clients when client certificates are
/// required, and for tests). `rebound certs` writes it.
public struct WebhookCertificates: Sendable {
    public var authority: CertificateAuthority
    public var serving: IssuedCertificate
    public var client: IssuedCertificate

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
        return WebhookCertificates(authority: authority, serving: serving, client: client)
    }

    /// The `caBundle` value: the CA certificate's PEM, base64-encoded.
    public var caBundle: String { Data(authority.root.certificatePEM.utf8).base64EncodedString() }

    /// The files ``write(to:)`` creates, by name.
    public var files: [(name: String, contents: String, secret: Bool)] {
        [
            ("ca.crt", authority.root.certificatePEM, false), ("ca.key", authority.root.privateKeyPEM, true),
            ("tls.crt", serving.certificatePEM, false), ("tls.key", serving.privateKeyPEM, true),
            ("client.crt", client.certificatePEM, false), ("client.key", client.privateKeyPEM, true),
        ]
    }

    /// Writes `ca.crt`, `ca.key`, `tls.crt`, `tls.key`, `client.crt` and `client.key` into
    /// `directory` (created if needed); keys are readable by the owner only. Each file is
    /// replaced atomically, so a webhook watching them never reads half a file.
    public func write(to directory: String) throws {
        try Self.write(files, to: directory)
    }

    /// Writes `files` into `directory` (created if needed), each atomically; secret ones are
    /// readable by the owner only.
    public static func write(_ files: [(name: String, contents: String, secret: Bool)], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file.name)
            try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: file.secret ? 0o600 : 0o644], ofItemAtPath: path)
        }
    }
}
