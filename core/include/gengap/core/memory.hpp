/// @file memory.hpp
/// @brief Refusing, before any work starts, requests that the machine cannot hold: an estimate of
/// the bytes a request needs is compared with the machine's memory.
#pragma once

#include <cstdint>
#include <string>

namespace gengap::core {

/// The memory a single request may use, in bytes: the machine's physical memory, or the value of
/// the environment variable GENGAP_MEMORY_LIMIT (bytes, with an optional K, M, G or T suffix,
/// powers of 1024) when it is set. Read once per call.
double memory_budget_bytes();

/// A byte count for messages: "1.5 GiB".
std::string format_bytes(double bytes);

/// Throws InvalidArgument(field, value, ...) when `bytes` (an estimate of what the request needs;
/// `what` says how it is made, e.g. "environments x times x 24 B") exceeds memory_budget_bytes().
/// Non-finite estimates (overflow) are refused too.
void require_memory(const std::string& field, const std::string& value, double bytes, const std::string& what);

}  // namespace gengap::core
