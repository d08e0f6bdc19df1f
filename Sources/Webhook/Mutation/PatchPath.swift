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
        path.append(escape(token))
    }

    /// One token escaped (`~` as `~0`, `/` as `~1`).
    static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(token.utf8.count + 4)
        for byte in token.utf8 {
            switch byte {
            case UInt8(ascii: "~"): escaped.append(contentsOf: [UInt8(ascii: "~"), UInt8(ascii: "0")])
            case UInt8(ascii: "/"): escaped.append(contentsOf: [UInt8(ascii: "~"), UInt8(ascii: "1")])
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }
}
