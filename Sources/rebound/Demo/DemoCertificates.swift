import Foundation

/// The webhook's TLS material for a demo run (placeholder until the webhook's issuer lands).
struct DemoCertificates {
    var certificateFile: String
    var keyFile: String
    var caPEM: [UInt8]

    static func make(directory: String) throws -> DemoCertificates {
        guard let ca = FileManager.default.contents(atPath: "certs/ca.crt") else { throw CLIError("run from the repository: certs/ca.crt is needed") }
        return DemoCertificates(certificateFile: "certs/tls.crt", keyFile: "certs/tls.key", caPEM: Array(ca))
    }
}
