import NIOSSL
import X509

/// The names a client certificate carries — its subject's common name and its DNS subject
/// alternative names — checked against a listener's allowed list (`*.tls.clientAllowedNames`).
enum ClientNames {
    /// The certificate's names, empty when it cannot be read.
    static func names(of certificate: NIOSSLCertificate) -> [String] {
        guard let der = try? certificate.toDERBytes(), let parsed = try? X509.Certificate(derEncoded: der) else { return [] }
        var names: [String] = []
        for rdn in parsed.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                names.append(String(describing: attribute.value))
            }
        }
        if let alternatives = try? parsed.extensions.subjectAlternativeNames {
            for name in alternatives {
                if case .dnsName(let dns) = name { names.append(dns) }
            }
        }
        return names
    }

    /// Whether a client presenting `names` may connect: any of them is in `allowed`.
    static func allows(_ names: [String], allowed: [String]) -> Bool {
        allowed.isEmpty || names.contains(where: allowed.contains)
    }
}
