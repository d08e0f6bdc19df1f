public import Foundation
import Yams

/// Everything the client needs to reach one API server as one user.
public struct KubeClientConfiguration: Sendable {
    /// `https://host:port` (or `http://` for a local ClusterSim).
    public var server: String
    /// PEM bundle of CAs that may sign the server's certificate; nil means the system roots.
    public var certificateAuthorityPEM: [UInt8]?
    public var insecureSkipTLSVerify = false
    /// The name to verify the server certificate against, when it differs from the URL host.
    public var tlsServerName: String?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    public var token: TokenSource.Origin = .none
    /// The namespace of the context (or the service account), used when a call names none.
    public var namespace = "default"
    /// Client-side rate limit: requests a second (0 disables) and burst.
    public var qps: Double = 50
    public var burst = 100
    /// Timeout of ordinary requests (watches are not bounded by it).
    public var requestTimeout: Duration = .seconds(30)
    /// How long to keep trying to connect (TCP and TLS) before a request fails.
    public var connectTimeout: Duration = .seconds(10)
    /// Largest response body read into memory.
    public var maxResponseBytes = 512 * 1024 * 1024
    public var userAgent = "rebound"

    public init(server: String) { self.server = server }

    // MARK: In-cluster

    /// The configuration a pod gets from its service account: `KUBERNETES_SERVICE_HOST` and
    /// `_PORT`, and the token, CA and namespace files (the token is re-read as it rotates).
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws(KubeClientError) -> KubeClientConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw .configuration("not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; pass --kubeconfig to run outside one")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        var config = KubeClientConfiguration(server: "https://\(hostPart):\(port)")
        let tokenPath = serviceAccountDirectory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw .configuration("the service-account token \(tokenPath) is missing; mount the service account (automountServiceAccountToken: true)")
        }
        config.token = .file(tokenPath)
        let caPath = serviceAccountDirectory + "/ca.crt"
        guard let ca = FileManager.default.contents(atPath: caPath) else {
            throw .configuration("the cluster CA \(caPath) is missing or unreadable")
        }
        config.certificateAuthorityPEM = Array(ca)
        if let namespace = FileManager.default.contents(atPath: serviceAccountDirectory + "/namespace") {
            let text = String(decoding: namespace, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { config.namespace = text }
        }
        return config
    }

    // MARK: Kubeconfig

    /// Reads a kubeconfig file and resolves the given context (or `current-context`).
    /// Relative file paths in it are relative to the file's directory, as kubectl resolves them.
    public static func kubeconfig(path: String, context: String? = nil) throws(KubeClientError) -> KubeClientConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .configuration("cannot read the kubeconfig \(path)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try kubeconfig(yaml: String(decoding: data, as: UTF8.self), baseDirectory: base, context: context, source: path)
    }

    /// Resolves a kubeconfig given as YAML text.
    public static func kubeconfig(yaml: String, baseDirectory: String, context: String? = nil, source: String = "kubeconfig") throws(KubeClientError) -> KubeClientConfiguration {
        let file: Kubeconfig
        do {
            file = try YAMLDecoder().decode(Kubeconfig.self, from: yaml)
        } catch {
            throw .configuration("\(source) is not a valid kubeconfig: \(error)")
        }
        guard let contextName = context ?? file.currentContext, !contextName.isEmpty else {
            throw .configuration("\(source) sets no current-context; name one with --context")
        }
        guard let namedContext = file.contexts?.first(where: { $0.name == contextName })?.context else {
            throw .configuration("context \"\(contextName)\" is not in \(source) (it has: \((file.contexts ?? []).map(\.name).joined(separator: ", ")))")
        }
        guard let cluster = file.clusters?.first(where: { $0.name == namedContext.cluster })?.cluster else {
            throw .configuration("cluster \"\(namedContext.cluster)\" of context \"\(contextName)\" is not in \(source)")
        }
        guard let server = cluster.server, !server.isEmpty else {
            throw .configuration("cluster \"\(namedContext.cluster)\" in \(source) has no server")
        }
        var config = KubeClientConfiguration(server: server.hasSuffix("/") ? String(server.dropLast()) : server)
        config.insecureSkipTLSVerify = cluster.insecureSkipTLSVerify ?? false
        config.tlsServerName = cluster.tlsServerName
        config.certificateAuthorityPEM = try material(data: cluster.certificateAuthorityData, file: cluster.certificateAuthority, base: baseDirectory, what: "certificate-authority")
        if let namespace = namedContext.namespace, !namespace.isEmpty { config.namespace = namespace }
        if let userName = namedContext.user, !userName.isEmpty {
            guard let user = file.users?.first(where: { $0.name == userName })?.user else {
                throw .configuration("user \"\(userName)\" of context \"\(contextName)\" is not in \(source)")
            }
            config.clientCertificatePEM = try material(data: user.clientCertificateData, file: user.clientCertificate, base: baseDirectory, what: "client-certificate")
            config.clientKeyPEM = try material(data: user.clientKeyData, file: user.clientKey, base: baseDirectory, what: "client-key")
            if (config.clientCertificatePEM == nil) != (config.clientKeyPEM == nil) {
                throw .configuration("user \"\(userName)\" in \(source) has a client certificate without a key, or a key without a certificate")
            }
            if let token = user.token, !token.isEmpty {
                config.token = .fixed(token)
            } else if let tokenFile = user.tokenFile, !tokenFile.isEmpty {
                config.token = .file(resolve(tokenFile, base: baseDirectory))
            }
        }
        return config
    }

    /// The configuration Rebound uses when told nothing else: an explicit kubeconfig, else the
    /// in-cluster service account, else `$KUBECONFIG`, else `~/.kube/config`.
    public static func resolve(kubeconfig explicit: String?, context: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws(KubeClientError) -> KubeClientConfiguration {
        if let explicit, !explicit.isEmpty { return try kubeconfig(path: explicit, context: context) }
        if environment["KUBERNETES_SERVICE_HOST"] != nil { return try inCluster(environment: environment) }
        if let fromEnvironment = environment["KUBECONFIG"]?.split(separator: ":").first {
            return try kubeconfig(path: String(fromEnvironment), context: context)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let fallback = home + "/.kube/config"
        if FileManager.default.fileExists(atPath: fallback) { return try kubeconfig(path: fallback, context: context) }
        throw .configuration("no cluster to talk to: not in a cluster, no --kubeconfig, no $KUBECONFIG and no ~/.kube/config")
    }

    private static func resolve(_ path: String, base: String) -> String {
        path.hasPrefix("/") ? path : base + "/" + path
    }

    private static func material(data: String?, file: String?, base: String, what: String) throws(KubeClientError) -> [UInt8]? {
        if let data, !data.isEmpty {
            guard let decoded = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                throw .configuration("\(what)-data is not valid base64")
            }
            return Array(decoded)
        }
        if let file, !file.isEmpty {
            let path = resolve(file, base: base)
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw .configuration("cannot read the \(what) file \(path)")
            }
            return Array(contents)
        }
        return nil
    }
}

/// The kubeconfig file format (the parts Rebound uses).
struct Kubeconfig: Decodable {
    struct NamedCluster: Decodable {
        var name: String
        var cluster: Cluster
    }

    struct Cluster: Decodable {
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?
        var tlsServerName: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
        }
    }

    struct NamedUser: Decodable {
        var name: String
        var user: User
    }

    struct User: Decodable {
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var token: String?
        var tokenFile: String?

        enum CodingKeys: String, CodingKey {
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case token, tokenFile
        }
    }

    struct NamedContext: Decodable {
        var name: String
        var context: Context
    }

    struct Context: Decodable {
        var cluster: String
        var user: String?
        var namespace: String?
    }

    var clusters: [NamedCluster]?
    var users: [NamedUser]?
    var contexts: [NamedContext]?
    var currentContext: String?

    enum CodingKeys: String, CodingKey {
        case clusters, users, contexts
        case currentContext = "current-context"
    }
}
