import Capacity
import PropertyBased
import Testing

@Suite("Reservation ledger")
struct ReservationLedgerTests {
    let t0 = ContinuousClock.now
    let hdd = VolumeGroupRequests(["hdd": 10])

    @Test("a hold counts on every candidate, a reservation on its node only")
    func holdThenSettle() {
        var ledger = ReservationLedger(ttl: .seconds(60))
        ledger.hold(pod: "ns/a", uid: "u1", candidates: ["n1", "n2"], requests: hdd, now: t0)
        #expect(ledger.committed()["n1", "hdd"] == 10)
        #expect(ledger.committed()["n2", "hdd"] == 10)
        #expect(ledger.committed(excluding: "ns/a")["n1", "hdd"] == 0)

        let settled = ledger.settle(pod: "ns/a", uid: "u1", on: "n2", now: t0)
        #expect(settled)
        #expect(ledger.committed()["n1", "hdd"] == 0)
        #expect(ledger.committed()["n2", "hdd"] == 10)
        #expect(ledger.entry(pod: "ns/a")?.node == "n2")
        // Settling is only for held pods.
        let resettled = ledger.settle(pod: "ns/a", uid: "u1", on: "n1", now: t0)
        #expect(!resettled)
    }

    @Test("filtering a pod again replaces its earlier hold or reservation")
    func refilterReplaces() {
        var ledger = ReservationLedger(ttl: .seconds(60))
        ledger.reserve(pod: "ns/a", uid: "u1", node: "n1", requests: hdd, now: t0)
        ledger.hold(pod: "ns/a", uid: "u1", candidates: ["n2"], requests: VolumeGroupRequests(["hdd": 3]), now: t0)
        #expect(ledger.committed()["n1", "hdd"] == 0)
        #expect(ledger.committed()["n2", "hdd"] == 3)
        ledger.narrowHold(pod: "ns/a", uid: "u1", to: ["n3"])
        #expect(ledger.committed()["n2", "hdd"] == 3, "narrowing to nodes outside the hold keeps it")
        ledger.hold(pod: "ns/a", uid: "u1", candidates: ["n1", "n2", "n3"], requests: VolumeGroupRequests(["hdd": 3]), now: t0)
        ledger.narrowHold(pod: "ns/a", uid: "u1", to: ["n2", "n4"])
        #expect(ledger.committed()["n1", "hdd"] == 0, "prioritize saw fewer nodes: the hold narrows to them")
        #expect(ledger.committed()["n2", "hdd"] == 3)
        #expect(ledger.entry(pod: "ns/a")?.placement == .held(candidates: ["n2"]))
        ledger.hold(pod: "ns/a", uid: "u1", candidates: [String](), requests: hdd, now: t0)
        #expect(ledger.entries.isEmpty)
    }

    @Test("a recreated pod of the same name is not released by its predecessor's deletion")
    func uidGuards() {
        var ledger = ReservationLedger(ttl: .seconds(60))
        ledger.reserve(pod: "ns/db-0", uid: "new", node: "n1", requests: hdd, now: t0)
        ledger.release(pod: "ns/db-0", uid: "old")
        #expect(ledger.entry(pod: "ns/db-0") != nil)
        ledger.release(pod: "ns/db-0", uid: "new")
        #expect(ledger.entry(pod: "ns/db-0") == nil)
    }

    @Test("bound claims keep the reservation counting until the report shows it, and take the first drop")
    func claimsBoundKeepsCounting() {
        var ledger = ReservationLedger(ttl: .seconds(60))
        ledger.report(node: "n1", freeGiB: ["hdd": 100])
        ledger.reserve(pod: "ns/a", uid: nil, node: "n1", requests: hdd, now: t0)
        ledger.reserve(pod: "ns/b", uid: nil, node: "n1", requests: hdd, now: t0)
        // b's volume is made first; the report lags, so both still count.
        ledger.claimsBound(pod: "ns/b", uid: nil, now: t0)
        #expect(ledger.committed()["n1", "hdd"] == 20)
        #expect(ledger.entry(pod: "ns/b")?.provisioned == true)
        // The drop is b's, although a is older.
        let first = ledger.report(node: "n1", freeGiB: ["hdd": 90])
        #expect(first == ["ns/b"])
        #expect(ledger.committed()["n1", "hdd"] == 10)
        let second = ledger.report(node: "n1", freeGiB: ["hdd": 80])
        #expect(second == ["ns/a"])
        #expect(ledger.committed()["n1", "hdd"] == 0)
        #expect(ledger.takeReleased().map(\.pod) == ["ns/b", "ns/a"])
        #expect(ledger.takeReleased().isEmpty)
    }

    @Test("every reservation that stops counting is listed once, holds never")
    func releasedOutbox() {
        var ledger = ReservationLedger(ttl: .seconds(60))
        ledger.hold(pod: "ns/h", uid: "uh", candidates: ["n1"], requests: hdd, now: t0)
        ledger.release(pod: "ns/h", uid: "uh")
        ledger.reserve(pod: "ns/a", uid: "ua", node: "n1", requests: hdd, now: t0)
        ledger.reserve(pod: "ns/a", uid: "ua2", node: "n2", requests: hdd, now: t0)
        ledger.reserve(pod: "ns/b", uid: "ub", node: "n3", requests: hdd, now: t0)
        ledger.nodeRemoved("n3")
        ledger.reserve(pod: "ns/c", uid: "uc", node: "n1", requests: hdd, now: t0)
        ledger.shorten(pod: "ns/c", uid: "uc", to: .seconds(2), now: t0)
        #expect(ledger.expire(now: t0 + .seconds(2)) == ["ns/c"])
        #expect(ledger.takeReleased() == [
            .init(pod: "ns/a", uid: "ua", node: "n1"), .init(pod: "ns/b", uid: "ub", node: "n3"), .init(pod: "ns/c", uid: "uc", node: "n1"),
        ])
        #expect(ledger.entry(pod: "ns/a")?.node == "n2")
    }

    @Test("report drops release the oldest whole reservations they account for; rises release nothing")
    func reportAttribution() {
        var ledger = ReservationLedger(ttl: .seconds(60))
        ledger.report(node: "n1", freeGiB: ["hdd": 100, "ssd": 50])
        for name in ["a", "b", "c"] { ledger.reserve(pod: "ns/\(name)", uid: nil, node: "n1", requests: hdd, now: t0) }
        let released5 = ledger.report(node: "n1", freeGiB: ["hdd": 120, "ssd": 50])
        #expect(released5.isEmpty, "a rise is not our volumes")
        let released6 = ledger.report(node: "n1", freeGiB: ["hdd": 115, "ssd": 50])
        #expect(released6.isEmpty, "5 GiB cannot be a 10 GiB volume")
        let released7 = ledger.report(node: "n1", freeGiB: ["hdd": 95, "ssd": 50])
        #expect(released7 == ["ns/a", "ns/b"])
        #expect(ledger.entry(pod: "ns/c") != nil)
        #expect(ledger.committed()["n1", "hdd"] == 10)
    }

    @Test("a pod needing two groups is released group by group")
    func partialRelease() {
        var ledger = ReservationLedger(ttl: .seconds(60))
        ledger.report(node: "n1", freeGiB: ["hdd": 100, "ssd": 100])
        ledger.reserve(pod: "ns/a", uid: nil, node: "n1", requests: VolumeGroupRequests(["hdd": 10, "ssd": 5]), now: t0)
        let released8 = ledger.report(node: "n1", freeGiB: ["hdd": 90, "ssd": 100])
        #expect(released8.isEmpty)
        #expect(ledger.committed()["n1"] == ["ssd": 5])
        let released9 = ledger.report(node: "n1", freeGiB: ["hdd": 90, "ssd": 95])
        #expect(released9 == ["ns/a"])
    }

    @Test("entries expire after the TTL, provisioned or not")
    func expiry() {
        var ledger = ReservationLedger(ttl: .seconds(60))
        ledger.reserve(pod: "ns/a", uid: nil, node: "n1", requests: hdd, now: t0)
        ledger.hold(pod: "ns/b", uid: nil, candidates: ["n1"], requests: hdd, now: t0 + .seconds(30))
        ledger.reserve(pod: "ns/c", uid: nil, node: "n1", requests: hdd, now: t0)
        ledger.claimsBound(pod: "ns/c", uid: nil, now: t0)
        let early = ledger.expire(now: t0 + .seconds(59))
        #expect(early.isEmpty)
        let first = ledger.expire(now: t0 + .seconds(60))
        #expect(first == ["ns/a", "ns/c"])
        #expect(ledger.committed()["n1", "hdd"] == 10)
        let second = ledger.expire(now: t0 + .seconds(90))
        #expect(second == ["ns/b"])
        #expect(ledger.entries.isEmpty)
    }

    @Test("a deleted node drops its reservations and leaves holds elsewhere")
    func nodeRemoved() {
        var ledger = ReservationLedger(ttl: .seconds(60))
        ledger.reserve(pod: "ns/a", uid: nil, node: "n1", requests: hdd, now: t0)
        ledger.hold(pod: "ns/b", uid: nil, candidates: ["n1", "n2"], requests: hdd, now: t0)
        ledger.hold(pod: "ns/c", uid: nil, candidates: ["n1"], requests: hdd, now: t0)
        ledger.nodeRemoved("n1")
        #expect(ledger.entry(pod: "ns/a") == nil)
        #expect(ledger.entry(pod: "ns/c") == nil)
        #expect(ledger.entry(pod: "ns/b")?.placement == .held(candidates: ["n2"]))
    }

    @Test("property: pods placed one after another while reports lag never overcommit a node")
    func burstNeverOvercommits() async {
        // Random bursts: each pod goes to a random node that still fits (judged as the extender
        // does), reports never change; the sum placed on any node stays within its capacity.
        let generator = zip(Gen.int(in: 1...6), Gen.int(in: 10...200), Gen.int(in: 1...30).array(of: 1...60))
        await propertyCheck(count: 200, input: generator) { nodeCount, capacity, sizes in
            var ledger = ReservationLedger(ttl: .seconds(300))
            let nodes = (0..<nodeCount).map { "n\($0)" }
            let report = NodeCapacity(freeGiB: ["hdd": Int64(capacity)])
            for node in nodes { ledger.report(node: node, freeGiB: report.freeGiB) }
            var placed = Dictionary(uniqueKeysWithValues: nodes.map { ($0, Int64(0)) })
            for (index, size) in sizes.enumerated() {
                let pod = "ns/p\(index)"
                let requests = VolumeGroupRequests(["hdd": Int64(size)])
                let committed = ledger.committed(excluding: pod)
                let fitting = nodes.filter {
                    PlacementVerdict.judge(requests: requests, health: .healthy, capacity: report, committed: committed[$0]).fits
                }
                ledger.hold(pod: pod, uid: nil, candidates: fitting, requests: requests, now: t0)
                guard !fitting.isEmpty else { continue }
                let chosen = fitting[(index * 7 + size) % fitting.count]
                ledger.settle(pod: pod, uid: nil, on: chosen, now: t0)
                placed[chosen, default: 0] += Int64(size)
            }
            for (node, total) in placed { #expect(total <= Int64(capacity), "\(node) got \(total) GiB of \(capacity)") }
        }
    }
}
