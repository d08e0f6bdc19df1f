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
}
