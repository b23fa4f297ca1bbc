// Catch2 main for the sim. suite.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
