// Include after LibTorch headers: Debian's LibTorch pulls in glog, whose CHECK macro clashes with Catch's.
#pragma once
#ifdef CHECK
#undef CHECK
#endif
#include <catch2/catch.hpp>
