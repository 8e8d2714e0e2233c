// litekeep's entry point: initializes SQLite once, then runs the command.
#include <sqlite3.h>

#include "cli/app.h"

// SQLite initializes itself on the first open, but two worker threads
// opening their first databases at the same moment race inside that
// initialization (ThreadSanitizer reports it): do it once, before any
// thread starts. The same holds for the seeding of SQLite's PRNG: the
// first open seeds it (unixRandomness writes the process id that every
// later unixOpen reads without a lock), so draw one random byte here.
int main(int argc, char** argv) {
  sqlite3_initialize();
  unsigned char seed_now = 0;
  sqlite3_randomness(1, &seed_now);
  return litekeep::cli::Main(argc, argv);
}
