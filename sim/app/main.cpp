// gengap-sim: random walks on random potentials from the command line.
#include "commands.hpp"

int main(int argc, char** argv) { return gengap::sim::app::main_with(argc, argv); }
