// litekeep entry point: hands argv to the command dispatcher in cli/app.cc.
#include "cli/app.h"

int main(int argc, char** argv) { return litekeep::cli::Main(argc, argv); }
