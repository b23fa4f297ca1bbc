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

/// True for OpenBLAS's generic kernel families that predate AVX2 ("Prescott", "Core2", "Penryn",
/// "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine", "Northwood", "Banias", "Opteron",
/// "Barcelona", ...): what OpenBLAS 0.3.21 falls back to on processors it does not know.
bool is_generic_blas_kernel(const std::string& name);

/// When OpenBLAS fell back to a generic pre-AVX2 kernel on a processor with AVX2 and FMA because it
/// does not know the model (OpenBLAS 0.3.21 on Intel Emerald Rapids runs "Prescott": an F1 step at
/// B = 4096 took 1.12 s instead of 0.39 s), and OPENBLAS_CORETYPE is not set: sets
/// OPENBLAS_CORETYPE=Haswell, the AVX2 kernels these machines choose on purpose elsewhere, and re-executes
/// the program (/proc/self/exe, the same arguments) so that OpenBLAS loads with them; it never chooses the
/// AVX-512 kernels (docs/pages/performance.md says why). Returns only when nothing is to be done or
/// the re-execution failed (then with a one-line note on stderr). Call it first thing in main().
void prefer_avx2_blas(char** argv);

}  // namespace gengap::core
