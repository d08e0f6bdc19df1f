/// How the extender ranks the nodes a pod fits on.
public enum ScoringStrategy: String, Sendable, Hashable, CaseIterable {
    /// Prefer the node with the most free space left after placing the pod (spreads volumes out).
    case spreadout
    /// Prefer the node with the least free space left (fills nodes up, keeping others empty).
    case binpack
}

/// Scores for kube-scheduler's prioritize verb, 0…10 (`MaxExtenderPriority`).
///
/// For each volume group `g` the pod needs, let `left_g(n)` be the GiB node `n` would have free
/// after placing the pod (reported free space, minus space promised to other pods, minus the
/// request) and `M_g` the largest `left_g` over the candidates the pod fits on. Then
///
///     spreadout(n) = round(10 × mean_g(left_g(n) / M_g))      (a group with M_g = 0 adds 0)
///     binpack(n)   = 10 − spreadout(n)
///
/// rounding halves up, computed exactly. Because binpack is the mirror image of spreadout, the
/// two rank nodes in exactly opposite orders. A node the pod does not fit on scores 0 under both,
/// as does every node when the pod needs no groups. The scores depend only on the inputs, never
/// on the order of the candidates.
public enum CapacityScore {
    /// kube-scheduler's `MaxExtenderPriority`.
    public static let maximum: Int64 = 10

    /// Scores each candidate: `left[i]` is the candidate's free GiB per group after placement,
    /// or nil when the pod does not fit there.
    public static func scores(left: [[String: Int64]?], groups: some Collection<String>, strategy: ScoringStrategy) -> [Int64] {
        let groups = Array(Set(groups)).sorted()
        var matrix = [Int64](repeating: 0, count: groups.count * left.count)
        for (row, group) in groups.enumerated() {
            for (column, candidate) in left.enumerated() { matrix[row * left.count + column] = candidate?[group] ?? 0 }
        }
        return scores(left: matrix, groupCount: groups.count, fits: left.map { $0 != nil }, strategy: strategy)
    }

    /// The same scores from a matrix, for thousands of candidates without a dictionary each:
    /// `left[g * fits.count + i]` is what candidate `i` has left in group `g` (ignored where
    /// `fits[i]` is false).
    public static func scores(left: [Int64], groupCount: Int, fits: [Bool], strategy: ScoringStrategy) -> [Int64] {
        let count = fits.count
        precondition(left.count == groupCount * count, "one value per group and candidate")
        guard groupCount > 0 else { return Array(repeating: 0, count: count) }
        var largest = [Int64](repeating: 0, count: groupCount)
        for group in 0..<groupCount {
            for candidate in 0..<count where fits[candidate] { largest[group] = max(largest[group], left[group * count + candidate]) }
        }
        var scores = [Int64](repeating: 0, count: count)
        var shares: [(Int64, Int64)] = []
        for candidate in 0..<count where fits[candidate] {
            let spread: Int64
            if groupCount == 1 {
                spread = roundedShare(max(0, left[candidate]), largest[0])
            } else {
                shares.removeAll(keepingCapacity: true)
                for group in 0..<groupCount { shares.append((max(0, left[group * count + candidate]), largest[group])) }
                spread = roundedMeanShare(shares)
            }
            scores[candidate] = strategy == .spreadout ? spread : maximum - spread
        }
        return scores
    }

    /// round(10 × a / b), halves up, 0 when b is 0: the one-group case of ``roundedMeanShare(_:)``.
    static func roundedShare(_ a: Int64, _ b: Int64) -> Int64 {
        guard b > 0 else { return 0 }
        let (twentyA, o1) = a.multipliedReportingOverflow(by: 20)
        let (scaled, o2) = twentyA.addingReportingOverflow(b)
        let (divisor, o3) = b.multipliedReportingOverflow(by: 2)
        if o1 || o2 || o3 { return roundedMeanShare([(a, b)]) }
        return min(maximum, scaled / divisor)
    }

    /// round(10 × mean(a_i / b_i)), halves up, with a_i/b_i taken as 0 where b_i is 0, computed
    /// in exact fractions (so `0.35 × 10` is 4, never 3 from a binary fraction just below it).
    static func roundedMeanShare(_ shares: [(Int64, Int64)]) -> Int64 {
        // Sum the fractions a/b over a common denominator; values are GiB, so products of a few
        // of them stay far inside Int128. Fall back to floating point only if they would not.
        var numerator: Int128 = 0
        var denominator: Int128 = 1
        var overflow = false
        for (a, b) in shares where b > 0 {
            let (n1, o1) = numerator.multipliedReportingOverflow(by: Int128(b))
            let (n2, o2) = Int128(a).multipliedReportingOverflow(by: denominator)
            let (sum, o3) = n1.addingReportingOverflow(n2)
            let (d, o4) = denominator.multipliedReportingOverflow(by: Int128(b))
            if o1 || o2 || o3 || o4 {
                overflow = true
                break
            }
            numerator = sum
            denominator = d
            let divisor = gcd(numerator, denominator)
            if divisor > 1 {
                numerator /= divisor
                denominator /= divisor
            }
        }
        let count = Int128(shares.count)
        if !overflow {
            // round(10·n / (d·count)) with halves up = floor((20·n + d·count) / (2·d·count)).
            let (twentyN, o1) = numerator.multipliedReportingOverflow(by: 20)
            let (dCount, o2) = denominator.multipliedReportingOverflow(by: count)
            let (scaled, o3) = twentyN.addingReportingOverflow(dCount)
            let (divisor, o4) = dCount.multipliedReportingOverflow(by: 2)
            if !(o1 || o2 || o3 || o4) { return Int64(clamping: min(Int128(maximum), scaled / divisor)) }
        }
        let mean = shares.reduce(0.0) { $0 + ($1.1 > 0 ? Double($1.0) / Double($1.1) : 0) } / Double(shares.count)
        return min(maximum, Int64((10 * mean).rounded(.toNearestOrAwayFromZero)))
    }

    static func gcd(_ a: Int128, _ b: Int128) -> Int128 {
        var (x, y) = (a.magnitude, b.magnitude)
        while y != 0 { (x, y) = (y, x % y) }
        return Int128(x)
    }
}
