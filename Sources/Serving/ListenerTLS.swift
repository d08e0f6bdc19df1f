import Foundation
import NIOSSL

/// The TLS side of a listener: the serving certificate and key (reloaded from disk when they
/// change) and, optionally, the CAs client certificates must chain to.
public struct ListenerTLS: Sendable, Hashable {
    public var certificateFile: String
    public var keyFile: String
    /// PEM file of CAs that client certificates must chain to; nil accepts any client.
    public var clientCAFile: String?
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
        do {
            let certificates = try NIOSSLCertificate.fromPEMBytes(Array(pem))
            guard !certificates.isEmpty else { throw CertificateLoadError("empty") }
            return certificates
        } catch {
            throw CertificateLoadError("\(file) holds no PEM certificate (\(listener).tls.clientCAFile)")
        }
    }
}
