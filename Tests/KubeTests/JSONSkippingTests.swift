@testable import Kube
import Testing

/// The skipper walks strings eight bytes at a time; whatever the position of a quote, an escape or
/// a control character within those eight, it must end each string exactly where JSON says.
@Suite("Skipping JSON values")
struct JSONSkippingTests {
    /// `["<text>",7]` skipped from the string: where the index lands (the comma is at
    /// `text.count + 3`), or why the skip failed.
    func skipFirst(_ text: [UInt8]) -> Result<Int, JSONError> {
        let document = Array("[\"".utf8) + text + Array("\",7]".utf8)
        return document.withUnsafeBytes { bytes in
            var scanner = JSONScanner(bytes, index: 1)
            do throws(JSONError) {
                _ = try scanner.skipStringRange()
                return .success(scanner.index)
            } catch {
                return .failure(error)
            }
        }
    }

    @Test("escapes, multi-byte characters and control characters at every offset of a 24-byte string")
    func everyOffset() throws {
        let filler = UInt8(ascii: "a")
        for length in 0...24 {
            let plain = [UInt8](repeating: filler, count: length)
            #expect(try skipFirst(plain).get() == length + 3, "plain string of \(length)")
            for offset in 0...length {
                for accepted in [Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\u0022"#.utf8), Array("é€😀".utf8), [0x7F], [0x20]] {
                    var text = plain
                    text.insert(contentsOf: accepted, at: offset)
                    #expect((try? skipFirst(text).get()) == text.count + 3, "\(accepted) at \(offset) of \(length)")
                }
                for rejected: UInt8 in [0x00, 0x01, 0x09, 0x0A, 0x1F] {
                    var text = plain
                    text.insert(rejected, at: offset)
                    guard case .failure(let error) = skipFirst(text) else {
                        Issue.record("control character \(rejected) at \(offset) of \(length) accepted")
                        continue
                    }
                    #expect(error.offset == 2 + offset, "\(error)")
                }
            }
        }
    }

    @Test("the eight-byte test finds the first quote, backslash or control character of a word, and passes words without one")
    func wordTest() {
        func word(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }
        for special: UInt8 in [0x22, 0x5C, 0x00, 0x1F] {
            for position in 0..<8 {
                var bytes = [UInt8](repeating: 0x7E, count: 8)
                bytes[position] = special
                #expect(JSONSkipping.specialMask(word(bytes)).trailingZeroBitCount / 8 == position, "\(special) at \(position)")
                // A second one after it (and the borrow it may cause) does not hide the first.
                for later in (position + 1)..<8 {
                    var two = bytes
                    two[later] = 0x00
                    #expect(JSONSkipping.specialMask(word(two)).trailingZeroBitCount / 8 == position, "\(special) at \(position), 0 at \(later)")
                }
            }
        }
        for byte: UInt8 in [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xC3, 0xFF] {
            #expect(JSONSkipping.specialMask(word([UInt8](repeating: byte, count: 8))) == 0, "\(byte)")
        }
        #expect(JSONSkipping.specialMask(word(Array("abcdefgh".utf8))) == 0)
    }
}
