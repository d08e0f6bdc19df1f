/// Standard base64 (RFC 4648, with padding) appended straight to a byte buffer: the patch in every
/// AdmissionResponse is base64, and going through Foundation's `Data` and `String` cost more than
/// the encoding itself.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func append(_ bytes: [UInt8], to output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: repeatElement(UInt8(ascii: "="), count: (bytes.count + 2) / 3 * 4))
        alphabet.withUnsafeBufferPointer { alphabet in
            bytes.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { output in
                    var index = 0
                    var position = start
                    func put(_ value: UInt32, _ shift: UInt32) {
                        output[position] = alphabet[Int(value >> shift & 63)]
                        position += 1
                    }
                    while index + 3 <= input.count {
                        let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                        put(value, 18)
                        put(value, 12)
                        put(value, 6)
                        put(value, 0)
                        index += 3
                    }
                    let rest = input.count - index
                    if rest > 0 {
                        // The padding ("=") is already in place.
                        let value = UInt32(input[index]) << 16 | (rest == 2 ? UInt32(input[index + 1]) << 8 : 0)
                        put(value, 18)
                        put(value, 12)
                        if rest == 2 { put(value, 6) }
                    }
                }
            }
        }
    }
}
