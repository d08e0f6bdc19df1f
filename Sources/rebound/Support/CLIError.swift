/// A fatal problem reported to the operator as one line, without the usage text.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

import Foundation

/// Prints a line to standard output at once (unbuffered, so a parent process reading a pipe sees it).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
