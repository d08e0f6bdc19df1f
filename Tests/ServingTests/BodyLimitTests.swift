import Foundation
import Serving
import TestSupport
import Testing

@Suite("Listener body limits", .timeLimit(.minutes(2)), .requiresTools("curl", "nghttp"))
struct BodyLimitTests {
    @Test("a body over the limit is refused with 413 as soon as its length is known (HTTP/1.1: the connection closes after it, without a reset)")
    func refusedEarlyHTTP1() async throws {
        var limits = ListenerLimits()
        limits.maxBodyBytes = 4096
        try await RunningListener.with(limits: limits) { listener in
            try await withTemporaryDirectory { directory in
                let large = directory + "/large"
                try String(repeating: "x", count: 1 << 20).write(toFile: large, atomically: true, encoding: .utf8)
                let refused = try await listener.curl(["--http1.1", "--data-binary", "@" + large])
                #expect(refused.code == "413", "\(refused.body)")
                #expect(refused.body.contains("larger than the 4096 bytes"))
                let fine = try await listener.curl(["--http1.1", "--data-binary", "small"])
                #expect(fine.code == "200" && fine.body.contains("received 5 bytes"), "\(fine.body)")
            }
        }
    }

    @Test("HTTP/2: a body over the limit is answered 413 from its HEADERS, then the stream is reset with NO_ERROR (RFC 9113 §8.1)")
    func refusedEarlyHTTP2() async throws {
        var limits = ListenerLimits()
        limits.maxBodyBytes = 4096
        try await RunningListener.with(limits: limits) { listener in
            try await withTemporaryDirectory { directory in
                let large = directory + "/large"
                try String(repeating: "x", count: 1 << 20).write(toFile: large, atomically: true, encoding: .utf8)
                let nghttp = try tool("nghttp", package: "nghttp2-client")
                let result = try await run(nghttp, ["-v", "--no-verify-peer", "-d", large, listener.url], timeout: .seconds(20))
                print(result.output)
                #expect(result.output.contains(":status: 413"), "\(result.output)")
            }
        }
    }
}
