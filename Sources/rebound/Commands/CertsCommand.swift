import ArgumentParser
import Foundation
import Webhook

/// `rebound certs`: a CA, a webhook serving certificate and a client certificate, made with
/// swift-certificates; prints the `caBundle` for the MutatingWebhookConfiguration.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Generate a CA and the webhook's serving and client certificates; print the caBundle.",
        discussion: """
            Writes ca.crt, ca.key, tls.crt, tls.key, client.crt and client.key (ECDSA P-256) into --out, \
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

    func validate() throws {
        guard days > 0, caDays > 0 else { throw ValidationError("--days and --ca-days must be positive") }
        for (flag, value) in [("--service", service), ("--namespace", namespace), ("--secret-name", secretName)] where !Self.isDNSLabel(value) {
            throw ValidationError("\(flag) \"\(value)\" is not a Kubernetes name: use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters")
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
        do {
            try certificates.write(to: out)
            try Self.write(certificates.secretManifest(name: secretName, namespace: namespace), to: out, name: "secret.yaml", mode: 0o600)
            try Self.write(certificates.caBundlePatch(), to: out, name: "webhook-ca-patch.yaml", mode: 0o644)
        } catch {
            throw CLIError("cannot write the certificates into \(out): \(error.localizedDescription)")
        }
        let names = WebhookCertificates.serviceNames(service: service, namespace: namespace) + WebhookCertificates.localNames + extraHosts
        FileHandle.standardError.write(Data("""
            wrote \((certificates.files.map(\.name) + ["secret.yaml", "webhook-ca-patch.yaml"]).joined(separator: ", ")) to \(out)
            serving certificate names: \(names.joined(separator: ", "))
            caBundle (standard output) for the MutatingWebhookConfiguration:

            """.utf8))
        print(certificates.caBundle)
    }

    static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        guard let first = bytes.first, let last = bytes.last, bytes.count <= 63, alphanumeric(first), alphanumeric(last) else { return false }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func write(_ text: String, to directory: String, name: String, mode: Int) throws {
        let path = (directory as NSString).appendingPathComponent(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }
}
