// Catch2 main for the core. suite.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
