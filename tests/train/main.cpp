// Catch2 main for the train. suite.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
