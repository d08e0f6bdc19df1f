import Capacity
import PropertyBased
import Testing

@Suite("Placement verdicts and scores")
struct CapacityScoreTests {
    static func capacity(_ free: [String: Int64]) -> NodeCapacity { NodeCapacity(freeGiB: free) }

    @Test("judging a node: health, groups, reported space, promised space", arguments: [
        (["hdd": 10], NodeHealth.healthy, ["hdd": 10], ["hdd": 0], PlacementVerdict.fits(leftGiB: ["hdd": 0])),
        (["hdd": 10], .healthy, ["hdd": 25], ["hdd": 5], .fits(leftGiB: ["hdd": 10])),
        (["hdd": 10], .unhealthy([.notReady(status: "False")]), ["hdd": 100], [:], .dropped(.unhealthy, "node is not ready (Ready=False)")),
        (["hdd": 10], .healthy, ["ssd": 100], [:], .dropped(.groupMissing, "node has no volume group hdd")),
        (["hdd": 10], .healthy, ["hdd": 9], [:], .dropped(.insufficientCapacity, "volume group hdd has 9 GiB free, the pod needs 10 GiB")),
        (["hdd": 10], .healthy, ["hdd": 15], ["hdd": 6],
         .dropped(.reserved, "volume group hdd has 15 GiB free but 6 GiB are promised to pods being placed; the pod needs 10 GiB")),
        ([:], .healthy, [:], [:], .fits(leftGiB: [:])),
    ] as [([String: Int64], NodeHealth, [String: Int64], [String: Int64], PlacementVerdict)])
    func judge(_ requests: [String: Int64], _ health: NodeHealth, _ free: [String: Int64], _ committed: [String: Int64], _ expected: PlacementVerdict) {
        #expect(PlacementVerdict.judge(requests: VolumeGroupRequests(requests), health: health, capacity: Self.capacity(free), committed: committed) == expected)
    }

    @Test("only space promised to in-flight placements is worth preemption")
    func resolvable() {
        #expect(DropReason.allCases.filter(\.resolvable) == [.reserved])
    }

    @Test("spreadout scores by share of the largest space left; binpack mirrors it", arguments: [
        // left 90, 45, 0 of largest 90 → 10, 5, 0
        ([["hdd": 90], ["hdd": 45], ["hdd": 0]] as [[String: Int64]?], ScoringStrategy.spreadout, [10, 5, 0] as [Int64]),
        ([["hdd": 90], ["hdd": 45], ["hdd": 0]], .binpack, [0, 5, 10]),
        // 35/100 → 3.5 rounds up to 4, exactly, not 3 from a binary fraction below it.
        ([["hdd": 100], ["hdd": 35], ["hdd": 34]], .spreadout, [10, 4, 3]),
        // Two groups average: (10/10 + 0/20)/2 → 5; (5/10 + 20/20)/2 → 7.5 → 8.
        ([["hdd": 10, "ssd": 0], ["hdd": 5, "ssd": 20]], .spreadout, [5, 8]),
        // A node the pod does not fit on scores 0 either way.
        ([["hdd": 10], nil], .binpack, [0, 0]),
        // Nothing left anywhere: no preference for spreadout, full marks for binpack.
        ([["hdd": 0], ["hdd": 0]], .spreadout, [0, 0]),
        ([["hdd": 0], ["hdd": 0]], .binpack, [10, 10]),
    ])
    func table(_ left: [[String: Int64]?], _ strategy: ScoringStrategy, _ expected: [Int64]) {
        let groups = Set(left.compactMap { $0 }.flatMap(\.keys))
        #expect(CapacityScore.scores(left: left, groups: groups, strategy: strategy) == expected)
    }

    @Test("a pod needing no groups scores 0 everywhere")
    func noGroups() {
        #expect(CapacityScore.scores(left: [[:], [:]], groups: [String](), strategy: .binpack) == [0, 0])
    }

    /// Candidate nodes: free GiB in two groups (one maybe missing), some unhealthy.
    static let nodes = zip(Gen.int(in: 0...2_000), Gen.int(in: 0...2_000), Gen.bool(0.2), Gen.bool(0.1))
        .map { hdd, ssd, noSSD, unhealthy in
            (free: noSSD ? ["hdd": Int64(hdd)] : ["hdd": Int64(hdd), "ssd": Int64(ssd)], healthy: !unhealthy)
        }
        .array(of: 1...12)
    static let requests = zip(Gen.int(in: 1...500), Gen.int(in: 0...300)).map { hdd, ssd in
        VolumeGroupRequests(ssd == 0 ? ["hdd": Int64(hdd)] : ["hdd": Int64(hdd), "ssd": Int64(ssd)])
    }
    static let promised = Gen.int(in: 0...400)

    static func evaluate(_ nodes: [(free: [String: Int64], healthy: Bool)], _ requests: VolumeGroupRequests, promised: Int)
        -> (verdicts: [PlacementVerdict], left: [[String: Int64]?])
    {
        let verdicts = nodes.map { node in
            PlacementVerdict.judge(
                requests: requests, health: node.healthy ? .healthy : .unhealthy([.notReady(status: "False")]),
                capacity: NodeCapacity(freeGiB: node.free), committed: ["hdd": Int64(promised)])
        }
        let left = verdicts.map { verdict -> [String: Int64]? in
            if case .fits(let left) = verdict { return left }
            return nil
        }
        return (verdicts, left)
    }

    @Test("property: the filter never passes a node with less free space than requested")
    func neverPassesShortNodes() async {
        await propertyCheck(count: 300, input: Self.nodes, Self.requests, Self.promised) { nodes, requests, promised in
            let (verdicts, _) = Self.evaluate(nodes, requests, promised: promised)
            for (node, verdict) in zip(nodes, verdicts) where verdict.fits {
                #expect(node.healthy)
                for (group, needed) in requests.gibByGroup {
                    let free = node.free[group] ?? 0
                    let promisedHere = group == "hdd" ? Int64(promised) : 0
                    #expect(free - promisedHere >= needed, "passed a node with \(free) GiB (\(promisedHere) promised) for \(needed) GiB")
                }
            }
        }
    }

    @Test("property: scores stay within 0…10 and spreadout and binpack rank nodes in opposite orders")
    func scoreInvariants() async {
        await propertyCheck(count: 300, input: Self.nodes, Self.requests, Self.promised) { nodes, requests, promised in
            let (_, left) = Self.evaluate(nodes, requests, promised: promised)
            let groups = requests.gibByGroup.keys
            let spread = CapacityScore.scores(left: left, groups: groups, strategy: .spreadout)
            let pack = CapacityScore.scores(left: left, groups: groups, strategy: .binpack)
            #expect(spread.allSatisfy { (0...10).contains($0) })
            #expect(pack.allSatisfy { (0...10).contains($0) })
            let fitting = left.indices.filter { left[$0] != nil }
            for i in fitting {
                for j in fitting {
                    // Opposite orders: whenever spreadout prefers i to j, binpack prefers j to i.
                    #expect((spread[i] > spread[j]) == (pack[i] < pack[j]))
                    #expect((spread[i] == spread[j]) == (pack[i] == pack[j]))
                }
            }
            // With one group, more space left never scores lower under spreadout.
            if groups.count == 1 {
                for i in fitting {
                    for j in fitting where left[i]!["hdd"]! > left[j]!["hdd"]! { #expect(spread[i] >= spread[j]) }
                }
            }
        }
    }

    @Test("property: scores do not depend on the order of the candidates")
    func orderIndependent() async {
        await propertyCheck(count: 200, input: Self.nodes, Self.requests) { nodes, requests in
            let (_, left) = Self.evaluate(nodes, requests, promised: 0)
            let groups = requests.gibByGroup.keys
            let forward = CapacityScore.scores(left: left, groups: groups, strategy: .spreadout)
            let backward = CapacityScore.scores(left: Array(left.reversed()), groups: groups, strategy: .spreadout)
            #expect(forward == Array(backward.reversed()))
        }
    }
}
