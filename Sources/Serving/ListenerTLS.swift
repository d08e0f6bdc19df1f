import Foundation
import NIOSSL

/// The TLS side of a listener: the serving certificate and key (reloaded from disk when they
/// change) and, optionally, the CAs client certificates must chain to.
public struct ListenerTLS: Sendable, Hashable {
    public var certificateFile: String
    public var keyFile: String
    /// PEM file of CAs that client certificates must chain to; nil accepts any client. Reloaded
    /// when it changes, like the serving pair.
    public var clientCAFile: String?
    /// With a client CA: the client certificate must also carry one of these as its subject's
    /// common name or a DNS subject alternative name. Empty: any certificate the CA signed.
    public var allowedClientNames: [String] = []
    /// How often the certificate files are checked for a rotation.
    public var reloadInterval: Duration = .seconds(1)

    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
    }

    /// The CAs client certificates must chain to, or nil when none are required.
    static func loadClientCA(_ file: String?, listener: String) throws(CertificateLoadError) -> [NIOSSLCertificate]? {
        guard let file, !file.isEmpty else { return nil }
        guard let pem = FileManager.default.contents(atPath: file) else {
            throw CertificateLoadError("cannot read the client CA file \(file) (\(listener).tls.clientCAFile)")
        }
        return try parseClientCA(Array(pem), file: file, listener: listener)
    }

    static func parseClientCA(_ pem: [UInt8], file: String, listener: String) throws(CertificateLoadError) -> [NIOSSLCertificate] {
        do {
            let certificates = try NIOSSLCertificate.fromPEMBytes(pem)
            guard !certificates.isEmpty else { throw CertificateLoadError("empty") }
            return certificates
        } catch {
            throw CertificateLoadError("\(file) holds no PEM certificate (\(listener).tls.clientCAFile)")
        }
    }
}
