import Foundation
import NIOSSL
import X509

/// Reads and checks a certificate chain and key from PEM files.
enum CertificatePair {
    /// The file contents, exactly as read, so a change can be noticed by comparing bytes.
    struct Contents: Equatable {
        var certificate: [UInt8]
        var key: [UInt8]
    }

    static func read(certificateFile: String, keyFile: String) throws(CertificateLoadError) -> Contents {
        guard let certificate = FileManager.default.contents(atPath: certificateFile) else {
            throw CertificateLoadError("cannot read the certificate file \(certificateFile)")
        }
        guard let key = FileManager.default.contents(atPath: keyFile) else {
            throw CertificateLoadError("cannot read the key file \(keyFile)")
        }
        return Contents(certificate: Array(certificate), key: Array(key))
    }

    /// Parses the pair and checks that the key belongs to the leaf certificate, so a rotation
    /// caught between writing the two files is never served.
    static func parse(_ contents: Contents, certificateFile: String, keyFile: String) throws(CertificateLoadError) -> ServingIdentity.Material {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(contents.certificate)
        } catch {
            throw CertificateLoadError("\(certificateFile) holds no PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw CertificateLoadError("\(certificateFile) holds no PEM certificate") }
        do {
            key = try NIOSSLPrivateKey(bytes: contents.key, format: .pem)
        } catch {
            throw CertificateLoadError("\(keyFile) holds no PEM private key (\(error))")
        }
        let leaf: Certificate
        let privateKey: Certificate.PrivateKey
        do {
            leaf = try Certificate(derEncoded: chain[0].toDERBytes())
            privateKey = try Certificate.PrivateKey(pemEncoded: String(decoding: contents.key, as: UTF8.self))
        } catch {
            throw CertificateLoadError("cannot read \(certificateFile) or \(keyFile): \(error)")
        }
        guard leaf.publicKey == privateKey.publicKey else {
            throw CertificateLoadError("the key in \(keyFile) does not belong to the certificate in \(certificateFile)")
        }
        let summary = "subject \(leaf.subject), serial \(leaf.serialNumber), valid until \(leaf.notValidAfter)"
        return ServingIdentity.Material(chain: chain, key: key, summary: summary)
    }
}
