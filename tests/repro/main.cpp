// Catch2 main for the repro. suites: the allocator keeps freed memory, as the programs do.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "gengap/core/memory.hpp"

int main(int argc, char* argv[]) {
  gengap::core::keep_freed_memory();
  return Catch::Session().run(argc, argv);
}
