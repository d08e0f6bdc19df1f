/// Failures of the client itself (as opposed to answers from the server, ``KubeAPIError``).
public enum KubeClientError: Error, Sendable, CustomStringConvertible {
    /// The kubeconfig or in-cluster environment is unusable; the text says what to fix.
    case configuration(String)
    /// The server's answer could not be decoded as the expected type.
    case decoding(String)
    /// The connection failed or timed out.
    case transport(String)
    /// A watch stream ended with an ERROR event that was not a Status.
    case watch(String)

    public var description: String {
        switch self {
        case .configuration(let message): "Kubernetes client configuration: \(message)"
        case .decoding(let message): "could not decode the API server's answer: \(message)"
        case .transport(let message): "could not reach the API server: \(message)"
        case .watch(let message): "watch failed: \(message)"
        }
    }
}
