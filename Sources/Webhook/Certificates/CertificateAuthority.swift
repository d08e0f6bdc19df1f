import Crypto
public import Foundation
import SwiftASN1
import X509

/// A small certificate authority for development and for clusters without cert-manager: it
/// makes a self-signed CA and issues leaf certificates (ECDSA P-256) for TLS servers and clients.
public struct CertificateAuthority: Sendable {
    /// What a leaf certificate may be used for.
    public enum Usage: Sendable, Hashable {
        case server
        case client
    }

    public let root: IssuedCertificate

    public init(root: IssuedCertificate) { self.root = root }

    /// A new self-signed CA that may sign leaf certificates only (path length 0).
    public static func generate(commonName: String = "Rebound development CA", validity: Duration = .days(3650), now: Date = Date()) throws -> CertificateAuthority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName {
            OrganizationName("Rebound")
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(validity.seconds),
            issuer: name, subject: name,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key)
        return CertificateAuthority(root: try IssuedCertificate(certificate: certificate, privateKey: key))
    }

    /// Issues a leaf certificate. Each host is a DNS name or an IPv4/IPv6 address.
    public func issue(
        commonName: String, hosts: [String], usages: Set<Usage>, validity: Duration = .days(365), now: Date = Date()
    ) throws -> IssuedCertificate {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        var names: [GeneralName] = []
        for host in hosts {
            if let address = Self.ipAddressBytes(host) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: address[...])))
            } else {
                names.append(.dnsName(host))
            }
        }
        var extendedUsages: [ExtendedKeyUsage.Usage] = []
        if usages.contains(.server) { extendedUsages.append(.serverAuth) }
        if usages.contains(.client) { extendedUsages.append(.clientAuth) }
        let authorityKeyIdentifier = try root.certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(validity.seconds),
            issuer: root.certificate.subject, subject: try DistinguishedName { CommonName(commonName) },
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage(extendedUsages)
                if !names.isEmpty { SubjectAlternativeNames(names) }
                SubjectKeyIdentifier(hash: key.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyIdentifier)
            },
            issuerPrivateKey: root.privateKey)
        return try IssuedCertificate(certificate: certificate, privateKey: key)
    }

    /// The 4 or 16 bytes of an IP address literal, or nil for anything else (a DNS name).
    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

extension Duration {
    /// `days` × 24 hours.
    public static func days(_ days: Int) -> Duration { .seconds(days * 86_400) }

    /// The duration in seconds, for `Date` arithmetic.
    var seconds: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
