/// Columns for people: each padded to its widest cell (the last one not padded), joined by
/// `separator`, the header line passed through `header` (bold on a terminal). Widths count what
/// shows: ANSI colour codes in a cell take no room.
enum TextTable {
    static func render(_ columns: [String], _ rows: [[String]], separator: String = "   ", header: (String) -> String = { $0 }) -> String {
        var widths = columns.map(visibleCount)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], visibleCount(cell)) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 || index >= widths.count ? cell : cell + String(repeating: " ", count: max(0, widths[index] - visibleCount(cell)))
            }.joined(separator: separator)
        }
        return ([header(line(columns))] + rows.map(line)).joined(separator: "\n")
    }

    /// Characters that show: escape sequences (`ESC [ … letter`) skipped.
    static func visibleCount(_ text: String) -> Int {
        var count = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if scalar.properties.isAlphabetic { inEscape = false }
            } else if scalar == "\u{1B}" {
                inEscape = true
            } else {
                count += 1
            }
        }
        return count
    }
}
