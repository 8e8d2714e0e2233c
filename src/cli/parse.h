// CLI11 glue: parse a subcommand's (already normalised) arguments and turn
// help requests and usage errors into exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace litekeep::cli {

// Parses args with app. Returns an exit code to return immediately (0 after
// printing help, 2 after a usage error), or nullopt to continue.
std::optional<int> ParseArgs(CLI::App& app, const std::vector<std::string>& args);

}  // namespace litekeep::cli
