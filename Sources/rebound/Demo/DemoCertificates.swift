import Foundation
import Webhook

/// The webhook's TLS material for one demo run: a fresh CA and a serving certificate for
/// `127.0.0.1` and `localhost`, written into the run's scratch directory. The simulated API
/// server trusts the CA through the MutatingWebhookConfiguration's `caBundle`, as kube-apiserver
/// does, so the demo needs nothing from the repository and works from any directory.
struct DemoCertificates {
    var certificateFile: String
    var keyFile: String
    var caPEM: [UInt8]
    /// The CA as a file, for Rebound's client-certificate checks.
    var caFile: String
    /// kube-scheduler's client certificate and key (common name `kube-scheduler`).
    var schedulerCertificatePEM: [UInt8]
    var schedulerKeyPEM: [UInt8]

    static func make(directory: String) throws -> DemoCertificates {
        let certificates = try WebhookCertificates.generate(validity: .days(1), authority: CertificateAuthority.generate(commonName: "Rebound demo CA", validity: .days(1)))
        do {
            try certificates.write(to: directory)
        } catch {
            throw CLIError("cannot write the demo's certificates into \(directory): \(error.localizedDescription)")
        }
        return DemoCertificates(
            certificateFile: (directory as NSString).appendingPathComponent("tls.crt"),
            keyFile: (directory as NSString).appendingPathComponent("tls.key"),
            caPEM: Array(certificates.authority.root.certificatePEM.utf8), caFile: (directory as NSString).appendingPathComponent("ca.crt"),
            schedulerCertificatePEM: Array(certificates.scheduler.certificatePEM.utf8), schedulerKeyPEM: Array(certificates.scheduler.privateKeyPEM.utf8))
    }
}
