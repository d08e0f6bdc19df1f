extension JSONScanner {
    /// Consumes one value of any type, checking its syntax but keeping nothing (see
    /// ``JSONSkipping``: the fast path every reader shares).
    public mutating func skipValue(depth: Int = 0) throws(JSONError) {
        var position = index
        defer { index = position }
        try JSONSkipping.skipValue(bytes, &position, depth: depth, maxDepth: maxDepth, scanner: &self)
    }

    /// Consumes the string at the position (after whitespace) and returns the range of its
    /// contents, escapes undecoded.
    public mutating func skipStringRange() throws(JSONError) -> Range<Int> {
        var position = index
        defer { index = position }
        JSONSkipping.skipWhitespace(bytes, &position)
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
            throw JSONError(offset: position, message: "expected a string")
        }
        let start = position + 1
        try JSONSkipping.skipString(bytes, &position)
        return start..<(position - 1)
    }
}

/// Skips JSON values nobody reads, the one way every reader skips: most of an AdmissionReview and
/// of a full NodeList is skipped, and a general per-byte loop was the largest single cost of a
/// review. Strings and containers are walked here with the index in a local variable; numbers and
/// literals are left to the scanner. The syntax is checked as strictly as the scanner checks it.
enum JSONSkipping {
    @inline(__always)
    static func skipWhitespace(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// `bytes[index]` is the opening quote. Eight bytes at a time: a word with none of the bytes
    /// that matter (most of a pod's strings are plain) is passed whole, otherwise the scan jumps to
    /// the first byte that matters; the last few bytes of the input go one by one.
    @inline(__always)
    static func skipString(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) throws(JSONError) {
        var position = index + 1
        defer { index = position }
        let count = bytes.count
        while true {
            if position &+ 8 <= count {
                let mask = specialMask(bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                if mask == 0 {
                    position &+= 8
                    continue
                }
                position &+= mask.trailingZeroBitCount &>> 3
            } else if position >= count {
                break
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return
            }
            if byte == UInt8(ascii: "\\") {
                position += 2
            } else if byte < 0x20 {
                throw JSONError(offset: position, message: "control character in string")
            } else {
                position += 1
            }
        }
        throw JSONError(offset: count, message: "unterminated string")
    }

    /// The high bit of each byte of `word` (read little-endian) that is a quote, a backslash or
    /// below 0x20: the classic "has a zero byte" and "has a byte less than n" tests. The lowest
    /// bit set is always exact (a byte above it may be flagged by a borrow), so the first byte
    /// that matters is at `trailingZeroBitCount / 8`; zero means none matters.
    @inline(__always)
    static func specialMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        return (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)) & highs
    }

    @inline(__always)
    private static func expect(_ byte: UInt8, _ bytes: UnsafeRawBufferPointer, _ index: inout Int) throws(JSONError) {
        skipWhitespace(bytes, &index)
        guard index < bytes.count, bytes[index] == byte else {
            throw JSONError(offset: index, message: "expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    @inline(__always)
    private static func consume(_ byte: UInt8, _ bytes: UnsafeRawBufferPointer, _ index: inout Int) -> Bool {
        skipWhitespace(bytes, &index)
        if index < bytes.count, bytes[index] == byte {
            index += 1
            return true
        }
        return false
    }

    static func skipValue(
        _ bytes: UnsafeRawBufferPointer, _ index: inout Int, depth: Int, maxDepth: Int, scanner: inout JSONScanner
    ) throws(JSONError) {
        skipWhitespace(bytes, &index)
        guard index < bytes.count else { throw JSONError(offset: index, message: "expected a value, found end of input") }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            try skipString(bytes, &index)
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw JSONError(offset: index, message: "nesting deeper than \(maxDepth)") }
            index += 1
            if consume(UInt8(ascii: "}"), bytes, &index) { return }
            repeat {
                skipWhitespace(bytes, &index)
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw JSONError(offset: index, message: "expected a string")
                }
                try skipString(bytes, &index)
                try expect(UInt8(ascii: ":"), bytes, &index)
                try skipValue(bytes, &index, depth: depth + 1, maxDepth: maxDepth, scanner: &scanner)
            } while consume(UInt8(ascii: ","), bytes, &index)
            try expect(UInt8(ascii: "}"), bytes, &index)
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw JSONError(offset: index, message: "nesting deeper than \(maxDepth)") }
            index += 1
            if consume(UInt8(ascii: "]"), bytes, &index) { return }
            repeat {
                try skipValue(bytes, &index, depth: depth + 1, maxDepth: maxDepth, scanner: &scanner)
            } while consume(UInt8(ascii: ","), bytes, &index)
            try expect(UInt8(ascii: "]"), bytes, &index)
        default:
            // Numbers, true, false, null: rare in a pod, checked by the scanner.
            scanner.index = index
            try scanner.skipScalar()
            index = scanner.index
        }
    }
}
