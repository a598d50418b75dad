// Cheap lstat/stat checks used to decide which weights file a model folder has.
// lstat for "present" so that a dangling symlink is opened (and reported) rather than silently skipped.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

package enum FileSystemEntry {
    /// Something (file, directory, symlink, even dangling) exists at `path`.
    package static func isPresent(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// `path` resolves to a directory (symlinks followed).
    package static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
