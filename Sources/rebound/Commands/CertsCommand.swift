import ArgumentParser
import Crypto
import Foundation
import Kube
import Webhook
import SwiftASN1
import X509

/// `rebound certs`: a CA, a webhook serving certificate and a client certificate, made with
/// swift-certificates; prints the `caBundle` for the MutatingWebhookConfiguration.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Generate a CA and the webhook's serving and client certificates; print the caBundle.",
        discussion: """
            Writes ca.crt, ca.key, tls.crt, tls.key, client.crt, client.key, and kube-scheduler's client \
            certificate for the extender, scheduler.crt and scheduler.key (common name kube-scheduler), \
            all ECDSA P-256, into --out (private keys are created with mode 0600), \
            and two files for `kubectl apply -k deploy/overlays/self-signed`: secret.yaml (the \
            kubernetes.io/tls Secret --secret-name in --namespace, with tls.crt, tls.key and ca.crt) and \
            webhook-ca-patch.yaml (a JSON Patch that puts the caBundle into the MutatingWebhookConfiguration). \
            The serving certificate is valid for the webhook Service's names (NAME, NAME.NS, NAME.NS.svc, \
            NAME.NS.svc.cluster.local), localhost, 127.0.0.1 and ::1, plus --hosts. Standard output is the \
            caBundle (the CA certificate, PEM, base64) to put in the MutatingWebhookConfiguration. With \
            --reuse-ca the existing ca.crt and ca.key in --out sign the new certificates, so the caBundle \
            stays the same (a rotation). In a cluster, cert-manager is the better choice; these are for \
            development and clusters without it.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Directory to write the files into (created if needed).", valueName: "dir"))
    var out = "certs"

    @Option(name: .long, help: ArgumentHelp("Name of the webhook's Service.", valueName: "name"))
    var service = "rebound"

    @Option(name: .long, help: ArgumentHelp("Namespace of the webhook's Service.", valueName: "ns"))
    var namespace = "rebound-system"

    @Option(name: .customLong("secret-name"), help: ArgumentHelp("Name of the TLS Secret in secret.yaml (the Deployment mounts rebound-tls).", valueName: "name"))
    var secretName = "rebound-tls"

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("More DNS names or IP addresses for the serving certificate (comma-separated or repeated).", valueName: "host"))
    var hosts: [String] = []

    @Option(name: .long, help: ArgumentHelp("Days the serving and client certificates are valid.", valueName: "days"))
    var days = 825

    @Option(name: .customLong("ca-days"), help: ArgumentHelp("Days a new CA is valid.", valueName: "days"))
    var caDays = 3650

    @Flag(name: .customLong("reuse-ca"), help: "Sign with the ca.crt and ca.key already in --out instead of making a new CA.")
    var reuseCA = false

    @Flag(name: .customLong("allow-development-ca"), help: "Let --reuse-ca sign with the development CA committed in Rebound's repository (its key is public: for local tests only).")
    var allowDevelopmentCA = false

    /// SHA-256 of the DER of the development CA committed in the repository's certs/: its private
    /// key is public, so nothing it signs may be trusted in a cluster.
    static let developmentCAFingerprint = "2794d82e8a7a8c7b8bfeb84e2b0506f98b9af25839d626909fbeb94accfddfb9"

    static func fingerprint(ofPEM pem: String) -> String? {
        guard let certificate = try? Certificate(pemEncoded: pem) else { return nil }
        var serializer = DER.Serializer()
        guard (try? serializer.serialize(certificate)) != nil else { return nil }
        return SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02x", $0) }.joined()
    }

    func validate() throws {
        guard days > 0, caDays > 0 else { throw ValidationError("--days and --ca-days must be positive") }
        for (flag, value) in [("--service", service), ("--namespace", namespace)] where !ObjectName.isDNSLabel(value) {
            throw ValidationError("\(flag) \"\(value)\" is not a Kubernetes name: use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters")
        }
        guard ObjectName.isDNSSubdomain(secretName) else {
            throw ValidationError("--secret-name \"\(secretName)\" is not a Kubernetes name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters")
        }
    }

    func run() throws {
        let extraHosts = hosts.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var authority: CertificateAuthority?
        if reuseCA {
            let directory = URL(fileURLWithPath: out)
            guard let certificate = try? String(contentsOf: directory.appendingPathComponent("ca.crt"), encoding: .utf8),
                let key = try? String(contentsOf: directory.appendingPathComponent("ca.key"), encoding: .utf8)
            else { throw CLIError("--reuse-ca: cannot read ca.crt and ca.key in \(out)") }
            if Self.fingerprint(ofPEM: certificate) == Self.developmentCAFingerprint {
                guard allowDevelopmentCA else {
                    throw CLIError("--reuse-ca: \(out)/ca.crt is the development CA committed in Rebound's repository; its private key is public, so anything it signs can be impersonated. Make a CA of your own (omit --reuse-ca), or pass --allow-development-ca for local tests")
                }
                FileHandle.standardError.write(Data("""
                    ********************************************************************************
                    WARNING: signing with the development CA committed in Rebound's repository.
                    Its private key is public: never use these certificates in a cluster.
                    ********************************************************************************

                    """.utf8))
            }
            do {
                authority = CertificateAuthority(root: try IssuedCertificate(certificatePEM: certificate, privateKeyPEM: key))
            } catch {
                throw CLIError("--reuse-ca: \(out)/ca.crt or ca.key is not a PEM certificate and key: \(error)")
            }
        } else {
            authority = try CertificateAuthority.generate(validity: .days(caDays))
        }
        let certificates = try WebhookCertificates.generate(
            service: service, namespace: namespace, hosts: extraHosts, validity: .days(days), authority: authority)
        let files = certificates.files + certificates.overlayFiles(secretName: secretName, namespace: namespace)
        do {
            try WebhookCertificates.write(files, to: out)
        } catch {
            throw CLIError("cannot write the certificates into \(out): \(error.localizedDescription)")
        }
        let names = WebhookCertificates.serviceNames(service: service, namespace: namespace) + WebhookCertificates.localNames + extraHosts
        FileHandle.standardError.write(Data("""
            wrote \(files.map(\.name).joined(separator: ", ")) to \(out)
            serving certificate names: \(names.joined(separator: ", "))
            caBundle (standard output) for the MutatingWebhookConfiguration:

            """.utf8))
        print(certificates.caBundle)
    }
}
