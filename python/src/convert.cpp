// Python objects <-> JSON, and the progress hook of long calls.
#include "convert.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include <pybind11/numpy.h>

#include "gengap/core/error.hpp"
#include "gengap/core/json.hpp"

namespace gengap::python {

using nlohmann::json;

namespace {
json to_json_at(py::handle v, const std::string& field, int depth);
}  // namespace

json to_json(py::handle v, const std::string& field) { return to_json_at(v, field, 0); }

namespace {
json to_json_at(py::handle v, const std::string& field, int depth) {
  // A list nested 10^5 deep, or one that contains itself, would exhaust the stack: refused at the
  // depth parse_json() accepts from a file.
  if (depth > core::kMaxJsonDepth) {
    throw core::InvalidArgument(field.empty() ? std::string("argument") : field.substr(0, 60) + "...",
                                "(nested deeper than " + std::to_string(core::kMaxJsonDepth) + " levels)",
                                "lists and dicts may nest at most " + std::to_string(core::kMaxJsonDepth) + " levels (a list that contains itself never ends)");
  }
  if (v.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>();
  if (py::isinstance<py::int_>(v)) {
    // Python's int is unbounded: keep the sign and the exact value, or say it does not fit.
    try {
      if (v.cast<py::int_>() < py::int_(0)) return v.cast<std::int64_t>();
      return v.cast<std::uint64_t>();
    } catch (const py::cast_error&) {
      throw core::InvalidArgument(field, py::str(v).cast<std::string>(), "does not fit in 64 bits");
    }
  }
  if (py::isinstance<py::float_>(v)) return v.cast<double>();
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if (py::isinstance<py::array>(v)) return to_json_at(v.attr("tolist")(), field, depth);
  if (py::hasattr(v, "item") && py::hasattr(v, "dtype")) return to_json_at(v.attr("item")(), field, depth);  // numpy scalar
  if (py::isinstance<py::dict>(v)) {
    json out = json::object();
    for (auto kv : v.cast<py::dict>()) {
      if (!py::isinstance<py::str>(kv.first))
        throw core::InvalidArgument(field, py::repr(kv.first).cast<std::string>(), "keys must be strings");
      const std::string k = kv.first.cast<std::string>();
      out[k] = to_json_at(kv.second, field.empty() ? k : field + "." + k, depth + 1);
    }
    return out;
  }
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    json out = json::array();
    std::size_t i = 0;
    for (auto item : v) out.push_back(to_json_at(item, field + "[" + std::to_string(i++) + "]", depth + 1));
    return out;
  }
  throw core::InvalidArgument(field, core::printable(py::repr(v).cast<std::string>(), 80),
                              "expected a number, a string, a bool, a list, a dict or a numpy array");
}
}  // namespace

namespace {

enum class Kind { kNone, kInt, kUint, kFloat, kMixed };

/// The numpy type an array of JSON numbers needs (kMixed: not all numbers).
Kind numeric_kind(const json& a) {
  Kind k = Kind::kNone;
  for (const auto& e : a) {
    Kind ek;
    if (e.is_number_float()) ek = Kind::kFloat;
    else if (e.is_number_unsigned()) ek = Kind::kUint;
    else if (e.is_number_integer()) ek = Kind::kInt;
    else return Kind::kMixed;
    if (k == Kind::kNone) k = ek;
    else if (k != ek) k = (k == Kind::kFloat || ek == Kind::kFloat) ? Kind::kFloat : Kind::kInt;
  }
  return k;
}

template <class T>
py::array_t<T> vector_of(const json& a) {
  py::array_t<T> out(static_cast<py::ssize_t>(a.size()));
  T* p = out.mutable_data();
  for (const auto& e : a) *p++ = e.get<T>();
  return out;
}

template <class T>
py::array_t<T> matrix_of(const json& a, std::size_t cols) {
  py::array_t<T> out({static_cast<py::ssize_t>(a.size()), static_cast<py::ssize_t>(cols)});
  T* p = out.mutable_data();
  for (const auto& row : a)
    for (const auto& e : row) *p++ = e.get<T>();
  return out;
}

/// An unsigned array holding only values below 2^63 is returned as int64 (numpy's usual integer).
bool fits_int64(const json& a) {
  for (const auto& e : a)
    if (e.is_number_unsigned() && e.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return false;
  return true;
}

}  // namespace

py::object from_json(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return py::none();
    case json::value_t::boolean: return py::bool_(v.get<bool>());
    case json::value_t::number_integer: return py::int_(v.get<std::int64_t>());
    case json::value_t::number_unsigned: return py::int_(v.get<std::uint64_t>());
    case json::value_t::number_float: return py::float_(v.get<double>());
    case json::value_t::string: return py::str(v.get<std::string>());
    case json::value_t::object: {
      py::dict d;
      for (const auto& [k, e] : v.items()) d[py::str(k)] = from_json(e);
      return std::move(d);
    }
    case json::value_t::array: {
      if (v.empty()) return py::array_t<double>(0);
      switch (numeric_kind(v)) {
        case Kind::kFloat: return vector_of<double>(v);
        case Kind::kInt: return vector_of<std::int64_t>(v);
        case Kind::kUint: return fits_int64(v) ? py::object(vector_of<std::int64_t>(v)) : py::object(vector_of<std::uint64_t>(v));
        default: break;
      }
      // Rows of one length, all numeric: a matrix.
      bool matrix = v.front().is_array() && !v.front().empty();
      Kind k = Kind::kNone;
      json flat = json::array();
      for (const auto& row : v) {
        if (!matrix) break;
        const Kind rk = row.is_array() && row.size() == v.front().size() ? numeric_kind(row) : Kind::kMixed;
        if (rk == Kind::kMixed || rk == Kind::kNone) matrix = false;
        else if (k == Kind::kNone) k = rk;
        else if (k != rk) k = Kind::kFloat;
      }
      if (matrix) {
        const std::size_t cols = v.front().size();
        if (k == Kind::kFloat) return matrix_of<double>(v, cols);
        return matrix_of<std::int64_t>(v, cols);
      }
      py::list l;
      for (const auto& e : v) l.append(from_json(e));
      return std::move(l);
    }
    default: return py::none();
  }
}

ProgressHook::ProgressHook(py::object callback) : callback_(std::move(callback)) {
  if (!callback_.is_none() && !PyCallable_Check(callback_.ptr()))
    throw core::InvalidArgument("progress", py::repr(callback_).cast<std::string>(), "must be None or a callable taking the fraction done");
}

std::function<void(double)> ProgressHook::hook() {
  return [this](double f) { report(f); };
}

void ProgressHook::report(double fraction) {
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();  // Ctrl-C: KeyboardInterrupt
  if (callback_.is_none()) return;
  const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (fraction < 1 && now - last_ < 0.2) return;
  last_ = now;
  callback_(fraction);
}

}  // namespace gengap::python
