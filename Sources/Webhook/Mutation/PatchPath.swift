import Kube

/// JSON Pointer strings for patch operations, built without Foundation: the webhook makes a few
/// per request, and Foundation's string replacement dominated its profile.
enum PatchPath {
    /// `/token/token/...`, each token escaped (`~` as `~0`, `/` as `~1`, RFC 6901).
    static func make(_ tokens: String...) -> String {
        var path = ""
        for token in tokens {
            path.append("/")
            append(token, to: &path)
        }
        return path
    }

    /// `base` followed by one more escaped token.
    static func make(_ base: String, _ token: String) -> String {
        var path = base
        path.append("/")
        append(token, to: &path)
        return path
    }

    private static func append(_ token: String, to path: inout String) {
        path.append(JSONPointer.escape(token))
    }
}
