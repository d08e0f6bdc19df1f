import FuzzDriver
import Capacity

/// Quantities and the requests annotation, as users write them: nothing traps, and every
/// quantity that parses prints a canonical form that parses back to the same value.
runFuzzer { data, size in
    let text = String(decoding: input(data, size), as: UTF8.self)
    if let quantity = try? Quantity(parsing: text) {
        let canonical = quantity.canonical
        guard let again = try? Quantity(parsing: canonical), again == quantity, again.canonical == canonical else {
            fatalError("\(text) prints as \(canonical), which does not read back to the same value")
        }
        var requests = VolumeGroupRequests()
        requests.add(group: "g", size: quantity)
        requests.add(group: "g", size: quantity)
        _ = requests.totalGiB
        _ = quantity.ceiling(binaryPower: 3)
        _ = (quantity + quantity - quantity).multiplied(by: 3)
    }
    if let requests = try? VolumeGroupRequests.read(annotationValue: text) {
        guard VolumeGroupRequests(annotationValue: requests.annotationValue) == requests else {
            fatalError("\(text) does not survive a round trip through its annotation value")
        }
        var ledger = ReservationLedger(ttl: .seconds(60))
        ledger.hold(pod: "a/b", uid: nil, candidates: ["n1", "n2"], requests: requests, now: .now)
        ledger.reserve(pod: "a/c", uid: nil, node: "n1", requests: requests, now: .now)
        let committed = ledger.committed()
        _ = PlacementVerdict.judge(requests: requests, health: .healthy, capacity: NodeCapacity(freeGiB: ["g": Int64.max]), committed: committed["n1"])
        _ = CapacityScore.scores(left: [requests.gibByGroup, nil], groups: requests.gibByGroup.keys, strategy: .spreadout)
    }
    return 0
}
