/// @file blas.hpp
/// @brief Which BLAS kernels LibTorch's matrix products run on, for the records (summary.json, the
/// benchmark records): OpenBLAS chooses its kernel family at run time from the CPU, or follows the
/// environment variable OPENBLAS_CORETYPE.
#pragma once

#include <string>

namespace gengap::core {

/// The kernel family of the OpenBLAS loaded in this process ("Haswell", "SkylakeX", "Zen", ...), or an
/// empty string when there is none (another BLAS such as MKL, or no BLAS loaded). Found through the
/// dynamic linker: no link dependency on OpenBLAS; read-only (the choice is OpenBLAS's, or the user's
/// through OPENBLAS_CORETYPE; docs/pages/performance.md says why gengap does not change it).
std::string blas_kernel_name();

}  // namespace gengap::core
