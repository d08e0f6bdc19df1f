import Capacity
import Foundation
import PropertyBased
import Testing

/// Values a hostile pod or annotation can carry: nothing in Capacity may trap on them.
@Suite("Extreme values")
struct ExtremeValueTests {
    let t0 = ContinuousClock.now

    // MARK: Quantities

    @Test("the parser agrees with exact rational arithmetic (Python's Fraction) on 400 generated quantities")
    func exactVectors() {
        for (text, nanos) in exactQuantityVectors {
            let parsed = try? Quantity(parsing: text)
            if let nanos {
                #expect(parsed?.nanos == Int128(nanos), "\(text)")
            } else {
                #expect(parsed == nil, "\(text) should be out of range")
            }
        }
    }

    @Test("text longer than the limit is refused unread, text at the limit is read")
    func lengthLimit() throws {
        let atLimit = String(repeating: "0", count: Quantity.maximumTextLength - 1) + "7"
        #expect(try Quantity(parsing: atLimit).nanos == 7_000_000_000)
        let overLimit = String(repeating: "9", count: Quantity.maximumTextLength + 1)
        #expect(throws: QuantityError.tooLong(length: Quantity.maximumTextLength + 1)) { try Quantity(parsing: overLimit) }
        let huge = String(repeating: "9", count: 3 << 20)
        #expect(throws: QuantityError.tooLong(length: 3 << 20)) { try Quantity(parsing: huge) }
        #expect(QuantityError.tooLong(length: 100).description.contains("100 characters"))
    }

    @Test("extreme exponents neither loop nor trap", arguments: [
        "1e2147483647", "1e-2147483648", "9e-2147483648", "0e2147483647", "1E38", "1e-40", "0.000000001e-30",
    ])
    func extremeExponents(_ text: String) {
        // Either a value or a clear error; the call returning at all is most of the test.
        switch Result(catching: { try Quantity(parsing: text) }) {
        case .success(let quantity): #expect(quantity.nanos >= 0)
        case .failure(let error): #expect(error is QuantityError)
        }
    }

    @Test("arithmetic at the limits saturates instead of trapping")
    func saturatingQuantityArithmetic() {
        let largest = Quantity(nanos: .max)
        let smallest = Quantity(nanos: .min)
        #expect((largest + largest).nanos == .max)
        #expect((smallest + smallest).nanos == .min)
        #expect((-smallest).nanos == .max)
        #expect((largest - smallest).nanos == .max)
        #expect(largest.multiplied(by: .max).nanos == .max)
        #expect(largest.ceiling(binaryPower: 3) == nil, "does not fit an Int64")
        #expect(Quantity(1).ceiling(binaryPower: 20) == 1, "a unit beyond Int128 leaves a fraction of one")
    }

    // MARK: Requests

    @Test("two claims of 9e27 bytes (the crash of the seed report) cap at 8 EiB instead of trapping")
    func hugeClaimsCap() throws {
        var requests = VolumeGroupRequests()
        let size = try Quantity(parsing: "9e27")
        requests.add(group: "carina-vg-hdd", size: size)
        requests.add(group: "carina-vg-hdd", size: size)
        #expect(requests["carina-vg-hdd"] == VolumeGroupRequests.maximumGiB)
        requests.add(group: "carina-vg-ssd", size: Quantity(nanos: .max))
        #expect(requests.totalGiB == 2 * VolumeGroupRequests.maximumGiB)
        // The annotation it writes reads back: the webhook never writes what the extender refuses.
        #expect(VolumeGroupRequests(annotationValue: requests.annotationValue) == requests)
    }

    @Test("annotation values outside 1…8 EiB, non-objects and overlong values are refused with a reason", arguments: [
        (#"{"carina-vg-hdd":9223372036854775807}"#, "from 1 to"),
        (#"{"carina-vg-hdd":99999999999999999999999}"#, "from 1 to"),
        (#"{"carina-vg-hdd":0}"#, "from 1 to"),
        (#"{"carina-vg-hdd":-1}"#, "not a JSON object"),
        (#"{"carina-vg-hdd":1.5}"#, "not a JSON object"),
        (#"["carina-vg-hdd"]"#, "not a JSON object"),
        ("{" + String(repeating: #""g":1,"#, count: 1000) + #""h":1}"#, "characters"),
    ])
    func refusedAnnotations(_ text: String, _ reason: String) {
        #expect(VolumeGroupRequests(annotationValue: text) == nil)
        do {
            _ = try VolumeGroupRequests.read(annotationValue: text)
            Issue.record("\(text.prefix(60)) was accepted")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
        if case .unreadable(let message) = StorageDemand.read(routed: true, annotation: text, annotationKey: "rebound.io/volume-requests") {
            #expect(message.contains("rebound.io/volume-requests"))
        } else {
            Issue.record("a refused annotation must leave the demand unreadable")
        }
    }

    @Test("group names with escapes, control characters and invalid UTF-8 survive a round trip (fuzz-quantity crash 8589e8dd)")
    func annotationEscapes() throws {
        let crash: [UInt8] = [0x7b, 0x22, 0xff, 0xff, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x6b, 0x5c, 0x5c, 0x01, 0x00, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c,
                              0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0xcc, 0xa4, 0xa3, 0xa3, 0xa0, 0x22, 0x3a, 0x35, 0x7d]
        for text in [String(decoding: crash, as: UTF8.self), #"{"a\"b\\c\u0001\n\/\ud83d\ude00":3}"#] {
            let requests = try VolumeGroupRequests.read(annotationValue: text)
            #expect(VolumeGroupRequests(annotationValue: requests.annotationValue) == requests, "\(text)")
        }
        #expect(VolumeGroupRequests(annotationValue: #"{"a\u00":1}"#) == nil, "a broken escape is refused")
        #expect(VolumeGroupRequests(annotationValue: #"{"a\ud83d":1}"#) == nil, "a lone high surrogate is refused")
        #expect(try VolumeGroupRequests.read(annotationValue: #"{"\ud83d\ude00":1}"#)["😀"] == 1)
    }

    @Test("a value that would write back longer than the limit is refused as read (fuzz-quantity crash 0d383d68)")
    func annotationEscapesPastTheLimit() throws {
        let crash = try #require(Data(base64Encoded: "eyJjYYCFhYWFhYUzAAAAAD0AhYWFhQAghTMAAAAAAAAAhVwihTAwMDAwJzAwMDAAAAAAAAAAhVwihTAwMDAwJzAwMjCFXCKFhYUAAAAAhYWFhYUzAAAAAAAAAIVcIoUwMDAwMCeFhYVjYXJpbjEwMDCFhQBbAAAAhYVcIiiFhYWP7u7u7u7uhYWFhYWFMwAAAAA9AIWFhYUAIIUzAAAAAAAAAIVcIoUwMDgwMCcwMDAwAAAAAAAAAIVcIoUwMDAwMCcwMDAwhVwihYWFhYWFhYWFhYWFhTEwMDBmYW5yaScwMDAwhVwihYWFhYWFhYUxMDAAAAAAAACFhYWFMTAwMIWFAFsAAACFhVwiKIWFhY/u7u7u7u7u7u7u7u7uAIVcIoUwMDAwMIVcIoWFhYWFhTAwhVwihYWFhYWFhYUxMDAAAAAwZmFucmknMDAwMIVcIoWFhYWFhYWFMTAwAAAAAAAAhYWFhYUzAAAAAAYAAIVcIoUwMDAwMCeFhYUxMDAwhYUAWwAAAIWFXCIohYWFj+7u7u7u7u7u7u7u7u4AhVwihTAwMDAwhVwihYWFhYWFMDCFXCKFhYWFhYWFhTEwMAAAAAAAAIWFhYWFMwAAAAAAAACFXCKFMDAwMDAnhYWFY2FyaW4xMDAwhYUAWwAAAIUAhVwihTAwMDAwJzAwMjCFXCKFhYUAAAAAhYWFhYUzAAAAAAAAAIVcIoUwMDAwMCeFhYVjYXJpbjEwMDCFhQBbAAAAhYVcIiiFhYWP7u7u7u7uhYWFhYWFMwAAAAA9AIWFhYUAIIUzAAAAAAAAAIVcIoUwMDgwMCcwMDAwAAAAAAAAAIVcIoUwMDAwMCcwMDAwhVwihYWFhYWFhYWFhYWFhTEwMDBmYW5yaScwMDAwhVwihYWFhYWFhYUxMDAAAAAAAACFhYWFMTAwMIWFAFsAAACFhVwiKIWFhY/u7u7u7u7u7u7u7u7uAIVcIoUwMDAwMIVcIoWFhYWFhTAwhVwihYWFhYWFhYUxMDAAAAAwZmFucmknMDAwMIVcIoWFhYWFhYWFMTAwAAAAAAAAhYWFhYUzAAAAAAYAAIVcIoUwMDAwMCeFhYUxMDAwhYUAWwAAAIWFXCIohYWFj+7u7u7u7u7u7u7u7u4AhVwihTAwMDAwhVwihYWFhYWFMDCFXCKFhYWFhYWFhTEwMAAAAAAAAIWFhYWFMwAAAAAAAACFXCKFMDAwMDAnhYWFY2FyaW4xMDAwhYUAWwAAAIWFXCIohYWFj+7u7u7u7oWFhYWFhTMAAAAAPQCFhYWFACCFMwAAAAAAAACFXCKFMDA4MDAnMDAwMAAAAAAAAACFXCKFMDAwMDAnMDAwMDCFXCKFhYWFhYWFhVsxMjc0ZmFu7u4AhVwihTAwMDAwJzAwMDCFXCKFhYWFhYWFhTEwMDCFhQBbAACFhWTu7gAAAIWFhYWFMwAAAAAAAACFXCKFMDAwMDAnhYWFY2Fyaf//////////////////////////////bjEwMDCFhQBbAAAAhYVcIiiFhYWP7u7u7u7uhYWFhYWFMwAAAAAAhVwihTAwODAwJzAwMDAAAAAAAAAAhVwihTAwMDAwJzAwMDCFXCKFhYWFhYWFhTEwMDBmYW7u7u7u7u7uAIWFXCIohYWFj+7u7u7u7oWFhYWFhTMAAAAAPQCFhYWFACCFMwAAAAAAAACFXCKFMDA4MDAnMDAwMAAAAAAAAACFXCKFMDAwMDAnMDAwMDCFXCKFhYWFhYWFhVsxMjc0ZmFu7u4AhVwihTAwMDAwJzAwMDCFXCKFhYWFhYWFhTEwMDCFhQBbAACFhWTu7gAAAIWFhYWFMwAAAAAAAACFXCKFMDAwMDAnhYWFY2Fyaf//////////////////////////////bjEwMDCFhQBbAAAAhYVcIiiFhYWP7u7u7u7uhYWFhYWFMwAAAAAAhVwihTAwODAwJzAwMDAAAAAAAAAAhVwihTAwMDAwJzAwMDCFXCKFhYWFhYWFhTEwMDBmYW7u7u7u7u7uAIVcIoUwMDAwMCcwMDAwhVwihYWFhYWFhYUxMDAwhYUAWwAAhYVk7u6BAAAA7u7u7u7u7u7u7u7u7u7u7u7u7oUKAAAAAAAAAIWFhYUOhYWFBYWFZM0iOjV9"))
        let text = String(decoding: crash, as: UTF8.self)
        #expect(text.utf8.count <= VolumeGroupRequests.maximumAnnotationLength)
        // Its one group name is full of control characters: written back, it would be too long to read.
        #expect(throws: VolumeGroupRequests.AnnotationError.self) { try VolumeGroupRequests.read(annotationValue: text) }
        // Whatever reads, writes back within the limit and reads back the same.
        let controls = "{\"" + String(repeating: "\u{01}", count: 700) + "\":1}"
        #expect(controls.utf8.count <= VolumeGroupRequests.maximumAnnotationLength)
        #expect(VolumeGroupRequests(annotationValue: controls) == nil, "700 control characters write back as 4,200")
        let short = "{\"" + String(repeating: "\u{01}", count: 600) + "\":1}"
        let requests = try VolumeGroupRequests.read(annotationValue: short)
        #expect(requests.annotationValue.utf8.count <= VolumeGroupRequests.maximumAnnotationLength)
        #expect(VolumeGroupRequests(annotationValue: requests.annotationValue) == requests)
    }

    @Test("the largest accepted annotation value reads back")
    func largestAccepted() {
        let text = "{\"g\":\(VolumeGroupRequests.maximumGiB)}"
        #expect(VolumeGroupRequests(annotationValue: text)?["g"] == VolumeGroupRequests.maximumGiB)
    }

    // MARK: Placement, ledger, scores

    static let extremes: [Int64] = [0, 1, 2, 1 << 33, Int64.max - 1, Int64.max, -1, Int64.min]
    static let extreme = Gen.element(of: extremes).map { $0 ?? 0 }

    @Test("judging a node never traps and agrees with exact arithmetic")
    func judgeExtremes() async {
        await propertyCheck(count: 400, input: Self.extreme, Self.extreme, Gen.element(of: [Int64(1), 1 << 33, 7]).map { $0 ?? 1 }) { free, promised, needed in
            let verdict = PlacementRule.shortfall(group: "g", needed: needed, free: free, promised: max(0, promised))
            let exactFits = Int128(free) >= Int128(needed) && Int128(free) - Int128(max(0, promised)) >= Int128(needed)
            #expect((verdict == nil) == exactFits, "free \(free), promised \(promised), needed \(needed)")
        }
    }

    @Test("the ledger takes maximal requests on every node without trapping; totals stay sane")
    func ledgerExtremes() async {
        let nodes = ["n1", "n2", "n3"]
        let operation = zip(Gen.int(in: 0...4), Gen.int(in: 0...9), Gen.element(of: nodes).map { $0 ?? "n1" }, Self.extreme)
        await propertyCheck(count: 100, input: operation.array(of: 1...60)) { operations in
            var ledger = ReservationLedger(ttl: .seconds(60))
            for (kind, pod, node, amount) in operations {
                let requests = VolumeGroupRequests(["g": amount])
                switch kind {
                case 0: ledger.hold(pod: "ns/p\(pod)", uid: nil, candidates: nodes, requests: requests, now: t0)
                case 1: ledger.reserve(pod: "ns/p\(pod)", uid: nil, node: node, requests: requests, now: t0)
                case 2: ledger.report(node: node, freeGiB: ["g": amount])
                case 3: ledger.claimsBound(pod: "ns/p\(pod)", uid: nil, now: t0)
                default: ledger.settle(pod: "ns/p\(pod)", uid: nil, on: node, now: t0)
                }
                let committed = ledger.committed()
                for node in nodes {
                    #expect(committed[node, "g"] >= 0)
                }
            }
        }
    }

    @Test("scores stay within 0…10 and mirror each other at extreme amounts")
    func scoreExtremes() async {
        await propertyCheck(count: 300, input: Self.extreme.array(of: 1...6), Self.extreme.array(of: 1...6)) { hdd, ssd in
            let count = min(hdd.count, ssd.count)
            let left: [[String: Int64]?] = (0..<count).map { ["hdd": hdd[$0], "ssd": ssd[$0]] }
            let spread = CapacityScore.scores(left: left, groups: ["hdd", "ssd"], strategy: .spreadout)
            let pack = CapacityScore.scores(left: left, groups: ["hdd", "ssd"], strategy: .binpack)
            for index in 0..<count {
                #expect((0...10).contains(spread[index]))
                #expect(spread[index] + pack[index] == 10)
            }
        }
    }
}
