/// Why a certificate/key pair could not be (re)loaded.
public struct CertificateLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
