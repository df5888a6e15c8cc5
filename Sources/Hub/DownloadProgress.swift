import Foundation

/// Download progress on stderr: a bar redrawn in place on a terminal; otherwise a line when a
/// file starts, at most one every few seconds while it runs, and one when it ends.
public final class DownloadProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let isTerminal: Bool
    private let write: @Sendable (String) -> Void
    private let lineInterval: TimeInterval
    private var file = ""
    private var total: Int?
    private var received = 0
    private var started = Date()
    private var lastDraw = Date.distantPast

    public init(isTerminal: Bool, lineInterval: TimeInterval = 5, write: @escaping @Sendable (String) -> Void) {
        self.isTerminal = isTerminal
        self.lineInterval = lineInterval
        self.write = write
    }

    /// Writes to stderr; a bar when stderr is a terminal.
    public static func standardError() -> DownloadProgress {
        DownloadProgress(isTerminal: isatty(STDERR_FILENO) != 0) { FileHandle.standardError.write(Data($0.utf8)) }
    }

    /// No output.
    public static let silent = DownloadProgress(isTerminal: false) { _ in }

    func begin(_ file: String, total: Int?, resumingFrom offset: Int) {
        lock.withLock {
            self.file = file
            self.total = total
            received = offset
            started = Date()
            lastDraw = Date()
            if isTerminal {
                write("\r" + bar())
            } else {
                let size = total.map { " (\(Self.format($0)))" } ?? ""
                let resume = offset > 0 ? ", resuming at \(Self.format(offset))" : ""
                write("downloading \(file)\(size)\(resume)\n")
            }
        }
    }

    func advance(_ count: Int) {
        lock.withLock {
            received += count
            let now = Date()
            if isTerminal, now.timeIntervalSince(lastDraw) >= 0.1 {
                lastDraw = now
                write("\r" + bar())
            } else if !isTerminal, now.timeIntervalSince(lastDraw) >= lineInterval {
                lastDraw = now
                write("downloading \(file): \(Self.format(received))\(total.map { " / " + Self.format($0) } ?? "")\n")
            }
        }
    }

    func end() {
        lock.withLock {
            let seconds = max(Date().timeIntervalSince(started), 0.001)
            if isTerminal {
                write("\r" + bar() + "\n")
            } else {
                write("downloaded \(file): \(Self.format(received)) in \(String(format: "%.1f", seconds)) s\n")
            }
        }
    }

    private func bar() -> String {
        let width = 30
        let fraction = total.map { $0 > 0 ? min(Double(received) / Double($0), 1) : 1 } ?? 0
        let filled = Int(fraction * Double(width))
        let rate = Double(received) / max(Date().timeIntervalSince(started), 0.001)
        let amount = Self.format(received) + (total.map { " / " + Self.format($0) } ?? "")
        return "\(file) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
            + "\(Int(fraction * 100))% \(amount) \(Self.format(Int(rate)))/s\u{1B}[K"
    }

    static func format(_ bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
