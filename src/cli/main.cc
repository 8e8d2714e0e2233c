// litekeep's entry point: initializes SQLite once, then runs the command.
#include <sqlite3.h>

#include "cli/app.h"

// SQLite initializes itself on the first open, but two worker threads
// opening their first databases at the same moment race inside that
// initialization (ThreadSanitizer reports it): do it once, before any
// thread starts.
int main(int argc, char** argv) {
  sqlite3_initialize();
  return litekeep::cli::Main(argc, argv);
}
