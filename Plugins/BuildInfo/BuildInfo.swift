import Foundation
import PackagePlugin

/// Generates `BuildInfo.swift` for the target before every build: the version from the
/// repository's `VERSION` file (the one place it is written; `scripts/package` reads it too) and
/// the git commit when the package is built from a checkout (`-dirty` when tracked files differ
/// from it). The file is rewritten only when its content changes, so an unchanged checkout
/// recompiles nothing.
@main
struct BuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("generated")
        return [
            .prebuildCommand(
                displayName: "Build info for \(target.name) (VERSION, git commit)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", Self.script, "build-info", context.package.directoryURL.path, output.path],
                outputFilesDirectory: output
            )
        ]
    }

    static let script = #"""
        set -eu
        root="$1"; out="$2"
        if ! version=$(tr -d ' \t\r\n' < "$root/VERSION"); then
            echo "error: build-info: cannot read $root/VERSION" >&2; exit 1
        fi
        case "$version" in
            ""|*[!0-9A-Za-z.+-]*) echo "error: build-info: $root/VERSION holds '$version', not a version like 1.2.3" >&2; exit 1 ;;
        esac
        commit=""
        if command -v git >/dev/null 2>&1 && [ -e "$root/.git" ]; then
            commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || true)
            if [ -n "$commit" ] && [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
                commit="$commit-dirty"
            fi
        fi
        mkdir -p "$out"
        tmp="$out/.BuildInfo.swift.tmp"
        {
            echo "// Generated before each build by the BuildInfo plugin (Plugins/BuildInfo): do not edit."
            echo "enum BuildInfo {"
            echo "    /// The repository's VERSION file."
            echo "    static let version = \"$version\""
            echo "    /// \`git rev-parse HEAD\` of the checkout built (\`-dirty\`: with uncommitted changes); empty outside a checkout."
            echo "    static let commit = \"$commit\""
            echo "}"
        } > "$tmp"
        if cmp -s "$tmp" "$out/BuildInfo.swift"; then rm -f "$tmp"; else mv "$tmp" "$out/BuildInfo.swift"; fi
        """#
}
