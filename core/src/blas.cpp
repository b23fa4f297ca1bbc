// OpenBLAS's run-time kernel choice, read through the dynamic linker (no link dependency on OpenBLAS).
#include "gengap/core/blas.hpp"

#if defined(__linux__)
#include <dlfcn.h>
#include <link.h>
#endif

#include <string>
#include <vector>

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

}  // namespace gengap::core
