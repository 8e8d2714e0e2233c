// CLI11 glue.
#include "cli/parse.h"

#include <algorithm>
#include <iostream>

namespace litekeep::cli {

std::optional<int> ParseArgs(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> rev(args.begin() + 1, args.end());
  for (auto& a : rev) {
    if (a == "-help") a = "--help";
  }
  std::reverse(rev.begin(), rev.end());
  try {
    app.parse(rev);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n"
              << "run '" << app.get_name() << " -h' for usage\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace litekeep::cli
