import Foundation

/// The development CA and certificates committed in `certs/`.
public enum TestCertificates {
    /// The repository's `certs/` directory.
    public static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("certs/ca.crt").path
            if FileManager.default.fileExists(atPath: candidate) { return url.appendingPathComponent("certs").path }
        }
        fatalError("certs/ not found above \(#filePath)")
    }()

    public static func path(_ name: String) -> String { directory + "/" + name }

    public static func bytes(_ name: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(name)) else { fatalError("cannot read \(path(name))") }
        return Array(data)
    }

    public static var caPEM: [UInt8] { bytes("ca.crt") }
    public static var serverCertificatePEM: [UInt8] { bytes("tls.crt") }
    public static var serverKeyPEM: [UInt8] { bytes("tls.key") }
    public static var clientCertificatePEM: [UInt8] { bytes("client.crt") }
    public static var clientKeyPEM: [UInt8] { bytes("client.key") }
}
