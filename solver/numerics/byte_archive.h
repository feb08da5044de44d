// The bytes of a result, for sending it to the other ranks (distributed.h): numbers are copied
// bit for bit, so that a rank reading a result holds exactly what the rank that computed it held.
//
// One function per type describes its fields for both directions, found by argument-dependent
// lookup beside the type:
//
//   template <class Archive>
//   void Serialize(Archive& a, Landing& l) { a(l.x, l.value, l.converged); }
//
// Arithmetic types, enums, std::string, std::vector, std::array, std::pair, std::map, Eigen's
// dense matrices and Status are built in.
#ifndef LDSGD_SOLVER_NUMERICS_BYTE_ARCHIVE_H_
#define LDSGD_SOLVER_NUMERICS_BYTE_ARCHIVE_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "solver/io/status.h"

namespace ldsgd {
namespace archive_detail {

template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};
template <class T>
struct IsArray : std::false_type {};
template <class T, std::size_t N>
struct IsArray<std::array<T, N>> : std::true_type {};
template <class T>
struct IsPair : std::false_type {};
template <class A, class B>
struct IsPair<std::pair<A, B>> : std::true_type {};
template <class T>
struct IsMap : std::false_type {};
template <class K, class V, class C, class A>
struct IsMap<std::map<K, V, C, A>> : std::true_type {};
template <class T>
constexpr bool kIsEigen = std::is_base_of_v<Eigen::PlainObjectBase<T>, T>;
template <class T>
constexpr bool kIsRaw = std::is_arithmetic_v<T> || std::is_enum_v<T>;

}  // namespace archive_detail

// Appends values to a byte string.
class ByteWriter {
 public:
  static constexpr bool kReading = false;

  template <class... T>
  void operator()(const T&... values) {
    (Put(values), ...);
  }
  std::string Take() { return std::move(bytes_); }

 private:
  void Raw(const void* p, std::size_t n) {
    if (n > 0) bytes_.append(static_cast<const char*>(p), n);
  }
  void Count(std::size_t n) {
    const std::uint64_t v = n;
    Raw(&v, sizeof v);
  }

  template <class T>
  void Put(const T& v) {
    using namespace archive_detail;
    if constexpr (kIsRaw<T>) {
      Raw(&v, sizeof v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      Count(v.size());
      Raw(v.data(), v.size());
    } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
      Count(v.size());
      for (bool b : v) Put(static_cast<std::uint8_t>(b));
    } else if constexpr (IsVector<T>::value || IsMap<T>::value) {
      Count(v.size());
      for (const auto& e : v) Put(e);
    } else if constexpr (IsArray<T>::value) {
      for (const auto& e : v) Put(e);
    } else if constexpr (IsPair<T>::value) {
      Put(v.first);
      Put(v.second);
    } else if constexpr (kIsEigen<T>) {
      Count(static_cast<std::size_t>(v.rows()));
      Count(static_cast<std::size_t>(v.cols()));
      Raw(v.data(), sizeof(typename T::Scalar) * static_cast<std::size_t>(v.size()));
    } else if constexpr (std::is_same_v<T, Status>) {
      Put(v.code());
      Put(v.message());
    } else {
      Serialize(*this, const_cast<T&>(v));  // the writer only reads it
    }
  }

  std::string bytes_;
};

// Reads values back in the order a ByteWriter wrote them; throws std::runtime_error on bytes that
// do not match (a programming error: both sides run the same Serialize).
class ByteReader {
 public:
  static constexpr bool kReading = true;

  explicit ByteReader(const std::string& bytes) : bytes_(bytes) {}
  template <class... T>
  void operator()(T&... values) {
    (Get(values), ...);
  }
  bool AtEnd() const { return at_ == bytes_.size(); }

 private:
  void Raw(void* p, std::size_t n) {
    if (n > bytes_.size() - at_) throw std::runtime_error("ByteReader: the bytes end early");
    if (n == 0) return;  // p may be null (an empty string or matrix)
    std::memcpy(p, bytes_.data() + at_, n);
    at_ += n;
  }
  std::size_t Count() {
    std::uint64_t v = 0;
    Raw(&v, sizeof v);
    if (v > bytes_.size()) throw std::runtime_error("ByteReader: a size larger than the bytes");
    return static_cast<std::size_t>(v);
  }

  template <class T>
  void Get(T& v) {
    using namespace archive_detail;
    if constexpr (kIsRaw<T>) {
      Raw(&v, sizeof v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      v.resize(Count());
      Raw(v.data(), v.size());
    } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
      v.resize(Count());
      for (std::size_t i = 0; i < v.size(); ++i) {
        std::uint8_t b = 0;
        Get(b);
        v[i] = b != 0;
      }
    } else if constexpr (IsVector<T>::value) {
      v.resize(Count());
      for (auto& e : v) Get(e);
    } else if constexpr (IsMap<T>::value) {
      const std::size_t n = Count();
      v.clear();
      for (std::size_t i = 0; i < n; ++i) {
        std::pair<typename T::key_type, typename T::mapped_type> e;
        Get(e);
        v.emplace_hint(v.end(), std::move(e));
      }
    } else if constexpr (IsArray<T>::value) {
      for (auto& e : v) Get(e);
    } else if constexpr (IsPair<T>::value) {
      Get(v.first);
      Get(v.second);
    } else if constexpr (kIsEigen<T>) {
      const std::size_t rows = Count(), cols = Count();
      v.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
      Raw(v.data(), sizeof(typename T::Scalar) * static_cast<std::size_t>(v.size()));
    } else if constexpr (std::is_same_v<T, Status>) {
      StatusCode code{};
      std::string message;
      Get(code);
      Get(message);
      v = Status(code, std::move(message));
    } else {
      Serialize(*this, v);
    }
  }

  const std::string& bytes_;
  std::size_t at_ = 0;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NUMERICS_BYTE_ARCHIVE_H_
