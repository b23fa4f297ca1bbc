// OpenBLAS's run-time kernel choice, read through the dynamic linker (no link dependency on OpenBLAS).
#include "gengap/core/blas.hpp"

#if defined(__linux__)
#include <dlfcn.h>
#include <link.h>
#endif

#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#if defined(__linux__)
#include <unistd.h>
#endif

namespace gengap::core {
namespace {

using CoreName = const char* (*)();

#if defined(__linux__)
CoreName lookup(void* handle) {
  return reinterpret_cast<CoreName>(dlsym(handle, "openblas_get_corename"));  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

int collect(dl_phdr_info* info, size_t /*size*/, void* data) {
  if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0')
    static_cast<std::vector<std::string>*>(data)->emplace_back(info->dlpi_name);
  return 0;
}

// The loaded OpenBLAS: in the global scope (a program linked to it), else among all loaded objects
// (a Python extension's dependencies are loaded with RTLD_LOCAL, outside the global scope).
CoreName loaded_openblas() {
  if (CoreName f = lookup(RTLD_DEFAULT)) return f;
  std::vector<std::string> names;
  dl_iterate_phdr(collect, &names);
  for (const std::string& n : names) {
    if (n.find("blas") == std::string::npos) continue;  // only libraries that can be a BLAS
    void* h = dlopen(n.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (h == nullptr) continue;
    const CoreName f = lookup(h);
    dlclose(h);  // RTLD_NOLOAD took a reference to an object that stays loaded
    if (f != nullptr) return f;
  }
  return nullptr;
}
#else
CoreName loaded_openblas() { return nullptr; }
#endif

}  // namespace

std::string blas_kernel_name() {
  const CoreName f = loaded_openblas();
  const char* n = f != nullptr ? f() : nullptr;
  return n != nullptr ? n : "";
}

bool is_generic_blas_kernel(const std::string& name) {
  static const std::set<std::string> generic{"Prescott", "Core2",  "Penryn",    "Dunnington", "Nehalem",  "Atom",  "Katmai",
                                             "Coppermine", "Northwood", "Banias", "Opteron", "Opteron_SSE3", "Barcelona",
                                             "Nano",      "Bobcat"};
  return generic.count(name) > 0;
}

void prefer_avx2_blas(char** argv) {
#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr || argv == nullptr) return;
  const std::string kernel = blas_kernel_name();
  if (!is_generic_blas_kernel(kernel)) return;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return;
  if (setenv("OPENBLAS_CORETYPE", "Haswell", 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: the re-execution failed; go on with the generic kernels, and say so.
  std::cerr << "note: OpenBLAS runs its generic " << kernel << " kernels on this AVX2 processor; set OPENBLAS_CORETYPE=Haswell before "
            << "starting the program to run about 3x faster\n";
  unsetenv("OPENBLAS_CORETYPE");
#else
  (void)argv;
#endif
}

}  // namespace gengap::core
