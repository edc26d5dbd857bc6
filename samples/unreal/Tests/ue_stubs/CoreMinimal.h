// Minimal stand-ins for the Unreal Engine types the Gsms plugin uses, so scripts/test_samples.sh
// can compile its C++ with g++ and drive the subsystem against the emulator. Not Unreal: no
// reflection (the U* macros expand to nothing), TCHAR is char, containers wrap the STL.
//
// With -DGSMS_STUB_WIDE_TCHAR (compile only, never run): TCHAR is char16_t and FString holds
// UTF-16, as on Windows, so a string handed to gsms_* without TCHAR_TO_UTF8, or taken from it
// without UTF8_TO_TCHAR, no longer compiles. Printf and UE_LOG formats are not checked there.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using uint8 = std::uint8_t;
using int32 = std::int32_t;
using uint32 = std::uint32_t;
using int64 = std::int64_t;
#define MAX_uint32 (0xffffffffu)
#ifndef GSMS_STUB_WIDE_TCHAR
using TCHAR = char;
#define TEXT(x) x
#define UTF8_TO_TCHAR(x) (x)
#define TCHAR_TO_UTF8(x) (x)
using GsmsStubString = std::string;
#else
using TCHAR = char16_t;
#define GSMS_STUB_WIDEN(x) u##x
#define TEXT(x) GSMS_STUB_WIDEN(x)
// Conversion objects, as UE's: typed so that only the right direction compiles (lossy on
// purpose: this mode is never run).
struct GsmsStubUtf8ToTchar {
  explicit GsmsStubUtf8ToTchar(const char *s) { for (; s && *s; ++s) w.push_back(static_cast<char16_t>(*s)); }
  const TCHAR *Get() const { return w.c_str(); }
  std::u16string w;
};
struct GsmsStubTcharToUtf8 {
  explicit GsmsStubTcharToUtf8(const TCHAR *s) { for (; s && *s; ++s) n.push_back(static_cast<char>(*s)); }
  const char *Get() const { return n.c_str(); }
  std::string n;
};
#define UTF8_TO_TCHAR(x) (GsmsStubUtf8ToTchar(x).Get())
#define TCHAR_TO_UTF8(x) (GsmsStubTcharToUtf8(x).Get())
using GsmsStubString = std::u16string;
#endif
#define PLATFORM_WINDOWS 0
#define PLATFORM_MAC 0

#define UENUM(...)
#define USTRUCT(...)
#define UCLASS(...)
#define UPROPERTY(...)
#define UFUNCTION(...)
#define GENERATED_BODY() \
 public:                 \
  using Super = UGameInstanceSubsystem;
#define GSMS_API

class FString {
 public:
  FString() = default;
  FString(const TCHAR *s) : s_(s ? s : TEXT("")) {}
  const TCHAR *operator*() const { return s_.c_str(); }
  bool IsEmpty() const { return s_.empty(); }
  FString &operator+=(const FString &o) { s_ += o.s_; return *this; }
  friend FString operator+(const FString &a, const FString &b) { FString r(a); r += b; return r; }
  bool operator==(const FString &o) const { return s_ == o.s_; }
  bool StartsWith(const FString &p) const { return s_.rfind(p.s_, 0) == 0; }
  bool Contains(const FString &p) const { return s_.find(p.s_) != GsmsStubString::npos; }
#ifndef GSMS_STUB_WIDE_TCHAR
  static FString Printf(const TCHAR *fmt, ...) __attribute__((format(printf, 1, 2))) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return FString(buf);
  }
#else
  static FString Printf(const TCHAR *fmt, ...) { return FString(fmt); }
#endif
 private:
  GsmsStubString s_;
};

template <typename T>
class TArray {
 public:
  T &AddDefaulted_GetRef() { v_.emplace_back(); return v_.back(); }
  int32 Num() const { return static_cast<int32>(v_.size()); }
  const T &operator[](int32 i) const { return v_[static_cast<size_t>(i)]; }
  typename std::vector<T>::const_iterator begin() const { return v_.begin(); }
  typename std::vector<T>::const_iterator end() const { return v_.end(); }
 private:
  std::vector<T> v_;
};

template <typename K, typename V>
struct TPair {
  K Key;
  V Value;
};

template <typename K, typename V>
class TMap {
 public:
  V *Find(const K &k) {
    for (auto &p : v_) if (p.Key == k) return &p.Value;
    return nullptr;
  }
  void Add(const K &k, const V &val) { v_.push_back(TPair<K, V>{k, val}); }
  void Remove(const K &k) {
    for (size_t i = 0; i < v_.size(); ++i) if (v_[i].Key == k) { v_.erase(v_.begin() + static_cast<long>(i)); return; }
  }
  void Empty() { v_.clear(); }
  int32 Num() const { return static_cast<int32>(v_.size()); }
  typename std::vector<TPair<K, V>>::const_iterator begin() const { return v_.begin(); }
  typename std::vector<TPair<K, V>>::const_iterator end() const { return v_.end(); }
 private:
  std::vector<TPair<K, V>> v_;
};

template <typename T>
using TUniquePtr = std::unique_ptr<T>;

class UObject {
 public:
  virtual ~UObject() = default;
};

template <typename T>
class TWeakObjectPtr {
 public:
  TWeakObjectPtr(T *p = nullptr) : p_(p) {}
  T *Get() const { return p_; }
 private:
  T *p_;
};

// Dynamic multicast delegates: Broadcast to every bound lambda (AddLambda is the test's hook).
#define GSMS_STUB_DELEGATE(Name, ...)                                          \
  struct Name {                                                                \
    std::vector<std::function<void(__VA_ARGS__)>> Fns;                         \
    template <typename F> void AddLambda(F f) { Fns.push_back(f); }            \
    template <typename... A> void Broadcast(A &&...a) const { for (auto &f : Fns) f(a...); } \
  };
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(Name, T1, N1, T2, N2) GSMS_STUB_DELEGATE(Name, T1, T2)
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_FourParams(Name, T1, N1, T2, N2, T3, N3, T4, N4) \
  GSMS_STUB_DELEGATE(Name, T1, T2, T3, T4)

#ifdef GSMS_STUB_WIDE_TCHAR
inline void GsmsStubLog(const char *, const TCHAR *, ...) {}
#else
void GsmsStubLog(const char *verbosity, const TCHAR *fmt, ...) __attribute__((format(printf, 2, 3)));
inline void GsmsStubLog(const char *verbosity, const TCHAR *fmt, ...) {
  std::fprintf(stderr, "[%s] ", verbosity);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}
#endif
#define DEFINE_LOG_CATEGORY_STATIC(Name, Verbosity, Compile) [[maybe_unused]] static const int Name = 0;
#define UE_LOG(Category, Verbosity, Fmt, ...) ((void)Category, GsmsStubLog(#Verbosity, Fmt, ##__VA_ARGS__))
