// Command dispatch (placeholder until the commands land).
#include "cli/app.h"

#include <cstdio>
#include <cstring>

namespace litekeep::cli {

int Main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "version") == 0) {
    std::printf("litekeep v%s\n", LITEKEEP_VERSION);
    return kExitOk;
  }
  std::fprintf(stderr, "usage: litekeep <command> [arguments]\n");
  return kExitUsage;
}

}  // namespace litekeep::cli
