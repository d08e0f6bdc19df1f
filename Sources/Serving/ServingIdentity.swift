public import NIOSSL
import Synchronization

/// The certificate chain and key the webhook presents, swapped in place on rotation. The TLS
/// handshake callback reads it synchronously on an event loop, hence a lock rather than an actor.
public final class ServingIdentity: Sendable {
    /// One certificate chain (leaf first) with its private key.
    public struct Material: Sendable {
        public var chain: [NIOSSLCertificate]
        public var key: NIOSSLPrivateKey
        /// A one-line description of the leaf, for logs and tests (subject, serial, expiry).
        public var summary: String

        public init(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey, summary: String) {
            self.chain = chain
            self.key = key
            self.summary = summary
        }
    }

    private let state: Mutex<(material: Material, generation: Int)>

    public init(_ material: Material) { state = Mutex((material, 0)) }

    /// The material new handshakes get.
    public var current: Material { state.withLock { $0.material } }

    /// How many times the material was replaced.
    public var generation: Int { state.withLock { $0.generation } }

    func replace(with material: Material) {
        state.withLock { $0 = (material, $0.generation + 1) }
    }

    /// The TLS 1.2 suites offered: forward-secret key exchange (ECDHE) with an AEAD cipher
    /// (AES-GCM or ChaCha20-Poly1305) only — no RSA key exchange, no CBC. TLS 1.3, preferred
    /// whenever the client supports it, has only such suites.
    public static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// A server TLS configuration (TLS 1.2 or newer) whose every handshake uses the current
    /// material. Connections already open keep the certificate they started with.
    ///
    /// - Parameter clientCA: when given, clients must present a certificate signed by one of these.
    public func tlsConfiguration(clientCA: [NIOSSLCertificate]? = nil) -> TLSConfiguration {
        let material = current
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: material.chain.map { .certificate($0) }, privateKey: .privateKey(material.key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = Self.tls12CipherSuites
        if let clientCA {
            // Hostname checks make no sense for clients; the chain must still lead to the CA.
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(clientCA)
        }
        configuration.sslContextCallback = { [self] _, promise in
            let material = self.current
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = material.chain.map { .certificate($0) }
            override.privateKey = .privateKey(material.key)
            promise.succeed(override)
        }
        return configuration
    }
}
