// The command dispatcher: picks the subcommand, normalises Go-style
// single-dash long flags, runs it and maps its Status to an exit code
// (0 ok, 1 failure, 2 usage).
#pragma once

namespace litekeep::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Runs litekeep with the given arguments; returns the process exit code.
int Main(int argc, char** argv);

}  // namespace litekeep::cli
