public import X509

/// A certificate with its private key, and both as PEM text.
public struct IssuedCertificate: Sendable {
    public let certificate: Certificate
    public let privateKey: Certificate.PrivateKey
    public let certificatePEM: String
    /// PKCS#8 (`BEGIN PRIVATE KEY`) for generated keys.
    public let privateKeyPEM: String

    public init(certificate: Certificate, privateKey: Certificate.PrivateKey) throws {
        self.certificate = certificate
        self.privateKey = privateKey
        certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
        privateKeyPEM = try privateKey.serializeAsPEM().pemString + "\n"
    }

    /// Reads a certificate and key from PEM.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        certificate = try Certificate(pemEncoded: certificatePEM)
        privateKey = try Certificate.PrivateKey(pemEncoded: privateKeyPEM)
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }
}
