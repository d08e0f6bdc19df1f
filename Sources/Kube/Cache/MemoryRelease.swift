#if canImport(Glibc)
import Glibc
#endif

/// Hands freed heap pages back to the operating system. Filling the caches allocates and frees
/// a lot of short-lived memory (each page of objects is decoded, trimmed and dropped); glibc
/// keeps such memory in its arenas unless asked, which makes the resident size look far larger
/// than what the caches hold.
public enum MemoryRelease {
    public static func releaseFreedMemory() {
        #if canImport(Glibc)
        // malloc_trim is glibc's, and not in the Glibc module map: look it up.
        typealias MallocTrim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(nil, "malloc_trim") {
            _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        }
        #endif
    }

    /// Keeps bursts of large request bodies from staying resident. glibc serves a block larger than
    /// its mmap threshold with mmap and unmaps it on free, but raises that threshold to the size of
    /// every such block freed (up to 32 MiB): after the first few multi-MiB bodies, the next ones
    /// come from the heap arenas, and a flood leaves hundreds of MiB there afterwards. A fixed
    /// threshold of 256 KiB keeps every body-sized block unmapped on free; two arenas (instead of
    /// eight per core) bound the per-thread caches. glibc's own `MALLOC_MMAP_THRESHOLD_` and
    /// `MALLOC_ARENA_MAX` variables, when set, win; `BENCHMARK_GLIBC_MALLOC_DEFAULTS=1` leaves glibc's
    /// defaults (for the benchmark's comparison).
    public static func tuneAllocator(environment: [String: String]) {
        #if canImport(Glibc)
        if environment["BENCHMARK_GLIBC_MALLOC_DEFAULTS"] != nil { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let mmapThreshold: Int32 = -3, arenaMax: Int32 = -8  // M_MMAP_THRESHOLD, M_ARENA_MAX
        if environment["MALLOC_MMAP_THRESHOLD_"] == nil { _ = mallopt(mmapThreshold, 256 * 1024) }
        if environment["MALLOC_ARENA_MAX"] == nil { _ = mallopt(arenaMax, 2) }
        #endif
    }
}
