/// Cuts a byte stream of concatenated JSON values (a Kubernetes watch stream) into one value
/// per frame, whatever the chunk boundaries. Values may be separated by whitespace or nothing.
public struct JSONFrameSplitter: Sendable {
    private var buffer: [UInt8] = []
    /// Where scanning stopped in `buffer`, and the state there.
    private var position = 0
    private var start: Int?
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// Frames larger than this are refused (protects memory against a broken peer).
    public var maxFrameBytes: Int

    public init(maxFrameBytes: Int = 64 * 1024 * 1024) { self.maxFrameBytes = maxFrameBytes }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// Bytes received but not yet returned as frames (only whitespace once a stream ends cleanly).
    public var pendingByteCount: Int { buffer.count - (start ?? position) }

    /// The next complete top-level value, or nil until more bytes arrive.
    public mutating func nextFrame() throws(JSONError) -> [UInt8]? {
        while position < buffer.count {
            let byte = buffer[position]
            if start == nil {
                switch byte {
                case 0x20, 0x0A, 0x0D, 0x09:
                    position += 1
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    start = position
                default:
                    throw JSONError(offset: position, message: "watch stream frames must be JSON objects")
                }
            }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0, let frameStart = start {
                        let frame = Array(buffer[frameStart...position])
                        position += 1
                        start = nil
                        // Drop consumed bytes now and then, not per frame (that would be quadratic).
                        if position > 1 << 16 { discardConsumed() }
                        return frame
                    }
                default: break
                }
            }
            position += 1
        }
        if let start, position - start > maxFrameBytes {
            throw JSONError(offset: position, message: "a watch frame is larger than \(maxFrameBytes) bytes")
        }
        discardConsumed()
        return nil
    }

    private mutating func discardConsumed() {
        let consumed = start ?? position
        guard consumed > 0 else { return }
        buffer.removeSubrange(0..<consumed)
        position -= consumed
        if start != nil { start = 0 }
    }
}
