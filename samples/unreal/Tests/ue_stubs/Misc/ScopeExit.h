#pragma once
#include "CoreMinimal.h"
template <typename F>
struct TGsmsScopeExit {
  F f;
  ~TGsmsScopeExit() { f(); }
};
struct FGsmsScopeExitMaker {
  template <typename F> TGsmsScopeExit<F> operator+(F f) const { return TGsmsScopeExit<F>{f}; }
};
#define GSMS_STUB_CAT2(a, b) a##b
#define GSMS_STUB_CAT(a, b) GSMS_STUB_CAT2(a, b)
#define ON_SCOPE_EXIT const auto GSMS_STUB_CAT(ScopeExit_, __LINE__) = FGsmsScopeExitMaker() + [&]()
